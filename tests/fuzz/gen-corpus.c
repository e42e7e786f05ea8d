/* gen-corpus.c - writes the seed corpus of the KVAP fuzz target.
 *
 * Owns: the seed files in tests/fuzz/corpus/agent-proto/: a valid frame of
 * every message type (typical, minimal, and edge when under 16 KiB, to keep
 * libFuzzer's inputs small; identical variants once) plus broken frames
 * the decoder must reject.
 * Run: gen-agent-proto-corpus DIR (existing files of the same name are
 * overwritten). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvap-samples.h"
#include "kvap.h"

static const char *dir;
static int failed;

static void save(const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "gen-corpus: cannot write %s\n", path);
		failed = 1;
	}
}

/* A frame with a hand-made payload. */
static void raw(const char *name, uint16_t type, const char *payload, uint32_t len)
{
	struct kvap_hdr h = { KVAP_VERSION_MAJOR, KVAP_VERSION_MINOR, type, 1, len };
	uint8_t f[KVAP_HDR_SIZE + 64];

	if (len > 64 || kvap_hdr_encode(&h, f) < 0)
		abort();
	memcpy(f + KVAP_HDR_SIZE, payload, len);
	save(name, f, KVAP_HDR_SIZE + len);
}

static uint8_t *frame(uint16_t type, int variant, size_t *n)
{
	uint8_t *f;

	if (kvap_frame_encode_alloc(type, 1, kvap_sample(type, variant), &f, n, NULL) < 0)
		abort();
	return f;
}

static void valid_seeds(void)
{
	static const char *variant[] = { "typical", "edge", "minimal" };

	for (size_t i = 0; i < kvap_sample_ntypes; i++) {
		uint16_t t = kvap_sample_types[i];
		uint8_t *prev[KVAP_SAMPLE_VARIANTS] = { NULL };
		size_t prev_n[KVAP_SAMPLE_VARIANTS] = { 0 };
		for (int v = 0; v < KVAP_SAMPLE_VARIANTS; v++) {
			char name[64];
			int dup = 0;
			prev[v] = frame(t, v, &prev_n[v]);
			for (int w = 0; w < v; w++)
				dup |=
				    prev_n[w] == prev_n[v] && !memcmp(prev[w], prev[v], prev_n[v]);
			snprintf(name, sizeof(name), "%s-%s", kvap_type_name(t), variant[v]);
			for (char *c = name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (prev_n[v] <= 16384 && !dup)
				save(name, prev[v], prev_n[v]);
		}
		for (int v = 0; v < KVAP_SAMPLE_VARIANTS; v++)
			free(prev[v]);
	}
}

static void broken_seeds(void)
{
	size_t n, n2;
	uint8_t *f = frame(KVAP_MSG_CREATE, KVAP_SAMPLE_TYPICAL, &n);
	uint8_t *g = frame(KVAP_MSG_WAIT, KVAP_SAMPLE_TYPICAL, &n2);
	uint8_t *both = malloc(n + n2);

	memcpy(both, g, n2);
	memcpy(both + n2, f, n);
	save("two-frames", both, n + n2);
	save("frame-then-partial", both, n2 + 20);
	save("create-truncated", f, n / 2);
	save("header-only-truncated", f, KVAP_HDR_SIZE - 1);
	f[0] = 'k';
	save("bad-magic", f, n);
	f[0] = 'K';
	f[4] = KVAP_VERSION_MAJOR + 1;
	save("major-mismatch", f, n);
	f[4] = KVAP_VERSION_MAJOR;
	f[5] = 0xff;
	save("minor-newer", f, n);
	f[5] = 0;
	memset(f + 12, 0xff, 4);
	save("length-oversized", f, n);
	f[12] = 0;
	f[13] = 0;
	f[14] = 0x10;
	f[15] = 0;
	save("length-1mib", f, n);
	f[14] = 0;
	f[12] = (uint8_t)(n - KVAP_HDR_SIZE);
	f[13] = (uint8_t)((n - KVAP_HDR_SIZE) >> 8);
	f[6] = 0x42;
	f[7] = 0x42;
	save("unknown-type", f, n);
	f[6] = KVAP_MSG_CREATE;
	f[7] = 0;
	/* Payload damage: the first field's length, then a list count. */
	f[KVAP_HDR_SIZE + 5] = 0x7f;
	save("create-field-overrun", f, n);
	f[KVAP_HDR_SIZE + 5] = 0;
	f[KVAP_HDR_SIZE + 6 + 2] = 0; /* "ctr-1" -> "ct\0-1" */
	save("create-nul-in-string", f, n);
	free(both);
	free(f);
	free(g);

	/* Payloads built by hand: field = tag (u16) | length (u32) | value. */
	raw("wait-duplicate-field", KVAP_MSG_WAIT,
	    "\x01\x00"
	    "\x01\x00\x00\x00"
	    "a"
	    "\x01\x00"
	    "\x01\x00\x00\x00"
	    "b",
	    14);
	raw("wait-critical-unknown", KVAP_MSG_WAIT,
	    "\x09\x00"
	    "\x01\x00\x00\x00"
	    "x"
	    "\x09\x80"
	    "\x01\x00\x00\x00"
	    "y",
	    14);
	raw("wait-optional-unknown", KVAP_MSG_WAIT,
	    "\x09\x00"
	    "\x01\x00\x00\x00"
	    "x"
	    "\x0a\x00"
	    "\x01\x00\x00\x00"
	    "y",
	    14);
	raw("net-count-exceeds-payload", KVAP_MSG_NET_CONFIG,
	    "\x01\x00"
	    "\x04\x00\x00\x00"
	    "\xff\xff\xff\xff",
	    10);
	save("empty", (const uint8_t *)"", 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	kvap_samples_init();
	valid_seeds();
	broken_seeds();
	return failed;
}
