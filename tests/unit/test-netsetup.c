/* Unit tests for netsetup/ (root): a real veth across two namespaces.
 *
 * Setup is by `ip` (tests may use it; netsetup itself never does):
 * namespace A holds veth "eth0" (10.77.0.2/24, fd77::2/64, MTU 1400,
 * routes: default via 10.77.0.1, 10.88.0.0/16 via 10.77.0.1, IPv6 default
 * via fd77::1) and a tun device; namespace B holds the peer
 * (10.77.0.1, fd77::1). Checked: the listing (kinds, MACs, MTU, addresses
 * without link-local, routes without kernel ones, gateway-less first); an
 * attach (tap kvtap0 in A with MTU 1400 and up, ingress qdiscs and u32
 * mirred filters both ways, read back with `tc`); real traffic: an ARP
 * request and an ICMP echo written to the tap fd are answered by B's
 * kernel and the answers come back out of the tap; NET_CONFIG data;
 * detach leaving nothing; the guard cleaning up after a SIGKILLed owner;
 * a stale filter cleaned by netsetup_cleanup and by the next attach; a
 * busy interface refused with nothing left; a fresh namespace (loopback
 * only); bad paths; 20 attach/detach cycles with nothing left. */
#include "kvap.h"
#include "netsetup.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char ns_a[64], ns_b[64], ns_c[64], path_a[128], path_c[128];

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st != 0)
		diag("command failed (%d): %s", st, cmd);
	return st;
}

/* The output of a command (at most cap - 1 bytes). */
__attribute__((format(printf, 3, 4))) static char *out(char *buf, size_t cap, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	size_t n = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	buf[0] = 0;
	FILE *f = popen(cmd, "r");
	if (!f)
		return buf;
	while (n + 1 < cap) {
		size_t k = fread(buf + n, 1, cap - 1 - n, f);
		if (k == 0)
			break;
		n += k;
	}
	buf[n] = 0;
	pclose(f);
	return buf;
}

static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* Nothing of ours in A: no tap, no qdisc or filter on eth0. */
static bool clean_a(void)
{
	char l[4096], q[4096];

	out(l, sizeof(l), "ip -n %s -o link show 2>&1", ns_a);
	out(q, sizeof(q),
	    "tc -n %s qdisc show dev eth0 2>&1; tc -n %s filter show dev eth0 ingress 2>&1", ns_a,
	    ns_a);
	bool c = !has(l, "kvtap") && !has(q, "ingress") && !has(q, "mirred");
	if (!c)
		diag("left in %s:\n%s%s", ns_a, l, q);
	return c;
}

static void teardown(void);

static void setup(void)
{
	pid_t p = getpid();

	snprintf(ns_a, sizeof(ns_a), "kvns-%d-a", p);
	snprintf(ns_b, sizeof(ns_b), "kvns-%d-b", p);
	snprintf(ns_c, sizeof(ns_c), "kvns-%d-c", p);
	snprintf(path_a, sizeof(path_a), "/run/netns/%s", ns_a);
	snprintf(path_c, sizeof(path_c), "/run/netns/%s", ns_c);
	int st =
	    sh("ip netns add %s && ip netns add %s && ip netns add %s", ns_a, ns_b, ns_c) ||
	    sh("ip link add eth0 netns %s mtu 1400 address 02:aa:00:00:00:02 type veth peer "
	       "name vb netns %s mtu 1400",
	       ns_a, ns_b) ||
	    sh("ip -n %s tuntap add dev tun0 mode tun", ns_a) ||
	    sh("ip -n %s addr add 10.77.0.2/24 dev eth0 && ip -n %s addr add fd77::2/64 dev eth0 "
	       "nodad && ip -n %s link set eth0 up",
	       ns_a, ns_a, ns_a) ||
	    sh("ip -n %s addr add 10.77.0.1/24 dev vb && ip -n %s addr add fd77::1/64 dev vb "
	       "nodad && ip -n %s link set vb up && ip -n %s link set lo up",
	       ns_b, ns_b, ns_b, ns_b) ||
	    sh("ip -n %s route add default via 10.77.0.1 && ip -n %s route add 10.88.0.0/16 via "
	       "10.77.0.1 metric 7 && ip -n %s -6 route add default via fd77::1",
	       ns_a, ns_a, ns_a);
	if (!ok(st == 0, "namespaces %s and %s with a veth pair", ns_a, ns_b)) {
		printf("Bail out! cannot set up the test namespaces (root, iproute2, veth?)\n");
		teardown();
		exit(1);
	}
}

