/* vq-fuzz.h - a structure-aware guest driver for the virtio fuzz targets.
 *
 * Owns: turning fuzz input into what a (possibly hostile) guest driver does
 * to a device's split virtqueues in synthetic guest RAM: valid rings laid
 * out per queue, descriptor chains built from the input (readable buffers
 * filled with input bytes, writable ones, zero-length ones, raw addresses
 * and lengths that may point anywhere, indirect tables), publishing them,
 * corrupting ring memory after the fact, notification flags, and reaping
 * used entries. The reaper checks what every device must guarantee: a
 * used entry names a chain the driver made available and has not got back
 * yet, and its length is at most the chain's writable bytes. Until the
 * input corrupted the rings (then the driver's own bookkeeping is no longer
 * the truth), a violation aborts. Header-only; shared by the fuzz-vdev-*
 * targets and their seed generator (which writes the same encoding).
 *
 * Encoding: a cursor reads little-endian integers from the input; missing
 * bytes read as zero, so every input is valid. A chain is
 *
 *   u8 q, u8 n (1 + n % FZ_MAX_DESCS descriptors), u8 how (bit 0 indirect),
 *   then per descriptor  u8 kind, u16 len, [u64 addr if FZ_K_RAW_ADDR],
 *   [u32 len if FZ_K_RAW_LEN], [len bytes of content if readable, at most
 *   what the input still holds]
 *
 * where kind's bits are FZ_K_*. */
#ifndef KVRUN_TESTS_VQ_FUZZ_H
#define KVRUN_TESTS_VQ_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "virtio.h"
#include "virtqueue.h"

#define FZ_RAM	     (4u << 20)
#define FZ_MAX_Q     8
#define FZ_RING(q)   (0x10000ull * (q)) /* each queue's rings: 64 KiB apart */
#define FZ_DATA	     0x100000ull	/* buffers from 1 MiB up */
#define FZ_MAX_DESCS 32			/* per chain built */
#define FZ_MAX_QSIZE 256

/* Descriptor kinds. */
#define FZ_K_WRITE    0x01 /* device-writable */
#define FZ_K_RAW_ADDR 0x02 /* the address comes from the input (anywhere) */
#define FZ_K_RAW_LEN  0x04 /* a 32-bit length from the input */
#define FZ_K_ZERO     0x08 /* length 0 */

/* A broken invariant: say which, then abort (libFuzzer keeps the input). */
#define fz_fail(why)                                                                               \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, why);                           \
		abort();                                                                           \
	} while (0)

struct fz_cur {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t fz_take(struct fz_cur *c, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (c->left) {
			v |= (uint64_t)*c->p << (8 * i);
			c->p++;
			c->left--;
		}
	}
	return v;
}

struct fz_chain_rec {
	bool out;	 /* available, not yet returned */
	uint64_t wbytes; /* writable bytes */
	unsigned nslots;
	uint16_t slots[FZ_MAX_DESCS];
};

struct fz_q {
	struct virtqueue *vq; /* the device's */
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen;
	uint8_t slot_busy[FZ_MAX_QSIZE];
	struct fz_chain_rec rec[FZ_MAX_QSIZE];
};

struct fz_drv {
	struct guest_mem *mem;
	unsigned nq;
	struct fz_q q[FZ_MAX_Q];
	uint64_t next_data;
	bool tainted; /* the input wrote over ring memory: no more checks */
	unsigned used_seen_total;
};

static inline uint8_t *fz_hva(struct fz_drv *d, uint64_t gpa, uint64_t len)
{
	uint8_t *p = gpa_to_hva(d->mem, gpa, len);

	if (!p)
		fz_fail("the driver's own layout does not fit guest RAM");
	return p;
}

static inline void fz_put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t fz_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Lay out queue q's rings (size 1 << (log2 % 9), at most FZ_MAX_QSIZE) and
 * configure vq as the transport would. */
static inline void fz_queue(struct fz_drv *d, unsigned q, struct virtqueue *vq, unsigned log2)
{
	struct fz_q *z = &d->q[q];
	uint16_t size = (uint16_t)(1u << (log2 % 9));

	memset(z, 0, sizeof(*z));
	z->vq = vq;
	z->size = size;
	z->desc = FZ_RING(q);
	z->avail = z->desc + 16ull * size;
	z->used = (z->avail + 6 + 2ull * size + 4095) & ~4095ull;
	memset(fz_hva(d, FZ_RING(q), 0x10000), 0, 0x10000);
	vq->size = size;
	vq->desc_gpa = z->desc;
	vq->avail_gpa = z->avail;
	vq->used_gpa = z->used;
	vq->enabled = true;
	if (q >= d->nq)
		d->nq = q + 1;
}

