/* vsock_host.c - virtio-vsock: relaying to and from host sockets.
 *
 * Owns: writing guest bytes to a connection's host Unix socket (straight
 * from guest memory; what a slow host reader cannot take yet is buffered,
 * at most the credit advertised per connection, VSOCK_BUF_ALLOC), applying
 * the guest's SHUTDOWN once those bytes are written, noticing a host peer
 * that no longer reads, and what the event loop watches on each host
 * socket (nothing at all when nothing is wanted, so a hung-up socket cannot
 * spin the loop). Reading host bytes into guest buffers is vsock_rx.c's;
 * the listener, CONNECT lines and outgoing connects are vsock_uds.c's.
 * Every socket is non-blocking: the loop thread never waits. */
#include "vm.h"
#include "vsock_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static struct evloop *loop_of(struct vsock *vs)
{
	return &vs->dev.vm->loop;
}

static void on_conn(void *opaque, uint32_t events);

void vsock_host_watch(struct vsock_conn *c)
{
	uint32_t ev = 0;
	int r = 0;

	if (c->fd < 0)
		return;
	if (c->state == VSOCK_HANDSHAKE) {
		ev = EPOLLIN;
	} else if (c->state == VSOCK_ESTABLISHED) {
		if (!c->readable && !c->host_eof && !(c->guest_shut & VSOCK_SHUT_RCV))
			ev |= EPOLLIN;
		if (c->buf_len || c->line_off < c->line_len)
			ev |= EPOLLOUT;
	}
	if (ev == c->events)
		return;
	/* Nothing wanted: leave the loop entirely, or a hung-up socket would
	 * report EPOLLHUP over and over. */
	if (!ev) {
		(void)evloop_del(loop_of(c->vs), c->fd);
		c->events = 0;
		return;
	}
	if (!c->events)
		r = evloop_add(loop_of(c->vs), c->fd, ev, on_conn, c);
	else
		r = evloop_mod(loop_of(c->vs), c->fd, ev);
	if (r < 0 && !c->events) {
		vsock_conn_set_deadline(c, 0); /* cannot be watched: the timer resets it */
		return;
	}
	c->events = ev;
}

/* The host socket no longer takes bytes: discard what waits for it, and
 * tell the guest we will not receive (a guest SHUTDOWN(both) ends it). */
static void host_write_failed(struct vsock_conn *c)
{
	c->host_gone = true;
	c->fwd_cnt += c->buf_len;
	free(c->buf);
	c->buf = NULL;
	c->buf_off = c->buf_len = 0;
	c->line_off = c->line_len = 0;
	if (c->guest_shut != VSOCK_SHUT_BOTH)
		vsock_conn_shutdown(c, VSOCK_SHUT_RCV);
}

static ssize_t send_some(int fd, const void *p, size_t n)
{
	ssize_t r;

	do
		r = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r;
}

void vsock_host_flush(struct vsock_conn *c)
{
	if (c->state != VSOCK_ESTABLISHED)
		return;
	while (c->fd >= 0 && !c->host_gone && c->line_off < c->line_len) {
		ssize_t n = send_some(c->fd, c->line + c->line_off, c->line_len - c->line_off);
		if (n < 0 && errno == EAGAIN)
			goto out;
		if (n <= 0)
			host_write_failed(c);
		else
			c->line_off += (uint8_t)n;
	}
	while (c->fd >= 0 && !c->host_gone && c->buf_len) {
		ssize_t n = send_some(c->fd, c->buf + c->buf_off, c->buf_len);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			host_write_failed(c);
			break;
		}
		c->buf_off += (uint32_t)n;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!c->buf_len && c->buf) {
		free(c->buf);
		c->buf = NULL;
		c->buf_off = 0;
	}
	vsock_conn_consumed(c);
	if (c->buf_len || c->line_off < c->line_len)
		goto out;
	/* Everything the guest sent before its SHUTDOWN reached the host. */
	if ((c->guest_shut & VSOCK_SHUT_SEND) && !c->host_wr_done && c->fd >= 0) {
		(void)shutdown(c->fd, SHUT_WR);
		c->host_wr_done = true;
	}
	if (c->guest_shut == VSOCK_SHUT_BOTH) {
		vsock_conn_reset(c); /* clean close: our RST acknowledges it */
		return;
	}
out:
	vsock_host_watch(c);
}

void vsock_host_write(struct vsock_conn *c, const struct iovec *iov, unsigned n, uint32_t len)
{
	uint32_t done = 0;

	if (!c->buf_len && c->line_off == c->line_len) {
		struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = n };
		ssize_t r;
		do
			r = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN) {
			c->fwd_cnt += len;
			host_write_failed(c);
			vsock_conn_consumed(c);
			return;
		}
		if (r > 0)
			done = (uint32_t)r;
		c->fwd_cnt += done;
	}
	if (done < len) {
		/* The credit check in vsock_conn.c bounds buf_len by VSOCK_BUF_ALLOC. */
		if (!c->buf) {
			c->buf = malloc(VSOCK_BUF_ALLOC);
			if (!c->buf) {
				vsock_conn_reset(c);
				return;
			}
			c->buf_off = c->buf_len = 0;
		}
		if (c->buf_off + c->buf_len + (len - done) > VSOCK_BUF_ALLOC) {
			memmove(c->buf, c->buf + c->buf_off, c->buf_len);
			c->buf_off = 0;
		}
		(void)iov_to_buf(iov, n, done, c->buf + c->buf_off + c->buf_len, len - done);
		c->buf_len += len - done;
	}
	vsock_conn_consumed(c);
	vsock_host_watch(c);
}

static void on_conn(void *opaque, uint32_t events)
{
	struct vsock_conn *c = opaque;
	struct vsock *vs = c->vs;

	if (c->state == VSOCK_HANDSHAKE) {
		vsock_uds_handshake(c);
	} else {
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->host_eof &&
		    !(c->guest_shut & VSOCK_SHUT_RCV) && c->state == VSOCK_ESTABLISHED) {
			c->readable = true; /* vsock_rx.c reads it as credit allows */
			vsock_conn_rx_kick(c);
		}
		vsock_host_flush(c);
		vsock_host_watch(c);
	}
	vsock_run(vs);
}
