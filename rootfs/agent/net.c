/* net.c - NET_CONFIG: the guest's interfaces, addresses and routes.
 *
 * Owns: the agent's rtnetlink client (one request, one acknowledgement;
 * a link dump to find interfaces by MAC) and the NET_CONFIG handler. The
 * host side (netsetup/) sends the MAC, name, MTU and addresses of each
 * interface of the container's network namespace and the routes through
 * them; see net.h for the order. As --no-init on the host the request is
 * refused: it would reconfigure the host's own network. */
#include "net.h"
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NL_BUF 8192

struct nl {
	int fd;
	uint32_t seq;
	char buf[NL_BUF];
};

struct req {
	struct nlmsghdr n;
	union {
		struct ifinfomsg i;
		struct ifaddrmsg a;
		struct rtmsg r;
	} u;
	char attrs[256];
};

static void attr(struct req *q, uint16_t type, const void *data, size_t len)
{
	struct rtattr *ra = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->n.nlmsg_len));

	ra->rta_type = type;
	ra->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(ra), data, len);
	q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + RTA_ALIGN(ra->rta_len);
}

static void begin(struct req *q, uint16_t type, uint16_t flags, size_t body)
{
	memset(q, 0, sizeof(*q));
	q->n.nlmsg_len = (uint32_t)NLMSG_LENGTH(body);
	q->n.nlmsg_type = type;
	q->n.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
}