static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ip netns del %s; ip netns del %s; ip netns del %s", ns_a, ns_b,
		 ns_c);
	(void)!system(cmd);
}

static void listing(void)
{
	struct netsetup_info *info = calloc(1, sizeof(*info));
	struct kv_err err = { 0 };
	const struct netsetup_iface *eth = NULL, *dum = NULL;

	ok(netsetup_list(path_a, info, &err) == 0, "netsetup_list (%s)", err.msg);
	for (unsigned i = 0; i < info->nifaces; i++) {
		if (!strcmp(info->ifaces[i].name, "eth0"))
			eth = &info->ifaces[i];
		if (!strcmp(info->ifaces[i].name, "tun0"))
			dum = &info->ifaces[i];
	}
	ok(info->nifaces == 2 && eth && dum && eth->usable && !dum->usable,
	   "two interfaces besides lo: eth0 (veth, usable) and tun0 (tun, not)");
	ok(eth && !strcmp(eth->kind, "veth") && eth->mtu == 1400 && eth->up &&
	       !memcmp(eth->mac, "\x02\xaa\x00\x00\x00\x02", 6),
	   "eth0: kind veth, MTU 1400, up, its MAC");
	bool v4 = false, v6 = false;
	for (unsigned a = 0; eth && a < eth->naddrs; a++) {
		v4 |= eth->addrs[a].family == AF_INET &&
		      !memcmp(eth->addrs[a].addr, "\x0a\x4d\x00\x02", 4) &&
		      eth->addrs[a].prefix == 24;
		v6 |= eth->addrs[a].family == AF_INET6 && eth->addrs[a].addr[0] == 0xfd &&
		      eth->addrs[a].addr[15] == 2 && eth->addrs[a].prefix == 64;
	}
	ok(eth && eth->naddrs == 2 && v4 && v6,
	   "addresses: 10.77.0.2/24 and fd77::2/64, no link-local (%u)", eth ? eth->naddrs : 0);
	unsigned def4 = 0, def6 = 0, net88 = 0, first_gw = info->nroutes;
	for (unsigned r = 0; r < info->nroutes; r++) {
		const struct netsetup_route *x = &info->routes[r];
		if (x->has_gateway && first_gw == info->nroutes)
			first_gw = r;
		if (!x->has_gateway && first_gw < r)
			first_gw = 0xffff;
		def4 += x->family == AF_INET && x->dst_len == 0 &&
			!memcmp(x->gateway, "\x0a\x4d\x00\x01", 4) && !strcmp(x->dev, "eth0");
		def6 += x->family == AF_INET6 && x->dst_len == 0 && x->gateway[15] == 1;
		net88 +=
		    x->family == AF_INET && x->dst_len == 16 && x->dst[1] == 88 && x->metric == 7;
	}
	ok(info->nroutes == 3 && def4 == 1 && def6 == 1 && net88 == 1,
	   "routes: both defaults and 10.88.0.0/16 metric 7; kernel routes left out (%u)",
	   info->nroutes);
	free(info);
}

