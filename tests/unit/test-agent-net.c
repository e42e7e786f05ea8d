/* Unit tests for rootfs/agent/net.c: NET_CONFIG applied over rtnetlink.
 *
 * The test moves into a network namespace of its own (root) and makes a
 * veth pair there with `ip` (the "guest NIC" vg0 with a known MAC, its
 * peer vg1), then drives net_apply() and reads the result back with `ip`:
 * rename, MTU, up, IPv4 and IPv6 addresses (usable at once: no DAD), an
 * on-link route, a gateway route with a metric, both default routes;
 * applying the same configuration again; and the failures, each naming
 * what failed: an unknown MAC, a route through an unknown device, a
 * gateway that is not on any link. */
#include "agent.h"
#include "net.h"
#include "tap.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The agent's logging and reply calls, which net.c's handler uses. */
void alog(const char *fmt, ...)
{
}
void adebug(const char *fmt, ...)
{
}
void conn_send_reply(struct agent *a, struct conn *c, uint16_t type, uint32_t req_id,
		     const void *body)
{
}

static char *out(char *buf, size_t cap, const char *cmd)
{
	size_t n = 0;
	FILE *f = popen(cmd, "r");

	buf[0] = 0;
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

static struct kvap_ipaddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t prefix)
{
	return (struct kvap_ipaddr){ .family = 4, .addr = { a, b, c, d }, .prefix = prefix };
}

static struct kvap_ipaddr v6(uint16_t first, uint8_t last, uint8_t prefix)
{
	return (struct kvap_ipaddr){ .family = 6,
				     .addr = { first >> 8, first & 0xff, [15] = last },
				     .prefix = prefix };
}

int main(void)
{
	char b[8192];
	struct kv_err err = { 0 };

	tap_plan(16);
	if (!ok(unshare(CLONE_NEWNET) == 0 &&
		    system("ip link add vg0 address 02:11:22:33:44:55 type veth peer name vg1 && "
			   "ip link set vg1 up && ip link set lo up") == 0,
		"a network namespace with a veth pair (root, iproute2)"))
		return tap_done();

	struct kvap_ipaddr addrs[] = { v4(10, 9, 0, 2, 24), v6(0xfd99, 2, 64) };
	struct kvap_iface ifc = { .mac = { 2, 0x11, 0x22, 0x33, 0x44, 0x55 },
				  .name = "eth7",
				  .mtu = 1400,
				  .addrs = addrs,
				  .n_addrs = 2 };
	struct kvap_route routes[] = {
		{ .dest = v4(10, 20, 0, 0, 16), .device = "eth7" },
		{ .dest = v4(10, 30, 0, 0, 16),
		  .gateway = v4(10, 9, 0, 1, 0),
		  .device = "eth7",
		  .metric = 5 },
		{ .dest = v4(0, 0, 0, 0, 0), .gateway = v4(10, 9, 0, 1, 0), .device = "eth7" },
		{ .dest = v6(0, 0, 0), .gateway = v6(0xfd99, 1, 0) },
	};
	struct kvap_net_config cfg = {
		.ifaces = &ifc, .n_ifaces = 1, .routes = routes, .n_routes = 4
	};

	ok(net_apply(&cfg, &err) == 0, "net_apply (%s)", err.msg);
	out(b, sizeof(b), "ip -o link show eth7 2>&1");
	ok(strstr(b, "eth7@vg1") && strstr(b, "mtu 1400") && strstr(b, "<BROADCAST,MULTICAST,UP"),
	   "vg0 (found by MAC) is now eth7, MTU 1400, up");
	out(b, sizeof(b), "ip -o -4 addr show dev eth7 2>&1");
	ok(strstr(b, "inet 10.9.0.2/24") != NULL, "IPv4 address 10.9.0.2/24");
	out(b, sizeof(b), "ip -o -6 addr show dev eth7 scope global 2>&1");
	ok(strstr(b, "inet6 fd99::2/64") && strstr(b, "nodad") && !strstr(b, "tentative"),
	   "IPv6 address fd99::2/64, not tentative (no DAD)");
	/* ip leaves "proto boot" out: it is the protocol of routes it adds. */
	out(b, sizeof(b), "ip route show 2>&1");
	ok(strstr(b, "10.20.0.0/16 dev eth7 scope link") &&
	       !strstr(b, "10.20.0.0/16 dev eth7 proto"),
	   "on-link route");
	ok(strstr(b, "10.30.0.0/16 via 10.9.0.1 dev eth7 metric 5") != NULL,
	   "gateway route with metric 5");
	ok(strstr(b, "default via 10.9.0.1 dev eth7") != NULL, "IPv4 default route");
	out(b, sizeof(b), "ip -6 route show 2>&1");
	ok(strstr(b, "default via fd99::1 dev eth7") != NULL,
	   "IPv6 default route, its device found by the kernel");
	ok(net_apply(&cfg, &err) == 0, "applying the same configuration again (%s)", err.msg);

	ifc.mac[5] = 0x56;
	ok(net_apply(&cfg, &err) == -ENODEV &&
	       strstr(err.msg, "no interface with MAC 02:11:22:33:44:56"),
	   "an unknown MAC: %s", err.msg);
	ifc.mac[5] = 0x55;
	routes[0].device = "eth9";
	ok(net_apply(&cfg, &err) == -ENODEV &&
	       strstr(err.msg, "route to 10.20.0.0/16: no device eth9"),
	   "a route through an unknown device: %s", err.msg);
	routes[0].device = "eth7";
	routes[1].gateway = v4(192, 168, 7, 1, 0);
	routes[1].device = NULL;
	ok(net_apply(&cfg, &err) < 0 && strstr(err.msg, "route to 10.30.0.0/16 via 192.168.7.1"),
	   "a gateway on no link: %s", err.msg);
	/* Two NICs whose names swap: wa has wb's name and the other way round. */
	ok(system("ip link add wa address 02:00:00:00:0a:01 type veth peer name wa-p && "
		  "ip link add wb address 02:00:00:00:0b:01 type veth peer name wb-p") == 0,
	   "two more veths, wa and wb");
	struct kvap_iface two[2] = {
		{ .mac = { 2, 0, 0, 0, 0x0a, 1 }, .name = "wb" },
		{ .mac = { 2, 0, 0, 0, 0x0b, 1 }, .name = "wa" },
	};
	struct kvap_net_config swap = { .ifaces = two, .n_ifaces = 2 };
	char b2[1024];
	err = (struct kv_err){ 0 };
	int r = net_apply(&swap, &err);
	ok(r == 0 &&
	       strstr(out(b, sizeof(b), "ip -o link show wb 2>&1"),
		      "link/ether 02:00:00:00:0a:01") &&
	       strstr(out(b2, sizeof(b2), "ip -o link show wa 2>&1"),
		      "link/ether 02:00:00:00:0b:01"),
	   "names swapped between two interfaces (%s)", err.msg);
	struct kvap_net_config none = { 0 };
	ok(net_apply(&none, &err) == 0, "an empty configuration changes nothing");
	return tap_done();
}
