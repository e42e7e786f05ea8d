/* Unit tests for virtio-vsock (vmm/virtio/vsock*.c): connections.
 *
 * A fake guest driver (vsock-guest.h) and real Unix sockets in a temporary
 * directory drive the device on a real event loop: the host->guest CONNECT
 * handshake, data both ways, a client's bytes pipelined after its CONNECT
 * line, a guest refusing a port, guest->host connections to a listening
 * and a missing "<path>_<port>", malformed CONNECT lines, half-close in both
 * directions, the close timeout for a guest that never acknowledges, and a
 * device reset closing everything with nothing stale afterwards. */
#include "tap.h"
#include "virtio_devs.h"
#include "vsock-guest.h"
#include "vsock_int.h" /* virtio_vsock_set_timeouts */

#include <inttypes.h>
#include <signal.h>

#define CID 42

static struct harness h;
static struct vg g;
static struct virtio_dev *d;
static char dir[] = "/tmp/kvrun-vsock-XXXXXX";
static char uds[128];

static int host_to_guest(uint32_t port, uint16_t op, struct vg_flow *f, const char *extra)
{
	return vg_host_to_guest(&g, uds, port, op, f, extra);
}

static void create_and_handshake(void)
{
	struct kv_err err = { 0 };
	struct vmm_vsock cfg = { .guest_cid = CID, .uds_path = uds };
	uint8_t cfgspace[8];
	struct vg_hdr hd;
	char buf[64];
	struct vg_flow f;

	ok(virtio_vsock_create(&h.vm, &cfg, &d, &err) == 0 && d->device_id == 19 &&
	       d->num_queues == 3 && d->config_size == 8,
	   "create: device 19, three queues, 8-byte config (%s)", err.msg);
	d->ops->config_read(d, 0, cfgspace, 8);
	ok(vg_get(cfgspace, 8) == CID, "config space holds the guest CID, little-endian");
	virtio_vsock_set_timeouts(d, 300, 1000);
	ok(vg_attach(&g, &h, d, CID) == 0, "activate");
	vg_post_rx(&g, 64);

	int fd = host_connect(uds);
	ok(fd >= 0 && write(fd, "CONNECT 1234\n", 13) == 13, "client connects, sends CONNECT 1234");
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_REQUEST, NULL) &&
	       hd.dst_cid == CID && hd.dst_port == 1234 && hd.src_port >= 0x40000000U &&
	       hd.buf_alloc == (128U << 10) && hd.fwd_cnt == 0 && hd.flags == 0,
	   "guest sees REQUEST from an ephemeral host port to %u:1234, buf_alloc 128 KiB", CID);
	f = (struct vg_flow){ .gport = 1234, .hport = hd.src_port, .buf_alloc = 65536 };
	vg_flow_send(&g, &f, VG_RESPONSE, 0, NULL, 0);
	char want[32];
	snprintf(want, sizeof(want), "OK %u\n", hd.src_port);
	ssize_t n = host_read(fd, buf, sizeof(buf), 2000, true);
	ok(n == (ssize_t)strlen(want) && memcmp(buf, want, (size_t)n) == 0,
	   "after RESPONSE the client reads \"OK %u\"", hd.src_port);

	ok(write(fd, "hello", 5) == 5 && vg_recv(&g, &hd, buf, sizeof(buf), 2000) == 5 &&
	       vg_is(&hd, VG_RW, &f) && memcmp(buf, "hello", 5) == 0,
	   "client bytes reach the guest as RW");
	vg_flow_take(&f, &hd);
	vg_flow_send(&g, &f, VG_RW, 0, "world", 5);
	ok(host_read(fd, buf, 5, 2000, false) == 5 && memcmp(buf, "world", 5) == 0,
	   "guest RW reaches the client");
	close(fd);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_SHUTDOWN, &f) && hd.flags == 3,
	   "client close: guest gets SHUTDOWN(RCV|SEND)");
	vg_flow_send(&g, &f, VG_RST, 0, NULL, 0);

	struct vg_flow f2;
	fd = host_to_guest(80, VG_RESPONSE, &f2, "early");
	ok(fd >= 0 && f2.hport != f.hport && vg_recv(&g, &hd, buf, sizeof(buf), 2000) == 5 &&
	       memcmp(buf, "early", 5) == 0,
	   "bytes pipelined after the CONNECT line arrive after the handshake");
	close(fd);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_SHUTDOWN, &f2), "closed");
	vg_flow_send(&g, &f2, VG_RST, 0, NULL, 0);

	fd = host_to_guest(999, VG_RST, &f2, NULL);
	ok(fd >= 0 && host_eof(fd, 2000), "guest RST (port not listening): client closed, no OK");
	close(fd);
	ok(vg_recv(&g, &hd, NULL, 0, 100) == -1, "nothing more for the refused flow");
}

