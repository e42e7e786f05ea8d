/* virtqueue.c - split virtqueues, device side: see virtqueue.h.
 *
 * Owns: validating the ring configuration, walking descriptor chains
 * (direct and indirect) into iovecs with every index, flag, length and
 * address checked, publishing used entries, and notification suppression
 * in both directions (flags and VIRTIO_F_EVENT_IDX). Nothing here trusts a
 * value read from guest RAM: each is copied once into a local, then
 * checked, then used. */
#include "virtqueue.h"
#include "memory.h"
#include "virtio.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

/* A descriptor as it sits in guest RAM (little-endian, 16 bytes). */
struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vq_desc) == 16, "descriptor layout");

/* Ring layout offsets (virtio 1.2, 2.7.6 and 2.7.8). */
#define AVAIL_FLAGS    0
#define AVAIL_IDX      2
#define AVAIL_RING     4
#define USED_FLAGS     0
#define USED_IDX       2
#define USED_RING      4
#define USED_ELEM_SIZE 8

/* Ring fields are naturally aligned (virtq_start checks the ring bases and
 * guest RAM's host mapping is page-aligned), so plain atomic accesses work. */
static uint16_t ld16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED));
}

static void st16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, htole16(v), __ATOMIC_RELAXED);
}

static void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, htole32(v), __ATOMIC_RELAXED);
}

static uint8_t *ring_hva(const struct guest_mem *mem, uint64_t gpa, uint64_t len, uint64_t align)
{
	if (gpa & (align - 1))
		return NULL;
	return gpa_to_hva(mem, gpa, len);
}

void virtq_reset(struct virtqueue *vq)
{
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->broken = false;
	vq->started = false;
	vq->event_idx = false;
	vq->indirect = false;
	vq->desc_hva = vq->avail_hva = vq->used_hva = NULL;
}

int virtq_start(struct virtqueue *vq, const struct guest_mem *mem, uint16_t max_size,
		uint64_t driver_features)
{
	uint64_t n = vq->size;

	virtq_reset(vq);
	if (n == 0 || (n & (n - 1)) != 0 || n > max_size || n > VIRTQ_MAX_SIZE)
		return -EINVAL;
	uint8_t *desc = ring_hva(mem, vq->desc_gpa, 16 * n, 16);
	uint8_t *avail = ring_hva(mem, vq->avail_gpa, 6 + 2 * n, 2);
	uint8_t *used = ring_hva(mem, vq->used_gpa, 6 + USED_ELEM_SIZE * n, 4);
	if (!desc || !avail || !used)
		return -EINVAL;
	vq->mem = mem;
	vq->desc_hva = desc;
	vq->avail_hva = avail;
	vq->used_hva = used;
	vq->event_idx = (driver_features >> VIRTIO_F_EVENT_IDX) & 1;
	vq->indirect = (driver_features >> VIRTIO_F_INDIRECT_DESC) & 1;
	vq->started = true;
	return 0;
}

/* The chain being assembled by virtq_pop. */
struct walk {
	struct iovec *iov;
	unsigned cap, n, nout, nin;
	unsigned ndescs;
	bool seen_write;
	uint64_t out_bytes, in_bytes;
};

