/* Unit tests for agent-proto/: every message type round-trips through a
 * frame in its typical, edge and minimal forms; encoders enforce the same
 * limits decoders do. Framing errors: test-agent-proto-frame.c; malformed
 * payloads: test-agent-proto-decode.c. */
#include "fuzz/kvap-samples.h"
#include "kvap.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *variant_name[] = { "typical", "edge", "minimal" };

/* Encode, decode, compare, re-encode: the bytes must be identical. */
static void round_trip(uint16_t type, int variant)
{
	const void *body = kvap_sample(type, variant);
	uint8_t *buf = NULL, *again = NULL;
	size_t len = 0, len2 = 0, used = 0;
	struct kvap_msg m;
	struct kv_err err = { 0 };
	int r;

	r = kvap_frame_encode_alloc(type, 77, body, &buf, &len, &err);
	if (!ok(r == 0 && !err.code, "%s %s: encodes (%d %s)", kvap_type_name(type),
		variant_name[variant], r, err.msg))
		return;
	r = kvap_frame_decode(buf, len, &m, &used, &err);
	ok(r == 0 && used == len && m.hdr.type == type && m.hdr.req_id == 77 &&
	       m.hdr.major == KVAP_VERSION_MAJOR && m.hdr.minor == KVAP_VERSION_MINOR &&
	       kvap_msg_equal(type, body, &m.body),
	   "%s %s: decodes to an equal body (%zu bytes%s%s)", kvap_type_name(type),
	   variant_name[variant], len, r ? ", " : "", r ? err.msg : "");
	r = kvap_frame_encode_alloc(type, 77, &m.body, &again, &len2, &err);
	ok(r == 0 && len2 == len && !memcmp(buf, again, len), "%s %s: re-encodes byte for byte",
	   kvap_type_name(type), variant_name[variant]);
	kvap_msg_clear(&m);
	free(again);
	free(buf);
}

/* The caller's-buffer encoder: exact fit works, one byte less is -ENOBUFS
 * and reports the size needed. */
static void buffer_sizes(void)
{
	const void *body = kvap_sample(KVAP_MSG_CREATE, KVAP_SAMPLE_TYPICAL);
	uint8_t *ref, *buf;
	size_t len, n;
	int r;

	ok(kvap_frame_encode_alloc(KVAP_MSG_CREATE, 1, body, &ref, &len, NULL) == 0, "alloc");
	buf = malloc(len);
	r = kvap_frame_encode(KVAP_MSG_CREATE, 1, body, buf, len, &n, NULL);
	ok(r == 0 && n == len && !memcmp(buf, ref, len), "exact-size buffer");
	r = kvap_frame_encode(KVAP_MSG_CREATE, 1, body, buf, len - 1, &n, NULL);
	ok(r == -ENOBUFS && n == len, "one byte short: -ENOBUFS, needed size reported");
	r = kvap_frame_encode(KVAP_MSG_CREATE, 1, body, buf, 3, &n, NULL);
	ok(r == -ENOBUFS && n == len, "smaller than a header: -ENOBUFS");
	r = kvap_msg_encode(KVAP_MSG_CREATE, body, buf, len, &n, NULL);
	ok(r == 0 && n == len - KVAP_HDR_SIZE && !memcmp(buf, ref + KVAP_HDR_SIZE, n),
	   "payload-only encode matches the frame's payload");
	free(buf);
	free(ref);
}

static int enc(uint16_t type, const void *body)
{
	uint8_t *buf = NULL;
	size_t len;
	int r = kvap_frame_encode_alloc(type, 1, body, &buf, &len, NULL);
	if (r < 0 && buf)
		r = -EFAULT; /* a failed encode must not hand out a buffer */
	free(buf);
	return r;
}

