/* stream.c - stdio stream connections (port 1025).
 *
 * Owns: reading a stream connection's single STREAM_HELLO frame (exactly
 * its bytes: whatever follows is raw stdin), checking it against the
 * process (exec id, token, announced kind, not yet attached), and then
 * moving bytes between the connection and the process's pipe or pty
 * master with pump.c, in both directions for a tty. End of input (the host
 * half-closes) closes the process's stdin; end of output (the pipe's
 * writers are gone, or the pty reports EIO) closes the connection once all
 * bytes are out, and lets proc.c answer WAIT. A host that closes an output
 * connection gets the pipe closed too, so the process sees EPIPE as with a
 * local pipe. */
#include "agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define STREAM_HELLO_MAX 1024 /* a STREAM_HELLO payload is at most ~300 bytes */

static bool is_output(uint32_t kind)
{
	return kind == KVAP_STREAM_STDOUT || kind == KVAP_STREAM_STDERR;
}

void pstream_close(struct agent *a, struct pstream *s)
{
	watch_close(a, &s->sock);
	watch_close(a, &s->io);
}

static void pstream_finish(struct agent *a, struct pstream *s)
{
	if (s->done)
		return;
	if (s->sock.fd >= 0)
		(void)shutdown(s->sock.fd, SHUT_WR);
	pstream_close(a, s);
	s->done = true;
	adebug("pid %d: stream %u closed", (int)s->p->pid, s->kind);
	proc_check_complete(a, s->p);
}

/* Host closed tty input: a terminal reads EOF as the VEOF character. */
static void tty_send_eof(struct pstream *s)
{
	struct termios t;

	s->veof_sent = true;
	if (s->io.fd >= 0 && tcgetattr(s->io.fd, &t) == 0 && (t.c_lflag & ICANON)) {
		char c = (char)t.c_cc[VEOF];
		ssize_t w = write(s->io.fd, &c, 1);
		(void)w;
	}
}

void pstream_service(struct agent *a, struct pstream *s)
{
	uint32_t ev_sock = 0, ev_io = 0;
	bool out = is_output(s->kind) || s->kind == KVAP_STREAM_TTY;
	bool in = s->kind == KVAP_STREAM_STDIN || s->kind == KVAP_STREAM_TTY;

	if (s->done || !s->attached || s->io.fd < 0)
		return; /* a tty stream attached before READY brought the pty */
	if ((out && pump_run(&s->out, s->io.fd, s->sock.fd) < 0) ||
	    (in && !pump_finished(&s->in) && pump_run(&s->in, s->sock.fd, s->io.fd) < 0)) {
		alog("pid %d: stream %u: out of memory", (int)s->p->pid, s->kind);
		pstream_finish(a, s);
		return;
	}
	if (out && (pump_finished(&s->out) || s->out.broken)) {
		if (s->out.broken)
			adebug("pid %d: stream %u: host side gone: %s", (int)s->p->pid, s->kind,
			       strerror(s->out.error));
		pstream_finish(a, s);
		return;
	}
	if (s->kind == KVAP_STREAM_STDIN && (pump_finished(&s->in) || s->in.broken)) {
		pstream_finish(a, s);
		return;
	}
	if (s->kind == KVAP_STREAM_TTY && s->in.eof && !s->veof_sent && !s->in.len)
		tty_send_eof(s);
	if (out) {
		if (pump_wants_read(&s->out))
			ev_io |= EPOLLIN;
		if (pump_wants_write(&s->out))
			ev_sock |= EPOLLOUT;
	}
	if (in && !s->in.broken) {
		if (pump_wants_read(&s->in))
			ev_sock |= EPOLLIN | EPOLLRDHUP;
		if (pump_wants_write(&s->in))
			ev_io |= EPOLLOUT;
	}
	if (watch_set(a, &s->sock, ev_sock) < 0 || watch_set(a, &s->io, ev_io) < 0)
		pstream_finish(a, s);
}

static void pstream_event(struct agent *a, struct watch *w, uint32_t events)
{
	struct pstream *s = w->owner;

	if (s->p->dead || s->done)
		return;
	pstream_service(a, s);
}

/* --- STREAM_HELLO --- */

static void sconn_free(void *p)
{
	struct sconn *sc = p;

	free(sc->payload);
	free(sc);
}

static void sconn_drop(struct agent *a, struct sconn *sc, bool close_fd)
{
	if (sc->dead)
		return;
	sc->dead = true;
	if (close_fd) {
		watch_close(a, &sc->w);
	} else {
		(void)watch_set(a, &sc->w, 0);
		sc->w.fd = -1;
	}
	for (struct sconn **pp = &a->sconns; *pp; pp = &(*pp)->next)
		if (*pp == sc) {
			*pp = sc->next;
			break;
		}
	a->n_conns--;
	agent_defer_free(a, sconn_free, sc);
}