static void guest_to_host(void)
{
	char path[160], buf[64];
	struct vg_hdr hd;
	struct vg_flow f = { .gport = 40000, .hport = 5000, .buf_alloc = 65536 };
	struct vg_flow m = { .gport = 40001, .hport = 5001, .buf_alloc = 65536 };

	snprintf(path, sizeof(path), "%s_5000", uds);
	int lfd = host_listen(path);
	vg_flow_send(&g, &f, VG_REQUEST, 0, NULL, 0);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_RESPONSE, &f) &&
	       hd.dst_cid == CID && hd.buf_alloc == (128U << 10),
	   "guest connects to host port 5000: RESPONSE");
	vg_flow_take(&f, &hd);
	int fd = host_accept(lfd, 2000);
	ok(fd >= 0, "the host listener on <path>_5000 accepts");
	vg_flow_send(&g, &f, VG_RW, 0, "ping", 4);
	ok(host_read(fd, buf, 4, 2000, false) == 4 && memcmp(buf, "ping", 4) == 0,
	   "guest -> host bytes");
	ok(write(fd, "pong!", 5) == 5 && vg_recv(&g, &hd, buf, sizeof(buf), 2000) == 5 &&
	       vg_is(&hd, VG_RW, &f) && memcmp(buf, "pong!", 5) == 0,
	   "host -> guest bytes");
	vg_flow_take(&f, &hd);

	/* Half-close, guest side first: SHUTDOWN(SEND) -> the host reads EOF
	 * but can still answer. */
	vg_flow_send(&g, &f, VG_SHUTDOWN, 2, NULL, 0);
	ok(host_eof(fd, 2000), "guest SHUTDOWN(SEND): the host reads EOF");
	ok(write(fd, "late", 4) == 4 && vg_recv(&g, &hd, buf, sizeof(buf), 2000) == 4 &&
	       memcmp(buf, "late", 4) == 0,
	   "... and can still send to the guest");
	close(fd);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_SHUTDOWN, &f) && hd.flags == 3,
	   "host close: SHUTDOWN(both) to the guest");
	vg_flow_send(&g, &f, VG_RST, 0, NULL, 0);
	ok(vg_recv(&g, &hd, NULL, 0, 100) == -1, "guest RST ends it quietly");

	vg_flow_send(&g, &m, VG_REQUEST, 0, NULL, 0);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_RST, &m),
	   "guest connects to host port 5001 where nothing listens: RST");

	/* Half-close, host side first, then a clean close from the guest. */
	f = (struct vg_flow){ .gport = 40002, .hport = 5000, .buf_alloc = 65536 };
	vg_flow_send(&g, &f, VG_REQUEST, 0, NULL, 0);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_RESPONSE, &f), "reconnect");
	fd = host_accept(lfd, 2000);
	shutdown(fd, SHUT_WR);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_SHUTDOWN, &f) && hd.flags == 2,
	   "host shutdown(SHUT_WR): guest gets SHUTDOWN(SEND) only");
	vg_flow_send(&g, &f, VG_RW, 0, "still", 5);
	ok(host_read(fd, buf, 5, 2000, false) == 5 && memcmp(buf, "still", 5) == 0,
	   "the guest can still send to the host");
	vg_flow_send(&g, &f, VG_SHUTDOWN, 3, NULL, 0);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_RST, &f) && host_eof(fd, 2000),
	   "guest SHUTDOWN(both): device answers RST and closes the host socket");
	close(fd);

	/* SHUTDOWN(RCV) from the guest: the host's writes fail. */
	f = (struct vg_flow){ .gport = 40003, .hport = 5000, .buf_alloc = 65536 };
	vg_flow_send(&g, &f, VG_REQUEST, 0, NULL, 0);
	(void)vg_recv(&g, &hd, NULL, 0, 2000);
	fd = host_accept(lfd, 2000);
	vg_flow_send(&g, &f, VG_SHUTDOWN, 1, NULL, 0);
	msleep(20);
	ok(send(fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE,
	   "guest SHUTDOWN(RCV): host writes fail with EPIPE");
	vg_flow_send(&g, &f, VG_RST, 0, NULL, 0);
	ok(host_eof(fd, 2000), "guest RST closes the host socket");
	close(fd);
	close(lfd);
	unlink(path);
}

