/* blk_io.c - virtio-blk's io_uring backend.
 *
 * Owns: one io_uring per device (restricted to the disk's operations on
 * the image alone, see restrict_ring), its completion eventfd on the VMM event
 * loop, and carrying each validated request through its operations: readv /
 * writev (resubmitting the rest after a short transfer), fdatasync for
 * FLUSH, and one fallocate per discard / write-zeroes range, in order.
 * A request has at most one operation on the ring at a time and at most
 * BLK_RING_ENTRIES requests are in flight, so the submission queue never
 * fills and the completion queue never overflows. Nothing here blocks the
 * loop thread except blk_io_drain(), which waits for in-flight operations
 * when the guest resets the device (the guest cannot be allowed to reuse
 * buffers the host is still writing). */
#include "blk_int.h"
#include "vm.h"

#include <errno.h>
#include <linux/falloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The image as the ring's registered file 0 (restrict_ring). */
#define BLK_FIXED_FD 0

bool blk_io_full(const struct blk *b)
{
	return b->inflight >= BLK_RING_ENTRIES;
}

/* Skip empty ranges; false when none is left. */
static bool next_range(struct blk_req *r)
{
	while (r->range_idx < r->nranges && r->ranges[r->range_idx].num_sectors == 0)
		r->range_idx++;
	return r->range_idx < r->nranges;
}

/* Put r's current operation on the ring. */
static bool prep(struct blk_req *r)
{
	struct blk *b = r->b;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

	if (!sqe)
		return false;
	switch (r->op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, BLK_FIXED_FD, r->iov + r->iov_idx, r->niov - r->iov_idx,
				    r->offset);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, BLK_FIXED_FD, r->iov + r->iov_idx, r->niov - r->iov_idx,
				     r->offset);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, BLK_FIXED_FD, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES: {
		const struct blk_range *g = &r->ranges[r->range_idx];
		int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		if (r->op == BLK_OP_WRITE_ZEROES &&
		    !(g->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) && !b->zero_range_unsupp)
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		io_uring_prep_fallocate(sqe, BLK_FIXED_FD, mode,
					(off_t)(g->sector << BLK_SECTOR_SHIFT),
					(off_t)((uint64_t)g->num_sectors << BLK_SECTOR_SHIFT));
		break;
	}
	}
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return true;
}

void blk_io_start(struct blk_req *r)
{
	if ((r->op == BLK_OP_DISCARD || r->op == BLK_OP_WRITE_ZEROES) && !next_range(r)) {
		blk_complete(r, VIRTIO_BLK_S_OK);
		return;
	}
	if (!prep(r))
		blk_complete(r, VIRTIO_BLK_S_IOERR);
}

/* Advance r's iovecs past done bytes; true when bytes remain. */
static bool advance(struct blk_req *r, size_t done)
{
	r->offset += done;
	while (done > 0 && r->iov_idx < r->niov) {
		struct iovec *v = &r->iov[r->iov_idx];
		if (done >= v->iov_len) {
			done -= v->iov_len;
			r->iov_idx++;
		} else {
			v->iov_base = (char *)v->iov_base + done;
			v->iov_len -= done;
			done = 0;
		}
	}
	return r->iov_idx < r->niov;
}

static void done(struct blk_req *r, int res)
{
	struct blk *b = r->b;
	const struct virtqueue *vq = &b->vqs[r->q];

	b->inflight--;
	if (!vq->started || vq->broken) {
		blk_complete(r, VIRTIO_BLK_S_IOERR); /* dropped: reset or broken */
		return;
	}
	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		/* 0 bytes: the file shrank under us. */
		if (res <= 0)
			break;
		if (!advance(r, (size_t)res)) {
			blk_complete(r, VIRTIO_BLK_S_OK);
			return;
		}
		if (prep(r))
			return;
		break;
	case BLK_OP_FLUSH:
		blk_complete(r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		return;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		if (res == -EOPNOTSUPP && r->op == BLK_OP_WRITE_ZEROES && !b->zero_range_unsupp &&
		    !(r->ranges[r->range_idx].flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
			/* No FALLOC_FL_ZERO_RANGE here: a punched hole reads as zeroes too. */
			b->zero_range_unsupp = true;
			if (prep(r))
				return;
			break;
		}
		if (res < 0)
			break;
		r->range_idx++;
		if (!next_range(r)) {
			blk_complete(r, VIRTIO_BLK_S_OK);
			return;
		}
		if (prep(r))
			return;
		break;
	}
	blk_complete(r, VIRTIO_BLK_S_IOERR);
}

static void reap(struct blk *b)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&b->ring, cqe);
		done(r, res);
	}
}

