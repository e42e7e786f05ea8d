/* attach.c - netsetup_list, netsetup_attach, netsetup_detach and
 * netsetup_cleanup (netsetup.h).
 *
 * Owns: the order of the set-up - inside the namespace, list; for each
 * usable interface clean a stale redirect of ours or refuse a busy one,
 * create the tap, give it the interface's MTU and bring it up, add the
 * ingress qdiscs, then the two redirect filters - and its exact undo on
 * any failure; the orderly detach; and the double check by path. */
#include "netsetup_int.h"
#include "tapdev.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct list_job {
	struct netsetup_info *info;
	struct kv_err *err;
};

static int list_in_ns(void *arg)
{
	struct list_job *j = arg;
	struct nl_sock *sk = NULL;
	int r = ns_socket(&sk);

	if (r < 0)
		return kv_errno(j->err, r, "netlink socket");
	r = ns_list(sk, j->info, j->err);
	nl_socket_free(sk);
	return r;
}

int netsetup_list(const char *netns_path, struct netsetup_info *info, struct kv_err *err)
{
	struct kv_err scratch;
	int fd, r;

	if (!err)
		err = &scratch;
	err->code = 0;
	struct list_job j = { info, err };
	if ((r = netns_open(netns_path, &fd, err)) < 0)
		return r;
	r = netns_run(fd, list_in_ns, &j);
	(void)close(fd);
	if (r < 0 && !err->code)
		kv_errno(err, r, "entering network namespace %s", netns_path);
	return r;
}

/* Remove a stale redirect of ours from ifindex (its tap is gone: the VMM
 * died and nobody cleaned up), or refuse when the interface's ingress is
 * used by something alive. */
static int claim_ingress(struct nl_sock *sk, const struct netsetup_iface *i, struct kv_err *err)
{
	struct tc_filter fs[TC_MAX_FILTERS];
	unsigned n = 0;
	int r = tc_has_ingress(sk, i->ifindex);

	if (r <= 0)
		return r < 0 ? kv_errno(err, r, "%s: reading its qdiscs", i->name) : 0;
	if ((r = tc_filters(sk, i->ifindex, fs, TC_MAX_FILTERS, &n)) < 0)
		return kv_errno(err, r, "%s: reading its ingress filters", i->name);
	for (unsigned k = 0; k < n; k++) {
		bool stale = tc_is_ours(&fs[k]) &&
			     (fs[k].target == 0 || !ns_link_exists(sk, (int)fs[k].target));
		if (!stale)
			return kv_errf(
			    err, -EBUSY, "%s already has an ingress filter (priority %u)%s",
			    i->name, fs[k].prio,
			    tc_is_ours(&fs[k]) ? ": another kvrun VM uses this interface" : "");
	}
	for (unsigned k = 0; k < n; k++)
		(void)tc_filter_del(sk, i->ifindex, fs[k].prio);
	r = tc_ingress_del(sk, i->ifindex);
	return r < 0 ? kv_errno(err, r, "%s: removing a stale ingress qdisc", i->name) : 0;
}

/* Undo what set_up did for nic (every step tolerates "not done"). */
static void tear_down(struct netsetup *ns, struct netsetup_nic *nic)
{
	if (nic->prio && ns->sk) {
		(void)tc_unredirect(ns->sk, nic->iface_index, nic->prio);
		if (nic->tap_index > 0)
			(void)tc_unredirect(ns->sk, nic->tap_index, nic->prio);
	}
	if (nic->tap_fd >= 0)
		(void)close(nic->tap_fd);
	nic->tap_fd = -1;
	nic->prio = 0;
}

static int open_tap(struct netsetup_nic *nic)
{
	for (unsigned k = 0; k < 64; k++) {
		snprintf(nic->tap, sizeof(nic->tap), NETSETUP_TAP_PREFIX "%u", k);
		int fd = tap_open(nic->tap, true);
		if (fd != -EBUSY)
			return fd;
	}
	return -EBUSY;
}

static int set_up(struct netsetup *ns, const struct netsetup_iface *i, struct netsetup_nic *nic,
		  struct kv_err *err)
{
	int r;

	*nic = (struct netsetup_nic){ .iface_index = i->ifindex, .tap_fd = -1, .mtu = i->mtu };
	memcpy(nic->iface, i->name, IFNAMSIZ);
	memcpy(nic->mac, i->mac, 6);
	if ((r = claim_ingress(ns->sk, i, err)) < 0)
		return r;
	if ((r = open_tap(nic)) < 0)
		return kv_errno(err, r, "%s: cannot create a tap for it", i->name);
	nic->tap_fd = r;
	nic->tap_index = (int)if_nametoindex(nic->tap);
	if (nic->tap_index <= 0)
		return kv_errno(err, -errno, "%s: the new tap %s", i->name, nic->tap);
	if ((r = ns_link_up(ns->sk, nic->tap_index, i->mtu)) < 0)
		return kv_errno(err, r, "%s: setting MTU %u and up", nic->tap, i->mtu);
	/* From here on tear_down undoes the tc objects. */
	nic->prio = (uint16_t)(NETSETUP_PRIO_BASE + nic->tap_index % NETSETUP_PRIO_SPAN);
	if ((r = tc_ingress_add(ns->sk, i->ifindex)) < 0)
		return kv_errno(err, r, "%s: adding an ingress qdisc", i->name);
	if ((r = tc_ingress_add(ns->sk, nic->tap_index)) < 0)
		return kv_errno(err, r, "%s: adding an ingress qdisc", nic->tap);
	if ((r = tc_redirect_add(ns->sk, i->ifindex, nic->tap_index, nic->prio)) < 0)
		return kv_errno(
		    err, r, "%s: adding a u32 filter redirecting to %s%s", i->name, nic->tap,
		    r == -ENOENT || r == -EOPNOTSUPP ? " (are cls_u32 and act_mirred available?)"
						     : "");
	if ((r = tc_redirect_add(ns->sk, nic->tap_index, i->ifindex, nic->prio)) < 0)
		return kv_errno(err, r, "%s: adding a u32 filter redirecting to %s", nic->tap,
				i->name);
	return 0;
}

