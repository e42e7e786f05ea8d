/* agent-client.c - the control connection to the guest agent.
 *
 * Owns: connecting and the HELLO exchange (version and features), sending
 * framed requests with increasing ids, reading replies with a deadline,
 * matching them by id against the requests in flight (a reply for another
 * request, such as a WAIT answered while a SIGNAL is in flight, is set
 * aside until its caller asks), turning ERROR replies into -errno with the
 * agent's message, and the typed request helpers. The agent is not
 * trusted: a reply to no request in flight, a reply of the wrong type, an
 * ERROR whose errnum is not an errno, an exit status no process can have,
 * or set-aside replies beyond their budget are protocol violations that
 * end the connection (-EPROTO); guest text in a message is escaped and cut
 * (kv_escape). The socket is non-blocking and every wait is a poll() with a
 * deadline, so a silent or vanished agent is an error, not a hang. */
#include "agent-client.h"
#include "agent-client-int.h"
#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_SOFTWARE "kvrun " KVRUN_VERSION
#define READ_CHUNK	(64u << 10)
#define MSG_CAP		sizeof(((struct kv_err *)0)->msg)

struct stashed {
	struct stashed *next;
	struct kvap_msg m;
	size_t cost;	/* counted against AGENT_SET_ASIDE_MAX */
	int decode_err; /* kvap_msg_from_frame() failure for this reply, or 0 */
	char msg[MSG_CAP];
};

/* A request sent whose reply has not arrived. */
struct in_flight {
	uint32_t id;
	uint16_t type;
	bool abandoned; /* its caller timed out: the reply is dropped */
};

struct agent_client {
	struct agent_dialer d;
	int fd;
	uint32_t next_id;
	int broken; /* sticky negative errno after an I/O error or a protocol violation */
	char broken_msg[MSG_CAP];
	struct kvap_reader rd;
	uint8_t *in;
	size_t in_off, in_len;
	struct in_flight flight[AGENT_MAX_IN_FLIGHT + 1];
	unsigned n_flight;
	struct stashed *stash;
	unsigned n_stash;
	size_t stash_bytes;
	unsigned strays; /* replies to no request in flight */
	uint64_t features;
	char *software;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -1: no deadline. */
static int64_t deadline_in(int ms)
{
	return ms < 0 ? -1 : mono_ms() + ms;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int left = deadline < 0 ? -1 : (int)(deadline - mono_ms());
		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int client_fail(struct agent_client *c, struct kv_err *err, int code, const char *fmt,
		       const char *detail)
{
	c->broken = code;
	snprintf(c->broken_msg, sizeof(c->broken_msg), fmt, detail);
	return kv_errf(err, code, "%s", c->broken_msg);
}

/* A protocol violation: the connection is closed and every later call
 * fails with the same message. */
__attribute__((format(printf, 3, 4))) static int violation(struct agent_client *c,
							   struct kv_err *err, const char *fmt, ...)
{
	char what[MSG_CAP - 40];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (c->fd >= 0)
		(void)shutdown(c->fd, SHUT_RDWR);
	return client_fail(c, err, -EPROTO, "the agent broke the protocol: %s", what);
}

const char *agent_guest_text(char *buf, size_t cap, const char *text)
{
	return kv_escape(buf, cap, text, AGENT_GUEST_TEXT_MAX);
}

int agent_error_reply(const char *what, const struct kvap_error *e, struct kv_err *err)
{
	char text[AGENT_GUEST_TEXT_MAX + 1];

	if (!agent_errnum_valid(e->errnum))
		return kv_errf(err, -EPROTO,
			       "%s: the agent broke the protocol: ERROR with errnum %u, which is "
			       "not an errno (%s)",
			       what, e->errnum, agent_guest_text(text, sizeof(text), e->message));
	int code = -(int)e->errnum;
	return kv_errf(err, code, "%s: %s", what,
		       e->message && *e->message ? agent_guest_text(text, sizeof(text), e->message)
						 : strerror(-code));
}

static int send_all(struct agent_client *c, const uint8_t *buf, size_t len, int64_t deadline,
		    struct kv_err *err)
{
	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			int r = wait_fd(c->fd, POLLOUT, deadline);
			if (r == -ETIMEDOUT)
				return client_fail(c, err, r, "%s",
						   "timed out sending a request to the agent");
			if (r < 0)
				return kv_errno(err, r, "poll");
			continue;
		}
		return client_fail(c, err, n < 0 ? -errno : -EIO, "sending to the agent: %s",
				   strerror(n < 0 ? errno : EIO));
	}
	return 0;
}

