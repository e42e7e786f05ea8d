/* gen-vdev-corpus.c - writes the seed corpora of the virtqueue and virtio
 * device fuzz targets.
 *
 * Owns: seeds in the script encoding of vq-fuzz.h: for each device the
 * requests a Linux driver makes (virtio-blk reads, writes, flush, GET_ID,
 * discard and write-zeroes, and bad ones: past the capacity, unaligned,
 * unknown type; vsock connections both ways with data, credit, shutdown
 * and reset; console output and input; entropy requests), and for the
 * virtqueue target chains popped and pushed, indirect tables, long chains,
 * loops, bad heads and indices, event-idx suppression. Run:
 *   gen-vdev-corpus DIR    (writes DIR/virtqueue/..., DIR/vdev-blk/..., ...)
 * Files of the same name are overwritten. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define K_WRITE 0x01
#define K_RAW_A 0x02
#define K_RAW_L 0x04
#define K_ZERO	0x08

static const char *root;
static int failed;
static uint8_t buf[1 << 16];
static size_t len;

static void u8(unsigned v)
{
	if (len < sizeof(buf))
		buf[len++] = (uint8_t)v;
}

static void le(uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		u8((unsigned)(v >> (8 * i)));
}

static void bytes(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		u8(((const uint8_t *)p)[i]);
}

static void begin(void)
{
	len = 0;
}

static void save(const char *target, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	(void)mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen-vdev-corpus: %s: %s\n", path, strerror(errno));
		failed = 1;
	}
}

/* ---- script ops (vq-fuzz.h) ---- */

struct d {
	unsigned kind;
	uint32_t len;
	const void *data; /* readable content; NULL: zeros */
	uint64_t addr;	  /* K_RAW_A */
};

static void chain(unsigned q, bool indirect, const struct d *ds, unsigned n)
{
	u8(0);
	u8(q);
	u8(n - 1);
	u8(indirect ? 1 : 0);
	for (unsigned i = 0; i < n; i++) {
		u8(ds[i].kind);
		le(ds[i].kind & K_RAW_L ? 0 : ds[i].len, 2);
		if (ds[i].kind & K_RAW_A)
			le(ds[i].addr, 8);
		if (ds[i].kind & K_RAW_L)
			le(ds[i].len, 4);
		if (!(ds[i].kind & (K_WRITE | K_RAW_A))) {
			static const uint8_t zeros[4096];
			bytes(ds[i].data ? ds[i].data : zeros, ds[i].len);
		}
	}
}

static void kick(unsigned q)
{
	u8(6);
	u8(q);
}

static void settle(void)
{
	u8(14);
}

static void reset_dev(void)
{
	u8(12);
}

/* ---- virtio-rng ---- */

static void gen_rng(void)
{
	const char *t = "vdev-rng";

	begin();
	u8(3);
	u8(8);
	chain(0, false, (struct d[]){ { .kind = K_WRITE, .len = 64 } }, 1);
	kick(0);
	save(t, "one-buffer");

	begin();
	u8(3);
	u8(4);
	chain(0, true,
	      (struct d[]){ { .kind = K_WRITE, .len = 4096 },
			    { .kind = K_WRITE, .len = 4096 },
			    { .kind = K_WRITE, .len = 16 } },
	      3);
	chain(0, false, (struct d[]){ { .kind = 0, .len = 8 }, { .kind = K_WRITE, .len = 100 } },
	      2);
	kick(0);
	reset_dev();
	chain(
	    0, false,
	    (struct d[]){ { .kind = K_WRITE | K_ZERO, .len = 0 }, { .kind = K_WRITE, .len = 32 } },
	    2);
	kick(0);
	save(t, "indirect-reset");

	begin();
	u8(0);
	u8(2);
	chain(0, false,
	      (struct d[]){ { .kind = K_WRITE | K_RAW_A, .len = 64, .addr = 0xfffff000ull } }, 1);
	kick(0);
	save(t, "bad-address");
}

/* ---- virtio-console ---- */