/* Send q and wait for its acknowledgement: 0 or the kernel's -errno. */
static int call(struct nl *nl, struct req *q)
{
	q->n.nlmsg_seq = ++nl->seq;
	if (send(nl->fd, q, q->n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl->fd, nl->buf, sizeof(nl->buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return len < 0 ? -errno : -EIO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)nl->buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != nl->seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

/* The ifindex of the interface with this MAC (and its name), from a link
 * dump; -ENODEV when there is none. */
static int find_by_mac(struct nl *nl, const uint8_t mac[6], char name[IFNAMSIZ])
{
	struct req q;
	int found = -ENODEV;

	begin(&q, RTM_GETLINK, NLM_F_DUMP, sizeof(struct ifinfomsg));
	q.n.nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	q.n.nlmsg_seq = ++nl->seq;
	if (send(nl->fd, &q, q.n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(nl->fd, nl->buf, sizeof(nl->buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return len < 0 ? -errno : -EIO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)nl->buf; NLMSG_OK(h, (size_t)len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != nl->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return found;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error ?: -EIO;
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int alen = (int)IFLA_PAYLOAD(h);
			bool match = false;
			char nm[IFNAMSIZ] = "";
			for (struct rtattr *ra = IFLA_RTA(ifi); RTA_OK(ra, alen);
			     ra = RTA_NEXT(ra, alen)) {
				if (ra->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(ra) == 6)
					match = !memcmp(RTA_DATA(ra), mac, 6);
				else if (ra->rta_type == IFLA_IFNAME)
					snprintf(nm, sizeof(nm), "%.*s", (int)RTA_PAYLOAD(ra),
						 (const char *)RTA_DATA(ra));
			}
			if (match && found == -ENODEV) {
				found = ifi->ifi_index;
				memcpy(name, nm, IFNAMSIZ);
			}
		}
	}
}

static int set_link(struct nl *nl, int ifindex, const char *rename, uint32_t mtu, int up)
{
	struct req q;

	begin(&q, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
	q.u.i.ifi_family = AF_UNSPEC;
	q.u.i.ifi_index = ifindex;
	if (up >= 0) {
		q.u.i.ifi_change = IFF_UP;
		q.u.i.ifi_flags = up ? IFF_UP : 0;
	}
	if (rename)
		attr(&q, IFLA_IFNAME, rename, strlen(rename) + 1);
	if (mtu)
		attr(&q, IFLA_MTU, &mtu, sizeof(mtu));
	return call(nl, &q);
}

/* "10.0.0.2/24" (or without the prefix), "on-link" for family 0. */
static const char *fmt_ip(const struct kvap_ipaddr *a, bool prefix, char *buf, size_t cap)
{
	char s[INET6_ADDRSTRLEN] = "?";

	if (a->family == 0)
		return "on-link";
	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, s, sizeof(s));
	if (prefix)
		snprintf(buf, cap, "%s/%u", s, a->prefix);
	else
		snprintf(buf, cap, "%s", s);
	return buf;
}

static int add_addr(struct nl *nl, int ifindex, const struct kvap_ipaddr *a)
{
	struct req q;
	size_t len = a->family == 4 ? 4 : 16;

	if (a->family != 4 && a->family != 6)
		return -EAFNOSUPPORT;
	begin(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct ifaddrmsg));
	q.u.a.ifa_family = a->family == 4 ? AF_INET : AF_INET6;
	q.u.a.ifa_prefixlen = a->prefix;
	q.u.a.ifa_index = (uint32_t)ifindex;
	q.u.a.ifa_scope = RT_SCOPE_UNIVERSE;
	if (a->family == 6)
		q.u.a.ifa_flags = IFA_F_NODAD;
	attr(&q, IFA_LOCAL, a->addr, len);
	attr(&q, IFA_ADDRESS, a->addr, len);
	return call(nl, &q);
}

static int add_route(struct nl *nl, const struct kvap_route *r, int oif)
{
	struct req q;
	size_t len = r->dest.family == 4 ? 4 : 16;

	if (r->dest.family != 4 && r->dest.family != 6)
		return -EAFNOSUPPORT;
	if (r->gateway.family && r->gateway.family != r->dest.family)
		return -EINVAL;
	begin(&q, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(struct rtmsg));
	q.u.r.rtm_family = r->dest.family == 4 ? AF_INET : AF_INET6;
	q.u.r.rtm_dst_len = r->dest.prefix;
	q.u.r.rtm_table = RT_TABLE_MAIN;
	q.u.r.rtm_protocol = RTPROT_BOOT;
	q.u.r.rtm_type = RTN_UNICAST;
	q.u.r.rtm_scope = r->gateway.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	if (r->dest.prefix)
		attr(&q, RTA_DST, r->dest.addr, len);
	if (r->gateway.family)
		attr(&q, RTA_GATEWAY, r->gateway.addr, len);
	if (oif > 0)
		attr(&q, RTA_OIF, &oif, sizeof(oif));
	if (r->metric)
		attr(&q, RTA_PRIORITY, &r->metric, sizeof(r->metric));
	return call(nl, &q);
}

/* The interface with i's MAC: its index and current name. */
static int lookup(struct nl *nl, const struct kvap_iface *i, char cur[IFNAMSIZ], struct kv_err *err)
{
	int idx = find_by_mac(nl, i->mac, cur);

	if (idx < 0)
		return kv_errf(err, idx, "no interface with MAC %02x:%02x:%02x:%02x:%02x:%02x%s",
			       i->mac[0], i->mac[1], i->mac[2], i->mac[3], i->mac[4], i->mac[5],
			       idx == -ENODEV ? " (is virtio_net loaded?)" : "");
	return idx;
}

/* A name can only change while the link is down. */
static int rename_link(struct nl *nl, int idx, const char *cur, const char *name,
		       struct kv_err *err)
{
	int r;

	if ((r = set_link(nl, idx, NULL, 0, 0)) < 0 || (r = set_link(nl, idx, name, 0, -1)) < 0)
		return kv_errno(err, r, "renaming %s to %s", cur, name);
	return 0;
}

/* First pass: every interface that changes name gets a temporary one, so
 * that names can be swapped (the host's eth1 may be the guest's eth0). */
static int park(struct nl *nl, const struct kvap_iface *i, unsigned k, struct kv_err *err)
{
	char cur[IFNAMSIZ] = "", tmp[IFNAMSIZ];
	int idx = lookup(nl, i, cur, err);

	if (idx < 0)
		return idx;
	if (!i->name || !*i->name || !strcmp(i->name, cur))
		return 0;
	snprintf(tmp, sizeof(tmp), "kvnet%u", k);
	return rename_link(nl, idx, cur, tmp, err);
}

static int apply_iface(struct nl *nl, const struct kvap_iface *i, struct kv_err *err)
{
	char cur[IFNAMSIZ] = "", ab[64];
	int idx = lookup(nl, i, cur, err), r;

	if (idx < 0)
		return idx;
	const char *name = i->name && *i->name ? i->name : cur;
	if (strcmp(name, cur) != 0 && (r = rename_link(nl, idx, cur, name, err)) < 0)
		return r;
	if (i->mtu && (r = set_link(nl, idx, NULL, i->mtu, -1)) < 0)
		return kv_errno(err, r, "%s: MTU %u", name, i->mtu);
	if ((r = set_link(nl, idx, NULL, 0, 1)) < 0)
		return kv_errno(err, r, "%s: bringing it up", name);
	for (uint32_t k = 0; k < i->n_addrs; k++)
		if ((r = add_addr(nl, idx, &i->addrs[k])) < 0)
			return kv_errno(err, r, "%s: address %s", name,
					fmt_ip(&i->addrs[k], true, ab, sizeof(ab)));
	adebug("network: %s (was %s) up, MTU %u, %u addresses", name, cur, i->mtu, i->n_addrs);
	return 0;
}

int net_apply(const struct kvap_net_config *cfg, struct kv_err *err)
{
	static struct nl nl;
	struct timeval tv = { .tv_sec = 5 };
	char db[64], gb[64];
	int r = 0;

	nl.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl.fd < 0)
		return kv_errno(err, -errno, "netlink socket");
	(void)setsockopt(nl.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (uint32_t k = 0; r == 0 && k < cfg->n_ifaces; k++)
		r = park(&nl, &cfg->ifaces[k], k, err);
	for (uint32_t k = 0; r == 0 && k < cfg->n_ifaces; k++)
		r = apply_iface(&nl, &cfg->ifaces[k], err);
	for (uint32_t k = 0; r == 0 && k < cfg->n_routes; k++) {
		const struct kvap_route *rt = &cfg->routes[k];
		int oif = 0;
		if (rt->device && *rt->device && !(oif = (int)if_nametoindex(rt->device)))
			r = kv_errf(err, -ENODEV, "route to %s: no device %s",
				    fmt_ip(&rt->dest, true, db, sizeof(db)), rt->device);
		else if ((r = add_route(&nl, rt, oif)) < 0)
			kv_errno(err, r, "route to %s via %s%s%s",
				 fmt_ip(&rt->dest, true, db, sizeof(db)),
				 fmt_ip(&rt->gateway, false, gb, sizeof(gb)),
				 rt->device ? " dev " : "", rt->device ? rt->device : "");
	}
	(void)close(nl.fd);
	nl.fd = -1;
	return r;
}

int req_net_config(struct agent *a, struct conn *c, uint32_t id, struct kvap_net_config *b,
		   struct kv_err *err)
{
	if (!a->init_mode)
		return kv_errf(err, -EPERM,
			       "NET_CONFIG needs the agent as the VM's PID 1 (with --no-init it "
			       "would reconfigure the host's network)");
	int r = net_apply(b, err);
	if (r < 0)
		return r;
	alog("network: %u interfaces, %u routes configured", b->n_ifaces, b->n_routes);
	struct kvap_empty reply = { 0 };
	conn_send_reply(a, c, KVAP_MSG_NET_CONFIG_REPLY, id, &reply);
	return 0;
}