static void bad_lines(void)
{
	static const char *const lines[] = {
		"CONNECT abc\n",
		"connect 5\n",
		"CONNECT \n",
		"CONNECT 4294967295\n",
		"CONNECT 99999999999\n",
		"CONNECT 5 \n",
		"CONNECT -5\n",
		"GET / HTTP/1.0\r\n",
		"CONNECT 0000000000000000000000000005\n", /* over 32 bytes */
	};
	struct vg_hdr hd;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int fd = host_connect(uds);
		size_t n = strlen(lines[i]);
		ok(fd >= 0 && write(fd, lines[i], n) == (ssize_t)n && host_eof(fd, 2000) &&
		       vg_recv(&g, &hd, NULL, 0, 0) == -1,
		   "bad CONNECT line %zu closes the client, no REQUEST", i);
		close(fd);
	}
	int fd = host_connect(uds);
	ok(write(fd, "CONNECT 5\0junk\n", 15) == 15 && host_eof(fd, 2000) &&
	       vg_recv(&g, &hd, NULL, 0, 0) == -1,
	   "a NUL inside the line closes the client, no REQUEST");
	close(fd);
	fd = host_connect(uds);
	ok(write(fd, "CONNECT 7", 9) == 9 && host_eof(fd, 2000),
	   "a line without its newline is closed at the deadline");
	close(fd);
	fd = host_connect(uds);
	ok(host_eof(fd, 2000), "a silent client is closed at the deadline");
	close(fd);
	ok(vg_recv(&g, &hd, NULL, 0, 50) == -1, "no bad line reached the guest");
}

static void close_timeout(void)
{
	struct vg_flow f;
	struct vg_hdr hd;
	int fd = host_to_guest(2222, VG_RESPONSE, &f, NULL);

	close(fd);
	ok(fd >= 0 && vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_SHUTDOWN, &f) &&
	       hd.flags == 3,
	   "client close: SHUTDOWN(both)");
	ok(vg_recv(&g, &hd, NULL, 0, 300) == -1, "the guest stays silent...");
	ok(vg_recv(&g, &hd, NULL, 0, 3000) == 0 && vg_is(&hd, VG_RST, &f),
	   "... and gets an RST at the close deadline");

	fd = host_connect(uds);
	ok(write(fd, "CONNECT 3333\n", 13) == 13 && vg_recv(&g, &hd, NULL, 0, 2000) == 0 &&
	       vg_is(&hd, VG_REQUEST, NULL),
	   "REQUEST to a guest that never answers");
	uint32_t hport = hd.src_port;
	ok(host_eof(fd, 2000) && vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_RST, NULL) &&
	       hd.src_port == hport,
	   "connect deadline: client closed, RST to the guest");
	close(fd);
}

static void reset_closes_all(void)
{
	struct vg_flow f1, f2;
	struct vg_hdr hd;
	char path[160];
	int a = host_to_guest(100, VG_RESPONSE, &f1, NULL);
	int b = host_connect(uds); /* still in its CONNECT line */

	snprintf(path, sizeof(path), "%s_6000", uds);
	int lfd = host_listen(path);
	f2 = (struct vg_flow){ .gport = 50000, .hport = 6000, .buf_alloc = 4096 };
	vg_flow_send(&g, &f2, VG_REQUEST, 0, NULL, 0);
	(void)vg_recv(&g, &hd, NULL, 0, 2000);
	int c = host_accept(lfd, 2000);
	ok(a >= 0 && b >= 0 && c >= 0, "three host connections open");
	ok(write(a, "pending", 7) == 7, "bytes waiting for the guest");
	msleep(20);
	h_reset(&h);
	ok(host_eof(a, 2000) && host_eof(b, 2000) && host_eof(c, 2000),
	   "device reset closes every host connection");
	ok(vg_attach(&g, &h, d, CID) == 0, "re-activate");
	vg_post_rx(&g, 16);
	ok(vg_recv(&g, &hd, NULL, 0, 100) == -1, "nothing stale is sent after the reset");
	struct vg_flow f3;
	int e = host_to_guest(100, VG_RESPONSE, &f3, NULL);
	ok(e >= 0, "a new connection works after the reset");
	close(a), close(b), close(c), close(e), close(lfd);
	unlink(path);
}

