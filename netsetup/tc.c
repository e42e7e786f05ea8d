/* tc.c - ingress qdiscs and redirect filters, with libnl-route.
 *
 * Owns: the traffic-control objects of the tcfilter model: an ingress
 * qdisc (handle ffff:) on a device, and on it a u32 filter matching every
 * frame (key 0/0 at offset 0, protocol all) whose action is `mirred egress
 * redirect` to the other device, with a priority that names the attach it
 * belongs to. u32 rather than matchall: cls_u32 is in every kernel that
 * has tc at all, cls_matchall is not. Also reading filters back (priority,
 * kind, the mirred target) and removing them. */
#include "netsetup_int.h"

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <string.h>

#define INGRESS_HANDLE 0xffff0000u /* ffff: (libnl's TC_HANDLE shifts a signed int) */

int tc_has_ingress(struct nl_sock *sk, int ifindex)
{
	struct nl_cache *qdiscs = NULL;
	int r = rtnl_qdisc_alloc_cache(sk, &qdiscs);

	if (r < 0)
		return nl_errno(r);
	struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(qdiscs, ifindex, TC_H_INGRESS);
	if (q)
		rtnl_qdisc_put(q);
	nl_cache_free(qdiscs);
	return q != NULL;
}

static struct rtnl_qdisc *ingress(int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
	if (rtnl_tc_set_kind(TC_CAST(q), "ingress") < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

int tc_ingress_add(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q = ingress(ifindex);

	if (!q)
		return -ENOMEM;
	int r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	return nl_errno(r);
}

int tc_ingress_del(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q = ingress(ifindex);

	if (!q)
		return -ENOMEM;
	int r = rtnl_qdisc_delete(sk, q);
	rtnl_qdisc_put(q);
	return nl_errno(r);
}

struct filter_walk {
	struct tc_filter *out;
	unsigned cap, n;
};

static struct tc_filter *slot(struct filter_walk *w, uint16_t prio)
{
	for (unsigned i = 0; i < w->n; i++)
		if (w->out[i].prio == prio)
			return &w->out[i];
	if (w->n >= w->cap)
		return NULL;
	w->out[w->n] = (struct tc_filter){ .prio = prio, .u32 = true };
	return &w->out[w->n++];
}

static void take_filter(struct nl_object *o, void *arg)
{
	struct rtnl_cls *cls = (struct rtnl_cls *)o;
	struct tc_filter *f = slot(arg, rtnl_cls_get_prio(cls));
	const char *kind = rtnl_tc_get_kind(TC_CAST(cls));

	if (!f)
		return;
	/* A u32 filter is dumped as its hash table and its nodes; only a
	 * node carries actions. */
	f->u32 &= kind && !strcmp(kind, "u32");
	if (!f->u32)
		return;
	for (struct rtnl_act *a = rtnl_u32_get_action(cls); a; a = rtnl_act_next(a)) {
		const char *ak = rtnl_tc_get_kind(TC_CAST(a));
		if (ak && !strcmp(ak, "mirred")) {
			f->mirred = true;
			f->target = rtnl_mirred_get_ifindex(a);
		}
	}
}

int tc_filters(struct nl_sock *sk, int ifindex, struct tc_filter *out, unsigned cap, unsigned *n)
{
	struct nl_cache *cache = NULL;
	struct filter_walk w = { .out = out, .cap = cap };
	int r = rtnl_cls_alloc_cache(sk, ifindex, INGRESS_HANDLE, &cache);

	if (r < 0)
		return nl_errno(r);
	nl_cache_foreach(cache, take_filter, &w);
	nl_cache_free(cache);
	*n = w.n;
	return 0;
}

int tc_redirect_add(struct nl_sock *sk, int from, int to, uint16_t prio)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int r = -ENOMEM;

	if (!cls || !act)
		goto out;
	rtnl_tc_set_ifindex(TC_CAST(cls), from);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	if ((r = rtnl_tc_set_kind(TC_CAST(cls), "u32")) < 0 ||
	    (r = rtnl_tc_set_kind(TC_CAST(act), "mirred")) < 0)
		goto nlerr;
	rtnl_cls_set_prio(cls, prio);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	/* Match every frame: 32 bits at offset 0 under mask 0. */
	if ((r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (r = rtnl_u32_set_cls_terminal(cls)) < 0)
		goto nlerr;
	if ((r = rtnl_mirred_set_action(act, TCA_EGRESS_REDIR)) < 0 ||
	    (r = rtnl_mirred_set_policy(act, TC_ACT_STOLEN)) < 0 ||
	    (r = rtnl_mirred_set_ifindex(act, (uint32_t)to)) < 0 ||
	    (r = rtnl_u32_add_action(cls, act)) < 0)
		goto nlerr;
	r = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_EXCL);
nlerr:
	r = nl_errno(r);
out:
	if (act)
		rtnl_act_put(act);
	if (cls)
		rtnl_cls_put(cls);
	return r;
}

int tc_filter_del(struct nl_sock *sk, int ifindex, uint16_t prio)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	int r;

	if (!cls)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(cls), ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	rtnl_cls_set_prio(cls, prio);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	r = rtnl_tc_set_kind(TC_CAST(cls), "u32");
	if (r >= 0)
		r = rtnl_cls_delete(sk, cls, 0);
	rtnl_cls_put(cls);
	return nl_errno(r);
}

bool tc_is_ours(const struct tc_filter *f)
{
	return f->u32 && f->mirred && f->prio >= NETSETUP_PRIO_BASE &&
	       f->prio < NETSETUP_PRIO_BASE + NETSETUP_PRIO_SPAN;
}

int tc_unredirect(struct nl_sock *sk, int ifindex, uint16_t prio)
{
	struct tc_filter fs[TC_MAX_FILTERS];
	unsigned n = 0;
	int gone = 0;

	if (tc_filter_del(sk, ifindex, prio) == 0)
		gone++;
	if (tc_has_ingress(sk, ifindex) != 1)
		return gone;
	if (tc_filters(sk, ifindex, fs, TC_MAX_FILTERS, &n) == 0 && n == 0 &&
	    tc_ingress_del(sk, ifindex) == 0)
		gone++;
	return gone;
}