static void gen_console(void)
{
	const char *t = "vdev-console";
	static const char hello[] = "hello from the guest\n";

	begin();
	u8(0);
	u8(4);
	u8(4);
	chain(1, false, (struct d[]){ { .kind = 0, .len = sizeof(hello) - 1, .data = hello } }, 1);
	kick(1);
	chain(0, false, (struct d[]){ { .kind = K_WRITE, .len = 64 } }, 1);
	chain(0, false, (struct d[]){ { .kind = K_WRITE, .len = 64 } }, 1);
	kick(0);
	u8(8); /* host: type "ls\r" */
	u8(0);
	le(3, 2);
	bytes("ls\r", 3);
	settle();
	u8(8); /* host: drain the output */
	u8(1);
	save(t, "echo");

	begin();
	u8(3);
	u8(2);
	u8(2);
	u8(8); /* input before any buffer */
	u8(0);
	le(5, 2);
	bytes("early", 5);
	chain(0, true, (struct d[]){ { .kind = K_WRITE, .len = 2 }, { .kind = K_WRITE, .len = 2 } },
	      2);
	kick(0);
	chain(1, true,
	      (struct d[]){ { .kind = 0, .len = 4, .data = "abcd" },
			    { .kind = 0, .len = 4, .data = "efgh" } },
	      2);
	kick(1);
	reset_dev();
	chain(1, false, (struct d[]){ { .kind = 0, .len = 1, .data = "x" } }, 1);
	kick(1);
	save(t, "indirect-early-input");
}

/* ---- virtio-blk ---- */

struct blkhdr {
	uint32_t type, ioprio;
	uint64_t sector;
};

static void blkreq(uint32_t type, uint64_t sector, unsigned data_kind, uint32_t data_len,
		   const void *data)
{
	struct blkhdr h = { type, 0, sector };

	if (data_len)
		chain(0, false,
		      (struct d[]){ { .kind = 0, .len = sizeof(h), .data = &h },
				    { .kind = data_kind, .len = data_len, .data = data },
				    { .kind = K_WRITE, .len = 1 } },
		      3);
	else
		chain(0, false,
		      (struct d[]){ { .kind = 0, .len = sizeof(h), .data = &h },
				    { .kind = K_WRITE, .len = 1 } },
		      2);
}

static void gen_blk(void)
{
	const char *t = "vdev-blk";
	static uint8_t sector[512];
	struct {
		uint64_t sector;
		uint32_t n, flags;
	} range = { 8, 8, 0 }, zr = { 16, 8, 1 };

	memset(sector, 0x5a, sizeof(sector));
	begin();
	u8(0);	  /* read-write, one queue */
	u8(0xff); /* every feature */
	u8(6);
	blkreq(1, 8, 0, 512, sector);		 /* write */
	blkreq(0, 8, K_WRITE, 512, NULL);	 /* read */
	blkreq(4, 0, 0, 0, NULL);		 /* flush */
	blkreq(8, 0, K_WRITE, 20, NULL);	 /* GET_ID */
	blkreq(11, 0, 0, sizeof(range), &range); /* discard */
	blkreq(13, 0, 0, sizeof(zr), &zr);	 /* write zeroes, unmap */
	kick(0);
	settle();
	save(t, "every-type");

	begin();
	u8(0);
	u8(0xff);
	u8(4);
	blkreq(0, 2047, K_WRITE, 1024, NULL); /* runs past the end */
	blkreq(1, 0, 0, 100, sector);	      /* not a multiple of 512 */
	blkreq(99, 0, 0, 0, NULL);	      /* unknown type */
	blkreq(0, ~0ull, K_WRITE, 512, NULL); /* sector overflow */
	chain(0, false, (struct d[]){ { .kind = 0, .len = 8, .data = sector } },
	      1); /* no status byte */
	kick(0);
	settle();
	save(t, "bad-requests");

	begin();
	u8(1); /* read-only */
	u8(0xff);
	u8(4);
	blkreq(1, 8, 0, 512, sector);
	blkreq(11, 0, 0, sizeof(range), &range);
	kick(0);
	settle();
	save(t, "readonly");

	begin();
	u8(2 << 1); /* three queues */
	u8(0xff);
	u8(3);
	u8(3);
	u8(3);
	for (int q = 0; q < 3; q++) {
		struct blkhdr h = { 0, 0, (uint64_t)q * 64 };
		chain((unsigned)q, true,
		      (struct d[]){ { .kind = 0, .len = sizeof(h), .data = &h },
				    { .kind = K_WRITE, .len = 4096 },
				    { .kind = K_WRITE, .len = 4096 },
				    { .kind = K_WRITE, .len = 1 } },
		      4);
		kick((unsigned)q);
	}
	settle();
	save(t, "multiqueue-indirect");
}

