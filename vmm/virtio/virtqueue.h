/* virtqueue.h - split virtqueues: the device side of the rings in guest RAM.
 *
 * Owns: queue state configured by the transport (size, ring addresses, MSI-X
 * vector, kick/call fds) and the device-side ring operations. Every
 * descriptor, index, address and length read from the rings is
 * bounds-checked against guest RAM and the queue size: a malformed chain
 * (out-of-range address, loop, over-long chain, bad indirect table) is
 * reported as an error, never followed.
 *
 * The parsing API (popping chains into iovecs, pushing used entries,
 * event-idx notification suppression) is declared below the state. */
#ifndef KVRUN_VMM_VIRTQUEUE_H
#define KVRUN_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;

#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtqueue {
	/* Written by the transport from the driver's configuration. */
	uint16_t size; /* number of entries; a power of two when enabled */
	bool enabled;
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd; /* ioeventfd, -1 when none */
	int call_fd; /* irqfd for msix_vector, -1 when none */

	/* Device-side ring state. */
	const struct guest_mem *mem;
	uint16_t last_avail; /* next avail ring index to consume */
	uint16_t used_idx;   /* next used ring index to fill */
	bool event_idx;	     /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	     /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;	     /* a malformed chain was seen; stop until reset */

	/* Device-side ring state added by virtqueue.c (set by virtq_start). */
	uint8_t *desc_hva;	 /* descriptor table, 16 * size bytes */
	uint8_t *avail_hva;	 /* avail ring, 6 + 2 * size bytes */
	uint8_t *used_hva;	 /* used ring, 6 + 8 * size bytes */
	bool started;		 /* virtq_start succeeded; cleared by virtq_reset */
	uint16_t signalled_used; /* used_idx at the last virtq_should_signal() */
};

/* ---- Device-side parsing API (virtqueue.c) -------------------------------
 *
 * Threading: every call below runs on the event-loop thread (the thread that
 * runs the device's ops). Guest vCPUs race with us on the rings; each ring
 * field is read once into a local before it is checked, and used entries
 * are published with a release barrier before used->idx.
 *
 * Limits (a chain over a limit is malformed, not truncated):
 *  - at most VIRTQ_MAX_CHAIN_DESCS descriptors per chain, direct and
 *    indirect together (the indirect descriptor itself counts too); a direct
 *    walk longer than the queue size is a loop;
 *  - at most VIRTQ_MAX_CHAIN_BYTES bytes per chain, readable plus writable
 *    (the spec's own bound is 4 GiB: used.len is 32 bits);
 *  - zero-length descriptors are allowed and skipped (no iovec, their
 *    address is not looked at);
 *  - every non-empty buffer must lie wholly inside one guest RAM region. */

struct virtio_dev;

#define VIRTQ_MAX_SIZE	      32768
#define VIRTQ_MAX_CHAIN_DESCS 1024
#define VIRTQ_MAX_CHAIN_BYTES (128U << 20)

/* Descriptor flags and ring flags (virtio 1.2, 2.7.5 - 2.7.8). */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* One descriptor chain popped from the avail ring. iov[0..nout) are the
 * device-readable buffers, iov[nout..nout+nin) the device-writable ones, in
 * chain order; each iov_base points into guest RAM. */
struct virtq_chain {
	uint16_t head; /* pass back to virtq_push() */
	unsigned nout, nin;
	uint32_t out_bytes, in_bytes;
	struct iovec *iov; /* the caller's array */
};

/* Check the transport's configuration of vq (size a power of two no larger
 * than max_size, ring addresses aligned - desc 16, avail 2, used 4 - and
 * each ring wholly inside guest RAM), take the negotiated ring features
 * (VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC) from driver_features, and
 * reset the device-side state. Call from ops->activate for each enabled
 * queue. -EINVAL on a bad configuration (the queue is left unstarted). */
int virtq_start(struct virtqueue *vq, const struct guest_mem *mem, uint16_t max_size,
		uint64_t driver_features);

/* Forget all device-side state (indices, broken, cached ring pointers);
 * leaves the transport's fields alone. Idempotent. */
void virtq_reset(struct virtqueue *vq);

/* Pop the next available chain into iov (at most iov_cap entries).
 * Returns 1 with *c filled, 0 when the ring is empty (or the queue is not
 * started), or a negative errno when the ring or the chain is malformed
 * (-EINVAL bad index or flags, -EFAULT bad address, -ELOOP loop or too many
 * descriptors, -E2BIG over VIRTQ_MAX_CHAIN_BYTES or more buffers than
 * iov_cap); the queue is then marked broken and every later pop fails with
 * -EIO until virtq_reset(). The caller then calls virtio_dev_set_broken(). */
int virtq_pop(struct virtqueue *vq, struct virtq_chain *c, struct iovec *iov, unsigned iov_cap);

/* Give back the chain virtq_pop() just returned (nothing popped since), so
 * the next pop returns it again: for a device that found nothing to put in
 * it yet (console input). */
void virtq_unpop(struct virtqueue *vq);

/* Return chain head to the driver with len bytes written to its writable
 * buffers. -EINVAL when head is not a valid index or the queue is not
 * started or broken. */
int virtq_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/* Return n chains at once: heads[i] with lens[i] bytes written, in order,
 * published by a single used->idx update so that the driver sees all of
 * them together (virtio-net's mergeable receive buffers: every buffer of a
 * packet must be there when the driver sees its first). -EINVAL as
 * virtq_push, with nothing published, when any head is invalid. */
int virtq_push_many(struct virtqueue *vq, const uint16_t *heads, const uint32_t *lens, unsigned n);

/* Whether the guest wants an interrupt for the entries pushed since the
 * last call that returned true (VRING_AVAIL_F_NO_INTERRUPT, or used_event
 * with VIRTIO_F_EVENT_IDX). False when nothing was pushed since. */
bool virtq_should_signal(struct virtqueue *vq);

/* virtq_should_signal(), and d->signal_used(d, q) when it says so. */
void virtq_signal(struct virtio_dev *d, unsigned q);

/* Ask the driver not to kick while the device is draining the ring. */
void virtq_notify_disable(struct virtqueue *vq);
/* Ask for kicks again (avail_event with VIRTIO_F_EVENT_IDX); returns true
 * when buffers arrived meanwhile, so the caller drains again. */
bool virtq_notify_enable(struct virtqueue *vq);

/* Copy between a buffer and the bytes of iov[0..n) starting at offset off;
 * returns the number of bytes copied (short when the iovecs end first). */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);
/* Describe bytes [off, off+len) of iov[0..n) in dst (at most dst_cap
 * entries); returns the number of entries, or -E2BIG / -ERANGE when they do
 * not fit or the range runs past the end. */
int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *dst,
	      unsigned dst_cap);

#endif
