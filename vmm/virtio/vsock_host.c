/* vsock_host.c - virtio-vsock's hybrid host side: Unix sockets.
 *
 * Owns: the listener on uds_path (stale socket files replaced, live ones
 * refused, removed at destroy), host clients' "CONNECT <port>\n" lines, the
 * outgoing connection to "<uds_path>_<port>" for a guest REQUEST, writing
 * guest bytes to host sockets (buffered up to the credit we advertised when
 * the host reader is slow), and what the event loop watches on each host
 * socket. Every socket is non-blocking and close-on-exec; the loop thread
 * never waits. Reading host bytes into guest buffers is vsock_rx.c's. */
#include "cleanup.h"
#include "util.h"
#include "vm.h"
#include "vsock_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ACCEPT_BURST	16
#define ACCEPT_RETRY_MS 100

static struct evloop *loop_of(struct vsock *vs)
{
	return &vs->dev.vm->loop;
}

static int unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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

/* "CONNECT <port>\n" with a decimal port below VMADDR_PORT_ANY. */
static int parse_connect(const char *line, uint32_t *port)
{
	uint64_t v;

	if (strncmp(line, "CONNECT ", 8) != 0 || parse_u64(line + 8, UINT32_MAX - 1, &v) < 0)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}

static void start_connect(struct vsock_conn *c, uint32_t port)
{
	struct vsock *vs = c->vs;
	uint32_t local;

	/* At most VSOCK_MAX_CONNS flows exist, so a free port turns up. */
	do {
		local = vs->next_port;
		vs->next_port = local == UINT32_MAX - 1 ? VSOCK_EPHEMERAL_BASE : local + 1;
	} while (vsock_conn_find(vs, local, port));
	c->local_port = local;
	c->peer_port = port;
	c->line_len = c->line_off = 0;
	c->state = VSOCK_CONNECTING;
	c->ctl = CTL_REQUEST;
	vsock_conn_hash(c);
	vsock_conn_set_deadline(c, vs->connect_ms);
	vsock_host_watch(c); /* nothing until the RESPONSE: bytes wait in the socket */
	vsock_conn_rx_kick(c);
}

/* Read the CONNECT line, never past its newline: bytes after it belong to
 * the stream. Frees c on a bad line or EOF. */
static void handshake(struct vsock_conn *c)
{
	char peek[VSOCK_LINE_MAX];
	size_t room = VSOCK_LINE_MAX - c->line_len;
	uint32_t port;
	ssize_t n;

	do
		n = recv(c->fd, peek, room, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		vsock_conn_free(c);
		return;
	}
	char *nl = memchr(peek, '\n', (size_t)n);
	size_t take = nl ? (size_t)(nl - peek) + 1 : (size_t)n;
	if (recv(c->fd, c->line + c->line_len, take, MSG_DONTWAIT) != (ssize_t)take) {
		vsock_conn_free(c);
		return;
	}
	c->line_len += (uint8_t)take;
	if (!nl) {
		if (c->line_len >= VSOCK_LINE_MAX)
			vsock_conn_free(c); /* no newline within the limit */
		return;
	}
	c->line[c->line_len - 1] = '\0';
	if (parse_connect(c->line, &port) < 0 || !c->vs->active) {
		vsock_conn_free(c);
		return;
	}
	start_connect(c, port);
}

static void on_conn(void *opaque, uint32_t events)
{
	struct vsock_conn *c = opaque;
	struct vsock *vs = c->vs;

	if (c->state == VSOCK_HANDSHAKE) {
		handshake(c);
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

static void on_listen(void *opaque, uint32_t events)
{
	struct vsock *vs = opaque;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(vs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				/* Out of fds or memory: a level-triggered listener
				 * would spin, so pause and retry shortly. */
				(void)evloop_mod(loop_of(vs), vs->listen_fd, 0);
				vs->listen_paused = true;
				vs->listen_retry = vsock_now() + ACCEPT_RETRY_MS * 1000000ULL;
				vsock_timer_update(vs);
			}
			break;
		}
		struct vsock_conn *c = NULL;
		if (vs->nconns < VSOCK_MAX_CONNS)
			c = vsock_conn_new(vs, fd, VSOCK_HANDSHAKE);
		if (!c) {
			(void)close(fd); /* over the limit: the client sees EOF */
			continue;
		}
		c->host_initiated = true;
		vsock_conn_set_deadline(c, vs->connect_ms);
		vsock_host_watch(c);
	}
}

