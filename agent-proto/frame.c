/* frame.c - header encoding and whole-buffer frame parsing (see kvap-frame.h). */
#include "kvap-frame.h"

#include <errno.h>

#include "wire.h"

int kvap_hdr_encode(const struct kvap_hdr *h, uint8_t out[KVAP_HDR_SIZE])
{
	if (h->len > KVAP_MAX_PAYLOAD)
		return -EMSGSIZE;
	out[0] = KVAP_MAGIC0;
	out[1] = KVAP_MAGIC1;
	out[2] = KVAP_MAGIC2;
	out[3] = KVAP_MAGIC3;
	out[4] = h->major;
	out[5] = h->minor;
	kvap_st16(out + 6, h->type);
	kvap_st32(out + 8, h->req_id);
	kvap_st32(out + 12, h->len);
	return 0;
}

int kvap_hdr_decode(const uint8_t buf[KVAP_HDR_SIZE], struct kvap_hdr *h, struct kv_err *err)
{
	if (buf[0] != KVAP_MAGIC0 || buf[1] != KVAP_MAGIC1 || buf[2] != KVAP_MAGIC2 ||
	    buf[3] != KVAP_MAGIC3)
		return kv_errf(err, -EBADMSG, "kvap: bad frame magic %02x %02x %02x %02x", buf[0],
			       buf[1], buf[2], buf[3]);
	h->major = buf[4];
	h->minor = buf[5];
	h->type = kvap_ld16(buf + 6);
	h->req_id = kvap_ld32(buf + 8);
	h->len = kvap_ld32(buf + 12);
	if (h->major != KVAP_VERSION_MAJOR)
		return kv_errf(err, -EPROTO, "kvap: peer speaks protocol %u.%u, this side %u.%u",
			       h->major, h->minor, KVAP_VERSION_MAJOR, KVAP_VERSION_MINOR);
	if (h->len > KVAP_MAX_PAYLOAD)
		return kv_errf(err, -EMSGSIZE, "kvap: frame payload of %u bytes exceeds %u", h->len,
			       KVAP_MAX_PAYLOAD);
	return 0;
}

int kvap_frame_parse(const uint8_t *buf, size_t len, struct kvap_frame *f, size_t *used,
		     struct kv_err *err)
{
	int r;

	*used = 0;
	if (len < KVAP_HDR_SIZE)
		return kv_errf(err, -ENODATA, "kvap: %zu bytes, less than a frame header", len);
	r = kvap_hdr_decode(buf, &f->hdr, err);
	if (r < 0)
		return r;
	if (f->hdr.len > len - KVAP_HDR_SIZE)
		return kv_errf(err, -ENODATA, "kvap: frame needs %u payload bytes, %zu present",
			       f->hdr.len, len - KVAP_HDR_SIZE);
	f->payload = buf + KVAP_HDR_SIZE;
	*used = KVAP_HDR_SIZE + f->hdr.len;
	return 0;
}
