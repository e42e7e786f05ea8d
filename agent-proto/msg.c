/* msg.c - the message registry and the message-level API (see kvap.h).
 *
 * Owns: mapping each message type to its name and schema, and tying the
 * schema codec to the frame layer. */
#include "kvap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"

/* The schema of each body struct; a mismatch between KVAP_MESSAGES and the
 * schemas fails to compile here. */
#define SCHEMA_OF(type)                                                                            \
	_Generic((type *)0, struct kvap_hello *                                                    \
		 : &kvap_schema_hello, struct kvap_create *                                        \
		 : &kvap_schema_create, struct kvap_pid *                                          \
		 : &kvap_schema_pid, struct kvap_start *                                           \
		 : &kvap_schema_start, struct kvap_exec *                                          \
		 : &kvap_schema_exec, struct kvap_signal *                                         \
		 : &kvap_schema_signal, struct kvap_wait *                                         \
		 : &kvap_schema_wait, struct kvap_exit *                                           \
		 : &kvap_schema_exit, struct kvap_resize *                                         \
		 : &kvap_schema_resize, struct kvap_ps *                                           \
		 : &kvap_schema_ps, struct kvap_stats *                                            \
		 : &kvap_schema_stats, struct kvap_net_config *                                    \
		 : &kvap_schema_net_config, struct kvap_mount_fs *                                 \
		 : &kvap_schema_mount_fs, struct kvap_shutdown *                                   \
		 : &kvap_schema_shutdown, struct kvap_stream_hello *                               \
		 : &kvap_schema_stream_hello, struct kvap_error *                                  \
		 : &kvap_schema_error, struct kvap_container_ref *                                 \
		 : &kvap_schema_container_ref, struct kvap_update *                                \
		 : &kvap_schema_update, struct kvap_empty *                                        \
		 : &kvap_schema_empty)

static const struct {
	uint16_t type;
	const char *name;
	const struct kvap_schema *schema;
} registry[] = {
#define REGISTER_(name, num, member, type) { num, #name, SCHEMA_OF(type) },
	KVAP_MESSAGES(REGISTER_)
#undef REGISTER_
};

static const struct kvap_schema *schema_of(uint16_t type)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i].type == type)
			return registry[i].schema;
	return NULL;
}

const char *kvap_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (registry[i].type == type)
			return registry[i].name;
	return NULL;
}

static int unknown_type(uint16_t type, struct kv_err *err)
{
	return kv_errf(err, -ENOMSG, "kvap: unknown message type %#06x", type);
}

int kvap_msg_encode(uint16_t type, const void *body, uint8_t *buf, size_t cap, size_t *len,
		    struct kv_err *err)
{
	const struct kvap_schema *s = schema_of(type);
	struct kvap_wbuf w = { .buf = buf, .cap = buf ? cap : 0 };
	int r;

	*len = 0;
	if (!s)
		return unknown_type(type, err);
	if (!body)
		return kv_errf(err, -EINVAL, "kvap: encode %s: no body", kvap_type_name(type));
	r = kvap_schema_encode(s, body, &w, err);
	if (r < 0)
		return r;
	*len = w.pos;
	if (w.pos > KVAP_MAX_PAYLOAD)
		return kv_errf(err, -EMSGSIZE, "kvap: %s payload of %zu bytes exceeds %u",
			       kvap_type_name(type), w.pos, KVAP_MAX_PAYLOAD);
	if (w.pos > w.cap)
		return kv_errf(err, -ENOBUFS, "kvap: %s payload needs %zu bytes, buffer has %zu",
			       kvap_type_name(type), w.pos, cap);
	return 0;
}

int kvap_msg_decode(uint16_t type, const uint8_t *payload, size_t len, void *body,
		    struct kv_err *err)
{
	const struct kvap_schema *s = schema_of(type);
	int r;

	if (!s)
		return unknown_type(type, err);
	memset(body, 0, s->size);
	if (len && !payload)
		return kv_errf(err, -EINVAL, "kvap: decode %s: no payload", kvap_type_name(type));
	r = kvap_schema_decode(s, payload, len, body, err);
	if (r < 0)
		kvap_schema_free(s, body);
	return r;
}

