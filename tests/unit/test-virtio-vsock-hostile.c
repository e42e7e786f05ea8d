/* Unit tests for virtio-vsock (vmm/virtio/vsock*.c): configuration and a
 * hostile guest.
 *
 * Creation refuses reserved CIDs, missing or over-long paths, a path held
 * by a file or a live listener, and replaces a stale socket file. Then a
 * guest sends every kind of bad packet - short header, len past the
 * descriptors or over 64 KiB, a foreign source CID, another destination
 * CID, a non-stream type, unknown ops, payload on a control op, packets for
 * unknown flows, RW beyond the advertised credit, out-of-place RESPONSE and
 * REQUEST - which must be dropped or answered with RST without breaking the
 * device; a flood of RSTs stalls the tx queue until rx buffers come, and
 * malformed descriptor chains break only this device. */
#include "tap.h"
#include "virtio_devs.h"
#include "vsock-guest.h"

#include <signal.h>
#include <sys/stat.h>

#define CID 3

static struct harness h;
static struct vg g;
static struct virtio_dev *d;
static char dir[] = "/tmp/kvrun-vsock-bad-XXXXXX";
static char uds[128], path8000[160];

static int create(uint64_t cid, const char *path, struct kv_err *err)
{
	struct vmm_vsock cfg = { .guest_cid = cid, .uds_path = path };
	struct virtio_dev *dd = NULL;
	int r = virtio_vsock_create(&h.vm, &cfg, &dd, err);

	if (r == 0)
		vg_destroy(&h, dd);
	return r;
}

static void config(void)
{
	struct kv_err err = { 0 };
	char longp[120], p[160];
	struct stat st;

	ok(create(0, uds, &err) == -EINVAL && create(1, uds, &err) == -EINVAL &&
	       create(2, uds, &err) == -EINVAL && create(0xffffffffULL, uds, &err) == -EINVAL &&
	       create(1ULL << 32, uds, &err) == -EINVAL,
	   "reserved CIDs refused: %s", err.msg);
	ok(create(3, NULL, &err) == -EINVAL && create(3, "", &err) == -EINVAL, "no path refused");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ok(create(3, longp, &err) == -ENAMETOOLONG, "path too long for <path>_<port>: %s", err.msg);
	snprintf(p, sizeof(p), "%s/file", dir);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ok(fd >= 0 && create(3, p, &err) == -EEXIST && stat(p, &st) == 0 && S_ISREG(st.st_mode),
	   "a regular file at the path is refused and kept: %s", err.msg);
	close(fd);
	unlink(p);
	int l = host_listen(uds);
	ok(create(3, uds, &err) == -EADDRINUSE && host_connect(uds) >= 0,
	   "a live listener at the path is refused and kept: %s", err.msg);
	close(l); /* the socket file stays: stale */
	err = (struct kv_err){ 0 };
	ok(stat(uds, &st) == 0 && S_ISSOCK(st.st_mode) && create(CID, uds, &err) == 0,
	   "a stale socket file is replaced (%s)", err.msg);
	ok(stat(uds, &st) < 0, "destroy removes the socket file");
}

static uint8_t raw[VG_HDR];

static struct vg_hdr hdr(uint16_t op, uint32_t sport, uint32_t dport, uint32_t len)
{
	return (struct vg_hdr){ .src_cid = CID,
				.dst_cid = VG_HOST_CID,
				.src_port = sport,
				.dst_port = dport,
				.len = len,
				.type = 1,
				.op = op,
				.buf_alloc = 65536 };
}

/* Send h (payload desc_len bytes) and expect an RST for its flow (or none). */
static bool expect_rst(struct vg_hdr hh, uint32_t desc_len, bool rst)
{
	static uint8_t zeros[VG_TXDATA];
	struct vg_hdr r;

	vg_encode(&hh, raw);
	if (!vg_send_raw(&g, raw, VG_HDR, zeros, desc_len, desc_len))
		return false;
	int n = vg_recv(&g, &r, NULL, 0, rst ? 2000 : 50);
	if (!rst)
		return n == -1;
	return n == 0 && r.op == VG_RST && r.dst_port == hh.src_port && r.src_port == hh.dst_port &&
	       r.dst_cid == CID && r.src_cid == hh.dst_cid;
}

