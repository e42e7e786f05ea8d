/* Unit tests for the virtio-fs device (vmm/virtio/fs.c, fs_pool.c) with a
 * scripted FUSE server.
 *
 * This program defines fs_server_create/handle/reset/destroy itself, so the
 * linker takes them from here instead of the real server in libvmm: the
 * device is tested on its own. The fake server echoes each request's unique
 * and nodeid, and opcode BLOCK waits on a gate that the test or
 * fs_server_cancel() opens. Covered:
 * the configuration space and constructor checks, replies on the hiprio and
 * several request queues (on worker threads with signals blocked, never on
 * the event loop), requests handled concurrently while the loop stays
 * responsive, the in-flight bound, a reset with requests in flight (cancels
 * waits, waits for the requests being handled, drops the queued ones and
 * every reply, resets the server with nothing in flight), chains the server cannot use (answered with what it wrote; the
 * device goes on) and malformed chains (only this device breaks, a reset
 * repairs it). test-virtio-fs.c drives the real server. */
#include "tap.h"
#include "fs_server.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <endian.h>
#include <errno.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OP_BLOCK   9999 /* the fake server waits on the gate */
#define OP_NOREPLY FUSE_FORGET

/* ---- the scripted server ---- */

struct fs_server {
	struct fs_server_config cfg;
};

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open = true;
static _Atomic unsigned in_handle, max_in_handle, entered_block, handled, resets, destroys;
static _Atomic unsigned on_loop_thread, signals_unblocked, reset_while_busy, cancels;
static pthread_t loop_thread;
static struct fs_server_config last_cfg;

int fs_server_create(const struct fs_server_config *cfg, struct fs_server **out, struct kv_err *err)
{
	if (strcmp(cfg->path, "/fail") == 0)
		return kv_errf(err, -ENOENT, "cannot open %s", cfg->path);
	struct fs_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	last_cfg = *cfg;
	*out = s;
	return 0;
}

int fs_server_handle(struct fs_server *s, const struct iovec *req, unsigned nreq,
		     const struct iovec *rep, unsigned nrep, uint32_t *reply_len)
{
	struct fuse_in_header in;
	sigset_t mask;

	unsigned now = ++in_handle;
	for (unsigned m = max_in_handle;
	     now > m && !atomic_compare_exchange_weak(&max_in_handle, &m, now);)
		;
	if (pthread_equal(pthread_self(), loop_thread))
		on_loop_thread++;
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	if (!sigismember(&mask, SIGTERM) || !sigismember(&mask, SIGINT))
		signals_unblocked++;
	*reply_len = 0;
	int ret = 0;
	if (iov_to_buf(req, nreq, 0, &in, sizeof(in)) != sizeof(in)) {
		ret = -EINVAL;
		goto out;
	}
	if (in.opcode == OP_BLOCK) {
		entered_block++;
		pthread_mutex_lock(&gate_lock);
		while (!gate_open)
			pthread_cond_wait(&gate_cv, &gate_lock);
		pthread_mutex_unlock(&gate_lock);
	}
	if (in.opcode == OP_NOREPLY)
		goto out;
	struct {
		struct fuse_out_header h;
		uint64_t nodeid;
	} o = { { sizeof(o), 0, in.unique }, in.nodeid };
	size_t room = 0;
	for (unsigned i = 0; i < nrep; i++)
		room += rep[i].iov_len;
	if (room < sizeof(o.h)) {
		ret = -EINVAL;
		goto out;
	}
	*reply_len = (uint32_t)iov_from_buf(rep, nrep, 0, &o, sizeof(o));
out:
	handled++;
	in_handle--;
	return ret;
}

void fs_server_reset(struct fs_server *s)
{
	if (in_handle)
		reset_while_busy++;
	resets++;
}

static void gate(bool open);

void fs_server_cancel(struct fs_server *s)
{
	cancels++;
	gate(true);
}

void fs_server_destroy(struct fs_server *s)
{
	destroys++;
	free(s);
}

int fs_server_thread_init(void)
{
	return 0;
}

static void gate(bool open)
{
	pthread_mutex_lock(&gate_lock);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_lock);
}

/* ---- the guest side ---- */

static struct harness h;

static void note_loop(void *opaque)
{
	loop_thread = pthread_self();
}

