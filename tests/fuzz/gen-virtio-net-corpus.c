/* gen-virtio-net-corpus.c - writes the seed corpus of the virtio-net fuzz
 * target.
 *
 * Owns: the seed files in tests/fuzz/corpus/virtio-net/: well-formed
 * transmit and receive traffic (plain, TSO, indirect, mergeable, event idx)
 * and the hostile cases the device must survive (short header, descriptor
 * loop, wrong direction, oversized chain, bad avail idx, bad receive
 * buffers, a host frame too big for the ring, an empty host frame).
 * Run: gen-virtio-net-corpus DIR (files of the same name are overwritten). */
#include "fuzz-virtio-net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;
static int failed;

struct seed {
	uint16_t features;
	uint8_t tx_log2, rx_log2;
	uint16_t tx_avail, rx_avail;
	unsigned nframes;
	uint8_t frames[FZN_MAX_FRAMES][2048];
	uint16_t frame_len[FZN_MAX_FRAMES];
	uint8_t ram[FZN_WINDOW];
	size_t ram_used; /* bytes of ram to write */
};

static struct seed s;

static void reset(uint16_t features)
{
	memset(&s, 0, sizeof(s));
	s.features = features;
	s.tx_log2 = s.rx_log2 = 4; /* 16 entries */
	s.ram_used = FZN_DATA;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void desc(uint32_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	uint8_t *p = s.ram + table + 16 * i;

	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)(addr >> (8 * k));
	for (int k = 0; k < 4; k++)
		p[8 + k] = (uint8_t)(len >> (8 * k));
	put16(p + 12, flags);
	put16(p + 14, next);
}

static void avail(uint32_t ring, uint16_t *idx, uint16_t head)
{
	put16(s.ram + ring + 4 + 2 * *idx, head);
	(*idx)++;
}

/* A 12-byte header and an Ethernet frame of len bytes at gpa. */
static void packet(uint32_t gpa, uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cstart,
		   uint16_t coff, uint32_t len)
{
	uint8_t *p = s.ram + gpa;

	p[0] = flags;
	p[1] = gso;
	put16(p + 4, gso_size);
	put16(p + 6, cstart);
	put16(p + 8, coff);
	memset(p + 12, 0xff, 6);
	memcpy(p + 18, "\x02\x00\x00\x00\x00\x01\x08\x00\x45", 9);
	for (uint32_t i = 27; i < 12 + len; i++)
		p[i] = (uint8_t)i;
	if (gpa + 12 + len > s.ram_used)
		s.ram_used = gpa + 12 + len;
}

static void host_frame(uint8_t gso, uint8_t flags, uint16_t len)
{
	uint8_t *p = s.frames[s.nframes];

	memset(p, 0, 12 + len);
	p[0] = flags;
	p[1] = gso;
	put16(p + 4, gso ? 1448 : 0);
	put16(p + 6, flags ? 34 : 0);
	put16(p + 8, flags ? 16 : 0);
	for (uint16_t i = 12; i < 12 + len; i++)
		p[i] = (uint8_t)(i * 3);
	s.frame_len[s.nframes++] = (uint16_t)(12 + len);
}

static void save(const char *name)
{
	char path[4096];
	uint8_t hdr[9];
	FILE *f;

	put16(hdr, s.features);
	hdr[2] = s.tx_log2;
	hdr[3] = s.rx_log2;
	put16(hdr + 4, s.tx_avail);
	put16(hdr + 6, s.rx_avail);
	hdr[8] = (uint8_t)s.nframes;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	int bad = !f || fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr);
	for (unsigned i = 0; !bad && i < s.nframes; i++) {
		uint8_t l[2];
		put16(l, s.frame_len[i]);
		bad = fwrite(l, 1, 2, f) != 2 ||
		      fwrite(s.frames[i], 1, s.frame_len[i], f) != s.frame_len[i];
	}
	if (!bad)
		bad = fwrite(s.ram, 1, s.ram_used, f) != s.ram_used;
	if (f && fclose(f) != 0)
		bad = 1;
	if (bad) {
		fprintf(stderr, "gen-virtio-net-corpus: cannot write %s\n", path);
		failed = 1;
	}
}

/* count receive chains of len bytes each, from DATA + 0x8000 (past what
 * the seed holds: the device writes there). */
static void rx_buffers(unsigned count, uint32_t len)
{
	for (unsigned i = 0; i < count; i++) {
		uint32_t gpa = FZN_DATA + 0x8000 + i * 0x800;
		desc(FZN_RX_DESC, i, gpa, len, 2 /* WRITE */, 0);
		avail(FZN_RX_AVAIL, &s.rx_avail, (uint16_t)i);
	}
}

