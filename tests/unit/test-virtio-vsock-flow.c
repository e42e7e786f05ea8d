/* Unit tests for virtio-vsock (vmm/virtio/vsock*.c): flow control.
 *
 * Credit both ways with transfers over 1 MiB: host->guest against a small
 * guest buf_alloc (the fake guest records any packet beyond its credit and
 * holds its credit back to force stalls), guest->host within the device's
 * advertised credit, a host reader that stops (the guest's credit runs out,
 * other streams keep flowing on the shared tx queue, and everything arrives
 * once the reader resumes), a guest with no rx buffers (the device stops
 * reading the host socket), many concurrent streams with distinct data,
 * and the connection limit. */
#include "tap.h"
#include "virtio_devs.h"
#include "vsock-guest.h"
#include "vsock_int.h" /* virtio_vsock_set_timeouts */

#include <pthread.h>
#include <signal.h>

#define CID  7
#define BIG  (2U << 20)
#define SLOW (1U << 20)

static struct harness h;
static struct vg g;
static struct virtio_dev *d;
static char dir[] = "/tmp/kvrun-vsock-flow-XXXXXX";
static char uds[128];

static uint8_t pat(uint32_t i, uint32_t seed)
{
	return (uint8_t)(i * 7 + (i >> 11) + seed * 31);
}

/* Keep the rx ring well stocked. */
static void refill(void)
{
	if (g.rx_out < VG_QSIZE / 2)
		vg_post_rx(&g, VG_QSIZE - g.rx_out);
}

struct pump {
	int fd;
	uint32_t n, seed, done;
	bool bad, start;
};

