/* Unit tests for vmm/virtio/net*.c: the virtio-net protocol on a fake tap.
 *
 * The device's backend is one end of a SOCK_SEQPACKET socket pair, which
 * keeps frame boundaries like a tap; the test holds the other end and
 * plays the host network. The device runs on a real event loop
 * (vdev-harness.h). Checked: features and config space; transmit of
 * direct and indirect chains with the header copied as checked; every kind
 * of bad transmit chain and header dropping only its packet; receive into
 * one buffer, over several mergeable buffers (num_buffers, all published
 * together), waiting for buffers without losing frames, resuming a
 * half-delivered frame, and bad receive buffers; a frame without mergeable
 * buffers; the work bound per wakeup both ways; a descriptor loop breaking
 * only this device until reset; and the peer going away (link down). */
#include "net_int.h"
#include "tap.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define RXQ    VNET_RXQ
#define TXQ    VNET_TXQ
#define F(b)   (1ULL << (b))
#define F_RING (F(VIRTIO_F_INDIRECT_DESC) | F(VIRTIO_F_EVENT_IDX))
#define F_ALL  (~0ULL)

static struct harness h;
static struct virtio_dev *d;
static struct vnet *N;
static int peer = -1;
static uint64_t rx_gpa[256];
static uint32_t rx_size[256];

static const uint8_t MAC[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

static void mkhdr(uint8_t raw[12], uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cstart,
		  uint16_t coff)
{
	uint16_t v[5] = { 0, htole16(gso_size), htole16(cstart), htole16(coff), 0 };

	raw[0] = flags;
	raw[1] = gso;
	memcpy(raw + 2, v, sizeof(v));
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* A transmit chain: header and frame in nseg readable segments. */
static uint16_t tx_chain(const uint8_t hdr[12], size_t flen, unsigned seed, unsigned nseg,
			 bool indirect)
{
	size_t total = 12 + flen;
	uint64_t gpa = h_alloc(&h, total);
	uint8_t *p = h_hva(&h, gpa, total);
	struct h_seg segs[8];

	memcpy(p, hdr, 12);
	fill(p + 12, flen, seed);
	size_t per = total / nseg, off = 0;
	for (unsigned i = 0; i < nseg; i++) {
		size_t len = i + 1 == nseg ? total - off : per;
		segs[i] = (struct h_seg){ gpa + off, (uint32_t)len, false };
		off += len;
	}
	return h_chain(&h, TXQ, segs, nseg, indirect);
}

static ssize_t peer_recv(uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = peer, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(peer, buf, cap, MSG_DONTWAIT);
}

static bool peer_quiet(void)
{
	uint8_t b[64];
	return peer_recv(b, sizeof(b), 50) < 0;
}

static bool frame_is(const uint8_t *p, size_t flen, unsigned seed)
{
	uint8_t *want = malloc(flen);
	fill(want, flen, seed);
	bool same = memcmp(p, want, flen) == 0;
	free(want);
	return same;
}

/* Send a frame (with header) from the host side. */
static bool peer_send(const uint8_t hdr[12], size_t flen, unsigned seed)
{
	uint8_t *b = malloc(12 + flen);
	memcpy(b, hdr, 12);
	fill(b + 12, flen, seed);
	ssize_t w = send(peer, b, 12 + flen, 0);
	free(b);
	return w == (ssize_t)(12 + flen);
}

static uint16_t post_rx(uint32_t len)
{
	uint64_t gpa = h_alloc(&h, len);
	struct h_seg s = { gpa, len, true };
	uint16_t head = h_chain(&h, RXQ, &s, 1, false);
	rx_gpa[head] = gpa;
	rx_size[head] = len;
	return head;
}

static bool wait_stat(const uint64_t *counter, uint64_t want)
{
	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(counter, __ATOMIC_ACQUIRE) == want)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return false;
}

static void setup(uint64_t features, const char *what)
{
	struct kv_err err = { 0 };
	struct vmm_net cfg = { .mac_set = true, .mtu = 1500 };
	int sv[2];

	memcpy(cfg.mac, MAC, 6);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		abort();
	int bufsz = 1 << 20;
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	peer = sv[1];
	if (vnet_create_on_fd(&h.vm, sv[0], &cfg, &d, &err) < 0)
		abort();
	N = d->priv;
	if (h_attach(&h, d, 256, features) != 0)
		diag("%s: activate failed", what);
}

static void teardown(void)
{
	h_reset(&h);
	d->ops->destroy(d);
	d = NULL;
	if (peer >= 0)
		close(peer);
	peer = -1;
	h.next_data = H_DATA;
}

static void config(void)
{
	uint8_t c[12];

	setup(F_ALL, "config");
	uint64_t want = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MTU) |
			F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_GUEST_TSO4) |
			F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_HOST_TSO4) |
			F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_MRG_RXBUF) |
			F(VIRTIO_NET_F_STATUS) | F_RING;
	ok(d->device_id == VIRTIO_ID_NET && d->num_queues == 2 &&
	       (d->device_features & want) == want && d->config_size == 12,
	   "net device: ID 1, two queues, MAC/STATUS/MTU/CSUM/TSO/MRG_RXBUF offered (0x%llx)",
	   (unsigned long long)d->device_features);
	d->ops->config_read(d, 0, c, sizeof(c));
	ok(memcmp(c, MAC, 6) == 0 && c[6] == 1 && c[7] == 0 && c[10] == 0xdc && c[11] == 0x05,
	   "config: the MAC, status LINK_UP, mtu 1500");
	uint8_t one;
	d->ops->config_read(d, 6, &one, 1);
	ok(one == 1, "config read at an offset");
	d->ops->config_write(d, 0, "\xff\xff", 2);
	d->ops->config_read(d, 0, c, 6);
	ok(memcmp(c, MAC, 6) == 0, "config writes are ignored");
	teardown();
}

