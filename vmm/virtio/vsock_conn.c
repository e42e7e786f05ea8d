/* vsock_conn.c - virtio-vsock connections: the table and the state machine.
 *
 * Owns: the connection records (keyed by (host-side port, guest port) in a
 * hash table; host clients still sending their CONNECT line are listed but
 * not hashed), their lifetime, the credit arithmetic of both directions, and
 * what each well-formed guest packet does to a connection:
 *  - no connection: REQUEST connects to the host (vsock_host.c); anything
 *    else but RST is answered with RST;
 *  - RESPONSE completes a host-initiated connection; RST closes; SHUTDOWN
 *    half-closes the host socket (SEND -> shutdown(SHUT_WR) once the bytes
 *    buffered for the host are written, RECEIVE -> shutdown(SHUT_RD)), and
 *    both flags close cleanly with an RST from us; RW is relayed;
 *    CREDIT_REQUEST is answered with CREDIT_UPDATE;
 *  - every packet of a flow refreshes the guest's buf_alloc/fwd_cnt;
 *  - anything out of place (RW beyond the credit we advertised, RW after
 *    the guest's SHUTDOWN(SEND), a second REQUEST, a RESPONSE we did not
 *    ask for) resets the connection. */
#include "vsock_int.h"
#include "vm.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned bucket(uint32_t local_port, uint32_t peer_port)
{
	uint64_t k = ((uint64_t)local_port << 32 | peer_port) * 0x9e3779b97f4a7c15ULL;

	return (unsigned)(k >> 32) & (VSOCK_HASH_BUCKETS - 1);
}

struct vsock_conn *vsock_conn_new(struct vsock *vs, int fd, enum vsock_state st)
{
	struct vsock_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->vs = vs;
	c->fd = fd;
	c->state = st;
	c->next = vs->conns;
	if (vs->conns)
		vs->conns->prev = c;
	vs->conns = c;
	vs->nconns++;
	return c;
}

struct vsock_conn *vsock_conn_find(struct vsock *vs, uint32_t local_port, uint32_t peer_port)
{
	struct vsock_conn *c = vs->buckets[bucket(local_port, peer_port)];

	while (c && (c->local_port != local_port || c->peer_port != peer_port))
		c = c->hnext;
	return c;
}

void vsock_conn_hash(struct vsock_conn *c)
{
	struct vsock_conn **b = &c->vs->buckets[bucket(c->local_port, c->peer_port)];

	c->hnext = *b;
	*b = c;
	c->in_hash = true;
}

static void rx_unlist(struct vsock_conn *c)
{
	struct vsock *vs = c->vs;

	if (!c->rx_queued)
		return;
	if (c->rx_prev)
		c->rx_prev->rx_next = c->rx_next;
	else
		vs->rx_head = c->rx_next;
	if (c->rx_next)
		c->rx_next->rx_prev = c->rx_prev;
	else
		vs->rx_tail = c->rx_prev;
	c->rx_prev = c->rx_next = NULL;
	c->rx_queued = false;
}

void vsock_conn_close_fd(struct vsock_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->events)
		(void)evloop_del(&c->vs->dev.vm->loop, c->fd);
	(void)close(c->fd);
	c->fd = -1;
	c->events = 0;
	c->readable = false;
}

static void drop_host_bytes(struct vsock_conn *c)
{
	free(c->buf);
	c->buf = NULL;
	c->buf_off = c->buf_len = 0;
	c->line_off = c->line_len = 0;
}

