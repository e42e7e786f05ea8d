/* vsock_rx.c - virtio-vsock's rx queue pump: packets for the guest.
 *
 * Owns: filling the guest's rx buffers, one packet per buffer chain. RSTs
 * for flows without a connection go first, then connections take turns
 * (round robin over those with something to send): a connection's pending
 * control packet (RST, REQUEST, RESPONSE, SHUTDOWN) goes before its data,
 * and a CREDIT_UPDATE is only sent on its own when no other packet carries
 * the new fwd_cnt. Host data is read straight from the host socket into the
 * guest buffer, at most min(buffer room, guest credit, 64 KiB), so the VMM
 * holds no host->guest bytes at all: with no credit or no rx buffer the
 * socket simply is not read. */
#include "vsock_int.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#define RX_NOTHING UINT32_MAX /* the chain was not used: give it back */

static void hdr_for(struct vsock *vs, struct vsock_conn *c, struct vsock_hdr *h, uint16_t op)
{
	*h = (struct vsock_hdr){ .src_cid = VSOCK_HOST_CID,
				 .dst_cid = vs->guest_cid,
				 .src_port = c->local_port,
				 .dst_port = c->peer_port,
				 .type = VSOCK_TYPE_STREAM,
				 .op = op,
				 .buf_alloc = VSOCK_BUF_ALLOC,
				 .fwd_cnt = c->fwd_cnt };
	c->last_fwd_sent = c->fwd_cnt; /* every packet carries our credit */
	c->ctl &= ~CTL_CREDIT;
	c->guest_knows = true;
}

/* The host peer closed (both directions shut), not just its write side. */
static bool host_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

/* Read host bytes into ch after the header. Returns the used length, or
 * RX_NOTHING when the socket had nothing (or failed: then c owes an RST or
 * a SHUTDOWN, which the caller's next turn sends). */
static uint32_t fill_data(struct vsock *vs, struct vsock_conn *c, const struct virtq_chain *ch)
{
	uint32_t room = ch->in_bytes - VSOCK_HDR_SIZE;
	uint32_t credit = vsock_conn_credit(c);
	uint32_t want = room < credit ? room : credit;
	struct vsock_hdr h;
	ssize_t r;

	if (want > VSOCK_MAX_PKT_LEN)
		want = VSOCK_MAX_PKT_LEN;
	if (!want)
		return 0; /* a buffer with no room for data: returned empty */
	int n = iov_slice(ch->iov + ch->nout, ch->nin, VSOCK_HDR_SIZE, want, vs->slice,
			  VIRTQ_MAX_CHAIN_DESCS);
	if (n < 0)
		return 0;
	do
		r = readv(c->fd, vs->slice, n);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		hdr_for(vs, c, &h, VSOCK_OP_RW);
		h.len = (uint32_t)r;
		c->tx_cnt += (uint32_t)r;
		vsock_pkt_put(ch, &h);
		return VSOCK_HDR_SIZE + (uint32_t)r;
	}
	c->readable = false;
	if (r == 0) {
		c->host_eof = true;
		if (host_hung_up(c->fd))
			c->host_gone = true;
		vsock_conn_shutdown(c, VSOCK_SHUT_SEND | (c->host_gone ? VSOCK_SHUT_RCV : 0));
	} else if (errno != EAGAIN) {
		vsock_conn_reset(c);
		return RX_NOTHING;
	}
	vsock_host_watch(c);
	return RX_NOTHING;
}

/* The next packet of c into ch: the used length, or RX_NOTHING. Sets
 * *freed when c is gone (its final RST was sent). */