static void transmit(void)
{
	uint8_t hdr[12], buf[70000];
	uint32_t id, len;

	setup(F_ALL, "transmit");
	mkhdr(hdr, 0, 0, 0, 0, 0);
	uint16_t head = tx_chain(hdr, 60, 1, 1, false);
	h_kick(&h, TXQ);
	ssize_t n = peer_recv(buf, sizeof(buf), 2000);
	ok(n == 72 && memcmp(buf, hdr, 12) == 0 && frame_is(buf + 12, 60, 1),
	   "a 60-byte frame reaches the tap with its header (%zd bytes)", n);
	ok(vqd_take_used(&h.drv[TXQ], &id, &len) && id == head && len == 0 && h.used_irqs[TXQ] == 1,
	   "the chain comes back with used length 0 and an interrupt");

	mkhdr(hdr, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, 1448, 34, 16);
	tx_chain(hdr, 9000, 2, 5, true);
	h_kick(&h, TXQ);
	n = peer_recv(buf, sizeof(buf), 2000);
	ok(n == 9012 && memcmp(buf, hdr, 12) == 0 && frame_is(buf + 12, 9000, 2),
	   "a TSOv4 frame in an indirect chain of 5 segments arrives whole");

	mkhdr(hdr, 0, 0, 0, 0, 0);
	hdr[10] = 0x77; /* num_buffers on transmit: ignored, sent as 0 */
	tx_chain(hdr, 100, 3, 2, false);
	h_kick(&h, TXQ);
	n = peer_recv(buf, sizeof(buf), 2000);
	ok(n == 112 && buf[10] == 0 && buf[11] == 0, "num_buffers is zeroed on transmit");
	ok(N->stats.tx_packets == 3 && N->stats.tx_dropped == 0, "3 sent, none dropped");
	teardown();
}

/* One bad transmit chain: dropped, returned, nothing reaches the tap. */
static bool tx_dropped(const char *what, uint16_t head)
{
	uint32_t id, len;
	uint64_t before = N->stats.tx_dropped;

	h_kick(&h, TXQ);
	bool good = vqd_take_used(&h.drv[TXQ], &id, &len) && id == head && len == 0 &&
		    N->stats.tx_dropped == before + 1 && peer_quiet() &&
		    !(d->status & VIRTIO_STATUS_NEEDS_RESET);
	if (!good)
		diag("%s: dropped %llu -> %llu", what, (unsigned long long)before,
		     (unsigned long long)N->stats.tx_dropped);
	return good;
}