/* Queue one request (no kick); returns the gpa of its reply buffer. */
static uint64_t put(unsigned q, uint32_t opcode, uint64_t unique, bool reply, bool indirect)
{
	struct fuse_in_header in = {
		.len = sizeof(in), .opcode = opcode, .unique = unique, .nodeid = unique * 7
	};
	struct h_seg s[2] = { { h_alloc(&h, sizeof(in)), sizeof(in), false },
			      { h_alloc(&h, 64), 64, true } };

	memcpy(h_hva(&h, s[0].gpa, sizeof(in)), &in, sizeof(in));
	h_chain(&h, q, s, reply ? 2 : 1, indirect);
	return s[1].gpa;
}

static bool reply_ok(uint64_t gpa, uint64_t unique)
{
	const uint8_t *p = h_hva(&h, gpa, 24);
	struct fuse_out_header o;
	uint64_t nodeid;

	memcpy(&o, p, sizeof(o));
	memcpy(&nodeid, p + 16, 8);
	return o.len == 24 && o.error == 0 && o.unique == unique && nodeid == unique * 7;
}

static struct virtio_dev *make(const char *tag, unsigned queues, unsigned workers,
			       unsigned inflight)
{
	struct vmm_fs fs = {
		.tag = tag, .path = "/share", .cache = VMM_FS_CACHE_NEVER, .readonly = true
	};
	struct virtio_fs_opts o = { .request_queues = queues,
				    .workers = workers,
				    .max_inflight = inflight };
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };

	if (virtio_fs_create(&h.vm, &fs, &o, &d, &err) < 0) {
		diag("virtio_fs_create: %s", err.msg);
		return NULL;
	}
	return d;
}

static void drop(struct virtio_dev *d)
{
	h.d = d;
	h_reset(&h);
	d->ops->destroy(d);
}

static void constructor(void)
{
	struct vmm_fs fs = { .tag = "t", .path = "/fail" };
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	char tag37[38];

	ok(virtio_fs_create(&h.vm, &fs, NULL, &d, &err) == -ENOENT && strstr(err.msg, "tag t") &&
	       strstr(err.msg, "/fail"),
	   "a server that cannot start: the message names tag and path (%s)", err.msg);
	memset(tag37, 'a', 37);
	tag37[37] = 0;
	const char *bad[] = { "", tag37, "a b", "tab\there", "\x7f" };
	bool all = true;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fs = (struct vmm_fs){ .tag = bad[i], .path = "/share" };
		all &= virtio_fs_create(&h.vm, &fs, NULL, &d, &err) == -EINVAL &&
		       strstr(err.msg, "tag");
	}
	ok(all, "empty, 37-byte and blank-containing tags are refused (%s)", err.msg);
	fs = (struct vmm_fs){ .tag = "t", .path = "" };
	ok(virtio_fs_create(&h.vm, &fs, NULL, &d, &err) == -EINVAL, "no path: %s", err.msg);
	fs = (struct vmm_fs){ .tag = "t", .path = "/share" };
	struct virtio_fs_opts o = { .request_queues = VIRTIO_FS_MAX_REQUEST_QUEUES + 1 };
	ok(virtio_fs_create(&h.vm, &fs, &o, &d, &err) == -EINVAL, "too many request queues: %s",
	   err.msg);
	o = (struct virtio_fs_opts){ .workers = 1 };
	ok(virtio_fs_create(&h.vm, &fs, &o, &d, &err) == -EINVAL && strstr(err.msg, "workers"),
	   "a single worker is refused (a blocked lock would hold it): %s", err.msg);
	ok(destroys == 0, "no server was created by the refused calls");
}

