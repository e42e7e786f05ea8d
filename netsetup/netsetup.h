/* netsetup.h - a container's network namespace, handed to a VM's NIC.
 *
 * Owns: the whole host side of kvrun's tcfilter networking
 * (docs/networking.md), with libnl-3 and libnl-route-3 only (no `ip` or
 * `tc` is run). Given the path of a network namespace that CNI (or
 * docker's, podman's own networking) prepared:
 *
 *   netsetup_list     what is in it: interfaces (veth, macvlan, ipvlan, a
 *                     moved physical NIC), their MAC, MTU and IPv4/IPv6
 *                     addresses, and the routes of the main table;
 *   netsetup_attach   for each such interface a tap "kvtapN" in the same
 *                     namespace (same MTU, up, non-persistent, opened with
 *                     a virtio-net header), an ingress qdisc on both, and a
 *                     u32 match-all filter with `mirred egress redirect` in
 *                     each direction: every frame the interface receives
 *                     leaves through the tap to the VM, and every frame the
 *                     VM sends leaves through the interface;
 *   netsetup_guard    a small process that removes the interface's filter
 *                     and qdisc when this process dies by any path (SIGKILL
 *                     included) without detaching first;
 *   netsetup_detach   the orderly undo: filter and qdisc off the interface,
 *                     tap fds closed (the taps disappear with them);
 *   netsetup_cleanup  the double check `delete` makes by netns path:
 *                     removes any filter of ours still there.
 *
 * The namespace is entered only by a short-lived thread that opens the
 * netlink socket and the taps there; the calling thread never changes
 * namespace. Call netsetup_attach in the process that runs the VMM (the
 * tap fds must live exactly as long as the VM). Library code: nothing
 * prints; failures are a negative errno with a message in struct kv_err,
 * and a failed attach leaves nothing behind. */
#ifndef KVRUN_NETSETUP_H
#define KVRUN_NETSETUP_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct kvap_net_config;

#define NETSETUP_MAX_IFACES 8  /* interfaces handed to a VM */
#define NETSETUP_MAX_LINKS  32 /* interfaces listed */
#define NETSETUP_MAX_ADDRS  16 /* per interface */
#define NETSETUP_MAX_ROUTES 64

/* The tc priorities of our filters: NETSETUP_PRIO_BASE + the tap's ifindex
 * (mod NETSETUP_PRIO_SPAN), so that each attach can be told apart. */
#define NETSETUP_PRIO_BASE 0x4000
#define NETSETUP_PRIO_SPAN 0x1000

#define NETSETUP_TAP_PREFIX "kvtap"

struct netsetup_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

struct netsetup_route {
	int family;
	uint8_t dst[16];
	uint8_t dst_len; /* 0: the default route */
	bool has_gateway;
	uint8_t gateway[16];
	char dev[IFNAMSIZ];
	uint32_t metric;
};

struct netsetup_iface {
	char name[IFNAMSIZ];
	int ifindex;
	char kind[16]; /* "veth", "macvlan", "ipvlan", "" for a physical NIC, ... */
	uint8_t mac[6];
	uint32_t mtu;
	bool up;
	bool usable; /* a kind kvrun hands to a VM (see netsetup_list) */
	struct netsetup_addr addrs[NETSETUP_MAX_ADDRS];
	unsigned naddrs;
};

struct netsetup_info {
	struct netsetup_iface ifaces[NETSETUP_MAX_LINKS];
	unsigned nifaces;
	struct netsetup_route routes[NETSETUP_MAX_ROUTES];
	unsigned nroutes;
};

/* List netns_path's interfaces other than loopback, their addresses
 * (IPv6 link-local ones left out: a guest makes its own from the same MAC)
 * and the unicast routes of the main table that use them, except those
 * the kernel made for an address (the guest's kernel makes them too).
 * Gateway-less routes come first. usable: an Ethernet interface of kind
 * veth, macvlan, ipvlan or none (a physical NIC), not one of our taps. */
int netsetup_list(const char *netns_path, struct netsetup_info *info, struct kv_err *err);

/* One interface handed to the VM. */
struct netsetup_nic {
	char iface[IFNAMSIZ]; /* the CNI interface */
	int iface_index;
	char tap[IFNAMSIZ];
	int tap_index;
	int tap_fd; /* IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking */
	uint16_t prio;
	uint8_t mac[6]; /* the interface's: the guest NIC takes it */
	uint32_t mtu;
};

struct netsetup {
	struct netsetup_info info;
	struct netsetup_nic nics[NETSETUP_MAX_IFACES];
	unsigned nnics;
	struct nl_sock *sk; /* libnl route socket inside the namespace */
	int raw_nl;	    /* plain NETLINK_ROUTE socket inside it, for the guard */
	pid_t guard;	    /* 0: none */
	int guard_fd;	    /* write end of the guard's pipe */
};

/* Set up every usable interface of netns_path as described above. A
 * namespace with none (a fresh one: loopback only) gives nnics 0.
 * -EBUSY when an interface already has an ingress qdisc that is not a
 * stale one of ours (a filter of ours whose tap is gone is cleaned up
 * first), or when a tap name is taken. */
int netsetup_attach(const char *netns_path, struct netsetup **out, struct kv_err *err);

/* Start the guard process: it waits for this process to end and then
 * removes what netsetup_attach put on the interfaces, unless
 * netsetup_detach ran first. It keeps only a pipe and a netlink socket
 * (never a tap fd), leaves the session and process group, and uses only
 * system calls after fork, so any process may call this. */
int netsetup_guard(struct netsetup *ns, struct kv_err *err);

/* Hand the orderly undo to the guard (netsetup_guard first): close the
 * netlink socket into the namespace, so that the process that runs the VM
 * holds none. netsetup_detach then closes the taps and the guard's pipe
 * and waits for the guard, which removes the filters and qdiscs. -EINVAL
 * without a guard. */
int netsetup_release_netlink(struct netsetup *ns, struct kv_err *err);

/* Undo netsetup_attach: remove our filter from each interface, and its
 * ingress qdisc when no other filter is left on it; close the tap fds
 * (the taps vanish once nobody else holds them, e.g. the VMM's copies);
 * stop the guard. Frees ns. NULL is ignored. */
void netsetup_detach(struct netsetup *ns);

/* For `delete`: remove from every interface of netns_path the filters of
 * ours whose tap no longer exists (and the ingress qdisc they leave
 * empty), and any of our taps made persistent by someone. A namespace
 * that no longer exists is not an error. Returns the number of objects
 * removed, or a negative errno. */
int netsetup_cleanup(const char *netns_path, struct kv_err *err);

/* The NET_CONFIG request (agent-proto) that gives the guest the
 * interfaces of ns with their MAC, name, MTU and addresses, and the routes
 * through them. Free with kvap_free_net_config(). */
int netsetup_to_kvap(const struct netsetup *ns, struct kvap_net_config *out, struct kv_err *err);

#endif
