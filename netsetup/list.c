/* list.c - what a network namespace holds, read with libnl caches.
 *
 * Owns: turning the link, address and route caches of a namespace into
 * struct netsetup_info (which interfaces are usable for a VM, which
 * addresses and routes the guest must be given), and the two link
 * operations netsetup needs (does an ifindex exist; set MTU and up). */
#include "netsetup_int.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <string.h>
#include <sys/socket.h>

static bool usable_kind(const char *kind)
{
	return !kind || !*kind || !strcmp(kind, "veth") || !strcmp(kind, "macvlan") ||
	       !strcmp(kind, "ipvlan");
}

static struct netsetup_iface *by_index(struct netsetup_info *info, int ifindex)
{
	for (unsigned i = 0; i < info->nifaces; i++)
		if (info->ifaces[i].ifindex == ifindex)
			return &info->ifaces[i];
	return NULL;
}

/* Copy an address's bytes; false when it is not len bytes long. */
static bool addr_bytes(struct nl_addr *a, uint8_t *out, unsigned len)
{
	if (!a || nl_addr_get_len(a) != len)
		return false;
	memcpy(out, nl_addr_get_binary_addr(a), len);
	return true;
}

static void take_link(struct nl_object *o, void *arg)
{
	struct netsetup_info *info = arg;
	struct rtnl_link *l = (struct rtnl_link *)o;
	unsigned flags = rtnl_link_get_flags(l);
	const char *kind = rtnl_link_get_type(l);
	const char *name = rtnl_link_get_name(l);

	if ((flags & IFF_LOOPBACK) || !name || info->nifaces >= NETSETUP_MAX_LINKS)
		return;
	struct netsetup_iface *i = &info->ifaces[info->nifaces++];
	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", name);
	snprintf(i->kind, sizeof(i->kind), "%s", kind ? kind : "");
	i->ifindex = rtnl_link_get_ifindex(l);
	i->mtu = rtnl_link_get_mtu(l);
	i->up = flags & IFF_UP;
	bool ether = rtnl_link_get_arptype(l) == ARPHRD_ETHER &&
		     addr_bytes(rtnl_link_get_addr(l), i->mac, 6);
	i->usable = ether && usable_kind(kind) &&
		    strncmp(name, NETSETUP_TAP_PREFIX, strlen(NETSETUP_TAP_PREFIX)) != 0;
}

static void take_addr(struct nl_object *o, void *arg)
{
	struct netsetup_info *info = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct netsetup_iface *i = by_index(info, rtnl_addr_get_ifindex(a));
	int family = rtnl_addr_get_family(a);

	if (!i || i->naddrs >= NETSETUP_MAX_ADDRS || (family != AF_INET && family != AF_INET6))
		return;
	if (family == AF_INET6 && rtnl_addr_get_scope(a) == RT_SCOPE_LINK)
		return; /* fe80::/10: the guest derives the same one from the MAC */
	struct netsetup_addr *x = &i->addrs[i->naddrs];
	*x = (struct netsetup_addr){ .family = family,
				     .prefix = (uint8_t)rtnl_addr_get_prefixlen(a) };
	if (addr_bytes(rtnl_addr_get_local(a), x->addr, family == AF_INET ? 4 : 16))
		i->naddrs++;
}

static void take_route(struct nl_object *o, void *arg)
{
	struct netsetup_info *info = arg;
	struct rtnl_route *r = (struct rtnl_route *)o;
	int family = rtnl_route_get_family(r);
	unsigned alen = family == AF_INET ? 4 : 16;

	if ((family != AF_INET && family != AF_INET6) || info->nroutes >= NETSETUP_MAX_ROUTES)
		return;
	if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST ||
	    rtnl_route_get_protocol(r) == RTPROT_KERNEL || rtnl_route_get_nnexthops(r) != 1)
		return;
	struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);
	struct netsetup_iface *i = nh ? by_index(info, rtnl_route_nh_get_ifindex(nh)) : NULL;
	if (!i || !i->usable)
		return;
	struct netsetup_route *x = &info->routes[info->nroutes];
	*x = (struct netsetup_route){ .family = family, .metric = rtnl_route_get_priority(r) };
	struct nl_addr *dst = rtnl_route_get_dst(r);
	x->dst_len = dst ? (uint8_t)nl_addr_get_prefixlen(dst) : 0;
	if (x->dst_len && !addr_bytes(dst, x->dst, alen))
		return;
	x->has_gateway = addr_bytes(rtnl_route_nh_get_gateway(nh), x->gateway, alen);
	memcpy(x->dev, i->name, IFNAMSIZ);
	info->nroutes++;
}

int ns_list(struct nl_sock *sk, struct netsetup_info *info, struct kv_err *err)
{
	struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	int r;

	memset(info, 0, sizeof(*info));
	if ((r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links)) < 0)
		return kv_errf(err, nl_errno(r), "listing interfaces: %s", nl_geterror(r));
	nl_cache_foreach(links, take_link, info);
	nl_cache_free(links);
	if ((r = rtnl_addr_alloc_cache(sk, &addrs)) < 0)
		return kv_errf(err, nl_errno(r), "listing addresses: %s", nl_geterror(r));
	nl_cache_foreach(addrs, take_addr, info);
	nl_cache_free(addrs);
	if ((r = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0)
		return kv_errf(err, nl_errno(r), "listing routes: %s", nl_geterror(r));
	nl_cache_foreach(routes, take_route, info);
	nl_cache_free(routes);
	/* On-link routes first: a gateway must be reachable when its route
	 * is added. */
	struct netsetup_route tmp[NETSETUP_MAX_ROUTES];
	unsigned k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (unsigned j = 0; j < info->nroutes; j++)
			if (info->routes[j].has_gateway == (pass == 1))
				tmp[k++] = info->routes[j];
	memcpy(info->routes, tmp, k * sizeof(tmp[0]));
	return 0;
}

bool ns_link_exists(struct nl_sock *sk, int ifindex)
{
	struct nl_cache *links = NULL;

	if (ifindex <= 0 || rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) < 0)
		return false;
	struct rtnl_link *l = rtnl_link_get(links, ifindex);
	bool there = l != NULL;
	if (l)
		rtnl_link_put(l);
	nl_cache_free(links);
	return there;
}

int ns_link_up(struct nl_sock *sk, int ifindex, uint32_t mtu)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *ch = rtnl_link_alloc();
	int r = -ENOMEM;

	if (orig && ch) {
		rtnl_link_set_ifindex(orig, ifindex);
		if (mtu)
			rtnl_link_set_mtu(ch, mtu);
		rtnl_link_set_flags(ch, IFF_UP);
		r = nl_errno(rtnl_link_change(sk, orig, ch, 0));
	}
	if (orig)
		rtnl_link_put(orig);
	if (ch)
		rtnl_link_put(ch);
	return r;
}