/* Next frame from the connection, decoded into *m (*decode_err set when
 * only its header could be decoded). */
static int recv_msg(struct agent_client *c, struct kvap_msg *m, int *decode_err, char *msg,
		    size_t msg_cap, int64_t deadline, struct kv_err *err)
{
	for (;;) {
		while (c->in_len) {
			struct kvap_frame f;
			struct kv_err ferr = { 0 };
			size_t used;
			int r = kvap_reader_feed(&c->rd, c->in + c->in_off, c->in_len, &used, &f,
						 &ferr);
			c->in_off += used;
			c->in_len -= used;
			if (r == -EPROTO) {
				char v[160];
				snprintf(v, sizeof(v),
					 "protocol version mismatch: the agent speaks KVAP %u.%u, "
					 "this host %u.%u",
					 f.hdr.major, f.hdr.minor, KVAP_VERSION_MAJOR,
					 KVAP_VERSION_MINOR);
				return client_fail(c, err, -EPROTO, "%s", v);
			}
			if (r < 0)
				return client_fail(c, err, r, "agent sent a bad frame: %.400s",
						   ferr.msg);
			if (r == 1) {
				ferr = (struct kv_err){ 0 };
				*decode_err = kvap_msg_from_frame(&f, m, &ferr);
				snprintf(msg, msg_cap, "%s", ferr.msg);
				return 0;
			}
		}
		c->in_off = 0;
		ssize_t n = read(c->fd, c->in, READ_CHUNK);
		if (n > 0) {
			c->in_len = (size_t)n;
			continue;
		}
		if (n == 0)
			return client_fail(c, err, -ECONNRESET, "%s",
					   kvap_reader_idle(&c->rd)
					       ? "the agent closed the connection"
					       : "the agent closed the connection in the middle "
						 "of a frame");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return client_fail(c, err, -errno, "reading from the agent: %s",
					   strerror(errno));
		int r = wait_fd(c->fd, POLLIN, deadline);
		if (r == -ETIMEDOUT)
			return kv_errf(err, r, "no reply from the agent in time");
		if (r < 0)
			return kv_errno(err, r, "poll");
	}
}

static int flight_find(const struct agent_client *c, uint32_t id)
{
	for (unsigned i = 0; i < c->n_flight; i++)
		if (c->flight[i].id == id)
			return (int)i;
	return -1;
}

static void flight_remove(struct agent_client *c, int i)
{
	c->flight[i] = c->flight[--c->n_flight];
}

/* Reserve a place for a request: sent requests count until their reply was
 * collected, set-aside ones included. WAITs sent ahead (wait_send) may
 * take AGENT_MAX_IN_FLIGHT places; one more is always left for a call, so
 * that a SIGNAL still goes out with every place taken. When full, an
 * abandoned request (its call timed out) gives up its place: a late reply
 * to it then counts as a stray. */
static int flight_add(struct agent_client *c, uint32_t id, uint16_t type, bool ahead,
		      struct kv_err *err)
{
	unsigned limit = ahead ? AGENT_MAX_IN_FLIGHT : AGENT_MAX_IN_FLIGHT + 1;

	if (c->n_flight + c->n_stash >= limit) {
		for (unsigned i = 0; i < c->n_flight; i++)
			if (c->flight[i].abandoned) {
				memmove(&c->flight[i], &c->flight[i + 1],
					(c->n_flight - i - 1) * sizeof(c->flight[0]));
				c->n_flight--;
				break;
			}
	}
	if (c->n_flight + c->n_stash >= limit)
		return kv_errf(err, -EBUSY, "%u requests to the agent already await their replies",
			       c->n_flight + c->n_stash);
	c->flight[c->n_flight++] = (struct in_flight){ .id = id, .type = type };
	return 0;
}