static void transmit_hostile(void)
{
	uint8_t hdr[12], buf[128];
	uint64_t gpa;
	uint32_t id, len;

	/* Without HOST_TSO6, HOST_ECN and CSUM the matching headers are bad. */
	setup(F_ALL & ~(F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN)), "hostile tx");
	gpa = h_alloc(&h, 64);
	struct h_seg s8 = { gpa, 8, false };
	ok(tx_dropped("short", h_chain(&h, TXQ, &s8, 1, false)),
	   "an 8-byte chain (shorter than the header): dropped");
	mkhdr(hdr, 0, 0, 0, 0, 0);
	memcpy(h_hva(&h, gpa, 12), hdr, 12);
	struct h_seg s12 = { gpa, 12 + 10, false };
	ok(tx_dropped("runt", h_chain(&h, TXQ, &s12, 1, false)),
	   "a 10-byte frame (no Ethernet header): dropped");
	uint64_t big = h_alloc(&h, 70000);
	memcpy(h_hva(&h, big, 12), hdr, 12);
	struct h_seg sbig = { big, 12 + 65554, false };
	ok(tx_dropped("over 64 KiB", h_chain(&h, TXQ, &sbig, 1, false)),
	   "a 65554-byte frame (over 64 KiB + headers): dropped");
	struct h_seg wrong[2] = { { gpa, 12 + 60, false }, { big, 100, true } };
	ok(tx_dropped("writable", h_chain(&h, TXQ, wrong, 2, false)),
	   "a transmit chain with a device-writable buffer: dropped");
	struct h_seg allw = { gpa, 72, true };
	ok(tx_dropped("only writable", h_chain(&h, TXQ, &allw, 1, false)),
	   "a transmit chain of device-writable buffers only: dropped");

	struct {
		const char *what;
		uint8_t flags, gso;
		uint16_t gso_size, cstart, coff;
	} bad[] = {
		{ "DATA_VALID on transmit", VNET_HDR_F_DATA_VALID, 0, 0, 0, 0 },
		{ "unknown flag", 0x80, 0, 0, 0, 0 },
		{ "checksum field past the frame", VNET_HDR_F_NEEDS_CSUM, 0, 0, 50, 9 },
		{ "checksum start past the frame", VNET_HDR_F_NEEDS_CSUM, 0, 0, 0xffff, 0xffff },
		{ "TSOv4 without NEEDS_CSUM", 0, VNET_HDR_GSO_TCPV4, 1448, 0, 0 },
		{ "TSOv4 with segment size 0", VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, 0, 34,
		  16 },
		{ "TSOv6 not negotiated", VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV6, 1448, 54, 16 },
		{ "UDP fragmentation", VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_UDP, 1448, 34, 6 },
		{ "ECN not negotiated", VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4 | 0x80, 1448, 34,
		  16 },
		{ "ECN bit without GSO", 0, 0x80, 0, 0, 0 },
		{ "unknown GSO type", VNET_HDR_F_NEEDS_CSUM, 7, 1448, 34, 16 },
	};
	bool all = true;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mkhdr(hdr, bad[i].flags, bad[i].gso, bad[i].gso_size, bad[i].cstart, bad[i].coff);
		all &= tx_dropped(bad[i].what, tx_chain(hdr, 60, 4, 1, false));
	}
	ok(all, "11 bad headers (flags, checksum range, GSO type/size/ECN) each dropped");

	mkhdr(hdr, 0, 0, 0, 0, 0);
	uint16_t head = tx_chain(hdr, 60, 5, 1, false);
	h_kick(&h, TXQ);
	ok(peer_recv(buf, sizeof(buf), 2000) == 72 && vqd_take_used(&h.drv[TXQ], &id, &len) &&
	       id == head,
	   "after all that, a good frame still goes out");

	/* A descriptor loop: a ring-level error breaks this device only. */
	struct vqd *q = &h.drv[TXQ];
	vqd_desc(q, 200, gpa, 40, VIRTQ_DESC_F_NEXT, 201);
	vqd_desc(q, 201, gpa, 40, VIRTQ_DESC_F_NEXT, 200);
	vqd_publish(q, 200);
	h_kick(&h, TXQ);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1 && peer_quiet(),
	   "a descriptor loop: NEEDS_RESET and a config interrupt, nothing sent");
	peer_send(hdr, 60, 1);
	post_rx(2048);
	h_kick(&h, RXQ);
	ok(vqd_used_idx(&h.drv[RXQ]) == 0, "a broken device receives nothing either");
	teardown();

	setup(F_ALL, "after reset");
	tx_chain(hdr, 60, 6, 1, false);
	h_kick(&h, TXQ);
	ok(peer_recv(buf, sizeof(buf), 2000) == 72 && !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "a new device after reset serves again");
	teardown();
}