/* ---- virtio-vsock ---- */

enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQ };

static void vhdr(uint8_t out[44], uint32_t src_port, uint32_t dst_port, uint32_t len, uint16_t op,
		 uint32_t flags, uint32_t fwd)
{
	uint8_t *p = out;

	memset(out, 0, 44);
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(3ull >> (8 * i)); /* src_cid 3 */
	p[8] = 2;				   /* dst_cid 2 */
	memcpy(p + 16, &src_port, 4);
	memcpy(p + 20, &dst_port, 4);
	memcpy(p + 24, &len, 4);
	p[28] = 1; /* stream */
	memcpy(p + 30, &op, 2);
	memcpy(p + 32, &flags, 4);
	uint32_t alloc = 65536;
	memcpy(p + 36, &alloc, 4);
	memcpy(p + 40, &fwd, 4);
}

static void vpkt(uint32_t sport, uint32_t dport, uint16_t op, uint32_t flags, const char *payload,
		 uint32_t fwd)
{
	uint8_t h[44];
	uint32_t n = payload ? (uint32_t)strlen(payload) : 0;

	vhdr(h, sport, dport, n, op, flags, fwd);
	if (n)
		chain(1, false,
		      (struct d[]){ { .kind = 0, .len = 44, .data = h },
				    { .kind = 0, .len = n, .data = payload } },
		      2);
	else
		chain(1, false, (struct d[]){ { .kind = 0, .len = 44, .data = h } }, 1);
}

static void rxbufs(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		chain(0, false,
		      (struct d[]){ { .kind = K_WRITE, .len = 44 },
				    { .kind = K_WRITE, .len = 4096 } },
		      2);
	kick(0);
}

static void gen_vsock(void)
{
	const char *t = "vdev-vsock";

	/* The guest connects to the host listener (port 1024), talks, closes. */
	begin();
	u8(0);
	u8(5);
	u8(5);
	u8(2);
	rxbufs(8);
	vpkt(5000, 1024, OP_REQUEST, 0, NULL, 0);
	kick(1);
	u8(8);
	u8(6); /* host: accept */
	vpkt(5000, 1024, OP_RW, 0, "hello host", 0);
	kick(1);
	u8(8);
	u8(2); /* host: send */
	u8(0);
	le(5, 2);
	bytes("hi vm", 5);
	rxbufs(4);
	vpkt(5000, 1024, OP_CREDIT_REQ, 0, NULL, 5);
	vpkt(5000, 1024, OP_CREDIT_UPDATE, 0, NULL, 5);
	kick(1);
	vpkt(5000, 1024, OP_SHUTDOWN, 3, NULL, 5);
	kick(1);
	rxbufs(4);
	vpkt(5000, 1024, OP_RST, 0, NULL, 5);
	kick(1);
	save(t, "guest-connects");

	/* A host client asks for guest port 1234; the guest answers. */
	begin();
	u8(3);
	u8(5);
	u8(5);
	u8(2);
	rxbufs(8);
	u8(8);
	u8(0); /* host: connect, CONNECT 1234 */
	u8(0);
	le(1234, 4);
	rxbufs(2);
	vpkt(1234, 0x40000000u, OP_RESPONSE, 0, NULL, 0);
	vpkt(1234, 0x40000000u, OP_RW, 0, "from the guest", 0);
	kick(1);
	u8(8);
	u8(3); /* host: a big send */
	u8(0);
	rxbufs(8);
	u8(8);
	u8(4); /* host: half-close */
	u8(0);
	rxbufs(2);
	u8(8);
	u8(7); /* time passes */
	save(t, "host-connects");

	/* Packets for nobody, bad headers, a bad CONNECT line. */
	begin();
	u8(0);
	u8(4);
	u8(4);
	u8(2);
	rxbufs(4);
	vpkt(7, 9999, OP_RW, 0, "nobody", 0);
	vpkt(7, 1024, 99, 0, NULL, 0);
	chain(1, false, (struct d[]){ { .kind = 0, .len = 20, .data = "short header......." } }, 1);
	kick(1);
	u8(8);
	u8(1); /* host: raw line */
	u8(0);
	u8(12);
	bytes("CONNECT x\n\n\n", 12);
	u8(8);
	u8(6);
	save(t, "hostile");
}