/* What a reply must be to be believed, checked as it arrives (also when it
 * is set aside): of its request's reply type or ERROR; an ERROR's errnum an
 * errno; a WAIT_REPLY's signal one a process can die of. */
static int check_reply(struct agent_client *c, uint16_t req_type, const struct kvap_msg *m,
		       int decode_err, struct kv_err *err)
{
	const char *name = kvap_type_name(req_type);
	uint16_t t = m->hdr.type;

	if (t != KVAP_MSG_ERROR && t != kvap_reply_type(req_type)) {
		if (kvap_type_name(t))
			return violation(c, err, "%s answered with %s", name, kvap_type_name(t));
		return violation(c, err, "%s answered with unknown type %#06x", name, t);
	}
	if (decode_err < 0)
		return 0; /* the call reports it; the connection is still in sync */
	if (t == KVAP_MSG_ERROR && !agent_errnum_valid(m->body.error.errnum)) {
		char text[AGENT_GUEST_TEXT_MAX + 1];
		return violation(c, err, "%s: ERROR with errnum %u, which is not an errno (%s)",
				 name, m->body.error.errnum,
				 agent_guest_text(text, sizeof(text), m->body.error.message));
	}
	if (t == KVAP_MSG_WAIT_REPLY && m->body.wait_reply.term_signal > AGENT_MAX_SIGNAL)
		return violation(c, err, "%s: exit status with signal %u (valid: 1..%d)", name,
				 m->body.wait_reply.term_signal, AGENT_MAX_SIGNAL);
	return 0;
}

static int set_aside(struct agent_client *c, struct kvap_msg *m, int decode_err, const char *msg,
		     struct kv_err *err)
{
	size_t cost = sizeof(struct stashed) + m->hdr.len;

	if (c->stash_bytes + cost > AGENT_SET_ASIDE_MAX) {
		kvap_msg_clear(m);
		return violation(c, err,
				 "replies set aside for later requests exceed %u KiB (%u of them)",
				 AGENT_SET_ASIDE_MAX >> 10, c->n_stash + 1);
	}
	struct stashed *s = calloc(1, sizeof(*s));
	if (!s) {
		kvap_msg_clear(m);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	s->m = *m;
	s->cost = cost;
	s->decode_err = decode_err;
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	s->next = c->stash;
	c->stash = s;
	c->n_stash++;
	c->stash_bytes += cost;
	return 0;
}

/* The reply to req_id: from the set-aside ones, or read (setting aside the
 * replies to other requests in flight). -ETIMEDOUT only when no reply came
 * before the deadline. */
static int await_reply(struct agent_client *c, uint32_t req_id, int64_t deadline,
		       struct kvap_msg *out, int *decode_err, char *msg, size_t msg_cap,
		       struct kv_err *err)
{
	for (struct stashed **pp = &c->stash; *pp; pp = &(*pp)->next) {
		struct stashed *s = *pp;
		if (s->m.hdr.req_id != req_id)
			continue;
		*out = s->m;
		*decode_err = s->decode_err;
		snprintf(msg, msg_cap, "%s", s->msg);
		*pp = s->next;
		c->n_stash--;
		c->stash_bytes -= s->cost;
		free(s);
		return 0;
	}
	if (c->broken)
		return kv_errf(err, c->broken, "%s", c->broken_msg);
	for (;;) {
		int r = recv_msg(c, out, decode_err, msg, msg_cap, deadline, err);
		if (r < 0)
			return r;
		int i = flight_find(c, out->hdr.req_id);
		if (i < 0) {
			kvap_msg_clear(out);
			if (++c->strays > AGENT_MAX_STRAY_REPLIES)
				return violation(c, err,
						 "%u replies to requests never sent (or answered "
						 "already)",
						 c->strays);
			continue;
		}
		struct in_flight f = c->flight[i];
		flight_remove(c, i);
		if ((r = check_reply(c, f.type, out, *decode_err, err)) < 0) {
			kvap_msg_clear(out);
			return r;
		}
		if (f.id == req_id)
			return 0;
		if (f.abandoned) {
			kvap_msg_clear(out);
			continue;
		}
		if ((r = set_aside(c, out, *decode_err, msg, err)) < 0)
			return r;
	}
}

static int send_request(struct agent_client *c, uint16_t type, const void *body, bool ahead,
			uint32_t *id, struct kv_err *err)
{
	cleanup_free uint8_t *buf = NULL;
	size_t len;
	int r;

	if (c->broken)
		return kv_errf(err, c->broken, "%s", c->broken_msg);
	if (++c->next_id == 0)
		c->next_id = 1;
	*id = c->next_id;
	if ((r = kvap_frame_encode_alloc(type, *id, body, &buf, &len, err)) < 0)
		return r;
	if ((r = flight_add(c, *id, type, ahead, err)) < 0)
		return r;
	if ((r = send_all(c, buf, len, deadline_in(c->d.io_timeout_ms), err)) < 0)
		flight_remove(c, flight_find(c, *id));
	return r;
}

/* Turn a received (and checked) message into the caller's reply body or
 * an error. *reply is zeroed first, so a failure never leaves it holding
 * anything. */
static int finish_reply(uint16_t type, struct kvap_msg *m, int decode_err, const char *msg,
			union kvap_body *reply, struct kv_err *err)
{
	const char *name = kvap_type_name(type);

