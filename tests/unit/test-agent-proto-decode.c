/* Unit tests for agent-proto/'s payload decoder on hostile input: hand-made
 * malformed fields (bad lengths, counts beyond the payload or the limit,
 * NUL in strings, duplicates, missing required fields, critical unknown
 * fields), payloads cut at every byte, random garbage and mutated valid
 * payloads. Every decode runs on an exact-size heap copy, so ASan reports
 * any read outside the input; LeakSanitizer reports any leak. */
#include "fuzz/kvap-samples.h"
#include "kvap.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct b {
	uint8_t d[1 << 16];
	size_t n;
};

static void put(struct b *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put32(struct b *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put(b, x, 4);
}

static void field(struct b *b, uint16_t tag, const void *v, uint32_t len)
{
	uint8_t t[2] = { (uint8_t)tag, (uint8_t)(tag >> 8) };
	put(b, t, 2);
	put32(b, len);
	put(b, v, len);
}

static void field_b(struct b *b, uint16_t tag, const struct b *inner)
{
	field(b, tag, inner->d, (uint32_t)inner->n);
}

/* Decode an exact-size copy; on success re-encode and compare, then free. */
static int dec(uint16_t type, const uint8_t *p, size_t n)
{
	union kvap_body body, again;
	uint8_t *copy = malloc(n ? n : 1), *enc;
	size_t len;
	int r;

	memcpy(copy, p, n);
	r = kvap_msg_decode(type, copy, n, &body, NULL);
	free(copy);
	if (r < 0)
		return r;
	enc = malloc(n + 1);
	if (kvap_msg_encode(type, &body, enc, n + 1, &len, NULL) < 0 ||
	    kvap_msg_decode(type, enc, len, &again, NULL) < 0)
		r = -EFAULT; /* a decoded body must always re-encode */
	else if (!kvap_msg_equal(type, &body, &again))
		r = -EFAULT;
	else
		kvap_msg_free(type, &again);
	kvap_msg_free(type, &body);
	free(enc);
	return r;
}

static int decb(uint16_t type, const struct b *b)
{
	return dec(type, b->d, b->n);
}

static void field_rules(void)
{
	struct b b = { .n = 0 };

	field(&b, 1, "abc", 3);
	ok(decb(KVAP_MSG_START, &b) == 0, "valid START");
	b.n = 0;
	field(&b, 1, "a\0b", 3);
	ok(decb(KVAP_MSG_START, &b) == -EBADMSG, "NUL inside a string");
	b.n = 0;
	field(&b, 1, "abc", 3);
	b.d[2] = 100;
	ok(decb(KVAP_MSG_START, &b) == -EBADMSG, "field length beyond the payload");
	b.d[2] = 3;
	put(&b, "xyz", 3);
	ok(decb(KVAP_MSG_START, &b) == -EBADMSG, "3 stray bytes after the last field");
	field(&b, 1, "abc", 3);
	b.n -= 12;
	field(&b, 1, "abc", 3);
	ok(decb(KVAP_MSG_START, &b) == -EBADMSG, "the same field twice");
	b.n = 0;
	ok(decb(KVAP_MSG_START, &b) == -EBADMSG, "required field missing");
	static char big[KVAP_MAX_ID + 1];
	memset(big, 'x', sizeof(big));
	field(&b, 1, big, sizeof(big));
	ok(decb(KVAP_MSG_START, &b) == -EBADMSG, "string one byte over its limit");
	b.n = 0;
	field(&b, 1, big, sizeof(big) - 1);
	ok(decb(KVAP_MSG_START, &b) == 0, "string at its limit");
	b.n = 0;
	field(&b, 0x42, "zz", 2);
	field(&b, 0, "", 0);
	field(&b, 1, "abc", 3);
	ok(decb(KVAP_MSG_START, &b) == 0, "unknown fields are skipped");
	field(&b, 0x8042, "zz", 2);
	ok(decb(KVAP_MSG_START, &b) == -EOPNOTSUPP, "unknown critical field: -EOPNOTSUPP");
	b.n = 0;
	field(&b, 0x8001, "abc", 3);
	ok(decb(KVAP_MSG_START, &b) == 0, "critical bit on a known field is fine");

	b.n = 0;
	field(&b, 2, "\x0f\0\0", 3);
	ok(decb(KVAP_MSG_SIGNAL, &b) == -EBADMSG, "3 bytes for a u32");
	b.n = 0;
	field(&b, 2, "\x0f\0\0\0", 4);
	field(&b, 3, "\x02", 1);
	ok(decb(KVAP_MSG_SIGNAL, &b) == -EBADMSG, "boolean 2");
	b.n = 0;
	field(&b, 2, "\x0f\0\0\0", 4);
	field(&b, 3, "\x01\x00", 2);
	ok(decb(KVAP_MSG_SIGNAL, &b) == -EBADMSG, "boolean of 2 bytes");
	b.n = 0;
	field(&b, 1, "\x07\0\0\0", 4);
	field(&b, 2, "\x01", 1);
	field(&b, 3, "\x09", 1);
	ok(decb(KVAP_MSG_WAIT_REPLY, &b) == -EBADMSG, "exit code and signal together");
	b.n = 0;
	field(&b, 2, "\x01\0\0\0", 4);
	field(&b, 3, "0123456789abcde", 15);
	ok(decb(KVAP_MSG_STREAM_HELLO, &b) == -EBADMSG, "15-byte token");

	/* KVAP 1.1: signed numbers have their exact width too. */
	static struct b r;
	r.n = 0;
	field(&r, 9, "\xff\xff\xff\xff", 4);
	b.n = 0;
	field(&b, 1, "c", 1);
	field_b(&b, 2, &r);
	ok(decb(KVAP_MSG_UPDATE, &b) == -EBADMSG, "4 bytes for an s64 (pids_limit)");
	r.n = 0;
	field(&r, 9, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	b.n = 0;
	field(&b, 1, "c", 1);
	field_b(&b, 0x8002, &r);
	ok(decb(KVAP_MSG_UPDATE, &b) == 0, "UPDATE with pids_limit -1, sent as critical");
	b.n = 0;
	ok(decb(KVAP_MSG_UPDATE, &b) == -EBADMSG, "UPDATE without its container id");
	ok(decb(KVAP_MSG_FREEZE, &b) == 0, "FREEZE with no fields decodes (the agent refuses it)");
}

/* A CREATE whose process spec is `proc`. */
static int create_with(const struct b *proc)
{
	static struct b b;
	b.n = 0;
	field(&b, 1, "c", 1);
	field(&b, 2, "\x02\0\0\0", 4);
	field_b(&b, 8, proc);
	return decb(KVAP_MSG_CREATE, &b);
}

static void list_rules(void)
{
	static struct b l, p;

#define ARGS(...)                                                                                  \
	do {                                                                                       \
		l.n = 0;                                                                           \
		__VA_ARGS__;                                                                       \
		p.n = 0;                                                                           \
		field_b(&p, 1, &l);                                                                \
	} while (0)
	ARGS(put32(&l, 1), put32(&l, 2), put(&l, "sh", 2));
	ok(create_with(&p) == 0, "valid args list");
	ARGS(put32(&l, UINT32_MAX));
	ok(create_with(&p) == -EBADMSG, "count 0xffffffff in 4 bytes: rejected, no allocation");
	ARGS(put32(&l, 1000), put32(&l, 0));
	ok(create_with(&p) == -EBADMSG, "count 1000 in 8 bytes");
	ARGS(put32(&l, KVAP_MAX_ARGS + 1);
	     for (int i = 0; i <= (int)KVAP_MAX_ARGS; i++) put32(&l, 0));
	ok(create_with(&p) == -EBADMSG, "count one over the limit, bytes present");
	ARGS(put32(&l, KVAP_MAX_ARGS); for (int i = 0; i < (int)KVAP_MAX_ARGS; i++) put32(&l, 0));
	ok(create_with(&p) == 0, "count at the limit");
	ARGS(put32(&l, 2), put32(&l, 1), put(&l, "a", 1), put32(&l, 5), put(&l, "bb", 2));
	ok(create_with(&p) == -EBADMSG, "second item longer than what remains");
	ARGS(put32(&l, 1), put32(&l, 1), put(&l, "a", 1), put(&l, "junk", 4));
	ok(create_with(&p) == -EBADMSG, "bytes after the last item");
	ARGS(put32(&l, 0), put(&l, "j", 1));
	ok(create_with(&p) == -EBADMSG, "bytes after an empty list");
	ARGS(put32(&l, 0));
	ok(create_with(&p) == 0, "explicit empty list");
	ARGS(put(&l, "\x01\x00", 2));
	ok(create_with(&p) == -EBADMSG, "list too short for its count");
	ARGS(put32(&l, 3), put32(&l, 1), put(&l, "a", 1), put32(&l, 1), put(&l, "b", 1),
	     put32(&l, 2), put(&l, "\0c", 2));
	ok(create_with(&p) == -EBADMSG, "NUL in the third string (two already allocated)");

	l.n = 0;
	put32(&l, 2);
	put32(&l, 1);
	put32(&l, 2);
	put32(&l, 3);
	p.n = 0;
	field_b(&p, 8, &l);
	ok(create_with(&p) == -EBADMSG, "u32 list of 2 items in 12 bytes");

	/* rlimits: the second item lacks its required hard limit. */
	static struct b item;
	l.n = 0;
	put32(&l, 2);
	for (int i = 0; i < 2; i++) {
		item.n = 0;
		field(&item, 1, "\x07\0\0\0", 4);
		field(&item, 2, "\0\0\0\0\0\0\0\0", 8);
		if (i == 0)
			field(&item, 3, "\0\0\0\0\0\0\0\0", 8);
		put32(&l, (uint32_t)item.n);
		put(&l, item.d, item.n);
	}
	p.n = 0;
	field_b(&p, 9, &l);
	ok(create_with(&p) == -EBADMSG, "struct list item missing a required field");

	/* mounts: a count the payload cannot hold, at the outer level. */
	static struct b c;
	c.n = 0;
	field(&c, 1, "c", 1);
	field(&c, 2, "\x01\0\0\0", 4);
	field(&c, 8, "", 0);
	field(&c, 6, "\xff\xff\xff\x0f\0\0\0\0", 8);
	ok(decb(KVAP_MSG_CREATE, &c) == -EBADMSG, "mount count beyond the payload");

	l.n = 0;
	item.n = 0;
	field(&item, 1, "\x04", 1);
	field(&item, 3, "\x21", 1);
	put32(&l, 1);
	put32(&l, (uint32_t)item.n);
	put(&l, item.d, item.n);
	p.n = 0;
	field(&p, 1, "\x52\x54\0\0\0\x01", 6);
	field_b(&p, 4, &l);
	l.n = 0;
	put32(&l, 1);
	put32(&l, (uint32_t)p.n);
	put(&l, p.d, p.n);
	c.n = 0;
	field_b(&c, 1, &l);
	ok(decb(KVAP_MSG_NET_CONFIG, &c) == -EBADMSG, "IPv4 prefix 33");
	item.d[6] = 9;
	l.n = 0;
	put32(&l, 1);
	put32(&l, (uint32_t)item.n);
	put(&l, item.d, item.n);
	p.n = 6 + 6;
	field_b(&p, 4, &l);
	l.n = 0;
	put32(&l, 1);
	put32(&l, (uint32_t)p.n);
	put(&l, p.d, p.n);
	c.n = 0;
	field_b(&c, 1, &l);
	ok(decb(KVAP_MSG_NET_CONFIG, &c) == -EBADMSG, "address family 9");
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static int allowed(int r)
{
	return r == 0 || r == -EBADMSG || r == -EOPNOTSUPP;
}

static void hostile_payloads(void)
{
	static uint8_t g[4096];
	int all_ok = 1, cut_ok = 1, mut_ok = 1;
	size_t accepted = 0;

	for (size_t i = 0; i < kvap_sample_ntypes; i++) {
		uint16_t t = kvap_sample_types[i];
		for (int v = 0; v < KVAP_SAMPLE_VARIANTS; v++) {
			uint8_t *f;
			size_t n;
			if (kvap_frame_encode_alloc(t, 1, kvap_sample(t, v), &f, &n, NULL) < 0)
				abort();
			uint8_t *p = f + KVAP_HDR_SIZE;
			n -= KVAP_HDR_SIZE;
			/* Cut at every byte (sampled for the big edge payloads). */
			for (size_t k = 0; k < n; k++)
				if (n <= 8192 || k < 512 || k % 2053 == 0)
					cut_ok &= allowed(dec(t, p, k));
			/* Mutations: flip, overwrite with extremes, drop a byte. */
			for (int m = 0; n && m < (n <= 8192 ? 300 : 10); m++) {
				size_t at = rnd() % n, len = n;
				uint8_t saved = p[at];
				switch (rnd() % 3) {
				case 0:
					p[at] ^= (uint8_t)(1u << (rnd() % 8));
					break;
				case 1:
					p[at] = rnd() & 1 ? 0xff : 0;
					break;
				default:
					memmove(p + at, p + at + 1, n - at - 1);
					len = n - 1;
					break;
				}
				int r = dec(t, p, len);
				mut_ok &= allowed(r);
				accepted += r == 0;
				if (len != n) {
					memmove(p + at + 1, p + at, n - at - 1);
				}
				p[at] = saved;
			}
			free(f);
		}
		for (int k = 0; k < 500; k++) {
			size_t n = rnd() % sizeof(g);
			for (size_t j = 0; j < n; j++)
				g[j] = (uint8_t)rnd();
			all_ok &= allowed(dec(t, g, n));
		}
	}
	ok(cut_ok, "payloads cut at every byte: decode or -EBADMSG, round trip when decoded");
	ok(mut_ok, "mutated payloads: decode or a clean error (%zu still valid)", accepted);
	ok(all_ok, "random garbage of every type: a clean error, never a crash");
	ok(dec(0x1234, g, 10) == -ENOMSG, "payload of an unknown type: -ENOMSG");
}

int main(void)
{
	kvap_samples_init();
	field_rules();
	list_rules();
	hostile_payloads();
	tap_plan(tap_n_);
	return tap_done();
}
