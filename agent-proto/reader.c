/* reader.c - incremental frame reassembly (see kvap-reader.h). */
#include "kvap-reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void kvap_reader_init(struct kvap_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void kvap_reader_release(struct kvap_reader *r)
{
	free(r->payload);
	memset(r, 0, sizeof(*r));
}

bool kvap_reader_idle(const struct kvap_reader *r)
{
	return r->delivered || r->hdr_have == 0;
}

static int reader_fail(struct kvap_reader *r, int code)
{
	r->error = code;
	return code;
}

int kvap_reader_feed(struct kvap_reader *r, const void *data, size_t len, size_t *used,
		     struct kvap_frame *f, struct kv_err *err)
{
	const uint8_t *in = data;
	size_t n;
	int ret;

	*used = 0;
	if (r->error)
		return kv_errf(err, r->error, "kvap: stream already failed");
	if (r->delivered) {
		r->delivered = false;
		r->hdr_have = 0;
		r->have = 0;
	}
	if (r->hdr_have < KVAP_HDR_SIZE) {
		n = KVAP_HDR_SIZE - r->hdr_have;
		if (n > len)
			n = len;
		memcpy(r->hdr_buf + r->hdr_have, in, n);
		r->hdr_have += n;
		*used += n;
		if (r->hdr_have < KVAP_HDR_SIZE)
			return 0;
		memset(&r->hdr, 0, sizeof(r->hdr)); /* bad magic leaves it zero */
		ret = kvap_hdr_decode(r->hdr_buf, &r->hdr, err);
		if (ret < 0) {
			f->hdr = r->hdr;
			f->payload = NULL;
			return reader_fail(r, ret);
		}
		if (r->hdr.len > r->cap) {
			uint8_t *p = realloc(r->payload, r->hdr.len);
			if (!p)
				return reader_fail(r, kv_errf(err, -ENOMEM,
							      "kvap: no memory for "
							      "a %u-byte frame",
							      r->hdr.len));
			r->payload = p;
			r->cap = r->hdr.len;
		}
	}
	n = r->hdr.len - r->have;
	if (n > len - *used)
		n = len - *used;
	if (n)
		memcpy(r->payload + r->have, in + *used, n);
	r->have += n;
	*used += n;
	if (r->have < r->hdr.len)
		return 0;
	r->delivered = true;
	f->hdr = r->hdr;
	f->payload = r->hdr.len ? r->payload : NULL;
	return 1;
}
