/* netsetup_int.h - what netsetup's files share.
 *
 * Owns: the calls between list.c (reading a namespace), tc.c (ingress
 * qdiscs and redirect filters), netns.c (running work inside a namespace),
 * attach.c, guard.c and kvap.c, and the libnl error mapping. Every nl_sock
 * here was created inside the namespace it talks to. */
#ifndef KVRUN_NETSETUP_INT_H
#define KVRUN_NETSETUP_INT_H

#include "netsetup.h"

#include <netlink/netlink.h>

/* libnl's NLE_* code as a negative errno. */
int nl_errno(int nle);

/* netns.c: open path as a network namespace fd (-EINVAL: not one), and
 * run fn(arg) in a thread that has entered it; returns fn's result. */
int netns_open(const char *path, int *fd, struct kv_err *err);
int netns_run(int nsfd, int (*fn)(void *arg), void *arg);
/* A connected libnl route socket (call inside the namespace). */
int ns_socket(struct nl_sock **out);

/* list.c */
int ns_list(struct nl_sock *sk, struct netsetup_info *info, struct kv_err *err);
/* Whether a link with this ifindex exists. */
bool ns_link_exists(struct nl_sock *sk, int ifindex);
/* Set a link's MTU and bring it up. */
int ns_link_up(struct nl_sock *sk, int ifindex, uint32_t mtu);

/* tc.c */
struct tc_filter {
	uint16_t prio;
	bool u32;
	bool mirred;	 /* a mirred action is attached */
	uint32_t target; /* its device's ifindex; 0 once that device is gone */
};
#define TC_MAX_FILTERS 32
/* 1 when ifindex has an ingress qdisc, 0 when not. */
int tc_has_ingress(struct nl_sock *sk, int ifindex);
int tc_ingress_add(struct nl_sock *sk, int ifindex);
int tc_ingress_del(struct nl_sock *sk, int ifindex);
/* The filters of ifindex's ingress qdisc, one entry per priority. */
int tc_filters(struct nl_sock *sk, int ifindex, struct tc_filter *out, unsigned cap, unsigned *n);
/* A u32 match-all filter at prio on from's ingress: mirred egress
 * redirect to `to`. */
int tc_redirect_add(struct nl_sock *sk, int from, int to, uint16_t prio);
int tc_filter_del(struct nl_sock *sk, int ifindex, uint16_t prio);
/* Ours: a u32 filter in our priority range with a mirred action. */
bool tc_is_ours(const struct tc_filter *f);
/* Remove our filter at prio from ifindex, then the ingress qdisc if no
 * filter is left on it. Returns how many objects went. */
int tc_unredirect(struct nl_sock *sk, int ifindex, uint16_t prio);

#endif