static void read_desc(const uint8_t *table, unsigned i, struct vq_desc *d)
{
	memcpy(d, table + 16 * (size_t)i, sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static int add_buf(const struct virtqueue *vq, struct walk *w, const struct vq_desc *d)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;

	if (!write && w->seen_write)
		return -EINVAL; /* device-readable after device-writable */
	w->seen_write |= write;
	if (d->len == 0)
		return 0;
	if (w->out_bytes + w->in_bytes + d->len > VIRTQ_MAX_CHAIN_BYTES)
		return -E2BIG;
	void *hva = gpa_to_hva(vq->mem, d->addr, d->len);
	if (!hva)
		return -EFAULT;
	if (w->n >= w->cap)
		return -E2BIG;
	w->iov[w->n++] = (struct iovec){ .iov_base = hva, .iov_len = d->len };
	if (write) {
		w->nin++;
		w->in_bytes += d->len;
	} else {
		w->nout++;
		w->out_bytes += d->len;
	}
	return 0;
}

/* Walk the indirect table d refers to; it ends the chain. */
static int walk_indirect(const struct virtqueue *vq, struct walk *w, const struct vq_desc *d)
{
	struct vq_desc e;
	unsigned i = 0, steps = 0;
	int r;

	if (!vq->indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return -EINVAL;
	if (d->len == 0 || d->len % 16 != 0)
		return -EINVAL;
	unsigned n = d->len / 16;
	if (n > VIRTQ_MAX_CHAIN_DESCS)
		return -ELOOP;
	const uint8_t *table = gpa_to_hva(vq->mem, d->addr, d->len);
	if (!table)
		return -EFAULT;
	for (;;) {
		if (++steps > n || ++w->ndescs > VIRTQ_MAX_CHAIN_DESCS)
			return -ELOOP;
		read_desc(table, i, &e);
		if (e.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL; /* nested tables are forbidden */
		r = add_buf(vq, w, &e);
		if (r < 0)
			return r;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return -EINVAL;
		i = e.next;
	}
}

static int walk_chain(const struct virtqueue *vq, uint16_t head, struct walk *w)
{
	struct vq_desc d;
	unsigned i = head, steps = 0;
	int r;

	for (;;) {
		/* A walk longer than the table revisits a descriptor: a loop. */
		if (++steps > vq->size || ++w->ndescs > VIRTQ_MAX_CHAIN_DESCS)
			return -ELOOP;
		read_desc(vq->desc_hva, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(vq, w, &d);
		r = add_buf(vq, w, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
}

static int fail(struct virtqueue *vq, int r)
{
	vq->broken = true;
	return r;
}

int virtq_pop(struct virtqueue *vq, struct virtq_chain *c, struct iovec *iov, unsigned iov_cap)
{
	struct walk w = { .iov = iov, .cap = iov_cap };

	if (vq->broken)
		return -EIO;
	if (!vq->started)
		return 0;
	uint16_t avail_idx = ld16(vq->avail_hva + AVAIL_IDX);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return fail(vq, -EINVAL); /* the driver cannot have made that many available */
	/* Read the ring entry and descriptors only after seeing the index. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t head = ld16(vq->avail_hva + AVAIL_RING + 2 * (vq->last_avail & (vq->size - 1)));
	if (head >= vq->size)
		return fail(vq, -EINVAL);
	int r = walk_chain(vq, head, &w);
	if (r < 0)
		return fail(vq, r);
	vq->last_avail++;
	*c = (struct virtq_chain){
		.head = head,
		.nout = w.nout,
		.nin = w.nin,
		.out_bytes = (uint32_t)w.out_bytes,
		.in_bytes = (uint32_t)w.in_bytes,
		.iov = iov,
	};
	return 1;
}

void virtq_unpop(struct virtqueue *vq)
{
	if (vq->started && !vq->broken)
		vq->last_avail--;
}

int virtq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	if (!vq->started || vq->broken || head >= vq->size)
		return -EINVAL;
	uint8_t *e = vq->used_hva + USED_RING + USED_ELEM_SIZE * (vq->used_idx & (vq->size - 1));
	st32(e, head);
	st32(e + 4, len);
	vq->used_idx++;
	/* The entry must be visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	st16(vq->used_hva + USED_IDX, vq->used_idx);
	return 0;
}

int virtq_push_many(struct virtqueue *vq, const uint16_t *heads, const uint32_t *lens, unsigned n)
{
	if (!vq->started || vq->broken || n > vq->size)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (heads[i] >= vq->size)
			return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)(vq->used_idx + i) & (vq->size - 1);
		uint8_t *e = vq->used_hva + USED_RING + USED_ELEM_SIZE * slot;
		st32(e, heads[i]);
		st32(e + 4, lens[i]);
	}
	vq->used_idx = (uint16_t)(vq->used_idx + n);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	st16(vq->used_hva + USED_IDX, vq->used_idx);
	return 0;
}

bool virtq_should_signal(struct virtqueue *vq)
{
	if (!vq->started)
		return false;
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	vq->signalled_used = now;
	if (old == now)
		return false;
	/* Order the used->idx store before reading the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(ld16(vq->avail_hva + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t used_event = ld16(vq->avail_hva + AVAIL_RING + 2 * (size_t)vq->size);
	/* Signal when the used index moved past used_event, i.e. used_event
	 * is one of old .. now-1 (mod 2^16): virtio 1.2, 2.7.10. */
	return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

void virtq_signal(struct virtio_dev *d, unsigned q)
{
	if (q < d->num_queues && virtq_should_signal(&d->vqs[q]) && d->signal_used)
		d->signal_used(d, q);
}

void virtq_notify_disable(struct virtqueue *vq)
{
	if (vq->started && !vq->event_idx)
		st16(vq->used_hva + USED_FLAGS, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_notify_enable(struct virtqueue *vq)
{
	if (!vq->started || vq->broken)
		return false;
	if (vq->event_idx)
		st16(vq->used_hva + USED_RING + USED_ELEM_SIZE * (size_t)vq->size, vq->last_avail);
	else
		st16(vq->used_hva + USED_FLAGS, 0);
	/* Publish the request before looking for buffers that raced with it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16(vq->avail_hva + AVAIL_IDX) != vq->last_avail;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		memcpy((char *)buf + done, (const char *)iov[i].iov_base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		memcpy((char *)iov[i].iov_base + off, (const char *)buf + done, k);
		done += k;
		off = 0;
	}
	return done;
}

int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *dst,
	      unsigned dst_cap)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len > 0; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off;
		if (take > len)
			take = len;
		if (k >= dst_cap)
			return -E2BIG;
		dst[k++] =
		    (struct iovec){ .iov_base = (char *)iov[i].iov_base + off, .iov_len = take };
		len -= take;
		off = 0;
	}
	return len ? -ERANGE : (int)k;
}