#define ALL_OFFLOADS                                                                               \
	(FZN_F_CSUM | FZN_F_GUEST_CSUM | FZN_F_GUEST_TSO4 | FZN_F_GUEST_TSO6 | FZN_F_GUEST_ECN |   \
	 FZN_F_HOST_TSO4 | FZN_F_HOST_TSO6 | FZN_F_HOST_ECN)

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-virtio-net-corpus DIR\n");
		return 2;
	}
	dir = argv[1];

	reset(0);
	packet(FZN_DATA, 0, 0, 0, 0, 0, 60);
	desc(FZN_TX_DESC, 0, FZN_DATA, 72, 0, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-plain");

	reset(ALL_OFFLOADS | FZN_F_INDIRECT | FZN_F_MRG_RXBUF);
	packet(FZN_DATA, 1, 1, 1448, 34, 16, 3000);
	desc(FZN_TX_DESC, 0, FZN_DATA + 0xc00, 48, 4 /* INDIRECT */, 0);
	desc(FZN_DATA + 0xc00, 0, FZN_DATA, 12, 1, 1);
	desc(FZN_DATA + 0xc00, 1, FZN_DATA + 12, 1000, 1, 2);
	desc(FZN_DATA + 0xc00, 2, FZN_DATA + 1012, 2000, 0, 0);
	s.ram_used = FZN_DATA + 0xc00 + 48;
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-tso4-indirect");

	reset(ALL_OFFLOADS | FZN_F_EVENT_IDX);
	packet(FZN_DATA, 1, 4 | 0x80, 1428, 54, 16, 1500);
	desc(FZN_TX_DESC, 0, FZN_DATA, 12, 1, 1);
	desc(FZN_TX_DESC, 1, FZN_DATA + 12, 1500, 0, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-tso6-ecn-event-idx");

	reset(0);
	desc(FZN_TX_DESC, 0, FZN_DATA, 8, 0, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-short-header");

	reset(0);
	packet(FZN_DATA, 0, 0, 0, 0, 0, 60);
	desc(FZN_TX_DESC, 0, FZN_DATA, 40, 1, 1);
	desc(FZN_TX_DESC, 1, FZN_DATA + 40, 32, 1, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-loop");

	reset(0);
	packet(FZN_DATA, 0, 0, 0, 0, 0, 60);
	desc(FZN_TX_DESC, 0, FZN_DATA, 72, 2 /* WRITE */, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-wrong-direction");

	reset(0);
	packet(FZN_DATA, 0, 0, 0, 0, 0, 60);
	desc(FZN_TX_DESC, 0, FZN_DATA, 70000, 0, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-over-64k");

	reset(FZN_F_CSUM);
	packet(FZN_DATA, 1, 0, 0, 60, 10, 60);
	desc(FZN_TX_DESC, 0, FZN_DATA, 72, 0, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	save("tx-csum-past-frame");

	reset(0);
	s.tx_avail = 0x8000;
	save("tx-bad-avail-idx");

	reset(ALL_OFFLOADS | FZN_F_MRG_RXBUF);
	rx_buffers(8, 1536);
	host_frame(1, 1, 1990);
	host_frame(0, 0, 60);
	save("rx-mergeable");

	reset(FZN_F_GUEST_CSUM | FZN_F_EVENT_IDX);
	rx_buffers(2, 1536);
	host_frame(0, 2, 100);
	host_frame(0, 0, 200);
	host_frame(0, 0, 300);
	save("rx-event-idx-wait");

	reset(0);
	rx_buffers(2, 100);
	host_frame(0, 0, 200);
	save("rx-buffer-too-small");

	reset(FZN_F_MRG_RXBUF);
	rx_buffers(2, 1536);
	desc(FZN_RX_DESC, 0, FZN_DATA + 0x8000, 64, 1 /* NEXT, readable */, 1);
	desc(FZN_RX_DESC, 1, FZN_DATA + 0x9000, 1536, 2, 0);
	host_frame(0, 0, 100);
	save("rx-readable-buffer");

	reset(FZN_F_MRG_RXBUF);
	s.rx_log2 = 1;
	rx_buffers(2, 16);
	host_frame(0, 0, 1990);
	save("rx-frame-too-big-for-ring");

	reset(FZN_F_MRG_RXBUF);
	rx_buffers(1, 1536);
	host_frame(1, 1, 100);	      /* TSO without GUEST_TSO4 */
	s.frame_len[s.nframes++] = 0; /* an empty message: the backend hangs up */
	save("rx-bad-header-then-empty");

	reset(ALL_OFFLOADS | FZN_F_MRG_RXBUF | FZN_F_FOLD);
	packet(FZN_DATA, 0, 0, 0, 0, 0, 60);
	desc(FZN_TX_DESC, 0, FZN_DATA, 72, 0, 0);
	avail(FZN_TX_AVAIL, &s.tx_avail, 0);
	rx_buffers(4, 1536);
	host_frame(0, 0, 1000);
	save("both-ways-folded");
	return failed;
}