struct attach_job {
	struct netsetup *ns;
	struct kv_err *err;
};

static int attach_in_ns(void *arg)
{
	struct attach_job *j = arg;
	struct netsetup *ns = j->ns;
	int r;

	if ((r = ns_socket(&ns->sk)) < 0)
		return kv_errno(j->err, r, "netlink socket");
	ns->raw_nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (ns->raw_nl < 0)
		return kv_errno(j->err, -errno, "netlink socket");
	if ((r = ns_list(ns->sk, &ns->info, j->err)) < 0)
		return r;
	for (unsigned k = 0; k < ns->info.nifaces; k++) {
		const struct netsetup_iface *i = &ns->info.ifaces[k];
		if (!i->usable)
			continue;
		if (ns->nnics == NETSETUP_MAX_IFACES)
			return kv_errf(j->err, -E2BIG, "more than %d interfaces to hand to the VM",
				       NETSETUP_MAX_IFACES);
		r = set_up(ns, i, &ns->nics[ns->nnics], j->err);
		ns->nnics++; /* tear_down takes what was done */
		if (r < 0)
			return r;
	}
	return 0;
}

static void free_ns(struct netsetup *ns)
{
	for (unsigned k = 0; k < ns->nnics; k++)
		tear_down(ns, &ns->nics[k]);
	if (ns->sk)
		nl_socket_free(ns->sk);
	if (ns->raw_nl >= 0)
		(void)close(ns->raw_nl);
	free(ns);
}

int netsetup_attach(const char *netns_path, struct netsetup **out, struct kv_err *err)
{
	struct netsetup *ns = calloc(1, sizeof(*ns));
	struct kv_err scratch;
	int fd, r;

	if (!err)
		err = &scratch;
	if (!ns)
		return kv_errf(err, -ENOMEM, "out of memory");
	ns->raw_nl = ns->guard_fd = -1;
	if ((r = netns_open(netns_path, &fd, err)) < 0) {
		free(ns);
		return r;
	}
	struct attach_job j = { ns, err };
	err->code = 0;
	r = netns_run(fd, attach_in_ns, &j);
	(void)close(fd);
	if (r < 0) {
		if (!err->code)
			kv_errno(err, r, "entering network namespace %s", netns_path);
		free_ns(ns);
		return r;
	}
	*out = ns;
	return 0;
}

void netsetup_detach(struct netsetup *ns)
{
	if (!ns)
		return;
	for (unsigned k = 0; k < ns->nnics; k++)
		tear_down(ns, &ns->nics[k]);
	if (ns->guard > 0) {
		/* "Done": the guard leaves without touching anything. Without
		 * our netlink socket (released) it does the undo itself. */
		if (ns->sk)
			(void)!write(ns->guard_fd, "D", 1);
		(void)close(ns->guard_fd);
		while (waitpid(ns->guard, NULL, 0) < 0 && errno == EINTR)
			;
	}
	ns->nnics = 0;
	free_ns(ns);
}

int netsetup_release_netlink(struct netsetup *ns, struct kv_err *err)
{
	if (ns->nnics && ns->guard <= 0)
		return kv_errf(err, -EINVAL, "netsetup: no guard to hand the undo to");
	if (ns->sk)
		nl_socket_free(ns->sk);
	ns->sk = NULL;
	return 0;
}

struct cleanup_job {
	struct kv_err *err;
	int removed;
};

static int cleanup_in_ns(void *arg)
{
	struct cleanup_job *j = arg;
	struct netsetup_info *info = malloc(sizeof(*info));
	struct nl_sock *sk = NULL;
	int r;

	if (!info)
		return -ENOMEM;
	if ((r = ns_socket(&sk)) < 0) {
		free(info);
		return kv_errno(j->err, r, "netlink socket");
	}
	r = ns_list(sk, info, j->err);
	for (unsigned k = 0; r == 0 && k < info->nifaces; k++) {
		struct tc_filter fs[TC_MAX_FILTERS];
		unsigned n = 0;
		int idx = info->ifaces[k].ifindex;
		if (tc_has_ingress(sk, idx) != 1 || tc_filters(sk, idx, fs, TC_MAX_FILTERS, &n) < 0)
			continue;
		for (unsigned f = 0; f < n; f++)
			if (tc_is_ours(&fs[f]) &&
			    (fs[f].target == 0 || !ns_link_exists(sk, (int)fs[f].target)))
				j->removed += tc_unredirect(sk, idx, fs[f].prio);
	}
	nl_socket_free(sk);
	free(info);
	return r;
}

int netsetup_cleanup(const char *netns_path, struct kv_err *err)
{
	struct kv_err scratch;
	int fd, r;

	if (!err)
		err = &scratch;
	struct cleanup_job j = { err, 0 };
	if (access(netns_path, F_OK) < 0 && errno == ENOENT)
		return 0; /* the namespace is gone, and everything in it */
	if ((r = netns_open(netns_path, &fd, err)) < 0)
		return r;
	err->code = 0;
	r = netns_run(fd, cleanup_in_ns, &j);
	(void)close(fd);
	if (r < 0) {
		if (!err->code)
			kv_errno(err, r, "entering network namespace %s", netns_path);
		return r;
	}
	return j.removed;
}