static void *writer(void *opaque)
{
	struct pump *p = opaque;
	uint8_t buf[8192];

	while (p->done < p->n) {
		uint32_t k = p->n - p->done < sizeof(buf) ? p->n - p->done : sizeof(buf);
		for (uint32_t i = 0; i < k; i++)
			buf[i] = pat(p->done + i, p->seed);
		ssize_t w = write(p->fd, buf, k);
		if (w <= 0)
			break;
		p->done += (uint32_t)w;
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

static void *reader(void *opaque)
{
	struct pump *p = opaque;
	uint8_t buf[8192];

	while (!__atomic_load_n(&p->start, __ATOMIC_ACQUIRE))
		msleep(1);
	while (p->done < p->n) {
		ssize_t r = host_read(p->fd, buf, sizeof(buf), 5000, false);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pat(p->done + (uint32_t)i, p->seed))
				p->bad = true;
		p->done += (uint32_t)r;
	}
	return NULL;
}

static void host_to_guest_big(void)
{
	struct vg_flow f;
	struct vg_hdr hd;
	static uint8_t data[4096];
	unsigned stalls = 0;
	bool intact = true, eof = false;

	refill();
	int fd = vg_host_to_guest(&g, uds, 100, VG_RESPONSE, &f, NULL);
	f.buf_alloc = 64 << 10; /* tell the device: 64 KiB of credit */
	vg_flow_send(&g, &f, VG_CREDIT_UPDATE, 0, NULL, 0);
	struct pump w = { .fd = fd, .n = BIG, .seed = 1 };
	pthread_t t;
	ok(fd >= 0 && pthread_create(&t, NULL, writer, &w) == 0,
	   "client streams 2 MiB to the guest");
	while (!eof) {
		refill();
		int n = vg_recv(&g, &hd, data, sizeof(data), 30);
		if (n == -1) {
			if (f.rx_cnt - f.fwd_cnt == f.buf_alloc)
				stalls++; /* credit exhausted and the device waits */
			f.fwd_cnt = f.rx_cnt;
			vg_flow_send(&g, &f, VG_CREDIT_UPDATE, 0, NULL, 0);
			continue;
		}
		if (n < 0 || !vg_is(&hd, hd.op, &f))
			break;
		vg_flow_take(&f, &hd);
		if (hd.op == VG_SHUTDOWN) {
			eof = true;
			break;
		}
		for (int i = 0; i < n; i++)
			if (data[i] != pat(f.rx_cnt - (uint32_t)n + (uint32_t)i, 1))
				intact = false;
		/* The application reads only when nothing else arrives. */
	}
	pthread_join(t, NULL);
	ok(eof && f.rx_cnt == BIG && intact, "2 MiB arrive intact, then SHUTDOWN (%u bytes)",
	   f.rx_cnt);
	ok(f.violations == 0, "the device never sent beyond the guest's credit");
	ok(stalls > 0, "the stream stalled on credit %u times and resumed", stalls);
	vg_flow_send(&g, &f, VG_SHUTDOWN, 3, NULL, 0);
	ok(vg_wait(&g, &f, VG_RST, 2000) && host_eof(fd, 2000), "clean close");
	close(fd);
}

/* Send n bytes of pattern seed on f within the device's credit; false when
 * no credit came for 2 s (stalled) or a packet was refused. */
static bool guest_send(struct vg_flow *f, uint32_t n, uint32_t seed, uint32_t *sent,
		       unsigned stall_ms)
{
	static uint8_t data[VG_TXDATA];
	struct vg_hdr hd;

	while (*sent < n) {
		uint32_t c = vg_flow_credit(f), k = n - *sent;
		refill();
		if (!c) {
			if (vg_recv(&g, &hd, NULL, 0, stall_ms) < 0)
				return false;
			if (hd.op == VG_RST)
				return false;
			vg_flow_take(f, &hd);
			continue;
		}
		k = k < c ? k : c;
		k = k < VG_TXDATA ? k : VG_TXDATA;
		for (uint32_t i = 0; i < k; i++)
			data[i] = pat(*sent + i, seed);
		if (!vg_flow_send(&g, f, VG_RW, 0, data, k))
			return false;
		*sent += k;
		while (vg_recv(&g, &hd, NULL, 0, 0) >= 0)
			if (vg_is(&hd, hd.op, f))
				vg_flow_take(f, &hd);
	}
	return true;
}

static int guest_to_host_flow(struct vg_flow *f, uint32_t gport, uint32_t hport, int lfd)
{
	struct vg_hdr hd;

	*f = (struct vg_flow){ .gport = gport, .hport = hport, .buf_alloc = 256 << 10 };
	refill();
	vg_flow_send(&g, f, VG_REQUEST, 0, NULL, 0);
	if (vg_recv(&g, &hd, NULL, 0, 2000) != 0 || !vg_is(&hd, VG_RESPONSE, f))
		return -1;
	vg_flow_take(f, &hd);
	return host_accept(lfd, 2000);
}

static void guest_to_host_big(int lfd)
{
	struct vg_flow f, o;
	uint32_t sent = 0;
	pthread_t t;
	char c;

	int fd = guest_to_host_flow(&f, 30000, 7000, lfd);
	ok(fd >= 0 && f.peer_buf_alloc == (128U << 10), "guest stream to host port 7000");
	struct pump r = { .fd = fd, .n = BIG, .seed = 2, .start = true };
	pthread_create(&t, NULL, reader, &r);
	ok(guest_send(&f, BIG, 2, &sent, 2000), "guest sends 2 MiB within the device's credit");
	pthread_join(t, NULL);
	ok(r.done == BIG && !r.bad, "the host reads 2 MiB intact (%u)", r.done);
	vg_flow_send(&g, &f, VG_SHUTDOWN, 3, NULL, 0);
	ok(vg_wait(&g, &f, VG_RST, 2000) && host_eof(fd, 2000), "clean close after the transfer");
	close(fd);

	/* A host reader that stops: credit runs out, nothing is lost. */
	fd = guest_to_host_flow(&f, 30001, 7000, lfd);
	r = (struct pump){ .fd = fd, .n = SLOW, .seed = 3 };
	pthread_create(&t, NULL, reader, &r);
	sent = 0;
	bool stalled = !guest_send(&f, SLOW, 3, &sent, 200);
	ok(stalled && sent < SLOW && vg_flow_credit(&f) == 0,
	   "host not reading: the guest's credit runs out after %u bytes", sent);
	int ofd = guest_to_host_flow(&o, 30002, 7000, lfd);
	vg_flow_send(&g, &o, VG_RW, 0, "!", 1);
	ok(ofd >= 0 && host_read(ofd, &c, 1, 2000, false) == 1 && c == '!',
	   "meanwhile another stream still flows (the tx queue is not blocked)");
	__atomic_store_n(&r.start, true, __ATOMIC_RELEASE);
	ok(guest_send(&f, SLOW, 3, &sent, 2000), "reader resumes: credit updates let the rest go");
	pthread_join(t, NULL);
	ok(r.done == SLOW && !r.bad, "the host reads 1 MiB intact (%u)", r.done);
	close(fd);
	close(ofd);
	vg_settle(&g, 100);
}

/* The guest closes while bytes still wait for the host: they are written
 * first, then the RST; a host that never reads gets cut off at the close
 * deadline. */
static void close_with_pending(int lfd)
{
	struct vg_flow f;
	struct vg_hdr hd;
	uint32_t sent = 0;
	pthread_t t;
	static char sink[1 << 16];

	int fd = guest_to_host_flow(&f, 31000, 7000, lfd);
	struct pump r = { .fd = fd, .n = SLOW, .seed = 5 };
	pthread_create(&t, NULL, reader, &r);
	bool stalled = !guest_send(&f, SLOW, 5, &sent, 200);
	vg_flow_send(&g, &f, VG_SHUTDOWN, 3, NULL, 0);
	ok(stalled && vg_recv(&g, &hd, NULL, 0, 100) == -1,
	   "guest closes with bytes the host has not read: no RST yet");
	__atomic_store_n(&r.start, true, __ATOMIC_RELEASE);
	ok(vg_wait(&g, &f, VG_RST, 2000), "the host reads them: then the RST");
	pthread_join(t, NULL);
	ok(r.done == sent && !r.bad, "all %u bytes written before the host socket closed", r.done);
	close(fd);

	fd = guest_to_host_flow(&f, 31001, 7000, lfd);
	sent = 0;
	stalled = !guest_send(&f, SLOW, 6, &sent, 200);
	vg_flow_send(&g, &f, VG_SHUTDOWN, 3, NULL, 0);
	uint64_t t0 = vg_ms();
	bool rst = vg_wait(&g, &f, VG_RST, 3000);
	unsigned waited = (unsigned)(vg_ms() - t0);
	ok(stalled && rst && waited >= 400,
	   "a host that never reads: RST at the close deadline (%u ms)", waited);
	ssize_t n;
	while ((n = host_read(fd, sink, sizeof(sink), 2000, false)) > 0)
		;
	ok(n == 0, "its socket was closed");
	close(fd);
}

static void no_rx_buffers(void)
{
	struct vg_flow f;
	struct vg_hdr hd;
	static uint8_t buf[1 << 16];
	uint32_t wrote = 0, got = 0;
	bool intact = true;

	refill();
	int fd = vg_host_to_guest(&g, uds, 200, VG_RESPONSE, &f, NULL);
	f.buf_alloc = 64U << 20; /* plenty of credit: only rx buffers limit */
	vg_flow_send(&g, &f, VG_CREDIT_UPDATE, 0, NULL, 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* The guest stops posting rx buffers; the host writes until blocked. */
	for (;;) {
		for (uint32_t i = 0; i < sizeof(buf); i++)
			buf[i] = pat(wrote + i, 4);
		ssize_t w = write(fd, buf, sizeof(buf));
		if (w <= 0) {
			msleep(20);
			w = write(fd, buf, sizeof(buf));
			if (w <= 0)
				break;
		}
		wrote += (uint32_t)w;
		if (wrote > (64U << 20))
			break;
	}
	ok(errno == EAGAIN && wrote < (4U << 20),
	   "no rx buffers: the device stops reading; the client blocks after %u bytes", wrote);
	while (got < wrote) {
		refill();
		int n = vg_recv(&g, &hd, buf, sizeof(buf), 2000);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			intact &= buf[i] == pat(got + (uint32_t)i, 4);
		got += (uint32_t)n;
	}
	ok(got == wrote && intact, "buffers posted again: all %u bytes arrive intact", got);
	close(fd);
	ok(vg_recv(&g, &hd, NULL, 0, 2000) == 0 && vg_is(&hd, VG_SHUTDOWN, &f), "closed");
	vg_flow_send(&g, &f, VG_RST, 0, NULL, 0);
	vg_settle(&g, 50);
}

#define NSTREAMS 32
#define MSG	 20000

static void many_streams(int lfd)
{
	struct vg_flow hf[NSTREAMS], gf[NSTREAMS];
	int hfd[NSTREAMS], gfd[NSTREAMS];
	static uint8_t buf[MSG];
	uint32_t got[2 * NSTREAMS] = { 0 };
	bool setup = true, intact = true;
	struct vg_hdr hd;

	for (int i = 0; i < NSTREAMS; i++) {
		refill();
		hfd[i] = vg_host_to_guest(&g, uds, 9000 + (uint32_t)i, VG_RESPONSE, &hf[i], NULL);
		gfd[i] = guest_to_host_flow(&gf[i], 20000 + (uint32_t)i, 7000, lfd);
		setup &= hfd[i] >= 0 && gfd[i] >= 0;
	}
	ok(setup, "%d host->guest and %d guest->host streams open", NSTREAMS, NSTREAMS);
	/* Every stream carries its own pattern, both ways at once. */
	for (int i = 0; i < NSTREAMS; i++) {
		for (uint32_t k = 0; k < MSG; k++)
			buf[k] = pat(k, 100 + (uint32_t)i);
		setup &= write(hfd[i], buf, MSG) == MSG && write(gfd[i], buf, MSG) == MSG;
		vg_flow_send(&g, &hf[i], VG_RW, 0, buf, MSG);
		vg_flow_send(&g, &gf[i], VG_RW, 0, buf, MSG);
	}
	for (uint32_t total = 0; total < 2 * NSTREAMS * MSG;) {
		refill();
		int n = vg_recv(&g, &hd, buf, sizeof(buf), 2000);
		if (n <= 0)
			break;
		int i = -1;
		for (int k = 0; k < 2 * NSTREAMS && i < 0; k++)
			if (vg_is(&hd, VG_RW, k < NSTREAMS ? &hf[k] : &gf[k - NSTREAMS]))
				i = k;
		if (i < 0) {
			intact = false;
			break;
		}
		for (int k = 0; k < n; k++)
			intact &=
			    buf[k] == pat(got[i] + (uint32_t)k, 100 + (uint32_t)(i % NSTREAMS));
		got[i] += (uint32_t)n;
		total += (uint32_t)n;
	}
	for (int i = 0; i < 2 * NSTREAMS; i++)
		intact &= got[i] == MSG;
	ok(intact, "the guest receives each stream's own bytes, complete");
	for (int i = 0; i < 2 * NSTREAMS; i++) {
		int fd = i < NSTREAMS ? hfd[i] : gfd[i - NSTREAMS];
		intact &= host_read(fd, buf, MSG, 2000, false) == MSG;
		for (uint32_t k = 0; k < MSG; k++)
			intact &= buf[k] == pat(k, 100 + (uint32_t)(i % NSTREAMS));
	}
	ok(intact, "each host socket receives its own stream, complete");
	for (int i = 0; i < NSTREAMS; i++)
		close(hfd[i]), close(gfd[i]);
}

static void limit(int lfd)
{
	static int fds[300];
	unsigned nfd = 0, resp = 0, rst = 0;
	struct vg_hdr hd;

	h_reset(&h);
	ok(vg_attach(&g, &h, d, CID) == 0, "reset and re-activate: no connections");
	for (unsigned i = 0; i <= 256; i++) {
		struct vg_flow f = { .gport = 61000 + i, .hport = 7000, .buf_alloc = 4096 };
		refill();
		vg_flow_send(&g, &f, VG_REQUEST, 0, NULL, 0);
		while (vg_recv(&g, &hd, NULL, 0, 0) >= 0)
			hd.op == VG_RESPONSE ? resp++ : hd.op == VG_RST ? rst++ : 0;
		int fd;
		while ((fd = host_accept(lfd, 0)) >= 0)
			fds[nfd++] = fd;
	}
	while (vg_recv(&g, &hd, NULL, 0, 100) >= 0)
		hd.op == VG_RESPONSE ? resp++ : hd.op == VG_RST ? rst++ : 0;
	ok(resp == 256 && rst == 1, "256 connections accepted, the 257th refused with RST (%u/%u)",
	   resp, rst);
	int c = host_connect(uds);
	ok(c >= 0 && host_eof(c, 2000), "a host client over the limit is closed at once");
	close(c);
	h_reset(&h);
	int closed = 0;
	for (unsigned i = 0; i < nfd; i++)
		closed += host_eof(fds[i], 2000), close(fds[i]);
	ok(closed == 256, "reset closes all 256 relays");
}

int main(void)
{
	char path[160];

	tap_plan(31);
	signal(SIGPIPE, SIG_IGN);
	if (!ok(h_init(&h, 32) == 0 && mkdtemp(dir), "harness and temp dir"))
		return tap_done();
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	snprintf(path, sizeof(path), "%s_7000", uds);
	struct vmm_vsock cfg = { .guest_cid = CID, .uds_path = uds };
	struct kv_err err = { 0 };
	int lfd = host_listen(path);
	if (!ok(lfd >= 0 && virtio_vsock_create(&h.vm, &cfg, &d, &err) == 0, "device (%s)",
		err.msg))
		return tap_done();
	virtio_vsock_set_timeouts(d, 0, 500);
	ok(vg_attach(&g, &h, d, CID) == 0, "activate");
	host_to_guest_big();
	guest_to_host_big(lfd);
	close_with_pending(lfd);
	no_rx_buffers();
	many_streams(lfd);
	limit(lfd);
	vg_destroy(&h, d);
	close(lfd);
	unlink(path);
	rmdir(dir);
	h_fini(&h);
	return tap_done();
}