static void encoder_limits(void)
{
	static char longer[KVAP_MAX_ARG + 2];
	static char *env[KVAP_MAX_ENV + 1];
	char *holes[] = { "a", NULL };
	struct kvap_start st = { longer };
	struct kvap_create c = { .container_id = "c" };
	struct kvap_mount_fs mf = { .tag = "t" };
	struct kvap_exit ex = { 1, 1, 9, false };
	struct kvap_ipaddr bad_addrs[] = { { 4, { 1, 2, 3, 4 }, 33 },
					   { 4, { 1, 2, 3, 4, 5 }, 8 },
					   { 5, { 0 }, 0 },
					   { 0, { 0 }, 1 } };
	struct kvap_iface ifc = { .mac = { 1 }, .addrs = bad_addrs, .n_addrs = 1 };
	struct kvap_net_config net = { .ifaces = &ifc, .n_ifaces = 1 };

	memset(longer, 'x', KVAP_MAX_ID + 1);
	ok(enc(KVAP_MSG_START, &st) == -EINVAL, "string one byte over its limit: -EINVAL");
	longer[KVAP_MAX_ID] = 0;
	ok(enc(KVAP_MSG_START, &st) == 0, "string at its limit encodes");
	c.process.n_args = 2;
	ok(enc(KVAP_MSG_CREATE, &c) == -EINVAL, "count with a NULL array: -EINVAL");
	c.process.args = holes;
	ok(enc(KVAP_MSG_CREATE, &c) == -EINVAL, "NULL string in a list: -EINVAL");
	c.process.n_args = 1;
	ok(enc(KVAP_MSG_CREATE, &c) == 0, "same list without the NULL encodes");
	mf.mount_point = NULL;
	ok(enc(KVAP_MSG_MOUNT_FS, &mf) == -EINVAL, "required string NULL: -EINVAL");
	mf.mount_point = "/m";
	mf.n_options = KVAP_MAX_MOUNT_OPTIONS + 1;
	mf.options = env;
	for (size_t i = 0; i < KVAP_MAX_ENV + 1; i++)
		env[i] = "ro";
	ok(enc(KVAP_MSG_MOUNT_FS, &mf) == -EINVAL, "count one over its limit: -EINVAL");
	/* 4096 entries of 128 KiB each: every item is legal, the sum is not. */
	memset(longer, 'e', KVAP_MAX_ARG);
	longer[KVAP_MAX_ARG] = 0;
	for (size_t i = 0; i < KVAP_MAX_ENV; i++)
		env[i] = longer;
	c.process.env = env;
	c.process.n_env = KVAP_MAX_ENV;
	ok(enc(KVAP_MSG_CREATE, &c) == -EMSGSIZE, "payload above 1 MiB: -EMSGSIZE");
	ok(enc(KVAP_MSG_WAIT_REPLY, &ex) == -EINVAL, "exit code and signal together: -EINVAL");
	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		ifc.addrs = &bad_addrs[i];
		ok(enc(KVAP_MSG_NET_CONFIG, &net) == -EINVAL, "non-canonical address %zu: -EINVAL",
		   i);
	}
	ok(enc(0x7777, &st) == -ENOMSG, "unknown type: -ENOMSG");
	ok(enc(KVAP_MSG_START, NULL) == -EINVAL, "no body: -EINVAL");
}

/* Semantics the integrator relies on. */
static void semantics(void)
{
	struct kvap_hello h = { .features = 0 };
	struct kvap_wait w = { .exec_id = "" }, w2;
	struct kvap_pid p = { 0 }, p2 = { 5 };
	uint8_t *buf;
	size_t len;
	struct kv_err err;

	ok(kvap_encode_wait(1, &w, &buf, &len, NULL) == 0 &&
	       kvap_decode_wait(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, &w2, NULL) == 0 &&
	       w2.exec_id && !w2.exec_id[0],
	   "an empty string stays empty, not NULL");
	kvap_free_wait(&w2);
	free(buf);
	w.exec_id = NULL;
	ok(kvap_encode_wait(1, &w, &buf, &len, NULL) == 0 && len == KVAP_HDR_SIZE &&
	       kvap_decode_wait(NULL, 0, &w2, NULL) == 0 && !w2.exec_id,
	   "a NULL string is not sent and decodes as NULL");
	free(buf);
	ok(kvap_encode_create_reply(1, &p, &buf, &len, NULL) == 0 &&
	       kvap_decode_create_reply(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, &p2, NULL) == 0 &&
	       p2.pid == 0 && len > KVAP_HDR_SIZE,
	   "a required zero is sent");
	free(buf);
	ok(kvap_encode_hello(1, &h, &buf, &len, NULL) == 0, "hello");
	free(buf);
	ok(kvap_encode_errno(9, -ENOSYS, "no", &buf, &len, &err) == 0, "kvap_encode_errno");
	struct kvap_msg m;
	ok(kvap_frame_decode(buf, len, &m, &len, NULL) == 0 && m.hdr.type == KVAP_MSG_ERROR &&
	       m.hdr.req_id == 9 && m.body.error.errnum == ENOSYS &&
	       !strcmp(m.body.error.message, "no"),
	   "error reply carries a positive errno and the message");
	kvap_msg_clear(&m);
	free(buf);
	ok(kvap_reply_type(KVAP_MSG_CREATE) == KVAP_MSG_CREATE_REPLY &&
	       !strcmp(kvap_type_name(KVAP_MSG_STREAM_HELLO_REPLY), "STREAM_HELLO_REPLY") &&
	       !kvap_type_known(0) && !kvap_type_known(0x8011),
	   "type names and reply numbering");
}