static int open_flow(struct vg_flow *f, uint32_t gport, int lfd)
{
	struct vg_hdr hd;

	*f = (struct vg_flow){ .gport = gport, .hport = 8000, .buf_alloc = 65536 };
	vg_flow_send(&g, f, VG_REQUEST, 0, NULL, 0);
	if (vg_recv(&g, &hd, NULL, 0, 2000) != 0 || !vg_is(&hd, VG_RESPONSE, f))
		return -1;
	vg_flow_take(f, &hd);
	return host_accept(lfd, 2000);
}

static void bad_packets(int lfd)
{
	struct vg_flow f;
	struct vg_hdr hh, r;
	char c;

	vg_post_rx(&g, 128);
	int fd = open_flow(&f, 1000, lfd);
	ok(fd >= 0, "a guest stream to host port 8000");
	ok(vg_send_raw(&g, raw, 20, NULL, 0, 0) && vg_recv(&g, &r, NULL, 0, 50) == -1,
	   "20-byte header: dropped");
	hh = hdr(VG_RW, 1000, 8000, 100);
	ok(expect_rst(hh, 10, true) && host_eof(fd, 2000),
	   "len 100 with 10 payload bytes: RST, the stream is reset");
	close(fd);
	fd = open_flow(&f, 1001, lfd);
	hh = hdr(VG_RW, 1001, 8000, 70000);
	ok(expect_rst(hh, VG_TXDATA, true) && host_eof(fd, 2000), "len over 64 KiB: RST, reset");
	close(fd);

	fd = open_flow(&f, 1002, lfd);
	hh = hdr(VG_RW, 1002, 8000, 1);
	hh.src_cid = CID + 1;
	ok(expect_rst(hh, 1, false), "foreign source CID: dropped, not answered");
	hh.src_cid = CID | (1ULL << 32);
	ok(expect_rst(hh, 1, false), "source CID with upper bits set: dropped");
	vg_flow_send(&g, &f, VG_RW, 0, "k", 1);
	ok(host_read(fd, &c, 1, 2000, false) == 1 && c == 'k', "the stream is unharmed");
	hh = hdr(VG_REQUEST, 1100, 80, 0);
	hh.dst_cid = 5;
	ok(expect_rst(hh, 0, true), "REQUEST to CID 5 (no sibling routing): RST from CID 5");
	hh = hdr(VG_REQUEST, 1101, 8000, 0);
	hh.type = 2;
	ok(expect_rst(hh, 0, true), "SEQPACKET type: RST");
	static const uint16_t bad_ops[] = { 0, 8, 0xffff };
	for (unsigned i = 0; i < 3; i++)
		ok(expect_rst(hdr(bad_ops[i], 1102, 8000, 0), 0, true), "op %u: RST", bad_ops[i]);
	ok(expect_rst(hdr(VG_RW, 1103, 8000, 3), 3, true), "RW for an unknown flow: RST");
	ok(expect_rst(hdr(VG_RST, 1103, 8000, 0), 0, false), "RST for an unknown flow: silence");
	ok(expect_rst(hdr(VG_CREDIT_UPDATE, 1103, 8000, 0), 0, true),
	   "CREDIT_UPDATE, unknown: RST");
	hh = hdr(VG_SHUTDOWN, 1002, 8000, 4);
	ok(expect_rst(hh, 4, true) && host_eof(fd, 2000), "payload on SHUTDOWN: RST, reset");
	close(fd);

	fd = open_flow(&f, 1003, lfd);
	ok(expect_rst(hdr(VG_RESPONSE, 1003, 8000, 0), 0, true) && host_eof(fd, 2000),
	   "RESPONSE on an established guest stream: RST, reset");
	close(fd);
	fd = open_flow(&f, 1004, lfd);
	ok(expect_rst(hdr(VG_REQUEST, 1004, 8000, 0), 0, true) && host_eof(fd, 2000),
	   "a second REQUEST for a live flow: RST, reset");
	close(fd);

	/* Beyond the credit: the host does not read, the guest ignores the
	 * credit it was given. */
	static uint8_t big[VG_TXDATA];
	fd = open_flow(&f, 1005, lfd);
	unsigned sent = 0;
	bool reset = false;
	for (int i = 0; i < 64 && !reset; i++) {
		vg_flow_send(&g, &f, VG_RW, 0, big, sizeof(big));
		sent += sizeof(big);
		reset = vg_recv(&g, &r, NULL, 0, 0) == 0 && vg_is(&r, VG_RST, &f);
	}
	ok(reset && sent > (128U << 10), "RW past the advertised credit: RST after %u bytes", sent);
	close(fd);
	vg_settle(&g, 50);
	ok(!(d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 0,
	   "none of this broke the device");
	fd = open_flow(&f, 1006, lfd);
	vg_flow_send(&g, &f, VG_RW, 0, "z", 1);
	ok(host_read(fd, &c, 1, 2000, false) == 1 && c == 'z', "a new stream works");
	close(fd);
	vg_settle(&g, 50);
}

static void rst_flood(void)
{
	struct vg_hdr r;
	unsigned n = 0, stalled_at;

	h_reset(&h);
	vg_attach(&g, &h, d, CID);
	vg_post_rx(&g, 8);
	/* Event buffers are kept for events the device never sends. */
	struct h_seg ev = { h_alloc(&h, 4), 4, true };
	h_chain(&h, VG_EVQ, &ev, 1, false);
	h_kick(&h, VG_EVQ);
	for (unsigned i = 0; i < 92; i++) {
		struct vg_hdr hh = hdr(VG_RW, 2000 + i, 8000, 0);
		vg_send(&g, &hh, NULL);
	}
	stalled_at = vqd_used_idx(&h.drv[VG_TXQ]);
	ok(stalled_at == 8 + 64, "92 packets for unknown flows, 8 rx buffers: tx stops at %u",
	   stalled_at);
	for (int t = 0; t < 20 && n < 92; t++) {
		if (g.rx_out < 16)
			vg_post_rx(&g, 32);
		while (vg_recv(&g, &r, NULL, 0, 10) == 0 && r.op == VG_RST &&
		       r.dst_port == 2000 + n)
			n++;
	}
	ok(n == 92 && vqd_used_idx(&h.drv[VG_TXQ]) == 92,
	   "rx buffers arrive: all 92 RSTs, in order, and tx resumes");
	ok(vqd_used_idx(&h.drv[VG_EVQ]) == 0, "the event queue buffer is untouched");
}

static void bad_chains(int lfd)
{
	struct vg_flow f;
	struct vg_hdr hh = hdr(VG_RW, 3000, 8000, 0);

	vg_post_rx(&g, 64);
	int fd = open_flow(&f, 3000, lfd);
	struct vg_flow hf;
	int cl = vg_host_to_guest(&g, uds, 77, VG_RESPONSE, &hf, NULL);
	vg_encode(&hh, raw);
	struct h_seg bad = { h.vm.mem.size + 4096, 44, false };
	h_chain(&h, VG_TXQ, &bad, 1, false);
	h_kick(&h, VG_TXQ);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1,
	   "tx descriptor past guest RAM: NEEDS_RESET");
	ok(fd >= 0 && cl >= 0 && host_eof(fd, 2000) && host_eof(cl, 2000),
	   "the broken device closed its host connections, both directions");
	close(fd);
	close(cl);
	h_reset(&h);
	d->status = 0;
	vg_attach(&g, &h, d, CID);
	struct h_seg tiny = { h_alloc(&h, 16), 16, true };
	h_chain(&h, VG_RXQ, &tiny, 1, false);
	h_kick(&h, VG_RXQ);
	vg_flow_send(&g, &f, VG_RW, 0, "x", 1); /* answered with RST: needs rx */
	ok(d->status & VIRTIO_STATUS_NEEDS_RESET,
	   "16-byte rx buffer (no room for a header): broken");
	h_reset(&h);
	vg_attach(&g, &h, d, CID);
	vg_post_rx(&g, 8);
	fd = open_flow(&f, 3001, lfd);
	ok(fd >= 0 && !(d->status & VIRTIO_STATUS_NEEDS_RESET), "after a reset the device works");
	close(fd);
}

int main(void)
{
	struct kv_err err = { 0 };

	tap_plan(37);
	signal(SIGPIPE, SIG_IGN);
	if (!ok(h_init(&h, 32) == 0 && mkdtemp(dir), "harness and temp dir"))
		return tap_done();
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(path8000, sizeof(path8000), "%s_8000", uds);
	config();
	int lfd = host_listen(path8000);
	struct vmm_vsock cfg = { .guest_cid = CID, .uds_path = uds };
	if (!ok(lfd >= 0 && virtio_vsock_create(&h.vm, &cfg, &d, &err) == 0 &&
		    vg_attach(&g, &h, d, CID) == 0,
		"device up (%s)", err.msg))
		return tap_done();
	bad_packets(lfd);
	rst_flood();
	bad_chains(lfd);
	vg_destroy(&h, d);
	close(lfd);
	unlink(path8000);
	rmdir(dir);
	h_fini(&h);
	return tap_done();
}