static inline void fz_init(struct fz_drv *d, struct guest_mem *mem)
{
	memset(d, 0, sizeof(*d));
	d->mem = mem;
	d->next_data = FZ_DATA;
}

static inline bool fz_outstanding(const struct fz_drv *d)
{
	for (unsigned q = 0; q < d->nq; q++)
		for (unsigned i = 0; i < d->q[q].size; i++)
			if (d->q[q].rec[i].out)
				return true;
	return false;
}

/* A buffer of len bytes in the data area (wrapping around). Wrapping while
 * chains are outstanding may hand out memory the device still owns: from
 * then on the driver's view is no longer the truth. */
static inline uint64_t fz_alloc(struct fz_drv *d, uint64_t len)
{
	if (len > FZ_RAM - FZ_DATA)
		len = FZ_RAM - FZ_DATA;
	if (d->next_data + (len ? len : 1) > FZ_RAM) {
		d->next_data = FZ_DATA;
		if (fz_outstanding(d))
			d->tainted = true;
	}
	uint64_t gpa = d->next_data;
	d->next_data = (gpa + len + 15) & ~15ull;
	return gpa;
}

static inline void fz_desc_at(struct fz_drv *d, uint64_t table, unsigned i, uint64_t addr,
			      uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = fz_hva(d, table + 16ull * i, 16);

	fz_put(p, addr, 8);
	fz_put(p + 8, len, 4);
	fz_put(p + 12, flags, 2);
	fz_put(p + 14, next, 2);
}

static inline void fz_publish(struct fz_drv *d, unsigned q, uint16_t head)
{
	struct fz_q *z = &d->q[q];
	uint8_t *ring = fz_hva(d, z->avail + 4, 2ull * z->size);

	fz_put(ring + 2 * (z->avail_idx % z->size), head, 2);
	z->avail_idx++;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	fz_put(fz_hva(d, z->avail + 2, 2), z->avail_idx, 2);
}

/* Build one chain from the input (encoding above) and publish it. Returns
 * false when the input asked for more free descriptor slots than the
 * queue has (nothing is published then). */
