/* vsock-guest.h - a fake guest vsock driver and host helpers for the
 * virtio-vsock unit tests.
 *
 * Owns: the guest side of the three vsock queues in synthetic guest RAM
 * (fixed rx buffers of 44 + 4096 bytes like Linux's, tx chains of a header
 * descriptor plus a payload descriptor), an independent little-endian
 * encoding of struct virtio_vsock_hdr (so a codec bug in the device cannot
 * cancel itself out), per-flow credit bookkeeping that records any packet
 * the device sends beyond the credit the guest advertised, and the host
 * side: Unix clients, listeners and timed reads. Header-only. */
#ifndef KVRUN_TESTS_VSOCK_GUEST_H
#define KVRUN_TESTS_VSOCK_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vdev-harness.h"

#define VG_RXQ	    0
#define VG_TXQ	    1
#define VG_EVQ	    2
#define VG_QSIZE    256
#define VG_HDR	    44
#define VG_RXBUF    (VG_HDR + 4096)
#define VG_TXSLOTS  (VG_QSIZE / 2)
#define VG_TXDATA   (64U << 10)
#define VG_HOST_CID 2

enum {
	VG_REQUEST = 1,
	VG_RESPONSE,
	VG_RST,
	VG_SHUTDOWN,
	VG_RW,
	VG_CREDIT_UPDATE,
	VG_CREDIT_REQUEST
};

struct vg_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

struct vg {
	struct harness *h;
	uint64_t cid;
	uint64_t rx_gpa[VG_QSIZE];
	unsigned rx_next, rx_out; /* next slot to post; posted and not yet used */
	uint64_t tx_hdr[VG_TXSLOTS], tx_data[VG_TXSLOTS];
	unsigned tx_next;
};

/* A guest flow: ports and both directions' credit. */
struct vg_flow {
	uint32_t gport, hport;
	uint32_t buf_alloc, fwd_cnt, rx_cnt; /* what the guest advertises / received */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	unsigned violations; /* RW packets beyond our credit */
};

static inline void vg_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t vg_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void vg_encode(const struct vg_hdr *h, uint8_t *p)
{
	vg_put(p, h->src_cid, 8);
	vg_put(p + 8, h->dst_cid, 8);
	vg_put(p + 16, h->src_port, 4);
	vg_put(p + 20, h->dst_port, 4);
	vg_put(p + 24, h->len, 4);
	vg_put(p + 28, h->type, 2);
	vg_put(p + 30, h->op, 2);
	vg_put(p + 32, h->flags, 4);
	vg_put(p + 36, h->buf_alloc, 4);
	vg_put(p + 40, h->fwd_cnt, 4);
}

static inline void vg_decode(const uint8_t *p, struct vg_hdr *h)
{
	h->src_cid = vg_get(p, 8);
	h->dst_cid = vg_get(p + 8, 8);
	h->src_port = (uint32_t)vg_get(p + 16, 4);
	h->dst_port = (uint32_t)vg_get(p + 20, 4);
	h->len = (uint32_t)vg_get(p + 24, 4);
	h->type = (uint16_t)vg_get(p + 28, 2);
	h->op = (uint16_t)vg_get(p + 30, 2);
	h->flags = (uint32_t)vg_get(p + 32, 4);
	h->buf_alloc = (uint32_t)vg_get(p + 36, 4);
	h->fwd_cnt = (uint32_t)vg_get(p + 40, 4);
}

/* Attach d with queue size VG_QSIZE and carve the guest buffers. */
static inline int vg_attach(struct vg *g, struct harness *h, struct virtio_dev *d, uint64_t cid)
{
	memset(g, 0, sizeof(*g));
	g->h = h;
	g->cid = cid;
	h->next_data = H_DATA;
	for (unsigned i = 0; i < VG_QSIZE; i++)
		g->rx_gpa[i] = h_alloc(h, VG_RXBUF);
	for (unsigned i = 0; i < VG_TXSLOTS; i++) {
		g->tx_hdr[i] = h_alloc(h, VG_HDR);
		g->tx_data[i] = h_alloc(h, VG_TXDATA);
	}
	return h_attach(h, d, VG_QSIZE, ~0ULL);
}