/* Read used entries of the receive queue into ids/lens; count them. */
static unsigned take_rx(uint32_t *ids, uint32_t *lens, unsigned max)
{
	unsigned k = 0;

	while (k < max && vqd_take_used(&h.drv[RXQ], &ids[k], &lens[k]))
		k++;
	return k;
}

/* Reassemble a received frame from used buffers ids[0..k). */
static bool rx_frame_is(const uint32_t *ids, const uint32_t *lens, unsigned k, size_t flen,
			unsigned seed, uint16_t want_nb)
{
	uint8_t *all = malloc(12 + flen + 1);
	size_t off = 0;

	for (unsigned i = 0; i < k; i++) {
		if (off + lens[i] > 12 + flen) {
			free(all);
			return false;
		}
		memcpy(all + off, h_hva(&h, rx_gpa[ids[i]], lens[i]), lens[i]);
		off += lens[i];
	}
	uint16_t nb;
	memcpy(&nb, all + 10, 2);
	bool good = off == 12 + flen && le16toh(nb) == want_nb && frame_is(all + 12, flen, seed);
	if (!good)
		diag("reassembled %zu bytes of %zu, num_buffers %u (want %u)", off, 12 + flen,
		     le16toh(nb), want_nb);
	free(all);
	return good;
}

static void receive(void)
{
	uint8_t hdr[12];
	uint32_t ids[256], lens[256];

	setup(F_ALL, "receive");
	for (int i = 0; i < 8; i++)
		post_rx(1536);
	h_kick(&h, RXQ);
	mkhdr(hdr, VNET_HDR_F_DATA_VALID, 0, 0, 0, 0);
	peer_send(hdr, 100, 7);
	ok(h_wait_used(&h, RXQ, 1, 2000) && take_rx(ids, lens, 8) == 1 && lens[0] == 112 &&
	       rx_frame_is(ids, lens, 1, 100, 7, 1) && h.used_irqs[RXQ] >= 1,
	   "a 100-byte frame lands in one buffer, num_buffers 1, with an interrupt");
	ok(((uint8_t *)h_hva(&h, rx_gpa[ids[0]], 1))[0] == VNET_HDR_F_DATA_VALID,
	   "the tap's header flags reach the guest");

	mkhdr(hdr, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, 1448, 34, 16);
	peer_send(hdr, 5000, 8);
	ok(h_wait_used(&h, RXQ, 5, 2000) && take_rx(ids, lens, 8) == 4 && lens[0] == 1536 &&
	       lens[3] == 5012 - 3 * 1536 && rx_frame_is(ids, lens, 4, 5000, 8, 4),
	   "a 5000-byte TSO frame spans 4 mergeable buffers, num_buffers 4");

	/* Three buffers left: a 64 KiB frame needs 43 of them. It waits,
	 * half-delivered, and frames behind it wait in the backend. */
	mkhdr(hdr, 0, 0, 0, 0, 0);
	peer_send(hdr, 65000, 9);
	peer_send(hdr, 200, 10);
	usleep(100000);
	ok(vqd_used_idx(&h.drv[RXQ]) == 5 && N->rx_wait && N->rx_held == 3,
	   "no room for a 65000-byte frame: it waits holding the 3 buffers it took");
	for (int i = 0; i < 41; i++)
		post_rx(1536);
	h_kick(&h, RXQ);
	ok(h_wait_used(&h, RXQ, 5 + 43 + 1, 2000) && take_rx(ids, lens, 256) == 44 &&
	       rx_frame_is(ids, lens, 43, 65000, 9, 43) &&
	       rx_frame_is(ids + 43, lens + 43, 1, 200, 10, 1),
	   "the kick resumes it: 43 buffers in order, then the next frame");
	ok(N->stats.rx_packets == 4 && N->stats.rx_dropped == 0, "4 received, none dropped");

	/* No buffers at all: frames stay in the backend, none is lost. */
	for (unsigned i = 0; i < 5; i++)
		peer_send(hdr, 60 + i, 20 + i);
	usleep(100000);
	ok(vqd_used_idx(&h.drv[RXQ]) == 49 && N->stats.rx_dropped == 0,
	   "5 frames and no buffers: nothing delivered, nothing dropped");
	for (int i = 0; i < 8; i++)
		post_rx(2048);
	h_kick(&h, RXQ);
	bool all = h_wait_used(&h, RXQ, 54, 2000) && take_rx(ids, lens, 8) == 5;
	for (unsigned i = 0; all && i < 5; i++)
		all = rx_frame_is(ids + i, lens + i, 1, 60 + i, 20 + i, 1);
	ok(all, "buffers and a kick: all 5 arrive, in order");
	teardown();
}

