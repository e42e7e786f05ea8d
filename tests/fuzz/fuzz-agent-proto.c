/* fuzz-agent-proto.c - libFuzzer target for the KVAP decoders.
 *
 * Owns: LLVMFuzzerTestOneInput. The input is tried as (1) a whole frame,
 * (2) a byte stream cut into pieces for the incremental reader, which must
 * agree with the whole-frame parse, and (3) the payload of every message
 * type. Whenever a decode succeeds the body is re-encoded: that must work,
 * decode back to an equal body, and re-encode to the same bytes. A broken
 * invariant aborts. Built by libFuzzer (make fuzz) and by the corpus replay
 * driver (replay.c) that meson runs in every test run. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvap-samples.h"
#include "kvap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static void check_round_trip(uint16_t type, const void *body)
{
	union kvap_body again;
	uint8_t *f1, *f2;
	size_t n1, n2, used;
	struct kvap_msg m;

	CHECK(kvap_frame_encode_alloc(type, 5, body, &f1, &n1, NULL) == 0);
	CHECK(n1 <= KVAP_MAX_FRAME);
	CHECK(kvap_frame_decode(f1, n1, &m, &used, NULL) == 0 && used == n1);
	CHECK(m.hdr.type == type && m.hdr.req_id == 5);
	CHECK(kvap_msg_equal(type, body, &m.body));
	CHECK(kvap_frame_encode_alloc(type, 5, &m.body, &f2, &n2, NULL) == 0);
	CHECK(n1 == n2 && !memcmp(f1, f2, n1));
	CHECK(kvap_msg_decode(type, f2 + KVAP_HDR_SIZE, n2 - KVAP_HDR_SIZE, &again, NULL) == 0);
	CHECK(kvap_msg_equal(type, &again, body));
	kvap_msg_free(type, &again);
	kvap_msg_clear(&m);
	free(f1);
	free(f2);
}

static int allowed_payload_error(int r)
{
	return r == -EBADMSG || r == -EOPNOTSUPP || r == -ENOMSG;
}

/* The reader, fed pieces whose sizes come from the input itself, must
 * produce exactly the frames (and the error) the whole-buffer parse does. */
static void check_reader(const uint8_t *data, size_t size)
{
	struct kvap_reader rd;
	struct kvap_frame f, g;
	size_t off = 0, whole = 0, used, used2, step = (size ? data[0] % 7 : 0) + 1;
	int r = 0, r2;

	kvap_reader_init(&rd);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		r = kvap_reader_feed(&rd, data + off, n, &used, &f, NULL);
		if (r < 0)
			break;
		off += used;
		if (r == 1) {
			r2 = kvap_frame_parse(data + whole, size - whole, &g, &used2, NULL);
			CHECK(r2 == 0 && whole + used2 == off);
			CHECK(!memcmp(&f.hdr, &g.hdr, sizeof(f.hdr)));
			CHECK(!f.hdr.len || !memcmp(f.payload, g.payload, f.hdr.len));
			whole = off;
		}
		step = step * 3 % 11 + 1;
	}
	r2 = kvap_frame_parse(data + whole, size - whole, &g, &used2, NULL);
	if (r < 0)
		CHECK(r2 == r);
	else
		CHECK(whole == size ? kvap_reader_idle(&rd) : r2 == -ENODATA);
	kvap_reader_release(&rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvap_msg m;
	union kvap_body body;
	size_t used;
	int r;

	r = kvap_frame_decode(data, size, &m, &used, NULL);
	if (r == 0) {
		CHECK(used >= KVAP_HDR_SIZE && used <= size);
		check_round_trip(m.hdr.type, &m.body);
		kvap_msg_clear(&m);
	} else {
		CHECK(r == -ENODATA || r == -EPROTO || r == -EMSGSIZE || r == -ENOMEM ||
		      allowed_payload_error(r));
		CHECK(used == 0 || (r != -ENODATA && used <= size));
	}
	check_reader(data, size);

	/* The input as the payload of every type. */
	for (size_t i = 0; i < kvap_sample_ntypes; i++) {
		uint16_t t = kvap_sample_types[i];
		r = kvap_msg_decode(t, data, size, &body, NULL);
		CHECK(r == 0 || r == -ENOMEM || allowed_payload_error(r));
		if (r == 0) {
			check_round_trip(t, &body);
			kvap_msg_free(t, &body);
		}
	}
	return 0;
}
