/* kvap.h - the kvrun agent protocol (KVAP): include this one header.
 *
 * Owns: the message-level API over the frame layer: encoding a message
 * body into a payload or a whole frame, decoding a frame or a payload into
 * an owned struct, freeing and comparing bodies, and typed wrappers named
 * after each message (kvap_encode_create(), kvap_decode_wait_reply(), ...).
 * The host (kvrun) and the guest agent both link this library; it needs
 * only libc and does no I/O. Protocol: docs/agent-protocol.md.
 *
 * Error codes, shared by every decoder here:
 *   -ENODATA    the buffer ends before the frame does (incomplete)
 *   -EBADMSG    malformed: wrong magic, or a payload that breaks the wire
 *               rules (truncated field, count beyond the payload, limit
 *               exceeded, NUL inside a string, duplicate or missing field)
 *   -EPROTO     the peer speaks another major protocol version
 *   -EMSGSIZE   the payload length is above KVAP_MAX_PAYLOAD
 *   -ENOMSG     the message type is unknown to this side
 *   -EOPNOTSUPP the payload has a critical field this side does not know
 *   -ENOMEM     out of memory
 * Encoders return -EINVAL for a body that breaks a limit or rule, -EMSGSIZE
 * for a payload above KVAP_MAX_PAYLOAD, -ENOBUFS when the caller's buffer
 * is too small (*len then says how much is needed), -ENOMSG for an unknown
 * type. */
#ifndef KVRUN_KVAP_H
#define KVRUN_KVAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kvap-frame.h"
#include "kvap-limits.h"
#include "kvap-msg.h"
#include "kvap-reader.h"

/* A decoded frame: the header and the body its type selects. */
struct kvap_msg {
	struct kvap_hdr hdr;
	union kvap_body body;
};

/* "CREATE", "WAIT_REPLY", ...; NULL for an unknown type. */
const char *kvap_type_name(uint16_t type);

static inline bool kvap_type_known(uint16_t type)
{
	return kvap_type_name(type) != NULL;
}

static inline uint16_t kvap_reply_type(uint16_t request)
{
	return (uint16_t)(request | KVAP_REPLY_BIT);
}

/* Encode body (the struct of `type`) as a payload into buf[0..cap). *len is
 * the payload size, also when -ENOBUFS says it did not fit. */
int kvap_msg_encode(uint16_t type, const void *body, uint8_t *buf, size_t cap, size_t *len,
		    struct kv_err *err);

/* Decode a payload of `type` into *body, which this function zeroes first.
 * On success *body owns its memory (kvap_msg_free()); on failure nothing
 * is left allocated and *body is zero. */
int kvap_msg_decode(uint16_t type, const uint8_t *payload, size_t len, void *body,
		    struct kv_err *err);

/* Free what a body owns and zero it. Unknown types are ignored. */
void kvap_msg_free(uint16_t type, void *body);

/* Field-by-field equality of two bodies of `type` (false for unknown types). */
bool kvap_msg_equal(uint16_t type, const void *a, const void *b);

/* Encode a whole frame (header of this side's version + payload). */
int kvap_frame_encode(uint16_t type, uint32_t req_id, const void *body, uint8_t *buf, size_t cap,
		      size_t *len, struct kv_err *err);

/* Same, into a new malloc'd buffer *out of *len bytes (caller frees). */
int kvap_frame_encode_alloc(uint16_t type, uint32_t req_id, const void *body, uint8_t **out,
			    size_t *len, struct kv_err *err);

/* An ERROR frame answering req_id: errnum is a positive errno, message may
 * be NULL and is cut at KVAP_MAX_MESSAGE bytes. */
int kvap_encode_errno(uint32_t req_id, int errnum, const char *message, uint8_t **out, size_t *len,
		      struct kv_err *err);

/* Decode a frame the reader returned into *m (zeroed first). On failure
 * m->hdr is still set, the body is zero and nothing is allocated; the
 * stream stays in sync, so a receiver answers a bad request with ERROR
 * (errnum ENOSYS for -ENOMSG, else the code's errno) and goes on. */
int kvap_msg_from_frame(const struct kvap_frame *f, struct kvap_msg *m, struct kv_err *err);

/* Parse and decode the frame at the start of buf[0..len). *used is the
 * frame's size whenever its boundary is known: that is, on success and on
 * the payload errors of kvap_msg_from_frame() (-ENOMSG, -EBADMSG,
 * -EOPNOTSUPP, -ENOMEM); it is 0 after a header error or -ENODATA. */
int kvap_frame_decode(const uint8_t *buf, size_t len, struct kvap_msg *m, size_t *used,
		      struct kv_err *err);

/* Free m's body (by m->hdr.type) and zero m. */
void kvap_msg_clear(struct kvap_msg *m);

/* Typed wrappers, one set per message type, e.g. for CREATE:
 *   int kvap_encode_create(uint32_t req_id, const struct kvap_create *body,
 *                          uint8_t **out, size_t *len, struct kv_err *err);
 *   int kvap_decode_create(const uint8_t *payload, size_t len,
 *                          struct kvap_create *body, struct kv_err *err);
 *   void kvap_free_create(struct kvap_create *body); */
#define KVAP_TYPED_(name, num, member, type)                                                       \
	static inline int kvap_encode_##member(uint32_t req_id, const type *body, uint8_t **out,   \
					       size_t *len, struct kv_err *err)                    \
	{                                                                                          \
		return kvap_frame_encode_alloc(KVAP_MSG_##name, req_id, body, out, len, err);      \
	}                                                                                          \
	static inline int kvap_decode_##member(const uint8_t *payload, size_t len, type *body,     \
					       struct kv_err *err)                                 \
	{                                                                                          \
		return kvap_msg_decode(KVAP_MSG_##name, payload, len, body, err);                  \
	}                                                                                          \
	static inline void kvap_free_##member(type *body)                                          \
	{                                                                                          \
		kvap_msg_free(KVAP_MSG_##name, body);                                              \
	}
KVAP_MESSAGES(KVAP_TYPED_)
#undef KVAP_TYPED_

#endif
