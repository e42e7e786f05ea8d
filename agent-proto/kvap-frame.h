/* kvap-frame.h - the frame layer of the kvrun agent protocol (KVAP).
 *
 * Owns: the 16-byte frame header, its magic and version fields, the maximum
 * payload size, and checking a header or a whole frame held in a buffer.
 * Nothing here knows what a message type means; kvap-msg.h does. No I/O:
 * callers hand in bytes they read and send bytes this layer wrote.
 *
 * Header layout (all integers little-endian):
 *   0  4  magic 'K' 'V' 'A' 'P'
 *   4  1  protocol major version
 *   5  1  protocol minor version
 *   6  2  message type
 *   8  4  request id (a reply echoes its request's id)
 *  12  4  payload length in bytes (<= KVAP_MAX_PAYLOAD)
 * Bytes 0..5 are frozen for every future version, so any peer can always
 * tell "not KVAP" (-EBADMSG) from "KVAP of another major version" (-EPROTO). */
#ifndef KVRUN_KVAP_FRAME_H
#define KVRUN_KVAP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define KVAP_MAGIC0 'K'
#define KVAP_MAGIC1 'V'
#define KVAP_MAGIC2 'A'
#define KVAP_MAGIC3 'P'

/* A peer accepts frames of its own major version and any minor version. */
#define KVAP_VERSION_MAJOR 1
#define KVAP_VERSION_MINOR 1

#define KVAP_HDR_SIZE 16u

/* The largest payload either side sends or accepts (docs/agent-protocol.md
 * explains the choice). A header announcing more is rejected with -EMSGSIZE
 * before any payload byte is buffered. */
#define KVAP_MAX_PAYLOAD (1u << 20)
#define KVAP_MAX_FRAME	 (KVAP_HDR_SIZE + KVAP_MAX_PAYLOAD)

/* vsock ports the agent listens on (the host connects). */
#define KVAP_PORT_CONTROL 1024u
#define KVAP_PORT_STREAM  1025u

struct kvap_hdr {
	uint8_t major;
	uint8_t minor;
	uint16_t type;
	uint32_t req_id;
	uint32_t len; /* payload length */
};

/* A frame whose payload is a view into someone else's buffer. */
struct kvap_frame {
	struct kvap_hdr hdr;
	const uint8_t *payload; /* hdr.len bytes; never NULL when hdr.len > 0 */
};

/* Write h into out (magic added). -EMSGSIZE when h->len > KVAP_MAX_PAYLOAD. */
int kvap_hdr_encode(const struct kvap_hdr *h, uint8_t out[KVAP_HDR_SIZE]);

/* Check and decode the KVAP_HDR_SIZE bytes at buf. Returns 0, or:
 *   -EBADMSG   wrong magic (not KVAP, or the stream lost sync)
 *   -EPROTO    another major version; *h is filled so the caller can report
 *              the peer's version, but nothing past byte 5 is meaningful
 *   -EMSGSIZE  payload length above KVAP_MAX_PAYLOAD; *h is filled
 * Any of these leaves the byte stream unusable: close the connection. */
int kvap_hdr_decode(const uint8_t buf[KVAP_HDR_SIZE], struct kvap_hdr *h, struct kv_err *err);

/* Find the frame at the start of buf[0..len). On success f->payload points
 * into buf and *used is the frame's size (header + payload). Returns the
 * kvap_hdr_decode() errors, or -ENODATA when buf ends before the frame does
 * (an incomplete frame: read more, or report truncation at end of stream). */
int kvap_frame_parse(const uint8_t *buf, size_t len, struct kvap_frame *f, size_t *used,
		     struct kv_err *err);

#endif
