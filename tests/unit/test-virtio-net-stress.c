/* Stress test for vmm/virtio/net*.c: traffic both ways at once, with a
 * guest that behaves like Linux's virtio_net.
 *
 * The device runs on its event loop with kick eventfds watched there, as
 * the PCI transport's ioeventfds would be. The test's main thread is the
 * guest driver: it keeps the receive ring full of 1536-byte mergeable
 * buffers, reassembles frames by num_buffers, transmits from a ring of 256
 * slots, reclaims used entries, and kicks only when the device's
 * avail_event asks for it (VIRTIO_F_EVENT_IDX). Two host threads send
 * frames into the socket-pair backend and read what the guest transmits.
 * Frames of 60 bytes to 64 KiB (TSO headers above the MTU) carry their
 * sequence number and a pattern: every frame must arrive once, in order,
 * intact, both ways. A lost wakeup anywhere shows up as a stall, reported
 * with the device's state after a generous bound. */
#include "net_int.h"
#include "tap.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAMES	 3000
#define QSIZE	 256
#define RX_BUF	 1536
#define TX_SLOT	 (12 + 65536)
#define STALL_MS 60000

static struct harness h;
static struct virtio_dev *d;
static int peer = -1;
static int kick_fd[2];
static uint64_t rx_gpa[QSIZE], tx_gpa[QSIZE];

static uint32_t frame_len(uint32_t seq, unsigned dir)
{
	uint32_t x = seq * 2654435761u + dir * 40503u;
	x ^= x >> 13;
	if (x % 10 == 0)
		return 1514 + x % (65000 - 1514); /* a TSO frame now and then */
	return 60 + x % 1455;
}

static void fill(uint8_t *p, uint32_t len, uint32_t seq)
{
	memset(p, 0, 14);
	p[12] = 0x08;
	memcpy(p + 14, &seq, 4);
	for (uint32_t i = 18; i < len; i++)
		p[i] = (uint8_t)(seq + i * 7);
}

static bool check_frame(const uint8_t *p, uint32_t len, uint32_t seq, unsigned dir)
{
	uint32_t got;

	if (len != frame_len(seq, dir) || len < 18)
		return false;
	memcpy(&got, p + 14, 4);
	if (got != seq)
		return false;
	for (uint32_t i = 18; i < len; i++)
		if (p[i] != (uint8_t)(seq + i * 7))
			return false;
	return true;
}

static void header(uint8_t hdr[12], uint32_t len)
{
	memset(hdr, 0, 12);
	if (len > 1514) {
		uint16_t v[4] = { htole16(54), htole16(1448), htole16(34), htole16(16) };
		hdr[0] = VNET_HDR_F_NEEDS_CSUM;
		hdr[1] = VNET_HDR_GSO_TCPV4;
		memcpy(hdr + 2, v, sizeof(v));
	}
}

static void on_kick(void *opaque, uint32_t events)
{
	unsigned q = (unsigned)(uintptr_t)opaque;
	uint64_t v;

	(void)!read(kick_fd[q], &v, sizeof(v));
	d->ops->queue_notify(d, q);
}

/* Publish the entries added since old and kick if the device asked. */
static unsigned kicks[2];
static bool event_idx;
static void kick_if_needed(unsigned q, uint16_t old)
{
	struct vqd *v = &h.drv[q];
	uint16_t now = v->avail_idx;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t ev = __atomic_load_n((uint16_t *)vqd_hva(v, v->used + 4 + 8ULL * v->size, 2),
				      __ATOMIC_ACQUIRE);
	uint16_t flags = __atomic_load_n((uint16_t *)vqd_hva(v, v->used, 2), __ATOMIC_ACQUIRE);
	bool want = event_idx ? (uint16_t)(now - ev - 1) < (uint16_t)(now - old)
			      : !(flags & VIRTQ_USED_F_NO_NOTIFY);
	if (want) {
		uint64_t one = 1;
		(void)!write(kick_fd[q], &one, sizeof(one));
		kicks[q]++;
	}
}

static void *host_sender(void *arg)
{
	uint8_t *b = malloc(12 + 65536);

	for (uint32_t seq = 0; seq < FRAMES; seq++) {
		uint32_t len = frame_len(seq, 0);
		header(b, len);
		fill(b + 12, len, seq);
		if (send(peer, b, 12 + len, 0) != (ssize_t)(12 + len))
			break;
	}
	free(b);
	return NULL;
}

static _Atomic uint32_t host_got;
static _Atomic bool host_bad;

static void *host_reader(void *arg)
{
	uint8_t *b = malloc(12 + 65536 + 16);

	while (host_got < FRAMES) {
		struct pollfd p = { .fd = peer, .events = POLLIN };
		if (poll(&p, 1, STALL_MS) <= 0)
			break;
		ssize_t n = recv(peer, b, 12 + 65536 + 16, 0);
		if (n < 12 || !check_frame(b + 12, (uint32_t)n - 12, host_got, 1)) {
			host_bad = true;
			break;
		}
		host_got++;
	}
	free(b);
	return NULL;
}