	memset(reply, 0, sizeof(*reply));
	if (decode_err < 0) {
		kvap_msg_clear(m);
		return kv_errf(err, decode_err, "%s: the agent's reply does not decode: %s", name,
			       msg);
	}
	if (m->hdr.type == KVAP_MSG_ERROR) {
		int r = agent_error_reply(name, &m->body.error, err);
		kvap_msg_clear(m);
		return r < 0 ? r : -EPROTO;
	}
	if (m->hdr.type != kvap_reply_type(type)) { /* check_reply() let it through: a bug */
		kvap_msg_clear(m);
		return kv_errf(err, -EPROTO, "%s: the agent answered with type %#06x", name,
			       m->hdr.type);
	}
	*reply = m->body;
	return 0;
}

static int call_timeout(struct agent_client *c, uint16_t type, const void *body,
			union kvap_body *reply, int timeout_ms, struct kv_err *err)
{
	struct kvap_msg m;
	char msg[MSG_CAP];
	uint32_t id;
	int decode_err = 0, r;

	memset(reply, 0, sizeof(*reply));
	if ((r = send_request(c, type, body, false, &id, err)) < 0)
		return r;
	r = await_reply(c, id, deadline_in(timeout_ms), &m, &decode_err, msg, sizeof(msg), err);
	if (r == -ETIMEDOUT) {
		int i = flight_find(c, id);
		if (i >= 0)
			c->flight[i].abandoned = true;
	}
	if (r < 0)
		return r;
	return finish_reply(type, &m, decode_err, msg, reply, err);
}

int agent_client_call(struct agent_client *c, uint16_t type, const void *body,
		      union kvap_body *reply, struct kv_err *err)
{
	return call_timeout(c, type, body, reply, c->d.io_timeout_ms, err);
}

int agent_client_open(int fd, const struct agent_dialer *d, struct agent_client **out,
		      struct kv_err *err)
{
	struct kvap_hello hello = { .features = 0,
				    .max_payload = KVAP_MAX_PAYLOAD,
				    .software = (char *)CLIENT_SOFTWARE };
	union kvap_body reply;
	char software[KVAP_MAX_SOFTWARE + 1];
	int r;

