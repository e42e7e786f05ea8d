/* vsock_pkt.c - virtio-vsock packet headers: encoding, decoding, checking.
 *
 * Owns: the wire layout of struct virtio_vsock_hdr (44 bytes, little-endian,
 * packed; virtio 1.2, 5.10.6) and the validation of every header the guest
 * sends. A tx packet is read once into host memory and checked before any
 * field is used:
 *  - fewer than 44 readable bytes: dropped (nothing to answer);
 *  - src_cid not the guest's CID: dropped (never answered: an RST would go
 *    to an address the guest does not own);
 *  - dst_cid not the host (2), type not STREAM, op unknown, len over 64 KiB
 *    or over the readable bytes after the header, or a payload on anything
 *    but RW: answered with RST (and a matching connection is reset). */
#include "vsock_int.h"

#include <endian.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

/* Field offsets in the packed header. */
enum {
	OFF_SRC_CID = 0,
	OFF_DST_CID = 8,
	OFF_SRC_PORT = 16,
	OFF_DST_PORT = 20,
	OFF_LEN = 24,
	OFF_TYPE = 28,
	OFF_OP = 30,
	OFF_FLAGS = 32,
	OFF_BUF_ALLOC = 36,
	OFF_FWD_CNT = 40,
};

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_SIZE])
{
	put64(out + OFF_SRC_CID, h->src_cid);
	put64(out + OFF_DST_CID, h->dst_cid);
	put32(out + OFF_SRC_PORT, h->src_port);
	put32(out + OFF_DST_PORT, h->dst_port);
	put32(out + OFF_LEN, h->len);
	put16(out + OFF_TYPE, h->type);
	put16(out + OFF_OP, h->op);
	put32(out + OFF_FLAGS, h->flags);
	put32(out + OFF_BUF_ALLOC, h->buf_alloc);
	put32(out + OFF_FWD_CNT, h->fwd_cnt);
}

void vsock_hdr_decode(const uint8_t in[VSOCK_HDR_SIZE], struct vsock_hdr *h)
{
	h->src_cid = get64(in + OFF_SRC_CID);
	h->dst_cid = get64(in + OFF_DST_CID);
	h->src_port = get32(in + OFF_SRC_PORT);
	h->dst_port = get32(in + OFF_DST_PORT);
	h->len = get32(in + OFF_LEN);
	h->type = get16(in + OFF_TYPE);
	h->op = get16(in + OFF_OP);
	h->flags = get32(in + OFF_FLAGS);
	h->buf_alloc = get32(in + OFF_BUF_ALLOC);
	h->fwd_cnt = get32(in + OFF_FWD_CNT);
}

enum vsock_verdict vsock_pkt_parse(struct vsock *vs, const struct virtq_chain *c,
				   struct vsock_hdr *h, struct iovec **payload, unsigned *npayload)
{
	uint8_t raw[VSOCK_HDR_SIZE];

	*payload = vs->slice;
	*npayload = 0;
	if (c->out_bytes < VSOCK_HDR_SIZE ||
	    iov_to_buf(c->iov, c->nout, 0, raw, sizeof(raw)) != sizeof(raw))
		return VSOCK_PKT_DROP;
	vsock_hdr_decode(raw, h);
	if (h->src_cid != vs->guest_cid)
		return VSOCK_PKT_DROP;
	if (h->dst_cid != VSOCK_HOST_CID || h->type != VSOCK_TYPE_STREAM)
		return VSOCK_PKT_RST;
	if (h->op == VSOCK_OP_INVALID || h->op > VSOCK_OP_CREDIT_REQUEST)
		return VSOCK_PKT_RST;
	if (h->len > VSOCK_MAX_PKT_LEN || h->len > c->out_bytes - VSOCK_HDR_SIZE)
		return VSOCK_PKT_RST;
	if (h->len && h->op != VSOCK_OP_RW)
		return VSOCK_PKT_RST;
	if (h->len) {
		int n = iov_slice(c->iov, c->nout, VSOCK_HDR_SIZE, h->len, vs->slice,
				  VIRTQ_MAX_CHAIN_DESCS);
		if (n < 0)
			return VSOCK_PKT_RST;
		*npayload = (unsigned)n;
	}
	return VSOCK_PKT_OK;
}

void vsock_pkt_put(const struct virtq_chain *c, const struct vsock_hdr *h)
{
	uint8_t raw[VSOCK_HDR_SIZE];

	vsock_hdr_encode(h, raw);
	(void)iov_from_buf(c->iov + c->nout, c->nin, 0, raw, sizeof(raw));
}
