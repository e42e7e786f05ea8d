/* Unit tests for vmm/virtio/virtqueue.c: hostile descriptor chains.
 *
 * Every malformed ring a guest could write - bad indices, loops, over-long
 * chains, bad lengths and addresses, bad indirect tables - must be refused
 * with an error that marks the queue broken, without touching memory outside
 * guest RAM (run under ASan/UBSan by `make unit`). Guest RAM is a memfd from
 * guest_mem_init; no KVM is needed. */
#include "tap.h"
#include "virtio.h"
#include "vq-driver.h"

#include <errno.h>
#include <stdlib.h>

#define RINGS 0x10000ULL  /* ring area */
#define TABLE 0x80000ULL  /* indirect tables */
#define DATA  0x100000ULL /* data buffers */
#define F_IND (1ULL << VIRTIO_F_INDIRECT_DESC)

static struct guest_mem mem;
static struct virtqueue vq;
static struct vqd drv;
static struct iovec iov[VIRTQ_MAX_CHAIN_DESCS];
static struct virtq_chain ch;

static void fresh(uint16_t size, uint64_t features)
{
	vq = (struct virtqueue){ .kick_fd = -1, .call_fd = -1 };
	vqd_init(&drv, &mem, &vq, size, RINGS);
	if (virtq_start(&vq, &mem, VIRTQ_MAX_SIZE, features) < 0)
		diag("virtq_start failed");
}

static int pop(void)
{
	return virtq_pop(&vq, &ch, iov, VIRTQ_MAX_CHAIN_DESCS);
}

/* Publish head and expect the pop to fail with want, leaving vq broken. */
static int rejects(uint16_t head, int want)
{
	vqd_publish(&drv, head);
	int r = pop();
	if (r != want)
		diag("pop returned %d, wanted %d", r, want);
	return r == want && vq.broken && pop() == -EIO;
}

