/* Unit tests for agent-proto/'s frame layer: header checks (magic, version,
 * size), incomplete frames at every byte boundary, unknown types, and the
 * incremental reader fed one byte at a time and in uneven pieces. */
#include "fuzz/kvap-samples.h"
#include "kvap.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *stream;
static size_t stream_len, nframes;
static size_t frame_off[256];

/* Every sample of every type, back to back, as one byte stream. */
static void build_stream(void)
{
	for (size_t i = 0; i < kvap_sample_ntypes; i++)
		for (int v = 0; v < KVAP_SAMPLE_VARIANTS; v++) {
			uint8_t *f;
			size_t n;
			uint16_t t = kvap_sample_types[i];
			if (kvap_frame_encode_alloc(t, (uint32_t)nframes, kvap_sample(t, v), &f, &n,
						    NULL) < 0)
				abort();
			stream = realloc(stream, stream_len + n);
			memcpy(stream + stream_len, f, n);
			frame_off[nframes++] = stream_len;
			stream_len += n;
			free(f);
		}
	frame_off[nframes] = stream_len;
}

static void header_checks(void)
{
	uint8_t h[KVAP_HDR_SIZE];
	struct kvap_hdr hdr = { KVAP_VERSION_MAJOR, 0, KVAP_MSG_STATS, 3, 0 }, out;
	struct kvap_msg m;
	struct kv_err err = { 0 };
	size_t used;
	int bad = 0;

	ok(kvap_hdr_encode(&hdr, h) == 0 && !memcmp(h, "KVAP", 4) && h[4] == 1 && h[6] == 9 &&
	       h[7] == 0 && h[8] == 3,
	   "header layout: magic, version, little-endian type and id");
	for (int i = 0; i < 4; i++) {
		uint8_t c[KVAP_HDR_SIZE];
		memcpy(c, h, sizeof(c));
		c[i] ^= 0x20;
		bad += kvap_hdr_decode(c, &out, NULL) == -EBADMSG;
	}
	ok(bad == 4, "a wrong byte anywhere in the magic: -EBADMSG");
	h[4] = KVAP_VERSION_MAJOR + 1;
	h[5] = 7;
	ok(kvap_frame_decode(h, sizeof(h), &m, &used, &err) == -EPROTO && used == 0 &&
	       m.hdr.major == KVAP_VERSION_MAJOR + 1 && m.hdr.minor == 7 && strstr(err.msg, "2.7"),
	   "another major version: -EPROTO, the peer's version reported (%s)", err.msg);
	h[4] = 0;
	ok(kvap_hdr_decode(h, &out, NULL) == -EPROTO, "major version 0: -EPROTO");
	h[4] = KVAP_VERSION_MAJOR;
	h[5] = 200;
	ok(kvap_frame_decode(h, sizeof(h), &m, &used, NULL) == 0 && m.hdr.minor == 200 &&
	       used == KVAP_HDR_SIZE,
	   "a newer minor version is accepted");
	hdr.len = KVAP_MAX_PAYLOAD + 1;
	ok(kvap_hdr_encode(&hdr, h) == -EMSGSIZE, "encoding an oversized header: -EMSGSIZE");
	h[12] = h[13] = h[14] = h[15] = 0xff;
	ok(kvap_frame_decode(h, sizeof(h), &m, &used, NULL) == -EMSGSIZE && m.hdr.len == UINT32_MAX,
	   "length 0xffffffff: -EMSGSIZE");
	h[12] = 1;
	h[13] = 0;
	h[14] = 0x10;
	h[15] = 0;
	ok(kvap_hdr_decode(h, &out, NULL) == -EMSGSIZE, "length 1 MiB + 1: -EMSGSIZE");
	h[12] = 0;
	ok(kvap_hdr_decode(h, &out, NULL) == 0 && out.len == KVAP_MAX_PAYLOAD,
	   "length exactly 1 MiB is accepted");
	ok(kvap_frame_decode(h, sizeof(h), &m, &used, NULL) == -ENODATA && used == 0,
	   "1 MiB announced, none present: -ENODATA");
}