static void receive_hostile(void)
{
	uint8_t hdr[12];
	uint32_t ids[16], lens[16];

	setup(F_ALL, "hostile rx");
	mkhdr(hdr, 0, 0, 0, 0, 0);
	uint64_t gpa = h_alloc(&h, 4096);
	struct h_seg rd[2] = { { gpa, 64, false }, { gpa + 64, 2000, true } };
	uint16_t bad = h_chain(&h, RXQ, rd, 2, false);
	h_kick(&h, RXQ);
	peer_send(hdr, 100, 30);
	ok(h_wait_used(&h, RXQ, 1, 2000) && take_rx(ids, lens, 4) == 1 && ids[0] == bad &&
	       lens[0] == 0 && N->stats.rx_dropped == 1 && !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "a receive chain with a device-readable buffer: returned empty, frame dropped");

	struct h_seg tiny = { gpa, 8, true };
	bad = h_chain(&h, RXQ, &tiny, 1, false);
	h_kick(&h, RXQ);
	peer_send(hdr, 100, 31);
	ok(h_wait_used(&h, RXQ, 2, 2000) && take_rx(ids, lens, 4) == 1 && ids[0] == bad &&
	       lens[0] == 0 && N->stats.rx_dropped == 2,
	   "a first buffer shorter than the header: returned empty, frame dropped");

	/* A 10000-byte frame meets a good buffer then a bad one: both come
	 * back empty, published together. */
	uint16_t good = post_rx(1536);
	struct h_seg rd2 = { gpa, 64, false };
	uint16_t bad2 = h_chain(&h, RXQ, &rd2, 1, false);
	h_kick(&h, RXQ);
	peer_send(hdr, 10000, 32);
	ok(h_wait_used(&h, RXQ, 4, 2000) && take_rx(ids, lens, 4) == 2 && ids[0] == good &&
	       lens[0] == 0 && ids[1] == bad2 && lens[1] == 0 && N->stats.rx_dropped == 3,
	   "a bad buffer in the middle of a frame: every buffer taken comes back empty");

	/* Headers the driver did not negotiate never reach it. */
	teardown();
	setup(F_ALL & ~(F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_ECN)), "rx header");
	for (int i = 0; i < 4; i++)
		post_rx(2048);
	h_kick(&h, RXQ);
	mkhdr(hdr, VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, 1448, 34, 16);
	peer_send(hdr, 3000, 33);
	mkhdr(hdr, VNET_HDR_F_NEEDS_CSUM, 0, 0, 3000, 0);
	peer_send(hdr, 100, 34);
	mkhdr(hdr, 0, 0, 0, 0, 0);
	uint8_t runt[17] = { 0 };
	send(peer, runt, sizeof(runt), 0); /* a 5-byte frame */
	peer_send(hdr, 100, 35);
	ok(h_wait_used(&h, RXQ, 1, 2000) && take_rx(ids, lens, 4) == 1 &&
	       rx_frame_is(ids, lens, 1, 100, 35, 1) && N->stats.rx_dropped == 3,
	   "TSOv4 not negotiated, checksum past the frame, a runt: dropped; the next arrives");
	teardown();
}

static void no_mergeable(void)
{
	uint8_t hdr[12];
	uint32_t ids[8], lens[8];

	setup(F_ALL & ~F(VIRTIO_NET_F_MRG_RXBUF), "no MRG_RXBUF");
	uint16_t small = post_rx(1000);
	uint64_t gpa = h_alloc(&h, 8192);
	struct h_seg two[2] = { { gpa, 1000, true }, { gpa + 4096, 1000, true } };
	uint16_t big = h_chain(&h, RXQ, two, 2, false);
	rx_gpa[big] = gpa;
	h_kick(&h, RXQ);
	mkhdr(hdr, 0, 0, 0, 0, 0);
	peer_send(hdr, 1500, 40);
	peer_send(hdr, 1500, 41);
	bool got = h_wait_used(&h, RXQ, 2, 2000) && take_rx(ids, lens, 8) == 2;
	ok(got && ids[0] == small && lens[0] == 0 && N->stats.rx_dropped == 1,
	   "without mergeable buffers a frame larger than the chain is dropped");
	ok(got && ids[1] == big && lens[1] == 1512 &&
	       memcmp(h_hva(&h, gpa + 10, 2), "\x01\x00", 2) == 0,
	   "a two-buffer chain takes the next whole, num_buffers 1");
	uint8_t *p = malloc(1512);
	memcpy(p, h_hva(&h, gpa, 1000), 1000);
	memcpy(p + 1000, h_hva(&h, gpa + 4096, 512), 512);
	ok(frame_is(p + 12, 1500, 41), "its bytes span both buffers");
	free(p);
	teardown();
}