	*out = NULL;
	struct agent_client *c = calloc(1, sizeof(*c));
	if (!c || !(c->in = malloc(READ_CHUNK))) {
		free(c);
		close(fd);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	c->d = *d;
	if (!c->d.io_timeout_ms)
		c->d.io_timeout_ms = AGENT_IO_TIMEOUT_MS;
	kvap_reader_init(&c->rd);
	c->fd = fd;
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0) {
		r = kv_errno(err, -errno, "O_NONBLOCK");
		agent_client_free(c);
		return r;
	}
	if ((r = agent_client_call(c, KVAP_MSG_HELLO, &hello, &reply, err)) < 0) {
		agent_client_free(c);
		return r;
	}
	c->features = reply.hello_reply.features;
	/* Informational, but someone may print it: escaped once, here. */
	agent_guest_text(software, sizeof(software), reply.hello_reply.software);
	kvap_free_hello_reply(&reply.hello_reply);
	if (!(c->software = strdup(software))) {
		agent_client_free(c);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

int agent_client_connect(const struct agent_dialer *d, struct agent_client **out,
			 struct kv_err *err)
{
	*out = NULL;
	int fd = agent_dial(d, KVAP_PORT_CONTROL, err);
	return fd < 0 ? fd : agent_client_open(fd, d, out, err);
}

void agent_client_free(struct agent_client *c)
{
	if (!c)
		return;
	while (c->stash) {
		struct stashed *s = c->stash;
		c->stash = s->next;
		kvap_msg_clear(&s->m);
		free(s);
	}
	if (c->fd >= 0)
		close(c->fd);
	kvap_reader_release(&c->rd);
	free(c->in);
	free(c->software);
	free(c);
}

uint64_t agent_client_features(const struct agent_client *c)
{
	return c->features;
}

const char *agent_client_software(const struct agent_client *c)
{
	return c->software ? c->software : "";
}

const struct agent_dialer *agent_client_dialer(const struct agent_client *c)
{
	return &c->d;
}

int agent_client_fd(const struct agent_client *c)
{
	return c->fd;
}

bool agent_client_buffered(const struct agent_client *c, uint32_t req_id)
{
	if (c->in_len)
		return true;
	for (const struct stashed *s = c->stash; s; s = s->next)
		if (s->m.hdr.req_id == req_id)
			return true;
	return false;
}

int agent_exit_status(const struct kvap_exit *st)
{
	if (st->term_signal > AGENT_MAX_SIGNAL || (st->term_signal && st->exit_code))
		return -EPROTO;
	return st->term_signal ? 128 + st->term_signal : st->exit_code;
}

int agent_client_wait_send(struct agent_client *c, const char *exec_id, uint32_t *req_id,
			   struct kv_err *err)
{
	struct kvap_wait w = { .exec_id = (char *)exec_id };
	return send_request(c, KVAP_MSG_WAIT, &w, true, req_id, err);
}

/* 1 with *st set, 0 when no reply came before the deadline, or the error
 * (an ERROR reply included, whatever its errnum). */
static int wait_collect(struct agent_client *c, uint32_t req_id, int timeout_ms,
			struct kvap_exit *st, struct kv_err *err)
{
	struct kvap_msg m;
	union kvap_body reply;
	char msg[MSG_CAP];
	int decode_err = 0;

	memset(st, 0, sizeof(*st));
	int r =
	    await_reply(c, req_id, deadline_in(timeout_ms), &m, &decode_err, msg, sizeof(msg), err);
	if (r == -ETIMEDOUT)
		return 0;
	if (r < 0)
		return r;
	if ((r = finish_reply(KVAP_MSG_WAIT, &m, decode_err, msg, &reply, err)) < 0)
		return r;
	*st = reply.wait_reply;
	return 1;
}

int agent_client_wait_poll(struct agent_client *c, uint32_t req_id, struct kvap_exit *st,
			   struct kv_err *err)
{
	return wait_collect(c, req_id, 0, st, err);
}

int agent_client_wait_recv(struct agent_client *c, uint32_t req_id, int timeout_ms,
			   struct kvap_exit *st, struct kv_err *err)
{
	int r = wait_collect(c, req_id, timeout_ms, st, err);

	if (r == 0)
		return kv_errf(err, -ETIMEDOUT, "no reply from the agent in time");
	return r < 0 ? r : 0;
}

int agent_client_wait(struct agent_client *c, const char *exec_id, struct kvap_exit *st,
		      struct kv_err *err)
{
	uint32_t id;
	int r = agent_client_wait_send(c, exec_id, &id, err);

	if (r < 0) {
		memset(st, 0, sizeof(*st));
		return r;
	}
	return agent_client_wait_recv(c, id, -1, st, err);
}