void blk_io_submit(struct blk *b)
{
	/* -EBUSY/-EAGAIN leave the entries queued; the next completion
	 * event submits them (something is in flight whenever they occur). */
	if (b->ring_ready && io_uring_sq_ready(&b->ring) > 0)
		(void)io_uring_submit(&b->ring);
}

static void on_completion(void *opaque, uint32_t events)
{
	struct blk *b = opaque;
	uint64_t v;

	(void)!read(b->efd, &v, sizeof(v));
	reap(b);
	blk_io_submit(b);
	/* Queues that stopped for lack of room go on now. */
	uint32_t s = b->stalled;
	b->stalled = 0;
	for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q++) {
		if (!(s & (1U << q)))
			continue;
		if (blk_io_full(b))
			b->stalled |= 1U << q;
		else
			blk_process_queue(b, q);
	}
	blk_flush_signals(b);
}

void blk_io_drain(struct blk *b)
{
	struct io_uring_cqe *cqe;

	if (!b->ring_ready)
		return;
	blk_io_submit(b);
	while (b->inflight > 0) {
		int r = io_uring_wait_cqe(&b->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		reap(b);
		blk_io_submit(b);
	}
}

/* The ring may only do what a disk needs, on the disk alone: readv,
 * writev, fsync and fallocate, each on the one registered file (fixed file
 * 0, the image). So a VMM thread that is taken over cannot use the ring to
 * open, connect or read anything else (it reaches the kernel through
 * io_uring_enter, which its seccomp filter allows). The restrictions are
 * set while the ring is still disabled, after the completion eventfd is
 * registered: the only register operation allowed afterwards is
 * unregistering the file. */
static int restrict_ring(struct blk *b)
{
	static const uint8_t ops[] = { IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_FSYNC,
				       IORING_OP_FALLOCATE };
	struct io_uring_restriction res[sizeof(ops) + 3];
	unsigned n = 0;
	int r;

	if ((r = io_uring_register_files(&b->ring, &b->fd, 1)) < 0)
		return r;
	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < sizeof(ops); i++)
		res[n++] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_SQE_OP,
							  .sqe_op = ops[i] };
	res[n++] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED,
						  .sqe_flags = IOSQE_FIXED_FILE };
	res[n++] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED,
						  .sqe_flags = IOSQE_FIXED_FILE };
	/* Only taking the file away again (blk_io_fini). */
	res[n++] = (struct io_uring_restriction){ .opcode = IORING_RESTRICTION_REGISTER_OP,
						  .register_op = IORING_UNREGISTER_FILES };
	/* Debian's liburing 2.3 declares io_uring_register_restrictions() and
	 * io_uring_enable_rings() but does not export them: the system call. */
	if (syscall(__NR_io_uring_register, b->ring.ring_fd, IORING_REGISTER_RESTRICTIONS, res, n) <
		0 ||
	    syscall(__NR_io_uring_register, b->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
		    0) < 0)
		return -errno;
	return 0;
}

int blk_io_init(struct blk *b, struct kv_err *err)
{
	int r = io_uring_queue_init(BLK_RING_ENTRIES, &b->ring, IORING_SETUP_R_DISABLED);

	if (r < 0)
		return kv_errno(err, r, "virtio-blk: disk %s: io_uring setup", b->path);
	b->ring_ready = true;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0)
		return kv_errno(err, -errno, "virtio-blk: disk %s: eventfd", b->path);
	r = io_uring_register_eventfd(&b->ring, b->efd);
	if (r < 0)
		return kv_errno(err, r, "virtio-blk: disk %s: io_uring eventfd", b->path);
	r = restrict_ring(b);
	if (r < 0)
		return kv_errno(err, r, "virtio-blk: disk %s: restricting the io_uring", b->path);
	r = evloop_add(&b->dev.vm->loop, b->efd, EPOLLIN, on_completion, b);
	if (r < 0)
		return kv_errno(err, r, "virtio-blk: disk %s: event loop", b->path);
	return 0;
}

void blk_io_fini(struct blk *b)
{
	if (b->efd >= 0)
		(void)evloop_del(&b->dev.vm->loop, b->efd);
	if (b->ring_ready) {
		blk_io_drain(b);
		/* The ring's reference to the image goes now, not when the
		 * ring is torn down asynchronously: the image's lock with it. */
		(void)io_uring_unregister_files(&b->ring);
		io_uring_queue_exit(&b->ring);
		b->ring_ready = false;
	}
	if (b->efd >= 0)
		(void)close(b->efd);
	b->efd = -1;
}