/* Find field `tag` (critical bit included) at the top level of payload p. */
static const uint8_t *find_tag(const uint8_t *p, size_t n, uint16_t tag, uint32_t *len)
{
	while (n >= 6) {
		uint16_t t = (uint16_t)(p[0] | p[1] << 8);
		uint32_t l = (uint32_t)p[2] | (uint32_t)p[3] << 8 | (uint32_t)p[4] << 16 |
			     (uint32_t)p[5] << 24;
		if (l > n - 6)
			return NULL;
		if (t == tag) {
			*len = l;
			return p + 6;
		}
		p += 6 + l;
		n -= 6 + l;
	}
	return NULL;
}

/* KVAP 1.1: what an older peer sees, signed numbers, the new messages. */
static void version_1_1(void)
{
	char *argv[] = { "true" };
	struct kvap_seccomp_rule rule = { .action = KVAP_SCMP_ALLOW };
	struct kvap_create c = { .container_id = "c",
				 .rootfs_type = KVAP_ROOTFS_INITRAMFS,
				 .process = { .args = argv, .n_args = 1 } };
	uint8_t *buf;
	size_t len;
	uint32_t flen;

	ok(KVAP_VERSION_MAJOR == 1 && KVAP_VERSION_MINOR == 1, "this is KVAP 1.1");
	ok(kvap_encode_create(1, &c, &buf, &len, NULL) == 0 &&
	       !find_tag(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, (0x8000 | 19), &flen) &&
	       !find_tag(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, (0x8000 | 20), &flen),
	   "a CREATE using no 1.1 restriction carries no critical field (a 1.0 agent accepts it)");
	free(buf);
	c.seccomp = (struct kvap_seccomp){ .default_action = KVAP_SCMP_ALLOW,
					   .syscalls = &rule,
					   .n_syscalls = 1 };
	c.process.caps_set = true;
	c.resources.pids_limit = -1;
	ok(kvap_encode_create(1, &c, &buf, &len, NULL) == 0 &&
	       find_tag(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, (0x8000 | 20), &flen) &&
	       find_tag(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, (0x8000 | 19), &flen),
	   "seccomp and resources go out as critical fields (tags 0x8014, 0x8013)");
	const uint8_t *res =
	    find_tag(buf + KVAP_HDR_SIZE, len - KVAP_HDR_SIZE, (0x8000 | 19), &flen);
	uint32_t plen;
	const uint8_t *pl = res ? find_tag(res, flen, 9, &plen) : NULL;
	ok(pl && plen == 8 && !memcmp(pl, "\xff\xff\xff\xff\xff\xff\xff\xff", 8),
	   "pids_limit -1 is 8 bytes of two's complement");
	struct kvap_msg m;
	ok(kvap_frame_decode(buf, len, &m, &len, NULL) == 0 &&
	       m.body.create.resources.pids_limit == -1 && m.body.create.process.caps_set &&
	       m.body.create.seccomp.n_syscalls == 1,
	   "decodes back: -1, caps_set, the rule");
	kvap_msg_clear(&m);
	free(buf);

	/* A 1.1 field sent without the critical bit is still understood. */
	uint8_t p[] = { 1, 0, 1, 0, 0, 0, 'c', 0x09, 0x00, 4, 0, 0, 0, 0x38, 0xff, 0xff, 0xff };
	struct kvap_update u;
	ok(kvap_decode_update(p, sizeof(p), &u, NULL) == 0 && !strcmp(u.container_id, "c"),
	   "UPDATE: an unknown plain field is skipped");
	kvap_free_update(&u);
	/* container_id "c"; resources { pids_limit (9): 8 bytes, INT64_MIN } */
	uint8_t q[] = { 1, 0, 1, 0, 0, 0, 'c', 2, 0, 14, 0, 0, 0,   9,
			0, 8, 0, 0, 0, 0, 0,   0, 0, 0,	 0, 0, 0x80 };
	int r = kvap_decode_update(q, sizeof(q), &u, NULL);
	ok(r == 0 && u.resources.pids_limit == INT64_MIN, "UPDATE: pids_limit INT64_MIN (%d)", r);
	kvap_free_update(&u);
	struct kvap_seccomp_arg bad = { .index = 6, .op = KVAP_SCMP_CMP_EQ };
	rule.args = &bad;
	rule.n_args = 1;
	ok(kvap_encode_create(1, &c, &buf, &len, NULL) == -EINVAL,
	   "a seccomp argument index above 5: -EINVAL");
	struct kvap_container_ref ref = { NULL };
	ok(kvap_encode_ps(1, &ref, &buf, &len, NULL) == 0 && len == KVAP_HDR_SIZE,
	   "PS without a container id is the 1.0 PS (empty payload)");
	free(buf);
}

int main(void)
{
	kvap_samples_init();
	for (size_t i = 0; i < kvap_sample_ntypes; i++)
		for (int v = 0; v < KVAP_SAMPLE_VARIANTS; v++)
			round_trip(kvap_sample_types[i], v);
	buffer_sizes();
	encoder_limits();
	semantics();
	version_1_1();
	tap_plan(tap_n_);
	return tap_done();
}