void vsock_conn_free(struct vsock_conn *c)
{
	struct vsock *vs = c->vs;

	if (c->in_hash) {
		struct vsock_conn **p = &vs->buckets[bucket(c->local_port, c->peer_port)];
		while (*p != c)
			p = &(*p)->hnext;
		*p = c->hnext;
	}
	rx_unlist(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		vs->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	vs->nconns--;
	vsock_conn_close_fd(c);
	drop_host_bytes(c);
	free(c);
}

void vsock_conn_reset(struct vsock_conn *c)
{
	if (!c->guest_knows) {
		vsock_conn_free(c);
		return;
	}
	vsock_conn_close_fd(c);
	drop_host_bytes(c);
	c->state = VSOCK_DEAD;
	c->ctl = CTL_RST;
	c->deadline = 0;
	vsock_conn_rx_kick(c);
}

uint32_t vsock_conn_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	/* A guest that shrank buf_alloc, or claims to have forwarded more
	 * than we sent, gets nothing until its numbers make sense again. */
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

bool vsock_conn_has_data(const struct vsock_conn *c)
{
	return c->state == VSOCK_ESTABLISHED && c->readable && !c->host_eof &&
	       !(c->guest_shut & VSOCK_SHUT_RCV) && vsock_conn_credit(c) > 0;
}

bool vsock_conn_wants_rx(const struct vsock_conn *c)
{
	return c->ctl || vsock_conn_has_data(c);
}

void vsock_conn_rx_kick(struct vsock_conn *c)
{
	struct vsock *vs = c->vs;

	if (c->rx_queued || !vsock_conn_wants_rx(c))
		return;
	c->rx_prev = vs->rx_tail;
	c->rx_next = NULL;
	if (vs->rx_tail)
		vs->rx_tail->rx_next = c;
	else
		vs->rx_head = c;
	vs->rx_tail = c;
	c->rx_queued = true;
}

void vsock_conn_consumed(struct vsock_conn *c)
{
	uint32_t delta = c->fwd_cnt - c->last_fwd_sent;
	uint32_t unacked = c->rx_cnt - c->last_fwd_sent; /* in use, as the guest sees it */
	uint32_t seen_free = unacked >= VSOCK_BUF_ALLOC ? 0 : VSOCK_BUF_ALLOC - unacked;

	/* Like Linux: no update while the guest still sees plenty of room. */
	if (delta && seen_free <= VSOCK_CREDIT_LOW && c->state == VSOCK_ESTABLISHED) {
		c->ctl |= CTL_CREDIT;
		vsock_conn_rx_kick(c);
	}
}

void vsock_conn_shutdown(struct vsock_conn *c, uint32_t flags)
{
	flags &= ~c->shut_sent;
	if (!flags)
		return;
	c->shut_flags |= flags;
	c->ctl |= CTL_SHUTDOWN;
	vsock_conn_rx_kick(c);
}

void vsock_conn_set_deadline(struct vsock_conn *c, unsigned ms)
{
	c->deadline = vsock_now() + (uint64_t)ms * 1000000;
	vsock_timer_update(c->vs);
}

void vsock_rst_reply(struct vsock *vs, const struct vsock_hdr *h)
{
	if (h->op == VSOCK_OP_RST || vs->rst_count == VSOCK_RST_QUEUE)
		return; /* never answer an RST; a full queue stalls tx first */
	struct vsock_rst *r = &vs->rstq[(vs->rst_first + vs->rst_count) % VSOCK_RST_QUEUE];
	*r = (struct vsock_rst){ .local_port = h->dst_port,
				 .peer_port = h->src_port,
				 .local_cid = h->dst_cid,
				 .peer_cid = h->src_cid };
	vs->rst_count++;
}

void vsock_close_all(struct vsock *vs)
{
	while (vs->conns)
		vsock_conn_free(vs->conns);
	vs->rst_first = vs->rst_count = 0;
}

static void on_response(struct vsock_conn *c)
{
	if (c->state != VSOCK_CONNECTING) {
		vsock_conn_reset(c);
		return;
	}
	c->state = VSOCK_ESTABLISHED;
	c->deadline = 0;
	/* The client learns the host-side port, then bytes flow both ways. */
	int n = snprintf(c->line, sizeof(c->line), "OK %u\n", c->local_port);
	c->line_len = (uint8_t)n;
	c->line_off = 0;
	vsock_host_flush(c);
}

static void on_shutdown(struct vsock_conn *c, uint32_t flags)
{
	uint32_t fresh = flags & VSOCK_SHUT_BOTH & ~c->guest_shut;

	if (c->state == VSOCK_CONNECTING) {
		vsock_conn_reset(c);
		return;
	}
	c->guest_shut |= flags & VSOCK_SHUT_BOTH;
	if (c->state == VSOCK_CLOSING) {
		if (c->guest_shut == VSOCK_SHUT_BOTH)
			vsock_conn_reset(c); /* both sides done: the RST ends it */
		return;
	}
	if ((fresh & VSOCK_SHUT_RCV) && c->fd >= 0) {
		(void)shutdown(c->fd, SHUT_RD);
		c->readable = false;
	}
	/* vsock_host_flush() applies SEND (and closes on both) once every byte
	 * the guest sent before its SHUTDOWN reached the host socket. */
	if (c->guest_shut == VSOCK_SHUT_BOTH && (c->buf_len || c->line_off < c->line_len))
		vsock_conn_set_deadline(c, c->vs->close_ms);
	vsock_host_flush(c);
}

static void on_rw(struct vsock_conn *c, const struct vsock_hdr *h, const struct iovec *payload,
		  unsigned npayload)
{
	uint32_t used = c->rx_cnt - c->fwd_cnt;

	if (c->state == VSOCK_CLOSING)
		return; /* we said we would not receive: nothing to deliver to */
	if (c->state != VSOCK_ESTABLISHED || (c->guest_shut & VSOCK_SHUT_SEND) ||
	    used > VSOCK_BUF_ALLOC || h->len > VSOCK_BUF_ALLOC - used) {
		vsock_conn_reset(c);
		return;
	}
	if (!h->len)
		return;
	c->rx_cnt += h->len;
	if (c->host_gone || c->fd < 0) {
		c->fwd_cnt += h->len; /* discarded, but the guest gets its credit back */
		vsock_conn_consumed(c);
		return;
	}
	vsock_host_write(c, payload, npayload, h->len);
}

void vsock_handle_pkt(struct vsock *vs, const struct vsock_hdr *h, const struct iovec *payload,
		      unsigned npayload)
{
	struct vsock_conn *c = vsock_conn_find(vs, h->dst_port, h->src_port);

	if (!c) {
		if (h->op == VSOCK_OP_REQUEST)
			vsock_uds_connect(vs, h);
		else
			vsock_rst_reply(vs, h);
		return;
	}
	if (!c->guest_knows) {
		/* Our REQUEST has not gone out: the guest cannot know this flow. */
		vsock_rst_reply(vs, h);
		return;
	}
	if (c->state == VSOCK_DEAD) {
		if (h->op == VSOCK_OP_RST)
			vsock_conn_free(c); /* closed on both sides: our RST is moot */
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VSOCK_OP_RST:
		vsock_conn_free(c); /* a client still connecting sees EOF, no OK */
		return;
	case VSOCK_OP_REQUEST:
		vsock_conn_reset(c); /* the guest reused a live flow */
		return;
	case VSOCK_OP_RESPONSE:
		on_response(c);
		break;
	case VSOCK_OP_SHUTDOWN:
		on_shutdown(c, h->flags);
		break;
	case VSOCK_OP_RW:
		on_rw(c, h, payload, npayload);
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		if (c->state == VSOCK_CONNECTING) {
			vsock_conn_reset(c);
			return;
		}
		c->ctl |= CTL_CREDIT;
		break;
	default: /* CREDIT_UPDATE: the new credit is taken above */
		if (c->state == VSOCK_CONNECTING) {
			vsock_conn_reset(c);
			return;
		}
		break;
	}
	/* Every path above leaves c allocated: a reset keeps it until its RST
	 * is sent, since the guest knows this flow. */
	vsock_conn_rx_kick(c);
}