struct budget_probe {
	unsigned used;
	uint64_t rx;
};

static void tx_probe(void *opaque)
{
	struct budget_probe *b = opaque;

	d->ops->queue_notify(d, TXQ);
	b->used = vqd_used_idx(&h.drv[TXQ]);
}

static void rx_probe(void *opaque)
{
	struct budget_probe *b = opaque;

	N->rx_wait = false; /* as the receive kick would */
	vnet_rx(N);
	b->rx = N->stats.rx_packets;
}

static void budget(void)
{
	uint8_t hdr[12], buf[128];
	struct budget_probe b = { 0 };

	setup(F_ALL, "budget");
	mkhdr(hdr, 0, 0, 0, 0, 0);
	for (int i = 0; i < 200; i++)
		tx_chain(hdr, 60, 50, 1, false);
	evloop_call_sync(&h.vm.loop, tx_probe, &b);
	ok(b.used == VNET_TX_BUDGET,
	   "200 transmit chains: %u handled in the kick's turn (budget %d)", b.used,
	   VNET_TX_BUDGET);
	int got = 0;
	while (got < 200 && peer_recv(buf, sizeof(buf), 2000) == 72)
		got++;
	ok(got == 200 && h_wait_used(&h, TXQ, 200, 2000),
	   "the rest follow on later turns of the loop: all 200 sent");

	teardown();

	/* Receive: 200 frames wait in the backend while the device waits for
	 * buffers (so the loop leaves it alone); then one turn, on the loop
	 * thread, with 250 buffers. */
	setup(F_ALL, "budget rx");
	for (int i = 0; i < 200; i++)
		peer_send(hdr, 60, 52);
	for (int i = 0; i < 2000 && !N->rx_wait; i++)
		usleep(1000);
	for (int i = 0; i < 250; i++)
		post_rx(256);
	evloop_call_sync(&h.vm.loop, rx_probe, &b);
	ok(b.rx == VNET_RX_BUDGET, "200 frames waiting: %llu delivered in one turn (budget %d)",
	   (unsigned long long)b.rx, VNET_RX_BUDGET);
	ok(wait_stat(&N->stats.rx_packets, 200) && h_wait_used(&h, RXQ, 200, 2000),
	   "later turns deliver the rest: all 200");
	teardown();
}

static void link_loss(void)
{
	uint8_t c[12], hdr[12];
	uint32_t id, len;

	setup(F_ALL, "link");
	post_rx(2048);
	h_kick(&h, RXQ);
	unsigned before = h.config_irqs;
	close(peer);
	peer = -1;
	for (int i = 0; i < 2000 && h.config_irqs == before; i++)
		usleep(1000);
	d->ops->config_read(d, 0, c, sizeof(c));
	ok(h.config_irqs == before + 1 && c[6] == 0 && N->fd_dead &&
	       !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "the backend hangs up: status LINK_UP clears, one config interrupt");
	mkhdr(hdr, 0, 0, 0, 0, 0);
	uint16_t head = tx_chain(hdr, 60, 60, 1, false);
	h_kick(&h, TXQ);
	ok(vqd_take_used(&h.drv[TXQ], &id, &len) && id == head && N->stats.tx_dropped == 1,
	   "transmit chains are still returned (dropped)");
	teardown();
}

int main(void)
{
	tap_plan(41);
	if (!ok(h_init(&h, 64) == 0, "harness"))
		return tap_done();
	config();
	transmit();
	transmit_hostile();
	receive();
	receive_hostile();
	no_mergeable();
	budget();
	link_loss();
	h_fini(&h);
	return tap_done();
}
