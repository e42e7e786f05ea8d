/* fuzz-virtqueue.c - a fuzz target for the split-virtqueue chain walker.
 *
 * Owns: LLVMFuzzerTestOneInput, which turns arbitrary bytes into a queue
 * configuration plus raw ring and table contents in synthetic guest RAM,
 * then pops, pushes and signals as a device would, checking that every
 * iovec handed out lies inside guest RAM. Built two ways:
 *
 *  - as a unit test (tests/meson.build): main() below replays the files
 *    named on the command line, or a fixed set of pseudo-random inputs;
 *  - as a libFuzzer binary:
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined -DKVRUN_LIBFUZZER \
 *        -D_GNU_SOURCE -Ivmm -Ivmm/virtio -Icommon -Itests \
 *        tests/fuzz/fuzz-virtqueue.c vmm/virtio/virtqueue.c vmm/memory.c \
 *        -o fuzz-virtqueue && ./fuzz-virtqueue
 *
 * Input layout: byte 0 = log2(queue size) (mod 9), byte 1 = flags (bit 0
 * INDIRECT_DESC, bit 1 EVENT_IDX, bit 2 fold descriptor addresses into
 * RAM so the walk gets past the address check), bytes 2-3 = avail idx, the
 * rest = the first bytes of guest RAM, where the rings and tables live. */
#include "memory.h"
#include "virtio.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM	 (2ULL << 20)
#define WINDOW	 (64ULL << 10) /* input bytes land in [0, WINDOW) */
#define DESC_GPA 0x0ULL
#define AVAIL	 0x1000ULL
#define USED	 0x2000ULL

static struct guest_mem mem;
static struct iovec iov[VIRTQ_MAX_CHAIN_DESCS];

static void check_iov(const struct virtq_chain *c)
{
	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		const uint8_t *p = c->iov[i].iov_base;
		if (p < mem.base || c->iov[i].iov_len > RAM ||
		    p + c->iov[i].iov_len > mem.base + RAM)
			abort(); /* an iovec outside guest RAM: the walker is wrong */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtqueue vq = { 0 };
	struct virtq_chain c;

	if (!mem.base && guest_mem_init(&mem, RAM, false) < 0)
		abort();
	if (size < 4)
		return 0;
	uint16_t qsize = (uint16_t)(1U << (data[0] % 9));
	uint8_t flags = data[1];
	uint16_t avail_idx;
	memcpy(&avail_idx, data + 2, 2);
	data += 4;
	size -= 4;

	memset(mem.base, 0, WINDOW);
	memcpy(mem.base, data, size < WINDOW ? size : WINDOW);
	if (flags & 4) {
		for (unsigned i = 0; i < qsize; i++) {
			uint64_t a;
			memcpy(&a, mem.base + DESC_GPA + 16 * i, 8);
			a %= RAM + 8192;
			memcpy(mem.base + DESC_GPA + 16 * i, &a, 8);
		}
	}
	memcpy(mem.base + AVAIL + 2, &avail_idx, 2);

	vq.size = qsize;
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL;
	vq.used_gpa = USED;
	vq.enabled = true;
	uint64_t features = ((flags & 1) ? 1ULL << VIRTIO_F_INDIRECT_DESC : 0) |
			    ((flags & 2) ? 1ULL << VIRTIO_F_EVENT_IDX : 0);
	if (virtq_start(&vq, &mem, 256, features) < 0)
		abort();
	for (unsigned i = 0; i < 2U * qsize + 2; i++) {
		virtq_notify_disable(&vq);
		int r = virtq_pop(&vq, &c, iov, VIRTQ_MAX_CHAIN_DESCS);
		if (r <= 0)
			break;
		check_iov(&c);
		if (c.out_bytes + (uint64_t)c.in_bytes > VIRTQ_MAX_CHAIN_BYTES)
			abort();
		(void)virtq_push(&vq, c.head, c.in_bytes);
		(void)virtq_should_signal(&vq);
		(void)virtq_notify_enable(&vq);
	}
	return 0;
}

#ifndef KVRUN_LIBFUZZER
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint8_t next_byte(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)rng_state;
}

int main(int argc, char **argv)
{
	static uint8_t buf[WINDOW + 4];
	unsigned runs = 0;

	printf("1..1\n");
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rbe");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		runs++;
	}
	if (argc < 2) {
		/* Random rings, biased toward small indices and folded addresses
		 * so that many walks get deep. */
		for (unsigned i = 0; i < 3000; i++) {
			size_t n = 4 + (size_t)(next_byte() % 8) * 512;
			for (size_t k = 0; k < n; k++)
				buf[k] = next_byte();
			buf[1] |= 4;
			for (size_t k = 4 + 12; k < n && k < 4 + 4096; k += 16) {
				buf[k] &= 7;	 /* flags: NEXT / WRITE / INDIRECT */
				buf[k + 2] %= 9; /* next index */
				buf[k + 3] = 0;
				buf[k - 2] = buf[k - 1] = 0; /* len < 64 KiB */
			}
			LLVMFuzzerTestOneInput(buf, n);
			runs++;
		}
	}
	printf("ok 1 - %u inputs ran without a crash or a stray iovec\n", runs);
	guest_mem_destroy(&mem);
	return 0;
}
#endif