/* Write a whole small frame to a fresh socket: it fits in the socket buffer. */
static int send_frame(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
	free(buf);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void sconn_reject(struct agent *a, struct sconn *sc, uint32_t req, int errnum,
			 const char *msg)
{
	uint8_t *buf;
	size_t len;

	adebug("stream connection rejected: %s", msg);
	if (kvap_encode_errno(req, errnum, msg, &buf, &len, NULL) == 0)
		(void)send_frame(sc->w.fd, buf, len);
	sconn_drop(a, sc, true);
}

static int stream_check(struct agent *a, const struct kvap_stream_hello *h, struct proc **out,
			const char **msg)
{
	struct proc *p = proc_find(a, h->exec_id);

	if (!p || p->collected) {
		*msg = "no such process";
		return ENOENT;
	}
	if (h->kind > KVAP_STREAM_TTY || !(p->streams & KVAP_STREAM_BIT(h->kind))) {
		*msg = "stream kind not announced for this process";
		return EINVAL;
	}
	if (memcmp(h->token, p->token, KVAP_TOKEN_SIZE) != 0) {
		*msg = "wrong stream token";
		return EACCES;
	}
	if (p->st[h->kind].attached) {
		*msg = "stream already attached";
		return EEXIST;
	}
	*out = p;
	return 0;
}

static void sconn_hello(struct agent *a, struct sconn *sc, const struct kvap_hdr *h)
{
	struct kvap_stream_hello hello;
	struct kv_err err = { 0 };
	struct proc *p = NULL;
	const char *msg = NULL;
	uint8_t *buf;
	size_t len;

	if (h->type != KVAP_MSG_STREAM_HELLO) {
		sconn_reject(a, sc, h->req_id, EPROTO,
			     "a stream connection starts with STREAM_HELLO");
		return;
	}
	int r = kvap_decode_stream_hello(sc->payload, h->len, &hello, &err);
	if (r < 0) {
		sconn_reject(a, sc, h->req_id, -r, err.msg);
		return;
	}
	int errnum = stream_check(a, &hello, &p, &msg);
	uint32_t kind = hello.kind;
	kvap_free_stream_hello(&hello);
	if (errnum) {
		sconn_reject(a, sc, h->req_id, errnum, msg);
		return;
	}
	struct kvap_empty empty = { 0 };
	if (kvap_encode_stream_hello_reply(h->req_id, &empty, &buf, &len, NULL) < 0 ||
	    send_frame(sc->w.fd, buf, len) < 0) {
		sconn_drop(a, sc, true);
		return;
	}
	struct pstream *s = &p->st[kind];
	s->sock = (struct watch){ .fd = sc->w.fd, .fn = pstream_event, .owner = s };
	s->io.fn = pstream_event;
	s->io.owner = s;
	s->attached = true;
	sconn_drop(a, sc, false);
	adebug("pid %d: stream %u attached", (int)p->pid, s->kind);
	pstream_service(a, s);
	proc_maybe_release(a, p);
}

static void sconn_event(struct agent *a, struct watch *w, uint32_t events)
{
	struct sconn *sc = w->owner;
	struct kvap_hdr h;
	struct kv_err err = { 0 };

	if (sc->dead)
		return;
	/* Read exactly the header, then exactly the payload. */
	size_t want = KVAP_HDR_SIZE;
	if (sc->have >= KVAP_HDR_SIZE) {
		(void)kvap_hdr_decode(sc->hdr, &h, NULL);
		want += h.len;
	}
	uint8_t *dst = sc->have < KVAP_HDR_SIZE ? sc->hdr + sc->have
						: sc->payload + (sc->have - KVAP_HDR_SIZE);
	ssize_t n = read(w->fd, dst, want - sc->have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sconn_drop(a, sc, true);
		return;
	}
	sc->have += (size_t)n;
	if (sc->have == KVAP_HDR_SIZE) {
		int r = kvap_hdr_decode(sc->hdr, &h, &err);
		if (r == -EPROTO) {
			sconn_reject(a, sc, h.req_id, EPROTO, "protocol version mismatch");
			return;
		}
		if (r < 0 || h.len > STREAM_HELLO_MAX) {
			alog("stream connection: bad header: %s", r < 0 ? err.msg : "too long");
			sconn_drop(a, sc, true);
			return;
		}
		sc->payload = malloc(h.len ? h.len : 1);
		if (!sc->payload) {
			sconn_drop(a, sc, true);
			return;
		}
	}
	if (sc->have >= KVAP_HDR_SIZE) {
		(void)kvap_hdr_decode(sc->hdr, &h, NULL);
		if (sc->have == KVAP_HDR_SIZE + h.len)
			sconn_hello(a, sc, &h);
	}
}

void sconn_accept(struct agent *a, int fd)
{
	struct sconn *sc = calloc(1, sizeof(*sc));

	if (!sc) {
		close(fd);
		return;
	}
	sc->w = (struct watch){ .fd = fd, .fn = sconn_event, .owner = sc };
	sc->next = a->sconns;
	a->sconns = sc;
	a->n_conns++;
	if (watch_set(a, &sc->w, EPOLLIN) < 0)
		sconn_drop(a, sc, true);
}