/* Post n more rx buffers (descriptor i is always buffer i) and kick. */
static inline void vg_post_rx(struct vg *g, unsigned n)
{
	struct vqd *d = &g->h->drv[VG_RXQ];

	for (unsigned i = 0; i < n && g->rx_out < VG_QSIZE; i++, g->rx_out++) {
		unsigned s = g->rx_next++ % VG_QSIZE;
		vqd_desc(d, s, g->rx_gpa[s], VG_RXBUF, VIRTQ_DESC_F_WRITE, 0);
		vqd_publish(d, (uint16_t)s);
	}
	h_kick(g->h, VG_RXQ);
}

static inline uint64_t vg_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The next packet the device put in an rx buffer, within ms: its payload
 * length (copied to data, at most cap bytes), or -1. */
static inline int vg_recv(struct vg *g, struct vg_hdr *hdr, void *data, size_t cap, unsigned ms)
{
	uint32_t id, len;
	uint64_t end = vg_ms() + ms;

	for (;;) {
		if (vqd_take_used(&g->h->drv[VG_RXQ], &id, &len))
			break;
		if (vg_ms() >= end)
			return -1;
		nanosleep(&(struct timespec){ .tv_nsec = 200000 }, NULL);
	}
	g->rx_out--;
	if (id >= VG_QSIZE || len < VG_HDR || len > VG_RXBUF)
		return -2;
	const uint8_t *p = h_hva(g->h, g->rx_gpa[id], VG_RXBUF);
	vg_decode(p, hdr);
	if (hdr->len != len - VG_HDR)
		return -3;
	if (data)
		memcpy(data, p + VG_HDR, hdr->len < cap ? hdr->len : cap);
	return (int)hdr->len;
}

/* Queue one tx chain: hdr_len bytes of raw header, then len payload bytes
 * in a second descriptor (none when desc_len is 0). Kicks; returns whether
 * the device consumed it. */
static inline bool vg_send_raw(struct vg *g, const uint8_t *raw, uint32_t hdr_len, const void *data,
			       uint32_t len, uint32_t desc_len)
{
	struct vqd *d = &g->h->drv[VG_TXQ];
	unsigned s = g->tx_next++ % VG_TXSLOTS;
	uint16_t head = (uint16_t)(2 * s);

	memcpy(h_hva(g->h, g->tx_hdr[s], VG_HDR), raw, hdr_len < VG_HDR ? hdr_len : VG_HDR);
	if (data && len)
		memcpy(h_hva(g->h, g->tx_data[s], VG_TXDATA), data, len);
	vqd_desc(d, head, g->tx_hdr[s], hdr_len, desc_len ? VIRTQ_DESC_F_NEXT : 0,
		 (uint16_t)(head + 1));
	if (desc_len)
		vqd_desc(d, head + 1U, g->tx_data[s], desc_len, 0, 0);
	vqd_publish(d, head);
	h_kick(g->h, VG_TXQ);
	return vqd_used_idx(d) == d->avail_idx;
}

static inline bool vg_send(struct vg *g, const struct vg_hdr *h, const void *data)
{
	uint8_t raw[VG_HDR];

	vg_encode(h, raw);
	return vg_send_raw(g, raw, VG_HDR, data, h->len, h->len);
}

/* Send op on flow f with the guest's credit information. */
static inline bool vg_flow_send(struct vg *g, struct vg_flow *f, uint16_t op, uint32_t flags,
				const void *data, uint32_t len)
{
	struct vg_hdr h = { .src_cid = g->cid,
			    .dst_cid = VG_HOST_CID,
			    .src_port = f->gport,
			    .dst_port = f->hport,
			    .len = len,
			    .type = 1,
			    .op = op,
			    .flags = flags,
			    .buf_alloc = f->buf_alloc,
			    .fwd_cnt = f->fwd_cnt };
	if (op == VG_RW)
		f->tx_cnt += len;
	return vg_send(g, &h, data);
}

/* Account a packet the device sent on flow f. */
static inline void vg_flow_take(struct vg_flow *f, const struct vg_hdr *h)
{
	f->peer_buf_alloc = h->buf_alloc;
	f->peer_fwd_cnt = h->fwd_cnt;
	if (h->op == VG_RW) {
		f->rx_cnt += h->len;
		if (f->rx_cnt - f->fwd_cnt > f->buf_alloc)
			f->violations++;
	}
}

/* The device's credit as flow f knows it. */
static inline uint32_t vg_flow_credit(const struct vg_flow *f)
{
	uint32_t used = f->tx_cnt - f->peer_fwd_cnt;
	return used >= f->peer_buf_alloc ? 0 : f->peer_buf_alloc - used;
}

