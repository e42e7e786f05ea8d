/* blk-driver.h - building virtio-blk requests in synthetic guest RAM.
 *
 * Owns: the driver side of the virtio-blk request format for device tests:
 * a header buffer, optional data buffers and a status byte, chained with
 * vdev-harness.h's h_chain. */
#ifndef KVRUN_TESTS_BLK_DRIVER_H
#define KVRUN_TESTS_BLK_DRIVER_H

#include "vdev-harness.h"

#define T_IN	 0
#define T_OUT	 1
#define T_FLUSH	 4
#define T_GET_ID 8
#define T_DISC	 11
#define T_WZ	 13
#define S_OK	 0
#define S_IOERR	 1
#define S_UNSUPP 2
#define S_NONE	 0xff /* still untouched */

struct blk_rq {
	uint16_t head;
	uint64_t status; /* gpa of the status byte */
};

/* A request: header, then data (ndata segments), then the status byte. */
static inline struct blk_rq rq_submit(struct harness *h, unsigned q, uint32_t type, uint64_t sector,
				      const struct h_seg *data, unsigned ndata, bool indirect)
{
	struct h_seg segs[260];
	struct blk_rq r;
	uint64_t hdr = h_alloc(h, 16);
	uint32_t t[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };

	memcpy(h_hva(h, hdr, 16), t, 16);
	r.status = h_alloc(h, 1);
	*(uint8_t *)h_hva(h, r.status, 1) = S_NONE;
	segs[0] = (struct h_seg){ hdr, 16, false };
	for (unsigned i = 0; i < ndata && i < 258; i++)
		segs[1 + i] = data[i];
	segs[1 + ndata] = (struct h_seg){ r.status, 1, true };
	r.head = h_chain(h, q, segs, ndata + 2, indirect);
	return r;
}

static inline uint8_t rq_status(struct harness *h, const struct blk_rq *r)
{
	return *(volatile uint8_t *)h_hva(h, r->status, 1);
}

/* Discard / write-zeroes range payload, as one readable segment. */
static inline struct h_seg rq_ranges(struct harness *h, const uint64_t (*ranges)[3], unsigned n)
{
	uint64_t gpa = h_alloc(h, 16ULL * n);
	uint8_t *p = h_hva(h, gpa, 16ULL * n);

	for (unsigned i = 0; i < n; i++) {
		uint64_t sector = ranges[i][0];
		uint32_t num = (uint32_t)ranges[i][1], flags = (uint32_t)ranges[i][2];
		memcpy(p + 16 * i, &sector, 8);
		memcpy(p + 16 * i + 8, &num, 4);
		memcpy(p + 16 * i + 12, &flags, 4);
	}
	return (struct h_seg){ gpa, 16 * n, false };
}

#endif
