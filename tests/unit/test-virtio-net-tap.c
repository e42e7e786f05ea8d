/* Unit tests for vmm/virtio/net*.c on a real tap (root, /dev/net/tun).
 *
 * The test moves into a network namespace of its own, so the taps it makes
 * are invisible to the host. A packet socket on the tap plays the host
 * network: frames the guest transmits arrive there, frames sent there reach
 * the guest's receive buffers. Checked: the tap is created by name and
 * disappears with the device; a passed fd is duplicated and the caller's
 * copy keeps the tap; TUNSETOFFLOAD follows the guest's features (the tap's
 * TSO setting read back with ethtool); a TSOv4 frame with checksum offload
 * is accepted by the kernel; bad names and fds are refused with a message
 * naming the NIC. */
#include "net_int.h"
#include "tap.h"
#include "tapdev.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define F(b)  (1ULL << (b))
#define F_ALL (~0ULL)

static struct harness h;
static const uint8_t MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x42 };

static int ifup(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (s >= 0)
		close(s);
	return r;
}

/* The tap's TSO setting as ethtool sees it: 1, 0, or -1. */
static int tso_of(const char *name)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GTSO };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&ev;
	if (s >= 0 && ioctl(s, SIOCETHTOOL, &ifr) == 0)
		r = ev.data ? 1 : 0;
	if (s >= 0)
		close(s);
	return r;
}

static int packet_socket(const char *name)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ALL),
				 .sll_ifindex = (int)if_nametoindex(name) };

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return s;
}

/* The next frame on s with our test ethertype (ignoring IPv6 chatter). */
static ssize_t recv_ours(int s, uint8_t *buf, size_t cap, uint16_t type)
{
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(s, buf, cap, 0);
		if (n >= 14 && buf[12] == type >> 8 && buf[13] == (type & 0xff))
			return n;
	}
	return -1;
}

static uint64_t put(const void *p, size_t n)
{
	uint64_t gpa = h_alloc(&h, n);
	memcpy(h_hva(&h, gpa, n), p, n);
	return gpa;
}

static void create_errors(void)
{
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	struct vmm_net cfg = { .tap = "a-name-longer-than-ifnamsiz" };
	int p[2];

	ok(virtio_net_create(&h.vm, &cfg, 0, &d, &err) == -EINVAL &&
	       strstr(err.msg, "net[0]: cannot open tap a-name-longer") != NULL,
	   "a tap name too long: %s", err.msg);
	cfg.tap = "lo";
	ok(virtio_net_create(&h.vm, &cfg, 1, &d, &err) < 0 && strstr(err.msg, "net[1]") &&
	       strstr(err.msg, "lo"),
	   "a device that is not a tap: %s", err.msg);
	cfg = (struct vmm_net){ .fd = -1 };
	ok(virtio_net_create(&h.vm, &cfg, 2, &d, &err) == -EBADF, "no tap and no fd: %s", err.msg);
	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	cfg.fd = p[0];
	ok(virtio_net_create(&h.vm, &cfg, 3, &d, &err) == -ENOTTY &&
	       strstr(err.msg, "is not a usable tap"),
	   "a pipe as the tap fd: %s", err.msg);
	close(p[0]);
	close(p[1]);
	int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "kvtun0");
	ok(tun >= 0 && ioctl(tun, TUNSETIFF, &ifr) == 0, "a tun device for the next check");
	cfg.fd = tun;
	ok(virtio_net_create(&h.vm, &cfg, 4, &d, &err) == -EINVAL &&
	       strstr(err.msg, "IFF_TAP | IFF_NO_PI | IFF_VNET_HDR"),
	   "a tun (not tap) fd: %s", err.msg);
	close(tun);
	cfg = (struct vmm_net){ .tap = "kvt9", .mtu = 20 };
	ok(virtio_net_create(&h.vm, &cfg, 5, &d, &err) == -EINVAL &&
	       strstr(err.msg, "mtu 20 is not between 68 and 65535") && if_nametoindex("kvt9") == 0,
	   "mtu 20: %s, and no tap made", err.msg);
	cfg = (struct vmm_net){ .tap = "kvt9", .mac_set = true, .mac = { 1, 2, 3, 4, 5, 6 } };
	ok(virtio_net_create(&h.vm, &cfg, 6, &d, &err) == -EINVAL && strstr(err.msg, "unicast"),
	   "a multicast MAC: %s", err.msg);
}