static inline bool fz_chain(struct fz_drv *d, struct fz_cur *c)
{
	unsigned q = (unsigned)fz_take(c, 1) % (d->nq ? d->nq : 1);
	unsigned n = 1 + (unsigned)fz_take(c, 1) % FZ_MAX_DESCS;
	bool indirect = fz_take(c, 1) & 1;
	struct fz_q *z = &d->q[q];
	uint16_t slots[FZ_MAX_DESCS];
	unsigned need = indirect ? 1 : n, got = 0;
	uint64_t table = 0, wbytes = 0;

	if (!z->vq)
		return false;
	for (unsigned i = 0; i < z->size && got < need; i++)
		if (!z->slot_busy[i])
			slots[got++] = (uint16_t)i;
	if (got < need)
		return false;
	if (indirect)
		table = fz_alloc(d, 16ull * n);
	for (unsigned i = 0; i < n; i++) {
		unsigned kind = (unsigned)fz_take(c, 1);
		uint64_t len = fz_take(c, 2) % 4097, addr;
		if (kind & FZ_K_RAW_LEN)
			len = fz_take(c, 4);
		if (kind & FZ_K_ZERO)
			len = 0;
		if (kind & FZ_K_RAW_ADDR) {
			addr = fz_take(c, 8);
			/* A writable buffer anywhere in RAM may lie over the rings,
			 * an indirect table or another chain's header: the device
			 * may rightly write there, so the driver's bookkeeping is no
			 * longer the truth. Readable ones the device only reads. */
			if (len && addr < FZ_RAM && ((kind & FZ_K_WRITE) || addr < FZ_DATA))
				d->tainted = true;
		} else {
			addr = fz_alloc(d, len);
			if (len > FZ_RAM - addr)
				len = FZ_RAM - addr;
			if (!(kind & FZ_K_WRITE)) {
				size_t k = len < c->left ? (size_t)len : c->left;
				uint8_t *p = fz_hva(d, addr, len ? len : 1);
				memcpy(p, c->p, k);
				memset(p + k, 0, len - k);
				c->p += k;
				c->left -= k;
			} else if (len) {
				memset(fz_hva(d, addr, len), 0xa5, len);
			}
		}
		if (kind & FZ_K_WRITE)
			wbytes += (uint32_t)len;
		uint16_t flags = (uint16_t)((kind & FZ_K_WRITE ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		if (indirect)
			fz_desc_at(d, table, i, addr, (uint32_t)len, flags, (uint16_t)(i + 1));
		else
			fz_desc_at(d, z->desc, slots[i], addr, (uint32_t)len, flags,
				   i + 1 < n ? slots[i + 1] : 0);
	}
	if (indirect)
		fz_desc_at(d, z->desc, slots[0], table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	struct fz_chain_rec *r = &z->rec[slots[0]];
	r->out = true;
	r->wbytes = wbytes;
	r->nslots = need;
	for (unsigned i = 0; i < need; i++) {
		r->slots[i] = slots[i];
		z->slot_busy[slots[i]] = 1;
	}
	fz_publish(d, q, slots[0]);
	return true;
}

/* The input writes 1..8 raw bytes into queue q's ring memory (descriptor
 * table, avail or used ring): the hostile driver changing its mind. */
static inline void fz_corrupt(struct fz_drv *d, struct fz_cur *c)
{
	unsigned q = (unsigned)fz_take(c, 1) % (d->nq ? d->nq : 1);
	uint64_t off = fz_take(c, 2) % 0x10000;
	unsigned n = 1 + (unsigned)fz_take(c, 1) % 8;
	uint64_t v = fz_take(c, 8);

	if (off + n > 0x10000)
		off = 0x10000 - n;
	fz_put(fz_hva(d, FZ_RING(q) + off, n), v, n);
	d->tainted = true;
}

/* Avail flags (NO_INTERRUPT) and used_event from the input. */
static inline void fz_notify_fields(struct fz_drv *d, struct fz_cur *c)
{
	unsigned q = (unsigned)fz_take(c, 1) % (d->nq ? d->nq : 1);
	struct fz_q *z = &d->q[q];
	uint16_t flags = (uint16_t)fz_take(c, 2), ev = (uint16_t)fz_take(c, 2);

	if (!z->vq)
		return;
	fz_put(fz_hva(d, z->avail, 2), flags, 2);
	fz_put(fz_hva(d, z->avail + 4 + 2ull * z->size, 2), ev, 2);
}

/* Take queue q's new used entries, checking each. */
static inline void fz_reap(struct fz_drv *d, unsigned q)
{
	struct fz_q *z = &d->q[q];

	if (!z->vq)
		return;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t idx = (uint16_t)fz_get(fz_hva(d, z->used + 2, 2), 2);
	if (!d->tainted && (uint16_t)(idx - z->used_seen) > z->size)
		fz_fail("more used entries than chains could be outstanding");
	while (z->used_seen != idx) {
		const uint8_t *e = fz_hva(d, z->used + 4 + 8ull * (z->used_seen % z->size), 8);
		uint32_t id = (uint32_t)fz_get(e, 4), len = (uint32_t)fz_get(e + 4, 4);
		z->used_seen++;
		d->used_seen_total++;
		if (id >= z->size) {
			if (!d->tainted)
				fz_fail("a used entry whose id is not a descriptor index");
			continue;
		}
		struct fz_chain_rec *r = &z->rec[id];
		if (!d->tainted && !r->out)
			fz_fail("a used entry for a chain that is not available");
		if (!d->tainted && len > r->wbytes) {
			fprintf(stderr, "queue %u, head %u: used length %u, writable bytes %llu\n",
				q, id, len, (unsigned long long)r->wbytes);
			fz_fail("a used length beyond the chain's writable bytes");
		}
		if (r->out) {
			for (unsigned i = 0; i < r->nslots; i++)
				z->slot_busy[r->slots[i]] = 0;
			r->out = false;
		}
	}
}

static inline void fz_reap_all(struct fz_drv *d)
{
	for (unsigned q = 0; q < d->nq; q++)
		fz_reap(d, q);
}

/* ---- driving a device ------------------------------------------------------
 *
 * After the chains, an input is a script: u8 features (bit 0 INDIRECT_DESC,
 * bit 1 EVENT_IDX, bits 2-7 the device's own feature bits 0-5 of
 * device_features' low word, in order of appearance), one u8 log2 queue size
 * per queue, then ops until the input ends (at most FZ_MAX_OPS):
 *
 *   op % 16: 0-5 a chain (above), 6-7 kick queue u8, 8-9 a host event
 *   (the target's), 10 corrupt ring memory, 11 notify fields, 12 reset and
 *   set up again, 13 the device's config space read (u8 off, u8 len) and
 *   written, 14-15 settle (let asynchronous work finish) and reap. */

#define FZ_MAX_OPS 256

struct fz_target {
	struct virtio_dev *dev;
	void *ctx;
	void (*host)(void *ctx, struct fz_cur *c); /* may be NULL */
	void (*settle)(void *ctx);		   /* may be NULL */
};

static inline uint64_t fz_features(const struct virtio_dev *dev, unsigned bits)
{
	uint64_t f = 1ull << VIRTIO_F_VERSION_1, own = dev->device_features;

	if (bits & 1)
		f |= 1ull << VIRTIO_F_INDIRECT_DESC;
	if (bits & 2)
		f |= 1ull << VIRTIO_F_EVENT_IDX;
	bits >>= 2;
	for (unsigned b = 0; b < 28 && bits; b++) {
		if (!(own & (1ull << b)))
			continue;
		if (bits & 1)
			f |= 1ull << b;
		bits >>= 1;
	}
	return f & (own | 1ull << VIRTIO_F_VERSION_1);
}

/* Features and queues as the guest's driver would set them, then DRIVER_OK. */
static inline int fz_dev_start(struct fz_drv *d, struct virtio_dev *dev, unsigned feature_bits,
			       const uint8_t *log2)
{
	unsigned nq = dev->num_queues < FZ_MAX_Q ? dev->num_queues : FZ_MAX_Q;

	d->nq = 0;
	for (unsigned q = 0; q < nq; q++)
		fz_queue(d, q, &dev->vqs[q], log2[q]);
	dev->driver_features = fz_features(dev, feature_bits);
	dev->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		      VIRTIO_STATUS_DRIVER_OK;
	return dev->ops->activate(dev);
}

static inline void fz_settle(const struct fz_target *t, struct fz_drv *d)
{
	if (t->settle)
		t->settle(t->ctx);
	fz_reap_all(d);
}

/* Run the script. Returns the number of ops run. */
static inline unsigned fz_run(struct fz_drv *d, struct fz_cur *c, const struct fz_target *t)
{
	struct virtio_dev *dev = t->dev;
	unsigned feature_bits = (unsigned)fz_take(c, 1), ops = 0;
	uint8_t log2[FZ_MAX_Q];

	for (unsigned q = 0; q < FZ_MAX_Q; q++)
		log2[q] = q < dev->num_queues ? (uint8_t)fz_take(c, 1) : 0;
	if (fz_dev_start(d, dev, feature_bits, log2) < 0)
		return 0;
	while (c->left && ops++ < FZ_MAX_OPS) {
		unsigned op = (unsigned)fz_take(c, 1) % 16;
		if (op <= 5) {
			(void)fz_chain(d, c);
		} else if (op <= 7) {
			unsigned q = (unsigned)fz_take(c, 1) % (d->nq ? d->nq : 1);
			dev->ops->queue_notify(dev, q);
			fz_settle(t, d);
		} else if (op <= 9) {
			if (t->host)
				t->host(t->ctx, c);
			fz_settle(t, d);
		} else if (op == 10) {
			fz_corrupt(d, c);
		} else if (op == 11) {
			fz_notify_fields(d, c);
		} else if (op == 12) {
			dev->ops->reset(dev);
			dev->status = 0;
			d->tainted = false; /* fresh rings from here on */
			if (fz_dev_start(d, dev, feature_bits, log2) < 0)
				break;
		} else if (op == 13) {
			uint8_t buf[8] = { 0 };
			unsigned off = (unsigned)fz_take(c, 1), len = 1u << (fz_take(c, 1) % 4);
			uint64_t v = fz_take(c, 8);
			if (off + len <= dev->config_size) {
				dev->ops->config_read(dev, off, buf, len);
				fz_put(buf, v, len);
				dev->ops->config_write(dev, off, buf, len);
			}
		} else {
			fz_settle(t, d);
		}
	}
	fz_settle(t, d);
	return ops;
}

#endif