static void config(void)
{
	struct virtio_dev *d = make("abcdefghijklmnopqrstuvwxyz0123456789", 2, 2, 0);
	uint8_t cfg[48];
	uint32_t nq;

	if (!ok(d != NULL, "device with a 36-byte tag and 2 request queues"))
		return;
	ok(d->device_id == 26 && d->num_queues == 3 && d->config_size == 40 &&
	       (d->device_features & (1ULL << VIRTIO_F_INDIRECT_DESC)) &&
	       (d->device_features & (1ULL << VIRTIO_F_EVENT_IDX)),
	   "id 26, hiprio + 2 queues, 40-byte config, indirect and event idx");
	d->ops->config_read(d, 0, cfg, 40);
	memcpy(&nq, cfg + 36, 4);
	ok(memcmp(cfg, "abcdefghijklmnopqrstuvwxyz0123456789", 36) == 0 && le32toh(nq) == 2,
	   "config: the full tag (no NUL) and num_request_queues 2");
	d->ops->config_read(d, 36, cfg, 4);
	memcpy(&nq, cfg, 4);
	uint8_t past[4] = { 1, 1, 1, 1 };
	d->ops->config_read(d, 38, past, 4);
	ok(le32toh(nq) == 2 && past[2] == 0 && past[3] == 0,
	   "partial reads; bytes past the end read as 0");
	d->ops->config_write(d, 0, "zz", 2);
	d->ops->config_read(d, 0, cfg, 2);
	ok(cfg[0] == 'a' && cfg[1] == 'b', "writes to the config are ignored");
	ok(last_cfg.cache == FS_CACHE_NEVER && last_cfg.readonly &&
	       strcmp(last_cfg.path, "/share") == 0 && last_cfg.max_write >= 128 * 1024 &&
	       last_cfg.max_write <= (VIRTIO_FS_QUEUE_SIZE - 4) * 4096U &&
	       last_cfg.max_lock_waiters == 1,
	   "server config: path, cache, readonly, max_write %u fits the queue, lock waiters %u "
	   "(half of 2 workers)",
	   last_cfg.max_write, last_cfg.max_lock_waiters);
	d->ops->config_read(d, 0, cfg, 8);
	drop(d);
	d = make("x", 0, 0, 0);
	d->ops->config_read(d, 0, cfg, 40);
	memcpy(&nq, cfg + 36, 4);
	ok(d->num_queues == 2 && cfg[0] == 'x' && cfg[1] == 0 && le32toh(nq) == 1,
	   "defaults: one request queue; a short tag is NUL-padded");
	drop(d);
}

static void replies(void)
{
	struct virtio_dev *d = make("q", 2, 3, 0);
	uint64_t rep[3][20];
	bool good = true;

	h_attach(&h, d, 64, ~0ULL);
	unsigned before = handled;
	for (unsigned q = 0; q < 3; q++)
		for (unsigned i = 0; i < 20; i++)
			rep[q][i] = put(q, FUSE_GETATTR, 1000 * q + i + 1, true, i % 2);
	for (unsigned q = 0; q < 3; q++)
		h_kick(&h, q);
	for (unsigned q = 0; q < 3; q++)
		good &= h_wait_used(&h, q, 20, 5000);
	ok(good, "20 requests on hiprio and on each of 2 request queues are all answered");
	bool lens = true, content = true;
	for (unsigned q = 0; q < 3; q++) {
		uint32_t id, len;
		while (vqd_take_used(&h.drv[q], &id, &len))
			lens &= len == 24;
		for (unsigned i = 0; i < 20; i++)
			content &= reply_ok(rep[q][i], 1000 * q + i + 1);
	}
	ok(lens && content, "used lengths are the server's reply_len; replies carry their unique");
	ok(handled - before == 60 && on_loop_thread == 0 && signals_unblocked == 0,
	   "handled on worker threads, never the event loop, with SIGTERM/SIGINT blocked");
	ok(h.used_irqs[0] > 0 && h.used_irqs[1] > 0 && h.used_irqs[2] > 0,
	   "each queue interrupted (%u %u %u)", h.used_irqs[0], h.used_irqs[1], h.used_irqs[2]);

	/* FORGET-like requests carry no writable part and get used len 0. */
	for (unsigned i = 0; i < 5; i++)
		put(0, OP_NOREPLY, 500 + i, false, false);
	h_kick(&h, 0);
	uint32_t id, len;
	bool zero = h_wait_used(&h, 0, 25, 5000);
	while (vqd_take_used(&h.drv[0], &id, &len))
		zero &= len == 0;
	ok(zero && !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "hiprio requests without a reply come back with length 0");
	drop(d);
}

