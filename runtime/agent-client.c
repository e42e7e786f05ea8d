/* agent-client.c - the control connection to the guest agent.
 *
 * Owns: connecting and the HELLO exchange (version and features), sending
 * framed requests with increasing ids, reading replies with a deadline,
 * matching them by id (a reply for another request, such as a WAIT
 * answered while a SIGNAL is in flight, is kept until its caller asks),
 * turning ERROR replies into -errno with the agent's message, and the
 * typed request helpers. The socket is non-blocking and every wait is a
 * poll() with a deadline, so a silent or vanished agent is an error, not a
 * hang. */
#include "agent-client.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
	int decode_err; /* kvap_msg_from_frame() failure for this reply, or 0 */
	char msg[MSG_CAP];
};

struct agent_client {
	struct agent_dialer d;
	int fd;
	uint32_t next_id;
	int broken; /* sticky negative errno after an I/O error */
	char broken_msg[MSG_CAP];
	struct kvap_reader rd;
	uint8_t *in;
	size_t in_off, in_len;
	struct stashed *stash;
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

/* The reply to req_id: from the stash, or read (stashing others). */
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
		free(s);
		return 0;
	}
	if (c->broken)
		return kv_errf(err, c->broken, "%s", c->broken_msg);
	for (;;) {
		int r = recv_msg(c, out, decode_err, msg, msg_cap, deadline, err);
		if (r < 0)
			return r;
		if (out->hdr.req_id == req_id)
			return 0;
		struct stashed *s = calloc(1, sizeof(*s));
		if (!s) {
			kvap_msg_clear(out);
			return kv_errf(err, -ENOMEM, "out of memory");
		}
		s->m = *out;
		s->decode_err = *decode_err;
		snprintf(s->msg, sizeof(s->msg), "%s", msg);
		s->next = c->stash;
		c->stash = s;
	}
}

static int send_request(struct agent_client *c, uint16_t type, const void *body, uint32_t *id,
			struct kv_err *err)
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
	return send_all(c, buf, len, deadline_in(c->d.io_timeout_ms), err);
}

/* Turn a received message into the caller's reply body or an error. */
static int finish_reply(uint16_t type, struct kvap_msg *m, int decode_err, const char *msg,
			union kvap_body *reply, struct kv_err *err)
{
	const char *name = kvap_type_name(type);

	if (decode_err < 0)
		return kv_errf(err, decode_err, "%s: the agent's reply does not decode: %s", name,
			       msg);
	if (m->hdr.type == KVAP_MSG_ERROR) {
		int e = (int)m->body.error.errnum;
		kv_errf(err, -e, "%s: %s", name,
			m->body.error.message && *m->body.error.message ? m->body.error.message
									: strerror(e));
		kvap_msg_clear(m);
		return -e;
	}
	if (m->hdr.type != kvap_reply_type(type)) {
		kv_errf(err, -EPROTO, "%s: the agent answered with %s", name,
			kvap_type_name(m->hdr.type) ? kvap_type_name(m->hdr.type) : "?");
		kvap_msg_clear(m);
		return -EPROTO;
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

	if ((r = send_request(c, type, body, &id, err)) < 0)
		return r;
	if ((r = await_reply(c, id, deadline_in(timeout_ms), &m, &decode_err, msg, sizeof(msg),
			     err)) < 0)
		return r;
	return finish_reply(type, &m, decode_err, msg, reply, err);
}

int agent_client_call(struct agent_client *c, uint16_t type, const void *body,
		      union kvap_body *reply, struct kv_err *err)
{
	return call_timeout(c, type, body, reply, c->d.io_timeout_ms, err);
}

int agent_client_connect(const struct agent_dialer *d, struct agent_client **out,
			 struct kv_err *err)
{
	struct kvap_hello hello = { .features = 0,
				    .max_payload = KVAP_MAX_PAYLOAD,
				    .software = (char *)CLIENT_SOFTWARE };
	union kvap_body reply;
	int r;

	*out = NULL;
	struct agent_client *c = calloc(1, sizeof(*c));
	if (!c || !(c->in = malloc(READ_CHUNK))) {
		free(c);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	c->d = *d;
	if (!c->d.io_timeout_ms)
		c->d.io_timeout_ms = AGENT_IO_TIMEOUT_MS;
	kvap_reader_init(&c->rd);
	c->fd = agent_dial(d, KVAP_PORT_CONTROL, err);
	if (c->fd < 0) {
		r = c->fd;
		c->fd = -1;
		agent_client_free(c);
		return r;
	}
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
	c->software = steal_ptr(&reply.hello_reply.software);
	kvap_free_hello_reply(&reply.hello_reply);
	*out = c;
	return 0;
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

int agent_exit_status(const struct kvap_exit *st)
{
	return st->term_signal ? 128 + st->term_signal : st->exit_code;
}

int agent_client_wait_send(struct agent_client *c, const char *exec_id, uint32_t *req_id,
			   struct kv_err *err)
{
	struct kvap_wait w = { .exec_id = (char *)exec_id };
	return send_request(c, KVAP_MSG_WAIT, &w, req_id, err);
}

int agent_client_wait_recv(struct agent_client *c, uint32_t req_id, int timeout_ms,
			   struct kvap_exit *st, struct kv_err *err)
{
	struct kvap_msg m;
	union kvap_body reply;
	char msg[MSG_CAP];
	int decode_err = 0;
	int r =
	    await_reply(c, req_id, deadline_in(timeout_ms), &m, &decode_err, msg, sizeof(msg), err);

	if (r < 0)
		return r;
	if ((r = finish_reply(KVAP_MSG_WAIT, &m, decode_err, msg, &reply, err)) < 0)
		return r;
	*st = reply.wait_reply;
	return 0;
}

int agent_client_wait(struct agent_client *c, const char *exec_id, struct kvap_exit *st,
		      struct kv_err *err)
{
	uint32_t id;
	int r = agent_client_wait_send(c, exec_id, &id, err);

	return r < 0 ? r : agent_client_wait_recv(c, id, -1, st, err);
}