/* ---- virtqueue ---- */

static void pop(void)
{
	u8(6);
}

static void push(uint16_t head, uint32_t l)
{
	u8(9);
	le(head, 2);
	le(l, 4);
}

static void gen_virtqueue(void)
{
	const char *t = "virtqueue";

	begin();
	u8(4);
	u8(3);
	chain(0, false,
	      (struct d[]){ { .kind = 0, .len = 16 },
			    { .kind = K_WRITE, .len = 512 },
			    { .kind = K_WRITE, .len = 1 } },
	      3);
	chain(0, true,
	      (struct d[]){ { .kind = 0, .len = 16 },
			    { .kind = K_ZERO, .len = 0 },
			    { .kind = K_WRITE, .len = 4096 } },
	      3);
	pop();
	pop();
	push(0, 513);
	push(3, 4096);
	u8(13); /* notify fields + should_signal */
	u8(0);
	le(0, 2);
	le(1, 2);
	u8(12);
	u8(1);
	pop();
	save(t, "direct-indirect");

	begin();
	u8(8);
	u8(1);
	struct d many[32];
	for (int i = 0; i < 32; i++)
		many[i] = (struct d){ .kind = i < 16 ? 0 : K_WRITE, .len = 64 };
	chain(0, false, many, 32);
	chain(0, true, many, 32);
	pop();
	pop();
	u8(10); /* push_many */
	u8(2);
	le(0, 2);
	le(0, 4);
	le(32, 2);
	le(2048, 4);
	save(t, "long-chains");

	begin();
	u8(3);
	u8(1);
	/* a loop: descriptor 0 -> 1 -> 0 */
	u8(3);
	le(0, 2);
	le(0x100000, 8);
	le(16, 4);
	le(1, 2);
	le(1, 2);
	u8(3);
	le(1, 2);
	le(0x100100, 8);
	le(16, 4);
	le(1, 2);
	le(0, 2);
	u8(4);
	le(0, 2);
	pop();
	save(t, "loop");

	begin();
	u8(2);
	u8(0);
	u8(4); /* a head past the table */
	le(7, 2);
	pop();
	u8(15); /* reset, start again */
	u8(1);
	u8(5); /* an avail index far ahead */
	le(100, 2);
	pop();
	u8(14); /* a bad ring configuration */
	le(3, 2);
	le(256, 2);
	u8(0);
	le(0x1008, 3);
	u8(0);
	le(0x2000, 3);
	u8(0);
	le(0x3000, 3);
	save(t, "bad-indices");

	begin();
	u8(4);
	u8(2);
	for (int i = 0; i < 6; i++)
		chain(0, false, (struct d[]){ { .kind = K_WRITE, .len = 32 } }, 1);
	for (int i = 0; i < 6; i++) {
		pop();
		push((uint16_t)i, 32);
		u8(13);
		u8(0);
		le(0, 2);
		le(3, 2);
	}
	u8(12);
	u8(0);
	u8(12);
	u8(1);
	u8(11); /* unpop */
	pop();
	u8(8); /* pop with a small iovec array */
	u8(0);
	save(t, "event-idx");

	/* Buffers that end exactly at, and one byte past, the end of guest RAM
	 * (4 MiB, FZ_RAM in vq-fuzz.h): the first is fine, the second is not. */
	begin();
	u8(4);
	u8(1);
	chain(0, false, (struct d[]){ { .kind = K_RAW_A, .len = 16, .addr = (4u << 20) - 16 } }, 1);
	chain(0, false, (struct d[]){ { .kind = K_RAW_A, .len = 16, .addr = (4u << 20) - 15 } }, 1);
	pop();
	pop();
	save(t, "ram-end");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-vdev-corpus DIR\n");
		return 2;
	}
	root = argv[1];
	gen_virtqueue();
	gen_rng();
	gen_console();
	gen_blk();
	gen_vsock();
	return failed;
}
