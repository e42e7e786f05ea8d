/* kvap-reader.h - incremental KVAP frame reader for byte streams.
 *
 * Owns: reassembling frames from bytes that arrive in arbitrary pieces (a
 * vsock read may return half a header or three frames). The caller reads
 * from its socket and feeds the bytes; the reader never does I/O.
 *
 *   struct kvap_reader r;
 *   kvap_reader_init(&r);
 *   while ((n = read(fd, buf, sizeof(buf))) > 0)
 *       for (size_t off = 0, used; off < (size_t)n; off += used) {
 *           int ret = kvap_reader_feed(&r, buf + off, n - off, &used, &f, &err);
 *           if (ret < 0) goto close_connection;
 *           if (ret == 1) handle(&f);  // f.payload valid until the next feed
 *       }
 *   if (!kvap_reader_idle(&r)) ... stream ended inside a frame ...
 *   kvap_reader_release(&r); */
#ifndef KVRUN_KVAP_READER_H
#define KVRUN_KVAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kvap-frame.h"

struct kvap_reader {
	uint8_t hdr_buf[KVAP_HDR_SIZE];
	size_t hdr_have; /* header bytes buffered so far */
	struct kvap_hdr hdr;
	uint8_t *payload; /* owned; grows up to KVAP_MAX_PAYLOAD */
	size_t cap;
	size_t have;	/* payload bytes buffered so far */
	bool delivered; /* the current frame was returned: drop it on the next feed */
	int error;	/* sticky negative errno once the stream is unusable */
};

void kvap_reader_init(struct kvap_reader *r);

/* Free the buffer. The reader may be initialized again afterwards. */
void kvap_reader_release(struct kvap_reader *r);

/* Consume bytes from data[0..len), stopping right after the end of a frame.
 * *used is how many bytes were consumed (feed the rest again). Returns:
 *   1  a complete frame is in *f; f->payload points into the reader and
 *      stays valid until the next kvap_reader_feed() or release
 *   0  every byte was consumed and no frame is complete yet
 *  <0  a header was rejected (kvap_hdr_decode's -EBADMSG, -EPROTO with f->hdr
 *      filled, -EMSGSIZE with f->hdr filled) or -ENOMEM. The error is sticky:
 *      every later call returns it, because the stream has lost sync.
 * The reader never allocates more than the announced, bounded payload. */
int kvap_reader_feed(struct kvap_reader *r, const void *data, size_t len, size_t *used,
		     struct kvap_frame *f, struct kv_err *err);

/* True when no partial frame is buffered: end of stream here is clean. */
bool kvap_reader_idle(const struct kvap_reader *r);

#endif