static void frame_checks(void)
{
	int all = 1, r;
	size_t used;
	struct kvap_msg m;
	uint8_t unk[KVAP_HDR_SIZE + 2];
	struct kvap_hdr h = { KVAP_VERSION_MAJOR, 0, 0x4242, 99, 2 };

	for (size_t f = 0; f < nframes; f++) {
		size_t len = frame_off[f + 1] - frame_off[f];
		for (size_t k = 0; k < len; k++) {
			const uint8_t *c = stream + frame_off[f];
			uint8_t *copy = NULL;
			/* An exact-size copy, so ASan sees any read past the end;
			 * for the big edge frames only at some cuts (copies would
			 * make the test quadratic), a view at the others. */
			if (len <= 8192 || k < 256 || len - k < 256 || k % 4099 == 0) {
				copy = malloc(k ? k : 1);
				memcpy(copy, c, k);
				c = copy;
			}
			r = kvap_frame_decode(c, k, &m, &used, NULL);
			all &= r == -ENODATA && used == 0;
			free(copy);
		}
	}
	ok(all, "every frame cut at every byte boundary: -ENODATA, nothing consumed");

	kvap_hdr_encode(&h, unk);
	unk[KVAP_HDR_SIZE] = unk[KVAP_HDR_SIZE + 1] = 0xee;
	r = kvap_frame_decode(unk, sizeof(unk), &m, &used, NULL);
	ok(r == -ENOMSG && used == sizeof(unk) && m.hdr.req_id == 99 && m.hdr.type == 0x4242,
	   "unknown type: -ENOMSG, frame skipped whole, request id kept for the error reply");

	r = kvap_frame_decode(stream, stream_len, &m, &used, NULL);
	ok(r == 0 && used == frame_off[1], "first of many frames: used is its size only");
	kvap_msg_clear(&m);
}

/* Feed the whole stream in pieces of the given sizes (cycled); every frame
 * must come out equal to the sample it was made from. */
static int feed_stream(const size_t *pieces, size_t npieces)
{
	struct kvap_reader rd;
	struct kvap_frame f;
	struct kvap_msg m;
	size_t off = 0, p = 0, got = 0, used;
	int good = 1;

	kvap_reader_init(&rd);
	while (off < stream_len) {
		size_t n = pieces[p++ % npieces];
		if (n > stream_len - off)
			n = stream_len - off;
		while (n) {
			int r = kvap_reader_feed(&rd, stream + off, n, &used, &f, NULL);
			if (r < 0)
				return 0;
			off += used;
			n -= used;
			if (r == 1) {
				uint16_t t = kvap_sample_types[got / KVAP_SAMPLE_VARIANTS];
				const void *want =
				    kvap_sample(t, (int)(got % KVAP_SAMPLE_VARIANTS));
				good &= f.hdr.req_id == got && f.hdr.type == t &&
					kvap_msg_from_frame(&f, &m, NULL) == 0 &&
					kvap_msg_equal(t, want, &m.body);
				kvap_msg_clear(&m);
				got++;
			}
		}
	}
	good &= got == nframes && kvap_reader_idle(&rd);
	kvap_reader_release(&rd);
	return good;
}

static void reader_checks(void)
{
	static const size_t one[] = { 1 }, uneven[] = { 3, 17, 1, 100, 4096, 5, 65536 * 3 };
	size_t all = stream_len;
	struct kvap_reader rd;
	struct kvap_frame f;
	size_t used;
	uint8_t h[KVAP_HDR_SIZE];
	int r;

	ok(feed_stream(one, 1), "reader fed one byte at a time: %zu frames intact", nframes);
	ok(feed_stream(uneven, sizeof(uneven) / sizeof(uneven[0])), "reader fed uneven pieces");
	ok(feed_stream(&all, 1), "reader fed everything at once");

	kvap_reader_init(&rd);
	ok(kvap_reader_feed(&rd, stream, 5, &used, &f, NULL) == 0 && used == 5 &&
	       !kvap_reader_idle(&rd),
	   "half a header: need more, not idle (EOF here is a truncated frame)");
	kvap_reader_release(&rd);

	memcpy(h, "KVAP", 4);
	h[4] = KVAP_VERSION_MAJOR;
	h[5] = 0;
	h[6] = KVAP_MSG_PS;
	h[7] = 0;
	memset(h + 8, 0, 4);
	memset(h + 12, 0xff, 4);
	kvap_reader_init(&rd);
	r = kvap_reader_feed(&rd, h, sizeof(h), &used, &f, NULL);
	ok(r == -EMSGSIZE && rd.cap == 0 && f.hdr.len == UINT32_MAX,
	   "oversized length: -EMSGSIZE before any payload is buffered");
	ok(kvap_reader_feed(&rd, stream, stream_len, &used, &f, NULL) == -EMSGSIZE && used == 0,
	   "the error is sticky");
	kvap_reader_release(&rd);

	h[4] = 9;
	kvap_reader_init(&rd);
	ok(kvap_reader_feed(&rd, h, sizeof(h), &used, &f, NULL) == -EPROTO && f.hdr.major == 9,
	   "version mismatch through the reader: -EPROTO with the peer's version");
	kvap_reader_release(&rd);
	kvap_reader_init(&rd);
	ok(kvap_reader_feed(&rd, "GARBAGE GARBAGE!", KVAP_HDR_SIZE, &used, &f, NULL) == -EBADMSG,
	   "garbage instead of a header: -EBADMSG");
	kvap_reader_release(&rd);
}

int main(void)
{
	kvap_samples_init();
	build_stream();
	header_checks();
	frame_checks();
	reader_checks();
	free(stream);
	tap_plan(tap_n_);
	return tap_done();
}