void kvap_msg_free(uint16_t type, void *body)
{
	const struct kvap_schema *s = schema_of(type);

	if (s && body)
		kvap_schema_free(s, body);
}

bool kvap_msg_equal(uint16_t type, const void *a, const void *b)
{
	const struct kvap_schema *s = schema_of(type);

	return s && kvap_schema_equal(s, a, b);
}

int kvap_frame_encode(uint16_t type, uint32_t req_id, const void *body, uint8_t *buf, size_t cap,
		      size_t *len, struct kv_err *err)
{
	struct kvap_hdr h = { .major = KVAP_VERSION_MAJOR,
			      .minor = KVAP_VERSION_MINOR,
			      .type = type,
			      .req_id = req_id };
	size_t plen;
	int r;

	*len = 0;
	if (buf && cap >= KVAP_HDR_SIZE)
		r = kvap_msg_encode(type, body, buf + KVAP_HDR_SIZE, cap - KVAP_HDR_SIZE, &plen,
				    err);
	else
		r = kvap_msg_encode(type, body, NULL, 0, &plen, err);
	if (r < 0 && r != -ENOBUFS)
		return r;
	*len = KVAP_HDR_SIZE + plen;
	if (r < 0 || !buf || cap < *len)
		return kv_errf(err, -ENOBUFS, "kvap: frame needs %zu bytes, buffer has %zu", *len,
			       cap);
	h.len = (uint32_t)plen;
	return kvap_hdr_encode(&h, buf);
}

int kvap_frame_encode_alloc(uint16_t type, uint32_t req_id, const void *body, uint8_t **out,
			    size_t *len, struct kv_err *err)
{
	struct kv_err sizing;
	uint8_t *buf;
	int r;

	*out = NULL;
	r = kvap_frame_encode(type, req_id, body, NULL, 0, len, &sizing);
	if (r != -ENOBUFS) { /* a real error: the only way to fail with no buffer */
		if (err)
			*err = sizing;
		return r < 0 ? r : -EINVAL;
	}
	buf = malloc(*len);
	if (!buf)
		return kv_errf(err, -ENOMEM, "kvap: no memory for a %zu-byte frame", *len);
	r = kvap_frame_encode(type, req_id, body, buf, *len, len, err);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

int kvap_encode_errno(uint32_t req_id, int errnum, const char *message, uint8_t **out, size_t *len,
		      struct kv_err *err)
{
	char text[KVAP_MAX_MESSAGE + 1];
	struct kvap_error e = { .errnum = (uint32_t)(errnum < 0 ? -(int64_t)errnum : errnum) };

	if (message) {
		size_t n = strnlen(message, KVAP_MAX_MESSAGE);
		memcpy(text, message, n);
		text[n] = 0;
		e.message = text;
	}
	return kvap_frame_encode_alloc(KVAP_MSG_ERROR, req_id, &e, out, len, err);
}

int kvap_msg_from_frame(const struct kvap_frame *f, struct kvap_msg *m, struct kv_err *err)
{
	memset(m, 0, sizeof(*m));
	m->hdr = f->hdr;
	return kvap_msg_decode(f->hdr.type, f->payload, f->hdr.len, &m->body, err);
}

int kvap_frame_decode(const uint8_t *buf, size_t len, struct kvap_msg *m, size_t *used,
		      struct kv_err *err)
{
	struct kvap_frame f;
	int r;

	memset(m, 0, sizeof(*m));
	r = kvap_frame_parse(buf, len, &f, used, err);
	if (r < 0) {
		if (r == -EPROTO || r == -EMSGSIZE)
			m->hdr = f.hdr;
		return r;
	}
	return kvap_msg_from_frame(&f, m, err);
}

void kvap_msg_clear(struct kvap_msg *m)
{
	kvap_msg_free(m->hdr.type, &m->body);
	memset(m, 0, sizeof(*m));
}