/* Chains laid out the other ways a driver may: rx buffers as a 44-byte
 * header descriptor plus a payload descriptor (older Linux), tx headers
 * split across descriptors, header and payload in one descriptor, and
 * indirect tables. */
static void layouts(void)
{
	struct vqd *rx = &h.drv[VG_RXQ];
	struct vg_hdr hd;
	uint32_t id, len;
	char path[160], buf[16];

	h_reset(&h);
	vg_attach(&g, &h, d, CID); /* carves vg's buffers: allocate after it */
	uint64_t hdr1 = h_alloc(&h, 64), pay1 = h_alloc(&h, 4096);
	uint64_t hdr2 = h_alloc(&h, 64), pay2 = h_alloc(&h, 4096);
	snprintf(path, sizeof(path), "%s_5005", uds);
	int lfd = host_listen(path);
	vqd_desc(rx, 0, hdr1, VG_HDR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(rx, 1, pay1, 4096, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(rx, 0);
	vqd_desc(rx, 2, hdr2, VG_HDR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	vqd_desc(rx, 3, pay2, 4096, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(rx, 2);
	h_kick(&h, VG_RXQ);
	struct vg_flow f = { .gport = 777, .hport = 5005, .buf_alloc = 4096 };
	vg_flow_send(&g, &f, VG_REQUEST, 0, NULL, 0);
	int fd = host_accept(lfd, 2000);
	bool got = h_wait_used(&h, VG_RXQ, 1, 2000) && vqd_take_used(rx, &id, &len);
	vg_decode(h_hva(&h, hdr1, VG_HDR), &hd);
	ok(fd >= 0 && got && id == 0 && len == VG_HDR && vg_is(&hd, VG_RESPONSE, &f),
	   "RESPONSE in a header+payload rx chain");
	ok(write(fd, "xyz", 3) == 3 && h_wait_used(&h, VG_RXQ, 2, 2000) &&
	       vqd_take_used(rx, &id, &len) && id == 2 && len == VG_HDR + 3,
	   "host bytes in the second chain");
	vg_decode(h_hva(&h, hdr2, VG_HDR), &hd);
	ok(vg_is(&hd, VG_RW, &f) && hd.len == 3 && memcmp(h_hva(&h, pay2, 3), "xyz", 3) == 0,
	   "... header in the first descriptor, payload in the second");

	/* tx: one buffer laid out as hdr | payload, cut at odd places. */
	uint64_t t = h_alloc(&h, 64);
	uint8_t *p = h_hva(&h, t, 64);
	struct vg_hdr rw = { .src_cid = CID,
			     .dst_cid = 2,
			     .src_port = 777,
			     .dst_port = 5005,
			     .len = 6,
			     .type = 1,
			     .op = VG_RW,
			     .buf_alloc = 4096 };
	vg_encode(&rw, p);
	memcpy(p + VG_HDR, "abcdef", 6);
	struct h_seg one[1] = { { t, VG_HDR + 6, false } };
	struct h_seg three[3] = { { t, 10, false }, { t + 10, 40, false }, { t + 50, 0, false } };
	h_chain(&h, VG_TXQ, one, 1, false);
	h_kick(&h, VG_TXQ);
	ok(host_read(fd, buf, 6, 2000, false) == 6 && memcmp(buf, "abcdef", 6) == 0,
	   "tx header and payload in one descriptor");
	h_chain(&h, VG_TXQ, three, 3, false);
	h_kick(&h, VG_TXQ);
	ok(host_read(fd, buf, 6, 2000, false) == 6 && memcmp(buf, "abcdef", 6) == 0,
	   "tx header split 10 + 34, payload after it in the same descriptor, an empty one");
	h_chain(&h, VG_TXQ, three, 2, true);
	h_kick(&h, VG_TXQ);
	ok(host_read(fd, buf, 6, 2000, false) == 6 && memcmp(buf, "abcdef", 6) == 0,
	   "the same through an indirect table");
	close(fd);
	close(lfd);
	unlink(path);
}

int main(void)
{
	tap_plan(60);
	if (!ok(h_init(&h, 32) == 0 && mkdtemp(dir), "harness and temp dir"))
		return tap_done();
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	signal(SIGPIPE, SIG_IGN);
	create_and_handshake();
	guest_to_host();
	bad_lines();
	close_timeout();
	reset_closes_all();
	layouts();
	vg_destroy(&h, d);
	ok(access(uds, F_OK) < 0, "destroy removes the socket file");
	rmdir(dir);
	h_fini(&h);
	return tap_done();
}