static void by_name(void)
{
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	struct vmm_net cfg = { .tap = "kvt0", .mac_set = true };
	uint8_t frame[128], buf[16384], c[12];
	uint32_t id, len;

	memcpy(cfg.mac, MAC, 6);
	if (!ok(virtio_net_create(&h.vm, &cfg, 0, &d, &err) == 0 && if_nametoindex("kvt0") > 0,
		"tap kvt0 created by name (%s)", err.msg))
		return;
	struct vnet *n = d->priv;
	d->ops->config_read(d, 0, c, sizeof(c));
	ok(c[10] == 0xdc && c[11] == 0x05, "mtu 0: the tap's own MTU (1500) is offered");
	struct virtio_dev *d2 = NULL;
	ok(virtio_net_create(&h.vm, &cfg, 1, &d2, &err) == -EBUSY && strstr(err.msg, "in use"),
	   "a second VMM NIC on the same tap: %s", err.msg);
	ifup("kvt0");
	int ps = packet_socket("kvt0");
	ok(ps >= 0 && h_attach(&h, d, 256, F_ALL) == 0 && tso_of("kvt0") == 1,
	   "guest TSO negotiated: TUNSETOFFLOAD turned the tap's TSO on");

	/* Guest -> host. */
	uint8_t hdr[12] = { 0 };
	memset(frame, 0xff, 6);
	memcpy(frame + 6, MAC, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (int i = 14; i < 100; i++)
		frame[i] = (uint8_t)i;
	struct h_seg segs[2] = { { put(hdr, 12), 12, false }, { put(frame, 100), 100, false } };
	h_chain(&h, VNET_TXQ, segs, 2, false);
	h_kick(&h, VNET_TXQ);
	ssize_t got = recv_ours(ps, buf, sizeof(buf), 0x88b5);
	ok(got == 100 && memcmp(buf, frame, 100) == 0 && vqd_take_used(&h.drv[VNET_TXQ], &id, &len),
	   "a guest frame comes out of the tap (%zd bytes)", got);

	/* A TSOv4 frame with a partial checksum: eth + IPv4 + TCP + 8946. */
	size_t big = 9000;
	uint8_t *f = calloc(1, big);
	memcpy(f, MAC, 6); /* to ourselves: not forwarded anywhere */
	memcpy(f + 6, MAC, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	uint16_t tot = htons((uint16_t)(big - 14));
	memcpy(f + 16, &tot, 2);
	f[22] = 64;
	f[23] = 6;
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	f[46] = 0x50; /* TCP data offset 5 */
	uint8_t th[12] = {
		VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, 54, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0
	};
	struct h_seg tso[2] = { { put(th, 12), 12, false }, { put(f, big), (uint32_t)big, false } };
	h_chain(&h, VNET_TXQ, tso, 2, false);
	h_kick(&h, VNET_TXQ);
	bool seen = false;
	for (int i = 0; i < 20 && !seen; i++) {
		struct pollfd p = { .fd = ps, .events = POLLIN };
		if (poll(&p, 1, 100) > 0 && recv(ps, buf, sizeof(buf), 0) == (ssize_t)big)
			seen = !memcmp(buf + 26, f + 26, 8);
	}
	ok(seen && n->stats.tx_errors == 0 && n->stats.tx_packets == 2,
	   "the kernel takes a 9000-byte TSOv4 frame with checksum offload");
	free(f);

	/* Host -> guest. */
	/* Host -> guest. The kernel's own IPv6 chatter on the new link may
	 * come first: look for our frame among the buffers used. */
	uint64_t rx[16];
	for (int i = 0; i < 16; i++) {
		rx[i] = h_alloc(&h, 2048);
		struct h_seg rs = { rx[i], 2048, true };
		h_chain(&h, VNET_RXQ, &rs, 1, false);
	}
	h_kick(&h, VNET_RXQ);
	memcpy(frame, MAC, 6);
	memset(frame + 6, 0x02, 6);
	frame[13] = 0xb6;
	bool found = false;
	ok(send(ps, frame, 100, 0) == 100, "a frame sent on the tap");
	for (int t = 0; t < 200 && !found; t++) {
		while (!found && vqd_take_used(&h.drv[VNET_RXQ], &id, &len))
			found = id < 16 && len == 112 &&
				memcmp(h_hva(&h, rx[id] + 12, 100), frame, 100) == 0 &&
				memcmp(h_hva(&h, rx[id] + 10, 2), "\x01\x00", 2) == 0;
		usleep(10000);
	}
	ok(found, "reaches the guest's buffers with its header");

	h_reset(&h);
	ok(h_attach(&h, d, 256,
		    F_ALL & ~(F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
			      F(VIRTIO_NET_F_GUEST_CSUM))) == 0 &&
	       tso_of("kvt0") == 0,
	   "a driver without guest offloads: the tap's TSO is off");
	h_reset(&h);
	d->ops->destroy(d);
	close(ps);
	ok(if_nametoindex("kvt0") == 0, "the tap disappears with the device");
	h.next_data = H_DATA;
}

static void by_fd(void)
{
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	uint8_t c[12];
	int fd = tap_open("kvt1", true);

	ok(fd >= 0 && tap_open("kvt1", true) == -EBUSY,
	   "tap_open exclusive refuses an existing name");
	struct vmm_net cfg = { .fd = fd };
	ok(virtio_net_create(&h.vm, &cfg, 0, &d, &err) == 0, "a passed tap fd (%s)", err.msg);
	d->ops->config_read(d, 0, c, sizeof(c));
	ok((c[0] & 3) == 2 && !(d->device_features & F(VIRTIO_NET_F_MTU)),
	   "no MAC given: a random locally administered unicast one; no MTU offered");
	d->ops->reset(d);
	d->ops->destroy(d);
	ok(if_nametoindex("kvt1") > 0, "the caller's fd still holds the tap");
	close(fd);
	ok(if_nametoindex("kvt1") == 0, "closing it removes the tap");
}

int main(void)
{
	tap_plan(25);
	if (!ok(unshare(CLONE_NEWNET) == 0, "a private network namespace (needs root): %s",
		strerror(errno)))
		return tap_done();
	if (!ok(h_init(&h, 64) == 0, "harness"))
		return tap_done();
	create_errors();
	by_name();
	by_fd();
	h_fini(&h);
	return tap_done();
}