static uint32_t fill_conn(struct vsock *vs, struct vsock_conn *c, const struct virtq_chain *ch,
			  bool *freed)
{
	struct vsock_hdr h;

	*freed = false;
	for (int pass = 0; pass < 2; pass++) {
		if (c->ctl & CTL_RST) {
			hdr_for(vs, c, &h, VSOCK_OP_RST);
			vsock_pkt_put(ch, &h);
			vsock_conn_free(c);
			*freed = true;
			return VSOCK_HDR_SIZE;
		}
		if (c->ctl & (CTL_REQUEST | CTL_RESPONSE)) {
			uint16_t op = (c->ctl & CTL_REQUEST) ? VSOCK_OP_REQUEST : VSOCK_OP_RESPONSE;
			c->ctl &= ~(CTL_REQUEST | CTL_RESPONSE);
			hdr_for(vs, c, &h, op);
			vsock_pkt_put(ch, &h);
			return VSOCK_HDR_SIZE;
		}
		if (c->ctl & CTL_SHUTDOWN) {
			c->ctl &= ~CTL_SHUTDOWN;
			hdr_for(vs, c, &h, VSOCK_OP_SHUTDOWN);
			h.flags = c->shut_flags;
			c->shut_sent |= c->shut_flags;
			vsock_pkt_put(ch, &h);
			if (c->shut_sent == VSOCK_SHUT_BOTH && c->state == VSOCK_ESTABLISHED) {
				/* Nothing moves either way any more: wait for the
				 * guest's RST, but not forever. */
				c->state = VSOCK_CLOSING;
				vsock_conn_close_fd(c);
				vsock_conn_set_deadline(c, vs->close_ms);
			}
			return VSOCK_HDR_SIZE;
		}
		if (pass == 0 && vsock_conn_has_data(c)) {
			uint32_t len = fill_data(vs, c, ch);
			if (len != RX_NOTHING)
				return len;
			continue; /* EOF or an error queued a SHUTDOWN or an RST */
		}
		break;
	}
	if (c->ctl & CTL_CREDIT) {
		hdr_for(vs, c, &h, VSOCK_OP_CREDIT_UPDATE);
		vsock_pkt_put(ch, &h);
		return VSOCK_HDR_SIZE;
	}
	return RX_NOTHING;
}

static uint32_t fill_rst(struct vsock *vs, const struct virtq_chain *ch)
{
	const struct vsock_rst *r = &vs->rstq[vs->rst_first];
	struct vsock_hdr h = { .src_cid = r->local_cid,
			       .dst_cid = r->peer_cid,
			       .src_port = r->local_port,
			       .dst_port = r->peer_port,
			       .type = VSOCK_TYPE_STREAM,
			       .op = VSOCK_OP_RST };

	vs->rst_first = (vs->rst_first + 1) % VSOCK_RST_QUEUE;
	vs->rst_count--;
	vsock_pkt_put(ch, &h);
	return VSOCK_HDR_SIZE;
}

void vsock_rx_pump(struct vsock *vs)
{
	struct virtqueue *vq = &vs->vqs[VSOCK_RXQ];
	struct virtq_chain ch;
	bool pushed = false;

	if (!vs->active)
		return;
	while (!vs->rx_starved && (vs->rst_count || vs->rx_head)) {
		int n = virtq_pop(vq, &ch, vs->rx_iov, VIRTQ_MAX_CHAIN_DESCS);
		if (n < 0 || (n > 0 && ch.in_bytes < VSOCK_HDR_SIZE)) {
			vsock_break(vs); /* bad ring, or a buffer that cannot hold a header */
			return;
		}
		if (n == 0) {
			if (virtq_notify_enable(vq))
				continue;
			vs->rx_starved = true; /* the guest's next rx kick resumes */
			break;
		}
		uint32_t len;
		if (vs->rst_count) {
			len = fill_rst(vs, &ch);
		} else {
			struct vsock_conn *c = vs->rx_head;
			bool freed;
			/* Take c off the list; it goes to the tail if it wants more. */
			vs->rx_head = c->rx_next;
			if (vs->rx_head)
				vs->rx_head->rx_prev = NULL;
			else
				vs->rx_tail = NULL;
			c->rx_next = c->rx_prev = NULL;
			c->rx_queued = false;
			len = fill_conn(vs, c, &ch, &freed);
			if (!freed)
				vsock_conn_rx_kick(c);
			if (len == RX_NOTHING) {
				virtq_unpop(vq);
				continue;
			}
		}
		(void)virtq_push(vq, ch.head, len);
		pushed = true;
	}
	if (pushed)
		virtq_signal(&vs->dev, VSOCK_RXQ);
}