static void basic(void)
{
	uint32_t id, len;

	fresh(8, 0);
	ok(pop() == 0, "empty ring pops nothing");
	vqd_desc(&drv, 3, DATA, 16, VIRTQ_DESC_F_NEXT, 5);
	vqd_desc(&drv, 5, DATA + 4096, 100, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(&drv, 3);
	ok(pop() == 1 && ch.head == 3 && ch.nout == 1 && ch.nin == 1 && ch.out_bytes == 16 &&
	       ch.in_bytes == 100 && iov[0].iov_base == gpa_to_hva(&mem, DATA, 16) &&
	       iov[1].iov_base == gpa_to_hva(&mem, DATA + 4096, 100) && iov[1].iov_len == 100,
	   "readable + writable chain pops into iovecs");
	ok(pop() == 0, "and the ring is empty again");
	ok(virtq_push(&vq, 3, 42) == 0 && vqd_take_used(&drv, &id, &len) && id == 3 && len == 42,
	   "push publishes a used entry");
	ok(virtq_push(&vq, 8, 0) == -EINVAL && vqd_used_idx(&drv) == 1,
	   "push of a bad head refused");

	/* Several used entries behind one used->idx update. */
	uint16_t heads[3] = { 1, 2, 8 };
	uint32_t lens[3] = { 10, 20, 30 };
	ok(virtq_push_many(&vq, heads, lens, 3) == -EINVAL && vqd_used_idx(&drv) == 1,
	   "push_many with one bad head publishes nothing");
	heads[2] = 4;
	ok(virtq_push_many(&vq, heads, lens, 3) == 0 && vqd_used_idx(&drv) == 4 &&
	       vqd_take_used(&drv, &id, &len) && id == 1 && len == 10 &&
	       vqd_take_used(&drv, &id, &len) && id == 2 && len == 20 &&
	       vqd_take_used(&drv, &id, &len) && id == 4 && len == 30,
	   "push_many publishes its entries in order at once");

	vqd_desc(&drv, 0, DATA, 8, 0, 0);
	vqd_publish(&drv, 0);
	ok(pop() == 1 && ch.head == 0, "pop");
	virtq_unpop(&vq);
	ok(pop() == 1 && ch.head == 0 && pop() == 0, "unpop gives the same chain back once");

	vqd_desc(&drv, 0, 0xdeadbeef000ULL, 0, VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(&drv, 1, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(&drv, 0);
	ok(pop() == 1 && ch.nout == 0 && ch.nin == 1,
	   "zero-length descriptor skipped, address unused");

	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(&drv, 1, DATA, 8, VIRTQ_DESC_F_NEXT, 2);
	vqd_desc(&drv, 2, DATA, 8, 0, 0);
	vqd_publish(&drv, 0);
	ok(virtq_pop(&vq, &ch, iov, 2) == -E2BIG && vq.broken, "more buffers than iov_cap refused");
	ok(virtq_push(&vq, 0, 0) == -EINVAL, "a broken queue takes no used entries");
	virtq_reset(&vq);
	ok(pop() == 0 && !vq.broken, "reset clears broken (and unstarts the queue)");
}

static void bad_indices(void)
{
	fresh(8, 0);
	vqd_set_avail_idx(&drv, 9);
	ok(pop() == -EINVAL && vq.broken && pop() == -EIO, "avail idx jumping by more than size");
	fresh(8, 0);
	vqd_set_avail_idx(&drv, 0xffff);
	ok(pop() == -EINVAL && vq.broken, "avail idx jumping backwards");
	fresh(8, 0);
	ok(rejects(8, -EINVAL), "head index == size");
	fresh(8, 0);
	ok(rejects(0xffff, -EINVAL), "head index 65535");
	fresh(8, 0);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 8);
	ok(rejects(0, -EINVAL), "next index == size");
	fresh(8, 0);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	ok(rejects(0, -ELOOP), "descriptor chained to itself");
	fresh(8, 0);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(&drv, 1, DATA, 8, VIRTQ_DESC_F_NEXT, 2);
	vqd_desc(&drv, 2, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	ok(rejects(0, -ELOOP), "three-descriptor loop");
	fresh(8, 0);
	for (unsigned i = 0; i < 8; i++)
		vqd_desc(&drv, i, DATA, 8, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	vqd_publish(&drv, 0);
	ok(pop() == 1 && ch.nout == 8, "chain using the whole table accepted");
	fresh(8, 0);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(&drv, 1, DATA, 8, 0, 0);
	ok(rejects(0, -EINVAL), "readable after writable");
	fresh(8, 0);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(&drv, 1, 0, 0, 0, 0);
	ok(rejects(0, -EINVAL), "zero-length readable after writable");
}

static void bad_addresses(void)
{
	uint64_t end = guest_mem_end(&mem);

	fresh(8, 0);
	vqd_desc(&drv, 0, end, 1, 0, 0);
	ok(rejects(0, -EFAULT), "buffer just past guest RAM");
	fresh(8, 0);
	vqd_desc(&drv, 0, end - 8, 16, 0, 0);
	ok(rejects(0, -EFAULT), "buffer crossing the end of guest RAM");
	fresh(8, 0);
	vqd_desc(&drv, 0, UINT64_MAX - 7, 16, VIRTQ_DESC_F_WRITE, 0);
	ok(rejects(0, -EFAULT), "gpa + len overflows 64 bits");
	fresh(8, 0);
	vqd_desc(&drv, 0, DATA, UINT32_MAX, VIRTQ_DESC_F_WRITE, 0);
	ok(rejects(0, -E2BIG), "4 GiB - 1 length");
	fresh(8, 0);
	vqd_desc(&drv, 0, 1ULL << 40, 4096, 0, 0);
	ok(rejects(0, -EFAULT), "buffer far above RAM");
}

static void limits(void)
{
	uint32_t two_mib = 2U << 20;
	unsigned n = VIRTQ_MAX_CHAIN_BYTES / two_mib;

	/* Buffers may overlap: n descriptors all naming the same 2 MiB. */
	fresh(128, 0);
	for (unsigned i = 0; i < n; i++)
		vqd_desc(&drv, i, DATA, two_mib, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
	vqd_publish(&drv, 0);
	ok(pop() == 1 && ch.out_bytes == VIRTQ_MAX_CHAIN_BYTES, "chain of exactly the byte cap");
	vqd_desc(&drv, n - 1, DATA, two_mib, VIRTQ_DESC_F_NEXT, (uint16_t)n);
	vqd_desc(&drv, n, DATA, 1, 0, 0);
	ok(rejects(0, -E2BIG), "one byte over the cap");

	fresh(VIRTQ_MAX_SIZE, 0);
	for (unsigned i = 0; i < VIRTQ_MAX_CHAIN_DESCS + 1; i++)
		vqd_desc(&drv, i, DATA, 8, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	vqd_desc(&drv, VIRTQ_MAX_CHAIN_DESCS - 1, DATA, 8, 0, 0);
	vqd_publish(&drv, 0);
	ok(pop() == 1 && ch.nout == VIRTQ_MAX_CHAIN_DESCS, "max queue size: chain at the limit");
	vqd_desc(&drv, VIRTQ_MAX_CHAIN_DESCS - 1, DATA, 8, VIRTQ_DESC_F_NEXT,
		 VIRTQ_MAX_CHAIN_DESCS);
	vqd_desc(&drv, VIRTQ_MAX_CHAIN_DESCS, DATA, 8, 0, 0);
	ok(rejects(0, -ELOOP), "max queue size: one descriptor over the limit");

	fresh(1, 0);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 3; i++) {
		vqd_publish(&drv, 0);
		if (pop() != 1 || virtq_push(&vq, 0, 8) != 0)
			break;
	}
	ok(vqd_used_idx(&drv) == 3 && pop() == 0, "queue size 1 cycles");
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	ok(rejects(0, -ELOOP), "queue size 1: chain to itself");
}

static void wraparound(void)
{
	uint32_t id, len;
	int good = 1;

	fresh(4, 0);
	vq.last_avail = vq.used_idx = vq.signalled_used = 65534;
	drv.used_seen = 65534;
	*(uint16_t *)vqd_hva(&drv, drv.used + 2, 2) = 65534;
	vqd_set_avail_idx(&drv, 65534);
	for (unsigned i = 0; i < 4; i++) {
		vqd_desc(&drv, i, DATA + i, 1, VIRTQ_DESC_F_WRITE, 0);
		vqd_publish(&drv, (uint16_t)i);
	}
	ok(drv.avail_idx == 2, "driver's avail idx wrapped to 2");
	for (unsigned i = 0; i < 4; i++)
		good &= pop() == 1 && ch.head == i && virtq_push(&vq, ch.head, i) == 0;
	ok(good && pop() == 0, "four chains popped across the 65535 wrap");
	for (unsigned i = 0; i < 4; i++)
		good &= vqd_take_used(&drv, &id, &len) && id == i && len == i;
	ok(good && vqd_used_idx(&drv) == 2, "used entries and used idx wrapped");
	vqd_publish(&drv, 0);
	vqd_publish(&drv, 1);
	vqd_publish(&drv, 2);
	vqd_publish(&drv, 3);
	vqd_publish(&drv, 0);
	ok(pop() == -EINVAL && vq.broken, "five outstanding in a size-4 ring after the wrap");
}

static void indirect(void)
{
	fresh(8, F_IND);
	vqd_desc_at(&drv, TABLE, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 2);
	vqd_desc_at(&drv, TABLE, 2, DATA + 4096, 32, VIRTQ_DESC_F_WRITE, 0);
	vqd_desc(&drv, 1, TABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_publish(&drv, 1);
	ok(pop() == 1 && ch.head == 1 && ch.nout == 1 && ch.nin == 1 && ch.in_bytes == 32,
	   "indirect table walked from entry 0");
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	vqd_publish(&drv, 0);
	ok(pop() == 1 && ch.nout == 2 && ch.nin == 1, "direct descriptor then indirect table");

	fresh(8, 0);
	vqd_desc(&drv, 1, TABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "indirect without VIRTIO_F_INDIRECT_DESC");
	fresh(8, F_IND);
	vqd_desc(&drv, 1, TABLE, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 2);
	ok(rejects(1, -EINVAL), "INDIRECT together with NEXT");
	fresh(8, F_IND);
	vqd_desc(&drv, 1, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "zero-length indirect table");
	fresh(8, F_IND);
	vqd_desc(&drv, 1, TABLE, 40, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "indirect length not a multiple of 16");
	fresh(8, F_IND);
	vqd_desc(&drv, 1, guest_mem_end(&mem) - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EFAULT), "indirect table crossing the end of RAM");
	fresh(8, F_IND);
	vqd_desc(&drv, 1, UINT64_MAX - 15, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EFAULT), "indirect table address overflow");
	fresh(8, F_IND);
	vqd_desc(&drv, 1, TABLE, 16 * (VIRTQ_MAX_CHAIN_DESCS + 1), VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -ELOOP), "indirect table longer than the chain limit");

	fresh(8, F_IND);
	vqd_desc_at(&drv, TABLE, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_desc(&drv, 1, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "indirect table pointing at itself (nested)");
	fresh(8, F_IND);
	vqd_desc_at(&drv, TABLE, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	vqd_desc(&drv, 1, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -ELOOP), "loop inside an indirect table");
	fresh(8, F_IND);
	vqd_desc_at(&drv, TABLE, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 2);
	vqd_desc(&drv, 1, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "indirect next past the table");
	fresh(8, F_IND);
	vqd_desc_at(&drv, TABLE, 0, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vqd_desc_at(&drv, TABLE, 1, DATA, 8, 0, 0);
	vqd_desc(&drv, 1, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "indirect: readable after writable");
	fresh(8, F_IND);
	vqd_desc_at(&drv, TABLE, 0, UINT64_MAX - 3, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_desc(&drv, 1, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EFAULT), "indirect entry with an overflowing address");

	/* The descriptor table itself used as an indirect table: its entry 1
	 * is the indirect descriptor, so the walk meets a nested INDIRECT. */
	fresh(8, F_IND);
	vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	vqd_desc(&drv, 1, drv.desc, 16 * 8, VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -EINVAL), "indirect table pointing at the descriptor ring");
	/* The avail ring as a table: whatever it decodes to, no crash. */
	fresh(8, F_IND);
	vqd_desc(&drv, 1, drv.avail, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_publish(&drv, 1);
	int r = pop();
	ok(r == 1 || (r < 0 && vq.broken), "indirect table pointing at the avail ring (r=%d)", r);

	/* Limit: the indirect descriptor plus 1023 entries is exactly 1024. */
	unsigned n = VIRTQ_MAX_CHAIN_DESCS - 1;
	fresh(8, F_IND);
	for (unsigned i = 0; i < n + 1; i++)
		vqd_desc_at(&drv, TABLE, i, DATA, 8, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0,
			    (uint16_t)(i + 1));
	vqd_desc(&drv, 1, TABLE, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_publish(&drv, 1);
	ok(pop() == 1 && ch.nout == n, "indirect chain at the descriptor limit");
	vqd_desc_at(&drv, TABLE, n - 1, DATA, 8, VIRTQ_DESC_F_NEXT, (uint16_t)n);
	vqd_desc(&drv, 1, TABLE, 16 * (n + 1), VIRTQ_DESC_F_INDIRECT, 0);
	ok(rejects(1, -ELOOP), "indirect chain one over the descriptor limit");
}

/* Random rings: whatever the bytes, pops end in 1, 0 or an error, never in
 * a crash or an access outside guest RAM (ASan). */
static void garbage(void)
{
	unsigned ok_pops = 0, errors = 0;
	uint64_t end = guest_mem_end(&mem);

	srandom(1234);
	for (unsigned round = 0; round < 2000; round++) {
		uint16_t size = (uint16_t)(1U << (random() % 9));
		fresh(size, (round & 1) ? F_IND : 0);
		for (unsigned i = 0; i < size; i++) {
			uint64_t addr = (random() & 3)	 ? DATA + (uint64_t)(random() % 4096)
					: (random() & 1) ? end - (uint64_t)(random() % 64)
							 : TABLE;
			vqd_desc(&drv, i, addr, (uint32_t)(random() % 80), (uint16_t)(random() & 7),
				 (uint16_t)(random() % (size + 2)));
			vqd_desc_at(&drv, TABLE, i, addr, (uint32_t)(random() % 64),
				    (uint16_t)(random() & 7), (uint16_t)(random() % (size + 2)));
		}
		for (unsigned i = 0; i < 4; i++)
			vqd_publish(&drv, (uint16_t)(random() % (size + 1)));
		for (unsigned i = 0; i < 6; i++) {
			int r = pop();
			if (r == 1) {
				ok_pops++;
				(void)virtq_push(&vq, ch.head, 1);
			} else if (r < 0) {
				errors++;
			}
			if (r <= 0)
				break;
		}
	}
	ok(ok_pops > 0 && errors > 0, "random rings: %u chains accepted, %u rejected, no crash",
	   ok_pops, errors);
}

int main(void)
{
	tap_plan(58);
	if (!ok(guest_mem_init(&mem, 4 << 20, false) == 0, "4 MiB of synthetic guest RAM"))
		return tap_done();
	basic();
	bad_indices();
	bad_addresses();
	limits();
	wraparound();
	indirect();
	garbage();
	guest_mem_destroy(&mem);
	return tap_done();
}
