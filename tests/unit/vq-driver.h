/* vq-driver.h - a minimal split-ring "driver" for device-side unit tests.
 *
 * Owns: laying out a virtqueue's rings in synthetic guest RAM (a memfd from
 * guest_mem_init, no KVM), writing descriptors and avail entries the way a
 * guest driver would, and reading used entries back. Header-only so each
 * test program includes what it needs. Tests deliberately write malformed
 * rings through the same helpers. */
#ifndef KVRUN_TESTS_VQ_DRIVER_H
#define KVRUN_TESTS_VQ_DRIVER_H

#include <stdint.h>
#include <string.h>

#include "memory.h"
#include "virtqueue.h"

struct vqd {
	const struct guest_mem *mem;
	struct virtqueue *vq;
	uint16_t size;
	uint64_t desc, avail, used; /* ring gpas */
	uint16_t avail_idx;	    /* driver's next avail index */
	uint16_t used_seen;	    /* used entries consumed so far */
};

static inline void *vqd_hva(const struct vqd *d, uint64_t gpa, uint64_t len)
{
	return gpa_to_hva(d->mem, gpa, len);
}

/* Lay the rings out from gpa base (page aligned) and configure vq as the
 * transport would; returns the first gpa after the rings. */
static inline uint64_t vqd_init(struct vqd *d, const struct guest_mem *m, struct virtqueue *vq,
				uint16_t size, uint64_t base)
{
	memset(d, 0, sizeof(*d));
	d->mem = m;
	d->vq = vq;
	d->size = size;
	d->desc = base;
	d->avail = base + 16ULL * size;
	d->used = (d->avail + 6 + 2ULL * size + 4095) & ~4095ULL;
	memset(vqd_hva(d, base, d->used + 6 + 8ULL * size - base), 0,
	       d->used + 6 + 8ULL * size - base);
	vq->size = size;
	vq->desc_gpa = d->desc;
	vq->avail_gpa = d->avail;
	vq->used_gpa = d->used;
	vq->enabled = true;
	return (d->used + 6 + 8ULL * size + 4095) & ~4095ULL;
}

static inline void vqd_desc_at(const struct vqd *d, uint64_t table, unsigned i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = vqd_hva(d, table + 16ULL * i, 16);

	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

static inline void vqd_desc(const struct vqd *d, unsigned i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	vqd_desc_at(d, d->desc, i, addr, len, flags, next);
}

static inline void vqd_set_avail_idx(struct vqd *d, uint16_t idx)
{
	d->avail_idx = idx;
	uint16_t *p = vqd_hva(d, d->avail + 2, 2);
	__atomic_store_n(p, idx, __ATOMIC_RELEASE);
}

/* Make head available (one avail ring entry, then the index). */
static inline void vqd_publish(struct vqd *d, uint16_t head)
{
	uint16_t *ring = vqd_hva(d, d->avail + 4, 2ULL * d->size);

	ring[d->avail_idx % d->size] = head;
	vqd_set_avail_idx(d, (uint16_t)(d->avail_idx + 1));
}

static inline void vqd_set_avail_flags(const struct vqd *d, uint16_t flags)
{
	*(uint16_t *)vqd_hva(d, d->avail, 2) = flags;
}

static inline void vqd_set_used_event(const struct vqd *d, uint16_t ev)
{
	*(uint16_t *)vqd_hva(d, d->avail + 4 + 2ULL * d->size, 2) = ev;
}

static inline uint16_t vqd_used_idx(const struct vqd *d)
{
	return __atomic_load_n((uint16_t *)vqd_hva(d, d->used + 2, 2), __ATOMIC_ACQUIRE);
}

static inline uint16_t vqd_used_flags(const struct vqd *d)
{
	return *(uint16_t *)vqd_hva(d, d->used, 2);
}

static inline uint16_t vqd_avail_event(const struct vqd *d)
{
	return *(uint16_t *)vqd_hva(d, d->used + 4 + 8ULL * d->size, 2);
}

/* Take the next used entry: 1 with *id and *len, 0 when none is new. */
static inline int vqd_take_used(struct vqd *d, uint32_t *id, uint32_t *len)
{
	if (vqd_used_idx(d) == d->used_seen)
		return 0;
	const uint32_t *e = vqd_hva(d, d->used + 4 + 8ULL * (d->used_seen % d->size), 8);
	*id = e[0];
	*len = e[1];
	d->used_seen++;
	return 1;
}

#endif
