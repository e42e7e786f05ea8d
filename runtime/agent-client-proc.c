/* agent-client-proc.c - a guest process's handle and its stdio streams.
 *
 * Owns: EXEC (or CREATE + START) with a fresh random stream token, opening
 * one connection per announced stream to port 1025 with its STREAM_HELLO,
 * and forwarding the caller's stdio until the process has exited: stdin
 * (or the tty) from the caller's fd, EOF half-closing the stream; stdout
 * and stderr to separate fds; the exit status from a WAIT sent first. The
 * loop is poll()-based, so the caller's fds need not be pollable by epoll
 * (regular files, /dev/null) and are never switched to non-blocking. */
#include "agent-client.h"
#include "agent-client-int.h"
#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FWD_BUF		  (64u << 10)
#define STREAM_ANSWER_MAX 8192 /* STREAM_HELLO_REPLY has no fields; ERROR fits */

void agent_proc_free(struct agent_proc *p)
{
	if (!p)
		return;
	for (int k = 0; k < 4; k++)
		if (p->fd[k] >= 0)
			close(p->fd[k]);
	free(p->exec_id);
	free(p);
}

static struct agent_proc *proc_new(struct agent_client *c, const char *exec_id, uint32_t streams)
{
	struct agent_proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->c = c;
	p->streams = streams;
	for (int k = 0; k < 4; k++)
		p->fd[k] = -1;
	p->exec_id = strdup(exec_id ? exec_id : "");
	if (!p->exec_id || getrandom(p->token, sizeof(p->token), 0) != sizeof(p->token)) {
		agent_proc_free(p);
		return NULL;
	}
	return p;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly len bytes from a blocking socket by the deadline (< 0:
 * none): one deadline for the whole answer, however the bytes trickle in. */
static int read_exact(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	while (len) {
		int left = deadline < 0 ? -1 : (int)(deadline - mono_ms());
		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t n = read(fd, buf, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int agent_stream_answer(int fd, uint32_t kind, const char *exec_id, int timeout_ms,
			struct kv_err *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	uint8_t hdr[KVAP_HDR_SIZE], payload[STREAM_ANSWER_MAX];
	struct kvap_hdr hh;
	char what[64 + KVAP_MAX_EXEC_ID];
	int r;

	snprintf(what, sizeof(what), "attaching stream %u of '%s'", kind, exec_id);
	if ((r = read_exact(fd, hdr, sizeof(hdr), deadline)) < 0)
		return kv_errno(err, r, "%s: reading the agent's answer", what);
	if ((r = kvap_hdr_decode(hdr, &hh, err)) < 0)
		return r;
	if (hh.len > sizeof(payload))
		return kv_errf(err, -EPROTO, "%s: oversized answer (%u bytes)", what, hh.len);
	if ((r = read_exact(fd, payload, hh.len, deadline)) < 0)
		return kv_errno(err, r, "%s: reading the agent's answer", what);
	if (hh.type == KVAP_MSG_ERROR) {
		struct kvap_error e;
		if (kvap_decode_error(payload, hh.len, &e, NULL) < 0)
			return kv_errf(err, -EPROTO, "%s: undecodable ERROR", what);
		r = agent_error_reply(what, &e, err);
		kvap_free_error(&e);
		return r < 0 ? r : -EPROTO;
	}
	if (hh.type != KVAP_MSG_STREAM_HELLO_REPLY)
		return kv_errf(err, -EPROTO, "%s: unexpected answer type %#06x", what, hh.type);
	return 0;
}

/* One stream connection: dial, STREAM_HELLO, read exactly its reply. */
static int attach_one(struct agent_proc *p, uint32_t kind, struct kv_err *err)
{
	const struct agent_dialer *d = agent_client_dialer(p->c);
	struct kvap_stream_hello h = { .exec_id = p->exec_id, .kind = kind };
	cleanup_free uint8_t *buf = NULL;
	size_t len;
	int r;

	int io_ms = d->io_timeout_ms ? d->io_timeout_ms : AGENT_IO_TIMEOUT_MS;

	memcpy(h.token, p->token, sizeof(h.token));
	cleanup_close int fd = agent_dial(d, KVAP_PORT_STREAM, err);
	if (fd < 0)
		return fd;
	if ((r = kvap_encode_stream_hello(kind, &h, &buf, &len, err)) < 0)
		return r;
	if ((r = write_full(fd, buf, len)) < 0)
		return kv_errno(err, r, "sending STREAM_HELLO");
	if ((r = agent_stream_answer(fd, kind, p->exec_id, io_ms, err)) < 0)
		return r;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return kv_errno(err, -errno, "O_NONBLOCK");
	p->fd[kind] = steal_fd(&fd);
	return 0;
}

static int attach_all(struct agent_proc *p, struct kv_err *err)
{
	for (uint32_t k = 0; k < 4; k++) {
		if (!(p->streams & KVAP_STREAM_BIT(k)))
			continue;
		int r = attach_one(p, k, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int agent_proc_exec(struct agent_client *c, const char *container_id, const char *exec_id,
		    const struct kvap_process *process, uint32_t streams, struct agent_proc **out,
		    struct kv_err *err)
{
	union kvap_body reply;
	int r;

	*out = NULL;
	struct agent_proc *p = proc_new(c, exec_id, streams);
	if (!p)
		return kv_errf(err, -ENOMEM, "out of memory");
	struct kvap_exec e = { .container_id = (char *)container_id,
			       .exec_id = p->exec_id,
			       .process = *process,
			       .streams = streams };
	memcpy(e.stream_token, p->token, sizeof(p->token));
	if ((r = agent_client_call(c, KVAP_MSG_EXEC, &e, &reply, err)) < 0 ||
	    (p->pid = reply.exec_reply.pid, r = attach_all(p, err)) < 0) {
		agent_proc_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int agent_proc_create_start(struct agent_client *c, struct kvap_create *spec, uint32_t streams,
			    struct agent_proc **out, struct kv_err *err)
{
	int r;

	*out = NULL;
	struct agent_proc *p = proc_new(c, "", streams);
	if (!p)
		return kv_errf(err, -ENOMEM, "out of memory");
	spec->streams = streams;
	memcpy(spec->stream_token, p->token, sizeof(p->token));
	if ((r = agent_client_create(c, spec, &p->pid, err)) < 0 || (r = attach_all(p, err)) < 0 ||
	    (r = agent_client_start(c, spec->container_id, NULL, err)) < 0) {
		agent_proc_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int agent_proc_create(struct agent_client *c, struct kvap_create *spec, uint32_t streams,
		      struct agent_proc **out, struct kv_err *err)
{
	int r;

	*out = NULL;
	struct agent_proc *p = proc_new(c, "", streams);
	if (!p)
		return kv_errf(err, -ENOMEM, "out of memory");
	spec->streams = streams;
	memcpy(spec->stream_token, p->token, sizeof(p->token));
	if ((r = agent_client_create(c, spec, &p->pid, err)) < 0 || (r = attach_all(p, err)) < 0) {
		agent_proc_free(p);
		return r;
	}
	*out = p;
	return 0;
}

/* Write all of buf to a caller's fd, which may be non-blocking. */
static int write_out(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			(void)poll(&pfd, 1, -1);
		} else if (!(n < 0 && errno == EINTR)) {
			return n < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

struct fwd {
	int in_sock; /* stdin or tty stream, -1 when none or finished */
	int in_fd;
	bool in_eof;
	uint8_t *in_buf;
	size_t in_off, in_len;
	int out_sock[2], out_dst[2]; /* stdout (or tty) and stderr */
	bool out_eof[2];
};

static void fwd_input(struct fwd *f, short in_ev, short sock_ev)
{
	if ((in_ev & (POLLIN | POLLHUP | POLLERR)) && !f->in_len && !f->in_eof) {
		ssize_t n = read(f->in_fd, f->in_buf, FWD_BUF);
		if (n > 0) {
			f->in_off = 0;
			f->in_len = (size_t)n;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			f->in_eof = true;
		}
	}
	if ((sock_ev & (POLLOUT | POLLERR | POLLHUP)) && f->in_len) {
		ssize_t n = send(f->in_sock, f->in_buf + f->in_off, f->in_len, MSG_NOSIGNAL);
		if (n > 0) {
			f->in_off += (size_t)n;
			f->in_len -= (size_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			/* The process no longer reads stdin: drop what is left. */
			f->in_len = 0;
			f->in_eof = true;
		}
	}
	if (f->in_eof && !f->in_len) {
		(void)shutdown(f->in_sock, SHUT_WR);
		f->in_sock = -1;
	}
}

static void fwd_output(struct fwd *f, int i, uint8_t *buf)
{
	ssize_t n = read(f->out_sock[i], buf, FWD_BUF);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		f->out_eof[i] = true;
		return;
	}
	if (f->out_dst[i] >= 0 && write_out(f->out_dst[i], buf, (size_t)n) < 0) {
		/* Our reader went away: stop reading, the process gets EPIPE. */
		(void)shutdown(f->out_sock[i], SHUT_RDWR);
		f->out_eof[i] = true;
	}
}

/* Collect the exit status if it is there: 1 with *st, 0 not yet, or the
 * error. */
static int fwd_status(struct agent_proc *p, uint32_t wait_id, struct kvap_exit *st,
		      struct kv_err *err)
{
	struct kv_err werr = { 0 };
	int r = agent_client_wait_poll(p->c, wait_id, st, &werr);

	return r < 0 ? kv_errf(err, r, "%s", werr.msg) : r;
}

int agent_proc_forward(struct agent_proc *p, int in_fd, int out_fd, int err_fd,
		       struct kvap_exit *st, struct kv_err *err)
{
	bool tty = p->fd[KVAP_STREAM_TTY] >= 0;
	cleanup_free uint8_t *in_buf = malloc(FWD_BUF);
	cleanup_free uint8_t *out_buf = malloc(FWD_BUF);
	struct fwd f = {
		.in_sock = tty ? p->fd[KVAP_STREAM_TTY] : p->fd[KVAP_STREAM_STDIN],
		.in_fd = in_fd,
		.in_buf = in_buf,
		.out_sock = { tty ? p->fd[KVAP_STREAM_TTY] : p->fd[KVAP_STREAM_STDOUT],
			      tty ? -1 : p->fd[KVAP_STREAM_STDERR] },
		.out_dst = { out_fd, err_fd },
	};
	/* After the exit status: how long the output may still take (< 0: no bound). */
	int drain_ms = agent_client_dialer(p->c)->io_timeout_ms;
	bool have_status = false;
	uint32_t wait_id;
	int r;

	if (!in_buf || !out_buf)
		return kv_errf(err, -ENOMEM, "out of memory");
	if (in_fd < 0)
		f.in_eof = true;
	for (int i = 0; i < 2; i++)
		f.out_eof[i] = f.out_sock[i] < 0;
	if ((r = agent_client_wait_send(p->c, p->exec_id, &wait_id, err)) < 0)
		return r;
	for (;;) {
		struct pollfd pfd[5];
		int n = 0, i_ctl = -1, i_in = -1, i_sock = -1, i_out[2] = { -1, -1 };

		if (!have_status && agent_client_buffered(p->c, wait_id)) {
			/* Read already, so the socket will not say so. */
			if ((r = fwd_status(p, wait_id, st, err)) < 0)
				return r;
			have_status = r == 1;
		}
		if (have_status && f.out_eof[0] && f.out_eof[1])
			break;
		if (have_status && drain_ms == 0) {
			for (int i = 0; i < 2; i++)
				if (!f.out_eof[i])
					(void)shutdown(f.out_sock[i], SHUT_RDWR);
			return kv_errf(err, -ETIMEDOUT,
				       "the process exited, but the agent kept its output open "
				       "for more than %d ms after sending the exit status",
				       agent_client_dialer(p->c)->io_timeout_ms);
		}
		if (!have_status) {
			i_ctl = n;
			pfd[n++] = (struct pollfd){ agent_client_fd(p->c), POLLIN, 0 };
		}
		for (int i = 0; i < 2; i++)
			if (!f.out_eof[i]) {
				i_out[i] = n;
				pfd[n++] = (struct pollfd){ f.out_sock[i], POLLIN, 0 };
			}
		if (f.in_sock >= 0 && !f.in_len && !f.in_eof) {
			i_in = n;
			pfd[n++] = (struct pollfd){ f.in_fd, POLLIN, 0 };
		}
		if (f.in_sock >= 0 && (f.in_len || f.in_eof)) {
			i_sock = n;
			pfd[n++] = (struct pollfd){ f.in_sock, POLLOUT, 0 };
		}
		int64_t t0 = mono_ms();
		int pr = poll(pfd, (nfds_t)n, have_status ? drain_ms : -1);
		if (have_status && drain_ms > 0) {
			int64_t spent = mono_ms() - t0;
			drain_ms = spent >= drain_ms ? 0 : drain_ms - (int)spent;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return kv_errno(err, -errno, "poll");
		}
		if (i_ctl >= 0 && pfd[i_ctl].revents) {
			if ((r = fwd_status(p, wait_id, st, err)) < 0)
				return r;
			have_status = r == 1;
		}
		for (int i = 0; i < 2; i++)
			if (i_out[i] >= 0 && pfd[i_out[i]].revents)
				fwd_output(&f, i, out_buf);
		if (f.in_sock >= 0)
			fwd_input(&f, i_in >= 0 ? pfd[i_in].revents : 0,
				  i_sock >= 0 ? pfd[i_sock].revents : 0);
		if (have_status && f.in_sock >= 0 && !tty) {
			/* The process is gone: nothing reads stdin any more. */
			(void)shutdown(f.in_sock, SHUT_WR);
			f.in_sock = -1;
		}
	}
	return 0;
}