static int wait_frame(int fd, uint8_t *buf, size_t cap, uint16_t ethertype, int ms)
{
	for (int t = 0; t < ms / 20; t++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t n;
		while ((n = read(fd, buf, cap)) > 0)
			if (n >= 12 + 14 && buf[12 + 12] == ethertype >> 8 &&
			    buf[12 + 13] == (ethertype & 0xff))
				return (int)n;
	}
	return -1;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void traffic(int tap, const uint8_t mac[6])
{
	uint8_t f[12 + 98] = { 0 }, buf[2048];
	char peer_mac[6];

	/* ARP: who has 10.77.0.1? tell 10.77.0.2 (from eth0's MAC). */
	uint8_t *e = f + 12;
	memset(e, 0xff, 6);
	memcpy(e + 6, mac, 6);
	memcpy(e + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(e + 22, mac, 6);
	memcpy(e + 28, "\x0a\x4d\x00\x02", 4);
	memcpy(e + 38, "\x0a\x4d\x00\x01", 4);
	ok(write(tap, f, 12 + 42) == 12 + 42, "an ARP request written to the tap fd");
	int n = wait_frame(tap, buf, sizeof(buf), 0x0806, 3000);
	ok(n >= 12 + 42 && !memcmp(buf + 12, mac, 6) && buf[12 + 21] == 2 &&
	       !memcmp(buf + 12 + 28, "\x0a\x4d\x00\x01", 4),
	   "B's kernel answers it, and the reply comes back out of the tap");
	memcpy(peer_mac, buf + 12 + 6, 6);

	/* ICMP echo to 10.77.0.1. */
	memset(f, 0, sizeof(f));
	memcpy(e, peer_mac, 6);
	memcpy(e + 6, mac, 6);
	e[12] = 0x08;
	uint8_t *ip = e + 14;
	ip[0] = 0x45;
	ip[3] = 84;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
	uint16_t c = htons(csum(ip, 20));
	memcpy(ip + 10, &c, 2);
	uint8_t *icmp = ip + 20;
	icmp[0] = 8;
	icmp[4] = 0x12;
	icmp[6] = 0x00;
	icmp[7] = 0x01;
	for (int i = 8; i < 64; i++)
		icmp[i] = (uint8_t)i;
	c = htons(csum(icmp, 64));
	memcpy(icmp + 2, &c, 2);
	ok(write(tap, f, 12 + 98) == 12 + 98, "an ICMP echo request written to the tap fd");
	bool reply = false;
	for (int t = 0; t < 5 && !reply; t++) {
		n = wait_frame(tap, buf, sizeof(buf), 0x0800, 1000);
		reply = n >= 12 + 98 && buf[12 + 14 + 9] == 1 && buf[12 + 34] == 0 &&
			!memcmp(buf + 12 + 14 + 12, "\x0a\x4d\x00\x01", 4) &&
			!memcmp(buf + 12 + 42, icmp + 8, 56);
	}
	ok(reply, "the echo reply from 10.77.0.1 comes back out of the tap");
}

static void attach(void)
{
	struct netsetup *ns = NULL;
	struct kv_err err = { 0 };
	char l[4096], q[8192];

	if (!ok(netsetup_attach(path_a, &ns, &err) == 0 && ns->nnics == 1,
		"netsetup_attach: one NIC (%s)", err.msg))
		return;
	struct netsetup_nic *nic = &ns->nics[0];
	ok(!strcmp(nic->iface, "eth0") && !strcmp(nic->tap, "kvtap0") && nic->mtu == 1400 &&
	       !memcmp(nic->mac, "\x02\xaa\x00\x00\x00\x02", 6) && nic->tap_fd >= 0,
	   "eth0 -> tap kvtap0, MTU 1400, eth0's MAC");
	out(l, sizeof(l), "ip -n %s link show kvtap0 2>&1", ns_a);
	ok(has(l, "mtu 1400") && has(l, ",UP") &&
	       !has(out(q, sizeof(q), "ip link show kvtap0 2>&1"), "mtu"),
	   "kvtap0 exists in A only, MTU 1400, up");
	char want[64];
	snprintf(want, sizeof(want), "pref %u u32", nic->prio);
	out(q, sizeof(q), "tc -n %s qdisc show dev eth0; tc -n %s filter show dev eth0 ingress",
	    ns_a, ns_a);
	ok(has(q, "qdisc ingress ffff:") && has(q, want) &&
	       has(q, "match 00000000/00000000 at 0") &&
	       has(q, "mirred (Egress Redirect to device kvtap0)"),
	   "eth0: ingress qdisc, u32 match-all filter (%s), mirred egress redirect to kvtap0",
	   want);
	out(q, sizeof(q), "tc -n %s qdisc show dev kvtap0; tc -n %s filter show dev kvtap0 ingress",
	    ns_a, ns_a);
	ok(has(q, "qdisc ingress ffff:") && has(q, want) &&
	       has(q, "mirred (Egress Redirect to device eth0)"),
	   "kvtap0: ingress qdisc, filter redirecting to eth0");

	traffic(nic->tap_fd, nic->mac);

	struct kvap_net_config nc;
	ok(netsetup_to_kvap(ns, &nc, &err) == 0 && nc.n_ifaces == 1 &&
	       !strcmp(nc.ifaces[0].name, "eth0") && nc.ifaces[0].mtu == 1400 &&
	       !memcmp(nc.ifaces[0].mac, nic->mac, 6) && nc.ifaces[0].n_addrs == 2 &&
	       nc.n_routes == 3 && nc.routes[0].gateway.family == 4 &&
	       !strcmp(nc.routes[0].device, "eth0") && nc.routes[0].dest.family != 0,
	   "NET_CONFIG: eth0 with MAC, MTU, 2 addresses; 3 routes");
	struct kv_err e2;
	uint8_t *frame = NULL;
	size_t flen = 0;
	int enc = kvap_encode_net_config(1, &nc, &frame, &flen, &e2);
	ok(enc == 0 && flen > 100, "and it encodes (%zu bytes)", flen);
	free(frame);
	kvap_free_net_config(&nc);

	struct netsetup *again = NULL;
	ok(netsetup_attach(path_a, &again, &err) == -EBUSY && has(err.msg, "eth0") &&
	       has(err.msg, "another kvrun VM"),
	   "a second attach while the first lives: %s", err.msg);
	netsetup_detach(ns);
	ok(clean_a(), "detach: no tap, qdisc or filter left");
}

/* A child attaches (with or without the guard), reports, then waits to be
 * SIGKILLed. */
static pid_t owner(bool guard)
{
	int p[2];
	char c = 0;

	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct netsetup *ns = NULL;
		struct kv_err err = { 0 };
		close(p[0]);
		if (netsetup_attach(path_a, &ns, &err) == 0 &&
		    (!guard || netsetup_guard(ns, &err) == 0))
			c = 'y';
		(void)!write(p[1], &c, 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 || c != 'y') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static bool wait_clean(void)
{
	for (int i = 0; i < 50; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* orphaned guards come to us (subreaper) */
		char q[4096];
		out(q, sizeof(q), "tc -n %s qdisc show dev eth0; ip -n %s link show", ns_a, ns_a);
		if (!has(q, "ingress") && !has(q, "kvtap"))
			return true;
		usleep(100000);
	}
	return clean_a();
}

static void sigkill(void)
{
	char q[4096];
	struct kv_err err = { 0 };

	pid_t pid = owner(true);
	ok(pid > 0 && has(out(q, sizeof(q), "tc -n %s qdisc show dev eth0", ns_a), "ingress"),
	   "an owner process attached, with the guard");
	char ps[256];
	out(ps, sizeof(ps), "ps -e -o comm | grep -c kvrun-netguard");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ok(atoi(ps) >= 1 && wait_clean(),
	   "SIGKILL of the owner: the guard removes filter and qdisc, "
	   "the tap is gone");

	pid = owner(false);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	out(q, sizeof(q), "tc -n %s filter show dev eth0 ingress", ns_a);
	ok(pid > 0 && has(q, "Egress Redirect to device *"),
	   "without a guard the filter stays, redirecting to a device that is gone");
	int removed = netsetup_cleanup(path_a, &err);
	ok(removed == 2 && clean_a(), "netsetup_cleanup removes the stale filter and qdisc (%d)",
	   removed);

	pid = owner(false);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	struct netsetup *ns = NULL;
	ok(netsetup_attach(path_a, &ns, &err) == 0 && ns->nnics == 1,
	   "an attach over a stale filter of ours takes the interface (%s)", err.msg);
	netsetup_detach(ns);
	ok(clean_a() && netsetup_cleanup(path_a, &err) == 0, "and detaches cleanly");
}

static void refusals(void)
{
	struct netsetup *ns = NULL;
	struct kv_err err = { 0 };

	sh("tc -n %s qdisc add dev eth0 ingress && tc -n %s filter add dev eth0 parent ffff: prio "
	   "5 "
	   "protocol all u32 match u32 0 0 action mirred egress redirect dev tun0",
	   ns_a, ns_a);
	int r = netsetup_attach(path_a, &ns, &err);
	ok(r == -EBUSY && has(err.msg, "eth0") && has(err.msg, "priority 5"),
	   "an interface with a foreign ingress filter: %s", err.msg);
	if (r == 0)
		netsetup_detach(ns);
	char l[4096];
	ok(!has(out(l, sizeof(l), "ip -n %s link show", ns_a), "kvtap") &&
	       netsetup_cleanup(path_a, &err) == 0 &&
	       has(out(l, sizeof(l), "tc -n %s filter show dev eth0 ingress", ns_a), "pref 5"),
	   "no tap left, and cleanup leaves the foreign filter alone");
	sh("tc -n %s qdisc del dev eth0 ingress", ns_a);

	ok(netsetup_attach(path_c, &ns, &err) == 0 && ns->nnics == 0,
	   "a fresh namespace (loopback only): no NIC (%s)", err.msg);
	struct kvap_net_config nc;
	ok(netsetup_to_kvap(ns, &nc, &err) == 0 && nc.n_ifaces == 0 && nc.n_routes == 0,
	   "and an empty NET_CONFIG");
	netsetup_detach(ns);
	ok(netsetup_attach("/proc/self/status", &ns, &err) == -EINVAL &&
	       has(err.msg, "is not a network namespace"),
	   "a file that is not a namespace: %s", err.msg);
	ok(netsetup_attach("/run/netns/kvrun-no-such-ns", &ns, &err) == -ENOENT,
	   "a missing path: %s", err.msg);
	ok(netsetup_cleanup("/run/netns/kvrun-no-such-ns", &err) == 0,
	   "cleanup of a namespace that is gone: nothing to do");
}

static void cycles(void)
{
	bool all = true;

	for (int i = 0; i < 20 && all; i++) {
		struct netsetup *ns = NULL;
		struct kv_err err = { 0 };
		all = netsetup_attach(path_a, &ns, &err) == 0 && ns->nnics == 1 &&
		      netsetup_guard(ns, &err) == 0;
		if (!all)
			diag("cycle %d: %s", i, err.msg);
		netsetup_detach(ns);
	}
	char ps[64];
	out(ps, sizeof(ps), "ps -e -o stat,comm | grep kvrun-netguard | grep -vc Z");
	ok(all && clean_a() && atoi(ps) == 0,
	   "20 attach/guard/detach cycles: nothing left, no guard running");
}

int main(void)
{
	tap_plan(33);
	/* Guards whose owner we kill are reaped here, not left as zombies. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	setup();
	listing();
	attach();
	sigkill();
	refusals();
	cycles();
	teardown();
	return tap_done();
}