static void concurrency(void)
{
	struct virtio_dev *d = make("c", 1, 4, 4);
	uint64_t rep[8];

	h_attach(&h, d, 64, ~0ULL);
	max_in_handle = 0;
	entered_block = 0;
	gate(false);
	for (unsigned i = 0; i < 8; i++)
		rep[i] = put(1, OP_BLOCK, i + 1, true, false);
	h_kick(&h, 1);
	for (unsigned i = 0; i < 2000 && entered_block < 4; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	ok(entered_block == 4 && max_in_handle == 4,
	   "4 workers handle 4 blocked requests at once (%u entered)", entered_block);
	ok(d->vqs[1].last_avail == 4 && vqd_used_idx(&h.drv[1]) == 0,
	   "max_inflight 4: the device popped only 4 of 8 chains (%u)", d->vqs[1].last_avail);
	/* The loop is not blocked: a kick on the hiprio queue is served. */
	put(0, OP_NOREPLY, 77, false, false);
	h_kick(&h, 0);
	ok(!h_wait_used(&h, 0, 1, 100),
	   "the hiprio request waits for room too (the bound is per device)");
	gate(true);
	bool all = h_wait_used(&h, 1, 8, 5000) && h_wait_used(&h, 0, 1, 5000);
	for (unsigned i = 0; i < 8; i++)
		all &= reply_ok(rep[i], i + 1);
	ok(all, "opening the gate: the stalled requests are popped and all 9 answered");
	drop(d);
}

static void reset_in_flight(void)
{
	struct virtio_dev *d = make("r", 1, 2, 0);

	h_attach(&h, d, 64, ~0ULL);
	entered_block = 0;
	gate(false);
	for (unsigned i = 0; i < 6; i++)
		put(1, OP_BLOCK, i + 1, true, false);
	h_kick(&h, 1);
	for (unsigned i = 0; i < 2000 && entered_block < 2; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	unsigned r0 = resets, handled0 = handled, c0 = cancels;
	h_reset(&h); /* cancel opens the gate; then it waits for the two */
	ok(entered_block == 2 && cancels == c0 + 1 && resets == r0 + 1 && reset_while_busy == 0 &&
	       handled == handled0 + 2,
	   "reset cancels waits, waits for the 2 requests being handled, drops the 4 queued, "
	   "then resets the server");
	ok(vqd_used_idx(&h.drv[1]) == 0, "no reply reaches the guest after the reset");
	h_attach(&h, d, 64, ~0ULL);
	uint64_t g = put(1, FUSE_GETATTR, 42, true, false);
	h_kick(&h, 1);
	ok(h_wait_used(&h, 1, 1, 5000) && reply_ok(g, 42),
	   "after the reset the device serves again");
	drop(d);
}

static void hostile(void)
{
	struct virtio_dev *d = make("h", 1, 2, 0);
	uint32_t id, len;

	h_attach(&h, d, 16, ~0ULL);
	/* A request that wants a reply but has no writable part, and one
	 * shorter than a FUSE header: the server refuses both. */
	put(1, FUSE_GETATTR, 1, false, false);
	struct h_seg shorty = { h_alloc(&h, 8), 8, false };
	h_chain(&h, 1, &shorty, 1, false);
	struct h_seg wonly = { h_alloc(&h, 64), 64, true };
	h_chain(&h, 1, &wonly, 1, false);
	h_kick(&h, 1);
	bool zero = h_wait_used(&h, 1, 3, 5000);
	while (vqd_take_used(&h.drv[1], &id, &len))
		zero &= len == 0;
	ok(zero && !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "no writable part, 8-byte request, no readable part: used length 0, device not broken");
	uint64_t g = put(1, FUSE_GETATTR, 9, true, false);
	h_kick(&h, 1);
	ok(h_wait_used(&h, 1, 4, 5000) && reply_ok(g, 9), "the next request is answered");

	/* A descriptor loop: 2 -> 3 -> 2. */
	struct vqd *v = &h.drv[1];
	uint64_t b = h_alloc(&h, 64);
	vqd_desc(v, 2, b, 40, VIRTQ_DESC_F_NEXT, 3);
	vqd_desc(v, 3, b, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	vqd_publish(v, 2);
	h_kick(&h, 1);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1,
	   "a descriptor loop: NEEDS_RESET and one config interrupt");
	/* A buffer past guest RAM on the hiprio queue of the broken device. */
	struct h_seg far = { 1ULL << 40, 40, false };
	h_chain(&h, 0, &far, 1, false);
	h_kick(&h, 0);
	ok(vqd_used_idx(&h.drv[0]) == 0 && h.config_irqs == 1,
	   "a broken device serves nothing and interrupts once");
	h_reset(&h);
	h_attach(&h, d, 16, ~0ULL);
	h.config_irqs = 0;
	h_chain(&h, 0, &far, 1, false);
	h_kick(&h, 0);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1,
	   "after a reset: a buffer past guest RAM on hiprio breaks it again");
	h_reset(&h);
	h_attach(&h, d, 16, ~0ULL);
	g = put(1, FUSE_GETATTR, 10, true, true);
	h_kick(&h, 1);
	ok(h_wait_used(&h, 1, 1, 5000) && reply_ok(g, 10) &&
	       !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "reset again: it works (indirect chain)");
	drop(d);
}

int main(void)
{
	tap_plan(32);
	if (h_init(&h, 64) < 0) {
		diag("harness");
		return 1;
	}
	evloop_call_sync(&h.vm.loop, note_loop, NULL);
	constructor();
	config();
	replies();
	concurrency();
	reset_in_flight();
	hostile();
	unsigned created = destroys;
	ok(created == 6, "every device destroyed its server (%u)", created);
	h_fini(&h);
	return tap_done();
}
