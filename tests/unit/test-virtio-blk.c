/* Unit tests for vmm/virtio/blk*.c: requests against a temp image file.
 *
 * A fake transport (vdev-harness.h) drives the device on a real event loop,
 * so reads and writes go through io_uring exactly as in a VM: pattern round
 * trips, FLUSH, GET_ID, DISCARD and WRITE_ZEROES, and every validation rule
 * (range, length, header, type, flags, counts) answered with a status. */
#include "blk-driver.h"
#include "tap.h"
#include "virtio_devs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#define CAP	 8192ULL /* sectors: a 4 MiB image */
#define F_ALL	 (~0ULL)
#define LEN_FAIL UINT32_MAX

static struct harness h;
static struct virtio_dev *d;

static uint32_t kick_wait(unsigned q, const struct blk_rq *r)
{
	uint32_t id, len;
	uint16_t want = (uint16_t)(h.drv[q].used_seen + 1);

	h_kick(&h, q);
	if (!h_wait_used(&h, q, want, 5000) || !vqd_take_used(&h.drv[q], &id, &len) ||
	    id != r->head)
		return LEN_FAIL;
	return len;
}

/* Submit a request on queue 0, wait for it, check status and used length. */
static int expect(uint32_t type, uint64_t sector, const struct h_seg *data, unsigned ndata,
		  uint8_t want_status, uint32_t want_len)
{
	struct blk_rq r = rq_submit(&h, 0, type, sector, data, ndata, false);
	uint32_t len = kick_wait(0, &r);
	uint8_t st = rq_status(&h, &r);

	if (st != want_status || len != want_len)
		diag("status %u len %u, wanted %u %u", st, len, want_status, want_len);
	return st == want_status && len == want_len;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static bool file_is(int fd, uint64_t off, const uint8_t *want, size_t n)
{
	uint8_t buf[16384];
	return n <= sizeof(buf) && pread(fd, buf, n, (off_t)off) == (ssize_t)n &&
	       memcmp(buf, want, n) == 0;
}

static bool file_zero(int fd, uint64_t off, size_t n)
{
	static const uint8_t zero[16384];
	return file_is(fd, off, zero, n);
}

int main(void)
{
	char path[] = "/tmp/kvrun-test-blk-XXXXXX";
	struct kv_err err = { 0 };
	uint8_t pattern[8192], cfg[8];

	tap_plan(35);
	int fd = mkostemp(path, O_CLOEXEC);
	if (!ok(fd >= 0 && ftruncate(fd, CAP * 512) == 0 && h_init(&h, 64) == 0, "temp image"))
		return tap_done();

	struct vmm_disk disk = { .path = path };
	ok(virtio_blk_create(&h.vm, &disk, 1, &d, &err) == 0 && d->device_id == VIRTIO_ID_BLOCK,
	   "virtio_blk_create");
	uint64_t f = d->device_features;
	ok((f >> 9 & 1) && (f >> 13 & 1) && (f >> 14 & 1) && (f >> 2 & 1) && !(f >> 5 & 1) &&
	       !(f >> 12 & 1),
	   "features: FLUSH, DISCARD, WRITE_ZEROES, SEG_MAX; not RO, not MQ");
	d->ops->config_read(d, 0, cfg, 8);
	uint64_t cap;
	memcpy(&cap, cfg, 8);
	ok(cap == CAP, "config capacity is %llu sectors", (unsigned long long)cap);
	ok(h_attach(&h, d, 64, F_ALL) == 0, "activate");

	/* Write 8 KiB in two segments at sector 10, then read it back. */
	uint64_t wbuf = h_alloc(&h, 8192), rbuf = h_alloc(&h, 8192);
	fill(pattern, sizeof(pattern), 3);
	memcpy(h_hva(&h, wbuf, 8192), pattern, 8192);
	struct h_seg w2[2] = { { wbuf, 4096, false }, { wbuf + 4096, 4096, false } };
	ok(expect(T_OUT, 10, w2, 2, S_OK, 1) && file_is(fd, 10 * 512, pattern, 8192),
	   "write lands in the image");
	struct h_seg r3[3] = { { rbuf, 512, true },
			       { rbuf + 512, 7000, true },
			       { rbuf + 7512, 680, true } };
	ok(expect(T_IN, 10, r3, 3, S_OK, 8193) && memcmp(h_hva(&h, rbuf, 8192), pattern, 8192) == 0,
	   "read returns it (three segments, used len counts data + status)");
	struct blk_rq ri = rq_submit(&h, 0, T_IN, 10, r3, 3, true);
	memset(h_hva(&h, rbuf, 8192), 0, 8192);
	ok(kick_wait(0, &ri) == 8193 && rq_status(&h, &ri) == S_OK &&
	       memcmp(h_hva(&h, rbuf, 8192), pattern, 8192) == 0,
	   "same read through an indirect table");
	struct h_seg last = { rbuf, 512, true };
	ok(expect(T_IN, CAP - 1, &last, 1, S_OK, 513), "read of the last sector");

	/* Validation. */
	struct h_seg two = { rbuf, 1024, true };
	ok(expect(T_IN, CAP - 1, &two, 1, S_IOERR, 1), "read running past the capacity");
	ok(expect(T_IN, CAP, &last, 1, S_IOERR, 1), "read at sector == capacity");
	ok(expect(T_OUT, UINT64_MAX, w2, 1, S_IOERR, 1), "sector 2^64-1 (overflow)");
	ok(expect(T_IN, (UINT64_MAX >> 9) + 1, &last, 1, S_IOERR, 1),
	   "sector whose byte offset overflows");
	struct h_seg odd = { rbuf, 100, true };
	ok(expect(T_IN, 0, &odd, 1, S_IOERR, 1), "data length not a multiple of 512");
	ok(expect(T_IN, 0, NULL, 0, S_OK, 1), "empty read is a no-op");
	ok(expect(99, 0, NULL, 0, S_UNSUPP, 1), "unknown request type");
	ok(expect(T_FLUSH, 0, NULL, 0, S_OK, 1), "flush");

	uint64_t idbuf = h_alloc(&h, 20);
	struct h_seg id = { idbuf, 20, true };
	ok(expect(T_GET_ID, 0, &id, 1, S_OK, 21) && memcmp(h_hva(&h, idbuf, 6), "kvrun-", 6) == 0,
	   "GET_ID: %.20s", (char *)h_hva(&h, idbuf, 20));

	/* seg_max: 254 data segments pass, 255 do not. */
	static struct h_seg many[255];
	uint64_t mbuf = h_alloc(&h, 255 * 512);
	for (unsigned i = 0; i < 255; i++)
		many[i] = (struct h_seg){ mbuf + 512 * i, 512, true };
	struct blk_rq m = rq_submit(&h, 0, T_IN, 0, many, 254, true);
	ok(kick_wait(0, &m) == 254 * 512 + 1 && rq_status(&h, &m) == S_OK,
	   "254 data segments (seg_max) accepted");
	m = rq_submit(&h, 0, T_IN, 0, many, 255, true);
	ok(kick_wait(0, &m) == 1 && rq_status(&h, &m) == S_IOERR, "255 data segments: IOERR");

	/* A header shorter than 16 bytes. */
	uint64_t shorthdr = h_alloc(&h, 8), st = h_alloc(&h, 1);
	struct h_seg sh[2] = { { shorthdr, 8, false }, { st, 1, true } };
	uint16_t head = h_chain(&h, 0, sh, 2, false);
	struct blk_rq shr = { head, st };
	ok(kick_wait(0, &shr) == 1 && rq_status(&h, &shr) == S_IOERR, "8-byte header: IOERR");
	/* No writable byte at all: nowhere to put a status. */
	uint64_t hdr = h_alloc(&h, 16);
	struct h_seg ro1 = { hdr, 16, false };
	head = h_chain(&h, 0, &ro1, 1, false);
	struct blk_rq nost = { head, hdr };
	ok(kick_wait(0, &nost) == 0, "no status byte: returned with used len 0");

	/* Discard and write zeroes on the pattern at sectors 10..25. */
	uint64_t rg1[1][3] = { { 10, 4, 0 } };
	struct h_seg p = rq_ranges(&h, rg1, 1);
	ok(expect(T_DISC, 0, &p, 1, S_OK, 1) && file_zero(fd, 10 * 512, 2048) &&
	       file_is(fd, 14 * 512, pattern + 2048, 512),
	   "discard punches exactly its range");
	uint64_t rg2[2][3] = { { 14, 2, 0 }, { 20, 1, 1 } };
	p = rq_ranges(&h, rg2, 2);
	ok(expect(T_WZ, 0, &p, 1, S_OK, 1) && file_zero(fd, 14 * 512, 1024) &&
	       file_is(fd, 16 * 512, pattern + 3072, 2048) && file_zero(fd, 20 * 512, 512) &&
	       file_is(fd, 21 * 512, pattern + 5632, 512),
	   "write zeroes, two ranges (one with UNMAP)");
	uint64_t rg3[1][3] = { { 0, 1, 1 } };
	p = rq_ranges(&h, rg3, 1);
	ok(expect(T_DISC, 0, &p, 1, S_UNSUPP, 1), "discard with the UNMAP flag: UNSUPP");
	uint64_t rg4[1][3] = { { 0, 1, 2 } };
	p = rq_ranges(&h, rg4, 1);
	ok(expect(T_WZ, 0, &p, 1, S_UNSUPP, 1), "write zeroes with an unknown flag: UNSUPP");
	uint64_t rg5[1][3] = { { CAP - 2, 3, 0 } };
	p = rq_ranges(&h, rg5, 1);
	ok(expect(T_DISC, 0, &p, 1, S_IOERR, 1), "discard past the capacity");
	uint64_t rg6[1][3] = { { UINT64_MAX - 1, 4, 0 } };
	p = rq_ranges(&h, rg6, 1);
	ok(expect(T_WZ, 0, &p, 1, S_IOERR, 1), "write zeroes with an overflowing range");
	uint64_t rg7[1][3] = { { 0, (1U << 22) + 1, 0 } };
	p = rq_ranges(&h, rg7, 1);
	ok(expect(T_DISC, 0, &p, 1, S_IOERR, 1), "range above max_discard_sectors");
	uint64_t rg8[33][3] = { { 0 } };
	p = rq_ranges(&h, rg8, 33);
	ok(expect(T_DISC, 0, &p, 1, S_IOERR, 1), "33 ranges (max_discard_seg is 32)");
	struct h_seg half = { p.gpa, 8, false };
	ok(expect(T_WZ, 0, &half, 1, S_IOERR, 1), "range payload not a multiple of 16");
	uint64_t rg9[1][3] = { { 5, 0, 0 } };
	p = rq_ranges(&h, rg9, 1);
	ok(expect(T_DISC, 0, &p, 1, S_OK, 1), "empty range is a no-op");

	/* A hostile chain breaks the device, not the test. */
	struct h_seg bad[1] = { { h.vm.mem.size - 4, 16, false } };
	struct blk_rq b = rq_submit(&h, 0, T_IN, 0, bad, 0, false);
	vqd_desc(&h.drv[0], b.head, h.vm.mem.size - 4, 16, VIRTQ_DESC_F_NEXT,
		 (uint16_t)((b.head + 1) % 64));
	h_kick(&h, 0);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1,
	   "header outside guest RAM: NEEDS_RESET");
	h_reset(&h);
	ok(h_attach(&h, d, 64, F_ALL) == 0 && expect(T_FLUSH, 0, NULL, 0, S_OK, 1),
	   "works again after reset");

	ok(h.used_irqs[0] > 0, "used-buffer interrupts were raised (%u)", (unsigned)h.used_irqs[0]);
	h_reset(&h);
	d->ops->destroy(d);
	h_fini(&h);
	close(fd);
	unlink(path);
	return tap_done();
}
