/* Unit tests for vmm/virtio/blk*.c: device-level behaviour around the I/O.
 *
 * Constructor errors that name the path, image locking, read-only mode,
 * multiple queues sharing one io_uring with more requests than it holds,
 * reset with I/O in flight, odd image sizes, write zeroes on a file
 * system without FALLOC_FL_ZERO_RANGE (tmpfs), and the io_uring's
 * restrictions (the disk's operations on the image alone). */
#include "blk-driver.h"
#include "blk_int.h"
#include "tap.h"
#include "virtio_devs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define F_ALL (~0ULL)

static struct harness h;

static int temp_image(char *path, off_t size)
{
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void errors(void)
{
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	struct vmm_disk disk = { .path = "/nonexistent/kvrun-disk.img" };

	ok(virtio_blk_create(&h.vm, &disk, 1, &d, &err) == -ENOENT &&
	       strstr(err.msg, "/nonexistent/kvrun-disk.img"),
	   "missing disk: %s", err.msg);
	disk.path = "/tmp";
	ok(virtio_blk_create(&h.vm, &disk, 1, &d, &err) == -EISDIR ||
	       strstr(err.msg, "not a regular file"),
	   "directory: %s", err.msg);
	char tiny[] = "/tmp/kvrun-test-blk-XXXXXX";
	int fd = temp_image(tiny, 100);
	disk.path = tiny;
	ok(virtio_blk_create(&h.vm, &disk, 1, &d, &err) == -EINVAL && strstr(err.msg, tiny),
	   "100-byte image: %s", err.msg);
	close(fd);
	unlink(tiny);
}

static void locking_and_ro(void)
{
	char path[] = "/tmp/kvrun-test-blk-XXXXXX";
	int fd = temp_image(path, 1 << 20);
	struct virtio_dev *rw = NULL, *ro = NULL, *ro2 = NULL;
	struct kv_err err = { 0 };
	struct vmm_disk disk = { .path = path };
	uint8_t byte = 0x5a;

	ok(pwrite(fd, &byte, 1, 4096) == 1, "seed image");
	ok(virtio_blk_create(&h.vm, &disk, 1, &rw, &err) == 0, "writable open");
	ok(virtio_blk_create(&h.vm, &disk, 1, &ro, &err) == -EBUSY && strstr(err.msg, path),
	   "second open while a writer holds it: %s", err.msg);
	rw->ops->destroy(rw);

	disk.readonly = true;
	ok(virtio_blk_create(&h.vm, &disk, 1, &ro, &err) == 0 &&
	       virtio_blk_create(&h.vm, &disk, 1, &ro2, &err) == 0,
	   "two read-only opens share the image");
	ro2->ops->destroy(ro2);
	uint64_t f = ro->device_features;
	ok((f >> 5 & 1) && !(f >> 13 & 1) && !(f >> 14 & 1),
	   "read-only: RO, no DISCARD/WRITE_ZEROES");
	h_attach(&h, ro, 16, F_ALL);

	uint64_t buf = h_alloc(&h, 512);
	struct h_seg wr = { buf, 512, false }, rd = { buf, 512, true };
	struct blk_rq r = rq_submit(&h, 0, T_OUT, 8, &wr, 1, false);
	h_kick(&h, 0);
	ok(h_wait_used(&h, 0, 1, 5000) && rq_status(&h, &r) == S_IOERR,
	   "read-only: write -> IOERR");
	r = rq_submit(&h, 0, T_IN, 8, &rd, 1, false);
	h_kick(&h, 0);
	ok(h_wait_used(&h, 0, 2, 5000) && rq_status(&h, &r) == S_OK &&
	       *(uint8_t *)h_hva(&h, buf, 1) == 0x5a,
	   "read-only: read works");
	uint64_t rg[1][3] = { { 0, 1, 0 } };
	struct h_seg p = rq_ranges(&h, rg, 1);
	r = rq_submit(&h, 0, T_DISC, 0, &p, 1, false);
	h_kick(&h, 0);
	ok(h_wait_used(&h, 0, 3, 5000) && rq_status(&h, &r) == S_UNSUPP,
	   "read-only: discard -> UNSUPP");
	r = rq_submit(&h, 0, T_FLUSH, 0, NULL, 0, false);
	h_kick(&h, 0);
	ok(h_wait_used(&h, 0, 4, 5000) && rq_status(&h, &r) == S_OK, "read-only: flush is fine");
	h_reset(&h);
	ro->ops->destroy(ro);
	close(fd);
	unlink(path);
}

/* 4 queues x 100 reads = 400 requests for a ring of 256: some queues stall
 * and resume from the completion handler; every request completes. */
static void multiqueue(void)
{
	char path[] = "/tmp/kvrun-test-blk-XXXXXX";
	int fd = temp_image(path, 4 << 20);
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	struct vmm_disk disk = { .path = path };
	uint16_t nq;
	uint8_t cfg[2];

	ok(virtio_blk_create(&h.vm, &disk, 64, &d, &err) == 0 &&
	       d->num_queues == VIRTIO_BLK_MAX_QUEUES && (d->device_features >> 12 & 1),
	   "64 queues asked, clamped to %u, MQ offered", VIRTIO_BLK_MAX_QUEUES);
	d->ops->config_read(d, 34, cfg, 2);
	memcpy(&nq, cfg, 2);
	ok(nq == VIRTIO_BLK_MAX_QUEUES, "config num_queues");
	d->ops->reset(d);
	d->ops->destroy(d);

	ok(virtio_blk_create(&h.vm, &disk, 4, &d, &err) == 0 && h_attach(&h, d, 128, F_ALL) == 0,
	   "4 queues");
	uint64_t buf = h_alloc(&h, 4096);
	struct h_seg rd = { buf, 4096, true };
	for (unsigned q = 0; q < 4; q++)
		for (unsigned i = 0; i < 100; i++)
			(void)rq_submit(&h, q, T_IN, i * 8, &rd, 1, true);
	for (unsigned q = 0; q < 4; q++)
		h_kick(&h, q);
	bool all = true;
	for (unsigned q = 0; q < 4; q++)
		all &= h_wait_used(&h, q, 100, 10000);
	ok(all, "400 requests on a 256-entry ring all complete");

	/* Reset with reads in flight: drained, nothing pushed afterwards. */
	for (unsigned i = 0; i < 100; i++)
		(void)rq_submit(&h, 1, T_IN, i * 8, &rd, 1, true);
	h_kick(&h, 1);
	h_reset(&h);
	uint16_t after = vqd_used_idx(&h.drv[1]);
	nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	ok(vqd_used_idx(&h.drv[1]) == after && after >= 100 && after <= 200,
	   "reset with I/O in flight: quiet afterwards (used idx %u)", after);
	d->ops->destroy(d);
	close(fd);
	unlink(path);
}

static void odd_size_and_tmpfs(void)
{
	char path[] = "/tmp/kvrun-test-blk-XXXXXX";
	int fd = temp_image(path, (1 << 20) + 300);
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	struct vmm_disk disk = { .path = path };
	uint64_t cap;

	ok(virtio_blk_create(&h.vm, &disk, 1, &d, &err) == 0, "image of 1 MiB + 300 bytes");
	d->ops->config_read(d, 0, &cap, 8);
	ok(cap == 2048, "capacity rounds down to whole sectors");
	d->ops->destroy(d);
	close(fd);
	unlink(path);

	char shm[] = "/dev/shm/kvrun-test-blk-XXXXXX";
	fd = temp_image(shm, 1 << 20);
	if (fd < 0) {
		ok(1, "# SKIP no /dev/shm");
		return;
	}
	uint8_t ones[4096];
	memset(ones, 0xff, sizeof(ones));
	ok(pwrite(fd, ones, sizeof(ones), 0) == 4096, "seed tmpfs image");
	disk.path = shm;
	if (virtio_blk_create(&h.vm, &disk, 1, &d, &err) == 0 && h_attach(&h, d, 16, F_ALL) == 0) {
		uint64_t rg[1][3] = { { 2, 2, 0 } };
		struct h_seg p = rq_ranges(&h, rg, 1);
		struct blk_rq r = rq_submit(&h, 0, T_WZ, 0, &p, 1, false);
		h_kick(&h, 0);
		uint8_t back[2048] = { 1 };
		static const uint8_t zero[1024];
		ok(h_wait_used(&h, 0, 1, 5000) && rq_status(&h, &r) == S_OK &&
		       pread(fd, back, sizeof(back), 0) == 2048 &&
		       memcmp(back + 1024, zero, 1024) == 0 && back[1023] == 0xff,
		   "write zeroes on tmpfs (falls back to punching a hole)");
		h_reset(&h);
		d->ops->destroy(d);
	} else {
		ok(0, "tmpfs image: %s", err.msg);
	}
	close(fd);
	unlink(shm);
}

/* One submission on the device's ring, waited for: the CQE's result. */
static int ring_try(struct blk *b, int op, int fd, bool fixed, void *buf)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
	struct io_uring_cqe *cqe;
	struct iovec iov = { buf, 512 };

	if (!sqe)
		return -ENOSPC;
	if (op == IORING_OP_OPENAT)
		io_uring_prep_openat(sqe, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
	else
		io_uring_prep_readv(sqe, fd, &iov, 1, 0);
	if (fixed)
		io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	if (io_uring_submit(&b->ring) < 0 || io_uring_wait_cqe(&b->ring, &cqe) < 0)
		return -EIO;
	int res = cqe->res;
	io_uring_cqe_seen(&b->ring, cqe);
	if (op == IORING_OP_OPENAT && res >= 0)
		close(res);
	return res;
}

/* A device on a loop that is not running, so the test reaps its own CQEs. */
static void restricted_ring(void)
{
	char path[] = "/tmp/kvrun-test-blk-XXXXXX";
	int fd = temp_image(path, 1 << 20);
	struct vmm vm = { 0 };
	struct virtio_dev *d = NULL;
	struct vmm_disk disk = { .path = path };
	char buf[512];

	evloop_init(&vm.loop);
	if (!ok(virtio_blk_create(&vm, &disk, 1, &d, NULL) == 0, "a device for the ring checks")) {
		evloop_destroy(&vm.loop);
		return;
	}
	struct blk *b = d->priv;
	ok(ring_try(b, IORING_OP_READV, 0, true, buf) == 512,
	   "the ring reads the image through its registered file");
	ok(ring_try(b, IORING_OP_OPENAT, 0, false, buf) == -EACCES &&
	       ring_try(b, IORING_OP_READV, fd, false, buf) == -EACCES,
	   "the ring refuses other operations (openat) and unregistered descriptors");
	d->ops->destroy(d);
	evloop_destroy(&vm.loop);
	close(fd);
	unlink(path);
}

int main(void)
{
	tap_plan(25);
	if (!ok(h_init(&h, 64) == 0, "harness"))
		return tap_done();
	errors();
	locking_and_ro();
	multiqueue();
	odd_size_and_tmpfs();
	restricted_ring();
	h_fini(&h);
	return tap_done();
}