static inline bool vg_is(const struct vg_hdr *h, uint16_t op, const struct vg_flow *f)
{
	return h->op == op && h->src_cid == VG_HOST_CID && h->type == 1 &&
	       (!f || (h->dst_port == f->gport && h->src_port == f->hport));
}

/* Wait up to ms for op on flow f; the flow's other packets (a late
 * CREDIT_UPDATE, say) are accounted and skipped, other flows' too. */
static inline bool vg_wait(struct vg *g, struct vg_flow *f, uint16_t op, unsigned ms)
{
	struct vg_hdr hd;

	while (vg_recv(g, &hd, NULL, 0, ms) >= 0) {
		if (!vg_is(&hd, hd.op, f))
			continue;
		vg_flow_take(f, &hd);
		if (hd.op == op)
			return true;
	}
	return false;
}

/* Take packets until none comes for ms, answering like a guest whose
 * sockets are all closed: RST to anything but RST. Returns the count. */
static inline unsigned vg_settle(struct vg *g, unsigned ms)
{
	struct vg_hdr hd, rst;
	unsigned n = 0;

	while (vg_recv(g, &hd, NULL, 0, ms) >= 0) {
		n++;
		if (hd.op == VG_RST)
			continue;
		rst = (struct vg_hdr){ .src_cid = g->cid,
				       .dst_cid = VG_HOST_CID,
				       .src_port = hd.dst_port,
				       .dst_port = hd.src_port,
				       .type = 1,
				       .op = VG_RST };
		vg_send(g, &rst, NULL);
	}
	return n;
}

/* ---- host side ---- */

static inline int host_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int host_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(a.sun_path))
		return -1;
	memcpy(a.sun_path, path, strlen(path));
	unlink(path);
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 512) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int host_accept(int lfd, unsigned ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	if (poll(&p, 1, (int)ms) <= 0)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* Read up to n bytes within ms: the count, 0 at EOF before any byte, -1
 * on timeout before any byte. Stops early at a newline when line is set. */
static inline ssize_t host_read(int fd, void *buf, size_t n, unsigned ms, bool line)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)ms) <= 0)
			return got ? (ssize_t)got : -1;
		ssize_t r = read(fd, (char *)buf + got, line ? 1 : n - got);
		if (r <= 0)
			return got ? (ssize_t)got : r;
		got += (size_t)r;
		if (line && ((char *)buf)[got - 1] == '\n')
			break;
	}
	return (ssize_t)got;
}

/* EOF (or a reset) within ms, with no data before it. */
static inline bool host_eof(int fd, unsigned ms)
{
	char c;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, (int)ms) <= 0)
		return false;
	return read(fd, &c, 1) <= 0;
}

/* A host client on uds sends "CONNECT port\n" and extra; the guest answers
 * its REQUEST with op. Returns the client fd (once it read "OK <port>\n"
 * when op is RESPONSE) with f set up (guest buf_alloc 256 KiB), or -1. */
static inline int vg_host_to_guest(struct vg *g, const char *uds, uint32_t port, uint16_t op,
				   struct vg_flow *f, const char *extra)
{
	struct vg_hdr hd;
	char line[64], want[32];
	int fd = host_connect(uds);

	snprintf(line, sizeof(line), "CONNECT %u\n%s", port, extra ? extra : "");
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		return -1;
	if (vg_recv(g, &hd, NULL, 0, 2000) != 0 || hd.op != VG_REQUEST || hd.dst_cid != g->cid ||
	    hd.dst_port != port)
		return -1;
	*f = (struct vg_flow){ .gport = port, .hport = hd.src_port, .buf_alloc = 256 << 10 };
	vg_flow_take(f, &hd);
	vg_flow_send(g, f, op, 0, NULL, 0);
	if (op != VG_RESPONSE)
		return fd;
	snprintf(want, sizeof(want), "OK %u\n", hd.src_port);
	if (host_read(fd, line, sizeof(line), 2000, true) != (ssize_t)strlen(want) ||
	    memcmp(line, want, strlen(want)) != 0)
		return -1;
	return fd;
}

static inline void msleep(unsigned ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 },
		  NULL);
}

/* Run the device's destroy on the loop thread (host handlers run there). */
static void vg_destroy_fn(void *opaque)
{
	struct virtio_dev *d = opaque;
	d->ops->reset(d);
	d->ops->destroy(d);
}

static inline void vg_destroy(struct harness *h, struct virtio_dev *d)
{
	evloop_call_sync(&h->vm.loop, vg_destroy_fn, d);
}

#endif