void vsock_host_resume(struct vsock *vs)
{
	if (!vs->listen_paused || vs->listen_fd < 0)
		return;
	vs->listen_paused = false;
	vs->listen_retry = 0;
	(void)evloop_mod(loop_of(vs), vs->listen_fd, EPOLLIN);
}

void vsock_host_connect(struct vsock *vs, const struct vsock_hdr *h)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	cleanup_close int fd = -1;

	if (vs->nconns >= VSOCK_MAX_CONNS) {
		vsock_rst_reply(vs, h);
		return;
	}
	/* vsock_host_listen() checked that every port fits in sun_path. */
	(void)snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", vs->uds_path, h->dst_port);
	fd = unix_socket();
	/* AF_UNIX connects at once or fails (EAGAIN: the listener's backlog is
	 * full); either way the loop does not wait. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		vsock_rst_reply(vs, h);
		return;
	}
	struct vsock_conn *c = vsock_conn_new(vs, fd, VSOCK_ESTABLISHED);
	if (!c) {
		vsock_rst_reply(vs, h);
		return;
	}
	(void)steal_fd(&fd);
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->guest_knows = true;
	c->ctl = CTL_RESPONSE;
	vsock_conn_hash(c);
	vsock_host_watch(c);
	vsock_conn_rx_kick(c);
}

/* A socket file with a listener behind it. */
static bool socket_is_live(const struct sockaddr_un *a)
{
	cleanup_close int fd = unix_socket();

	if (fd < 0)
		return true; /* cannot tell: do not remove it */
	if (connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0)
		return true;
	return errno != ECONNREFUSED && errno != ENOENT;
}

int vsock_host_listen(struct vsock *vs, struct kv_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *path = vs->uds_path;
	size_t len = strlen(path);
	struct stat st;

	/* Room for the longest guest-initiated path, "<uds_path>_4294967295". */
	if (len + 11 >= sizeof(a.sun_path))
		return kv_errf(err, -ENAMETOOLONG,
			       "vsock: socket path %s is too long (at most %zu bytes)", path,
			       sizeof(a.sun_path) - 12);
	memcpy(a.sun_path, path, len);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return kv_errf(err, -EEXIST, "vsock: %s exists and is not a socket", path);
		if (socket_is_live(&a))
			return kv_errf(err, -EADDRINUSE,
				       "vsock: %s is in use (another VM listening?)", path);
		if (unlink(path) < 0 && errno != ENOENT)
			return kv_errno(err, -errno, "vsock: removing stale socket %s", path);
	}
	cleanup_close int fd = unix_socket();
	if (fd < 0)
		return kv_errno(err, -errno, "vsock: socket");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return kv_errno(err, -errno, "vsock: bind %s", path);
	int r = listen(fd, 64) < 0 ? -errno : evloop_add(loop_of(vs), fd, EPOLLIN, on_listen, vs);
	if (r < 0) {
		(void)unlink(path);
		return kv_errno(err, r, "vsock: listen on %s", path);
	}
	vs->listen_fd = steal_fd(&fd);
	return 0;
}

void vsock_host_unlisten(struct vsock *vs)
{
	if (vs->listen_fd < 0)
		return;
	(void)evloop_del(loop_of(vs), vs->listen_fd);
	(void)close(vs->listen_fd);
	vs->listen_fd = -1;
	(void)unlink(vs->uds_path);
}
