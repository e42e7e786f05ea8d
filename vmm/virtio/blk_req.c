/* blk_req.c - virtio-blk request parsing and validation.
 *
 * Owns: turning one descriptor chain into a validated struct blk_req, or an
 * immediate answer. The layout is free (VIRTIO_F_VERSION_1 implies
 * ANY_LAYOUT): the 16-byte header is the first 16 readable bytes, the status
 * byte is the last writable byte, and data or discard ranges are what lies
 * between. A request is checked before any I/O: header present, type
 * supported, data a multiple of 512 bytes, sector range inside the capacity
 * (overflow-safe), segment and range counts within what the device
 * advertises. A bad request is answered VIRTIO_BLK_S_IOERR or
 * VIRTIO_BLK_S_UNSUPP; it never breaks the device. A chain with no writable
 * byte cannot be answered and is returned with used length 0. */
#include "blk_int.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define BLK_START 0x100 /* parse result: valid, needs I/O */

struct blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};
_Static_assert(sizeof(struct blk_outhdr) == 16, "virtio-blk header");

static bool range_ok(const struct blk *b, uint64_t sector, uint64_t nsect)
{
	return sector <= b->capacity && nsect <= b->capacity - sector;
}

static int parse_rw(struct blk *b, const struct virtq_chain *c, struct blk_req *r, enum blk_op op,
		    uint64_t sector)
{
	const struct iovec *src = c->iov;
	unsigned nsrc = c->nout;
	size_t off = sizeof(struct blk_outhdr), len = c->out_bytes - off;

	if (op == BLK_OP_READ) {
		src = c->iov + c->nout;
		nsrc = c->nin;
		off = 0;
		len = c->in_bytes - 1; /* all writable bytes but the status */
	}
	if (len % BLK_SECTOR_SIZE != 0 || !range_ok(b, sector, len >> BLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	int k = iov_slice(src, nsrc, off, len, r->iov, c->nout + c->nin);
	if (k < 0 || k > BLK_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	if (k == 0)
		return VIRTIO_BLK_S_OK;
	r->op = op;
	r->niov = (unsigned)k;
	r->offset = sector << BLK_SECTOR_SHIFT;
	if (op == BLK_OP_READ)
		r->used_len = (uint32_t)len + 1;
	return BLK_START;
}

static int parse_ranges(struct blk *b, const struct virtq_chain *c, struct blk_req *r,
			enum blk_op op)
{
	size_t len = c->out_bytes - sizeof(struct blk_outhdr);

	if (!b->discard)
		return VIRTIO_BLK_S_UNSUPP;
	if (len == 0 || len % sizeof(struct blk_range) != 0 ||
	    len / sizeof(struct blk_range) > BLK_DWZ_MAX_SEG)
		return VIRTIO_BLK_S_IOERR;
	r->nranges = (unsigned)(len / sizeof(struct blk_range));
	for (unsigned i = 0; i < r->nranges; i++) {
		struct blk_range *g = &r->ranges[i];
		(void)iov_to_buf(c->iov, c->nout, sizeof(struct blk_outhdr) + i * sizeof(*g), g,
				 sizeof(*g));
		g->sector = le64toh(g->sector);
		g->num_sectors = le32toh(g->num_sectors);
		g->flags = le32toh(g->flags);
		/* Discard has no flags; write zeroes knows only UNMAP. */
		uint32_t known = op == BLK_OP_WRITE_ZEROES ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
		if (g->flags & ~known)
			return VIRTIO_BLK_S_UNSUPP;
		if (g->num_sectors > BLK_DWZ_MAX_SECTORS || !range_ok(b, g->sector, g->num_sectors))
			return VIRTIO_BLK_S_IOERR;
	}
	r->op = op;
	return BLK_START;
}

static int get_id(struct blk *b, const struct virtq_chain *c, struct blk_req *r)
{
	size_t room = c->in_bytes - 1, k = room < sizeof(b->serial) ? room : sizeof(b->serial);

	(void)iov_from_buf(c->iov + c->nout, c->nin, 0, b->serial, k);
	r->used_len = (uint32_t)k + 1;
	return VIRTIO_BLK_S_OK;
}

static int parse(struct blk *b, const struct virtq_chain *c, struct blk_req *r)
{
	struct blk_outhdr h;

	if (iov_to_buf(c->iov, c->nout, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	uint64_t sector = le64toh(h.sector);
	switch (le32toh(h.type)) {
	case VIRTIO_BLK_T_IN:
		return parse_rw(b, c, r, BLK_OP_READ, sector);
	case VIRTIO_BLK_T_OUT:
		if (b->readonly)
			return VIRTIO_BLK_S_IOERR;
		return parse_rw(b, c, r, BLK_OP_WRITE, sector);
	case VIRTIO_BLK_T_FLUSH:
		r->op = BLK_OP_FLUSH;
		return BLK_START;
	case VIRTIO_BLK_T_GET_ID:
		return get_id(b, c, r);
	case VIRTIO_BLK_T_DISCARD:
		return parse_ranges(b, c, r, BLK_OP_DISCARD);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_ranges(b, c, r, BLK_OP_WRITE_ZEROES);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

void blk_handle(struct blk *b, unsigned q, const struct virtq_chain *c)
{
	unsigned n = c->nout + c->nin;

	if (c->in_bytes == 0) {
		if (virtq_push(&b->vqs[q], c->head, 0) == 0)
			b->to_signal |= 1U << q;
		return;
	}
	const struct iovec *last = &c->iov[n - 1];
	uint8_t *status = (uint8_t *)last->iov_base + last->iov_len - 1;

	/* Trailing storage: data iovecs (at most one per chain buffer) or ranges. */
	size_t extra = n * sizeof(struct iovec);
	if (extra < BLK_DWZ_MAX_SEG * sizeof(struct blk_range))
		extra = BLK_DWZ_MAX_SEG * sizeof(struct blk_range);
	struct blk_req *r = calloc(1, sizeof(*r) + extra);
	if (!r) {
		*status = VIRTIO_BLK_S_IOERR;
		if (virtq_push(&b->vqs[q], c->head, 1) == 0)
			b->to_signal |= 1U << q;
		return;
	}
	r->b = b;
	r->q = (uint16_t)q;
	r->head = c->head;
	r->status = status;
	r->used_len = 1;
	r->iov = (struct iovec *)(void *)(r + 1);
	r->ranges = (struct blk_range *)(void *)(r + 1);
	int st = parse(b, c, r);
	if (st == BLK_START)
		blk_io_start(r);
	else
		blk_complete(r, (uint8_t)st);
}

void blk_complete(struct blk_req *r, uint8_t status)
{
	struct blk *b = r->b;
	struct virtqueue *vq = &b->vqs[r->q];

	if (vq->started && !vq->broken) {
		*r->status = status;
		if (virtq_push(vq, r->head, status == VIRTIO_BLK_S_OK ? r->used_len : 1) == 0)
			b->to_signal |= 1U << r->q;
	}
	free(r);
}