static void run(uint64_t features, const char *what)
{
	struct kv_err err = { 0 };
	struct vmm_net cfg = { .mac_set = true, .mac = { 2, 0, 0, 0, 0, 9 }, .mtu = 1500 };
	int sv[2];

	event_idx = features & (1ULL << VIRTIO_F_EVENT_IDX);
	kicks[0] = kicks[1] = 0;
	host_got = 0;
	host_bad = false;
	h.next_data = H_DATA;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
		abort();
	int sz = 4 << 20;
	(void)setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	peer = sv[1];
	ok(vnet_create_on_fd(&h.vm, sv[0], &cfg, &d, &err) == 0, "%s: device (%s)", what, err.msg);
	for (unsigned q = 0; q < 2; q++) {
		kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		evloop_add(&h.vm.loop, kick_fd[q], EPOLLIN, on_kick, (void *)(uintptr_t)q);
	}
	ok(h_attach(&h, d, QSIZE, features) == 0, "%s: activated", what);

	struct vqd *rx = &h.drv[VNET_RXQ], *tx = &h.drv[VNET_TXQ];
	bool tx_free[QSIZE];
	for (unsigned i = 0; i < QSIZE; i++) {
		rx_gpa[i] = h_alloc(&h, RX_BUF);
		tx_gpa[i] = h_alloc(&h, TX_SLOT);
		tx_free[i] = true;
		vqd_desc(rx, i, rx_gpa[i], RX_BUF, VIRTQ_DESC_F_WRITE, 0);
	}
	uint16_t old = rx->avail_idx;
	for (unsigned i = 0; i < QSIZE; i++)
		vqd_publish(rx, (uint16_t)i);
	kick_if_needed(VNET_RXQ, old);

	pthread_t ts, tr;
	pthread_create(&ts, NULL, host_sender, NULL);
	pthread_create(&tr, NULL, host_reader, NULL);

	uint8_t *frame = malloc(12 + 65536 + RX_BUF);
	uint32_t rx_seq = 0, tx_seq = 0, id, len, seen_got = 0;
	bool rx_bad = false;
	struct timespec last, now;
	clock_gettime(CLOCK_MONOTONIC, &last);
	while ((rx_seq < FRAMES || host_got < FRAMES) && !rx_bad && !host_bad) {
		bool progress = false;
		/* Receive: whole frames only; refill what was used. */
		uint16_t rx_old = rx->avail_idx;
		while (!rx_bad && vqd_used_idx(rx) != rx->used_seen) {
			uint32_t off = 0, nb = 1;
			for (uint32_t k = 0; k < nb; k++) {
				if (!vqd_take_used(rx, &id, &len) || id >= QSIZE || len > RX_BUF) {
					rx_bad = true; /* the rest of the frame must be there too */
					break;
				}
				memcpy(frame + off, h_hva(&h, rx_gpa[id], len), len);
				off += len;
				if (k == 0) {
					uint16_t v;
					memcpy(&v, frame + 10, 2);
					nb = le16toh(v);
				}
				vqd_publish(rx, (uint16_t)id);
			}
			if (!rx_bad && (off < 12 || !check_frame(frame + 12, off - 12, rx_seq, 0)))
				rx_bad = true;
			rx_seq++;
			progress = true;
		}
		if (rx->avail_idx != rx_old)
			kick_if_needed(VNET_RXQ, rx_old);
		/* Transmit: reclaim, then fill free slots. */
		while (vqd_take_used(tx, &id, &len))
			if (id < QSIZE)
				tx_free[id] = true;
		uint16_t tx_old = tx->avail_idx;
		for (unsigned i = 0; i < QSIZE && tx_seq < FRAMES; i++) {
			if (!tx_free[i])
				continue;
			uint32_t fl = frame_len(tx_seq, 1);
			uint8_t *p = h_hva(&h, tx_gpa[i], 12 + fl);
			header(p, fl);
			fill(p + 12, fl, tx_seq++);
			vqd_desc(tx, i, tx_gpa[i], 12 + fl, 0, 0);
			tx_free[i] = false;
			vqd_publish(tx, (uint16_t)i);
		}
		if (tx->avail_idx != tx_old) {
			kick_if_needed(VNET_TXQ, tx_old);
			progress = true;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint32_t got = host_got;
		if (got != seen_got) {
			seen_got = got;
			progress = true;
		}
		if (progress)
			last = now;
		if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >
		    STALL_MS)
			break;
		if (!progress)
			usleep(100);
	}
	struct vnet *n = d->priv;
	ok(rx_seq == FRAMES && !rx_bad,
	   "%s: host -> guest: %u of %d frames, in order and intact (rx_wait %d, held %u, pending "
	   "%u, "
	   "dropped %llu, kicks %u)",
	   what, rx_seq, FRAMES, n->rx_wait, n->rx_held, n->rx_pending,
	   (unsigned long long)n->stats.rx_dropped, kicks[VNET_RXQ]);
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	ok(host_got == FRAMES && !host_bad,
	   "%s: guest -> host: %u of %d frames, in order and intact (dropped %llu, errors %llu, "
	   "kicks %u)",
	   what, (unsigned)host_got, FRAMES, (unsigned long long)n->stats.tx_dropped,
	   (unsigned long long)n->stats.tx_errors, kicks[VNET_TXQ]);
	free(frame);
	for (unsigned q = 0; q < 2; q++)
		evloop_del(&h.vm.loop, kick_fd[q]);
	for (unsigned q = 0; q < 2; q++)
		close(kick_fd[q]);
	h_reset(&h);
	d->ops->destroy(d);
	close(peer);
}

int main(void)
{
	tap_plan(9);
	if (!ok(h_init(&h, 64) == 0, "harness"))
		return tap_done();
	run(~0ULL, "event idx");
	run(~(1ULL << VIRTIO_F_EVENT_IDX), "notification flags");
	h_fini(&h);
	return tap_done();
}
