/* control.c - control connections (port 1024): frames in, replies out.
 *
 * Owns: one connection's life: reading bytes and reassembling frames with
 * the kvap reader, handing each frame to request_dispatch(), queueing
 * replies and writing them as the socket allows, and closing. A connection
 * whose replies pile up (the host sends but does not read) stops being read
 * until the queue drains. A stream that loses frame sync (bad magic, another
 * major version, an oversized header) or ends inside a frame is closed;
 * the agent and every other connection go on. */
#include "agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_HIGH_WATER (4u << 20) /* stop reading requests above this */
#define READ_CHUNK     (64u << 10)

static void conn_free(void *p)
{
	struct conn *c = p;

	kvap_reader_release(&c->rd);
	free(c->out);
	free(c);
}

void conn_close(struct agent *a, struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	watch_close(a, &c->w);
	for (struct conn **pp = &a->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	a->n_conns--;
	adebug("control connection %llu closed", (unsigned long long)c->serial);
	agent_defer_free(a, conn_free, c);
}

struct conn *conn_find(struct agent *a, uint64_t serial)
{
	for (struct conn *c = a->conns; c; c = c->next)
		if (c->serial == serial)
			return c;
	return NULL;
}

bool conns_flushed(struct agent *a)
{
	for (struct conn *c = a->conns; c; c = c->next)
		if (c->out_len)
			return false;
	return true;
}

static void conn_update(struct agent *a, struct conn *c)
{
	uint32_t ev = 0;

	if (c->dead)
		return;
	if (c->closing && !c->out_len) {
		conn_close(a, c);
		return;
	}
	if (!c->closing && c->out_len < OUT_HIGH_WATER)
		ev |= EPOLLIN;
	if (c->out_len)
		ev |= EPOLLOUT;
	if (watch_set(a, &c->w, ev) < 0)
		conn_close(a, c);
}

static void conn_flush(struct agent *a, struct conn *c)
{
	while (c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			adebug("control connection %llu: write: %s", (unsigned long long)c->serial,
			       strerror(errno));
			conn_close(a, c);
			return;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
	}
	if (!c->out_len)
		c->out_off = 0;
}

static void conn_queue(struct agent *a, struct conn *c, const uint8_t *buf, size_t len)
{
	if (c->dead)
		return;
	if (c->out_off + c->out_len + len > c->out_cap) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len);
			c->out_off = 0;
		}
		if (c->out_len + len > c->out_cap) {
			size_t cap = c->out_cap ? c->out_cap : 4096;
			while (cap < c->out_len + len)
				cap *= 2;
			uint8_t *n = realloc(c->out, cap);
			if (!n) {
				alog("out of memory queueing a reply: closing the connection");
				conn_close(a, c);
				return;
			}
			c->out = n;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_off + c->out_len, buf, len);
	c->out_len += len;
	conn_flush(a, c);
	conn_update(a, c);
}

void conn_send_reply(struct agent *a, struct conn *c, uint16_t type, uint32_t req_id,
		     const void *body)
{
	struct kv_err err = { 0 };
	uint8_t *buf = NULL;
	size_t len;

	if (kvap_frame_encode_alloc(type, req_id, body, &buf, &len, &err) < 0) {
		alog("encoding %s: %s", kvap_type_name(type), err.msg);
		conn_send_error(a, c, req_id, EIO, "agent could not encode its reply");
		return;
	}
	conn_queue(a, c, buf, len);
	free(buf);
}

void conn_send_error(struct agent *a, struct conn *c, uint32_t req_id, int errnum, const char *msg)
{
	uint8_t *buf = NULL;
	size_t len;

	if (kvap_encode_errno(req_id, errnum, msg, &buf, &len, NULL) < 0)
		return;
	conn_queue(a, c, buf, len);
	free(buf);
}

/* A header the reader rejected: the stream is out of sync. */
static void conn_lost_sync(struct agent *a, struct conn *c, int r, const struct kvap_frame *f,
			   const struct kv_err *err)
{
	alog("control connection %llu: %s: closing it", (unsigned long long)c->serial, err->msg);
	if (r == -EPROTO) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "protocol version mismatch: the agent speaks KVAP %u.%u, the host %u.%u",
			 KVAP_VERSION_MAJOR, KVAP_VERSION_MINOR, f->hdr.major, f->hdr.minor);
		conn_send_error(a, c, f->hdr.req_id, EPROTO, msg);
	}
	c->closing = true;
	conn_update(a, c);
}

static void conn_read(struct agent *a, struct conn *c)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n = read(c->w.fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			adebug("control connection %llu: read: %s", (unsigned long long)c->serial,
			       strerror(errno));
		else if (!kvap_reader_idle(&c->rd))
			alog("control connection %llu: the host closed it in the middle of a frame",
			     (unsigned long long)c->serial);
		conn_close(a, c);
		return;
	}
	for (size_t off = 0, used; off < (size_t)n && !c->dead && !c->closing; off += used) {
		struct kvap_frame f;
		struct kv_err err = { 0 };
		int r = kvap_reader_feed(&c->rd, buf + off, (size_t)n - off, &used, &f, &err);
		if (r < 0) {
			conn_lost_sync(a, c, r, &f, &err);
			return;
		}
		if (r == 1)
			request_dispatch(a, c, &f);
	}
}

static void conn_event(struct agent *a, struct watch *w, uint32_t events)
{
	struct conn *c = w->owner;

	if (c->dead)
		return;
	if (events & EPOLLOUT)
		conn_flush(a, c);
	if (!c->dead && !c->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(a, c);
	else if (!c->dead && (events & (EPOLLHUP | EPOLLERR)) && c->closing)
		conn_close(a, c);
	if (!c->dead)
		conn_update(a, c);
}

void conn_accept(struct agent *a, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->serial = ++a->next_serial;
	c->w = (struct watch){ .fd = fd, .fn = conn_event, .owner = c };
	kvap_reader_init(&c->rd);
	c->next = a->conns;
	a->conns = c;
	a->n_conns++;
	adebug("control connection %llu accepted", (unsigned long long)c->serial);
	conn_update(a, c);
}
