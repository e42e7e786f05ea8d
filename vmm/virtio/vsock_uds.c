/* vsock_uds.c - virtio-vsock: the Unix socket endpoints of the hybrid
 * convention.
 *
 * Owns: the listener on uds_path (a stale socket file is replaced, a live
 * one or any other file refused; at destroy the file is removed if it is
 * still the one we bound), accepting host clients and reading their
 * "CONNECT <port>\n" line (never past its newline, so bytes the client
 * pipelines after it belong to the stream), allocating the host-side
 * ephemeral port and queueing the REQUEST, and connecting a guest REQUEST
 * for host port P to "<uds_path>_P". docs/vsock.md has the convention. */
#include "cleanup.h"
#include "util.h"
#include "vm.h"
#include "vsock_int.h"

#include <errno.h>
#include <stdio.h>
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

/* "CONNECT <port>" (the newline already cut, no NUL inside) with a decimal
 * port below VMADDR_PORT_ANY. */
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
void vsock_uds_handshake(struct vsock_conn *c)
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
	if (strlen(c->line) != c->line_len - 1U || parse_connect(c->line, &port) < 0 ||
	    !c->vs->active) {
		vsock_conn_free(c);
		return;
	}
	start_connect(c, port);
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

void vsock_uds_resume(struct vsock *vs)
{
	if (!vs->listen_paused || vs->listen_fd < 0)
		return;
	vs->listen_paused = false;
	vs->listen_retry = 0;
	(void)evloop_mod(loop_of(vs), vs->listen_fd, EPOLLIN);
}

void vsock_uds_connect(struct vsock *vs, const struct vsock_hdr *h)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	cleanup_close int fd = -1;

	if (vs->nconns >= VSOCK_MAX_CONNS) {
		vsock_rst_reply(vs, h);
		return;
	}
	/* vsock_uds_listen() checked that every port fits in sun_path. */
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

int vsock_uds_listen(struct vsock *vs, struct kv_err *err)
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
	if (lstat(path, &st) == 0) {
		vs->listen_dev = st.st_dev;
		vs->listen_ino = st.st_ino;
	}
	int r = listen(fd, 64) < 0 ? -errno : evloop_add(loop_of(vs), fd, EPOLLIN, on_listen, vs);
	if (r < 0) {
		(void)unlink(path);
		return kv_errno(err, r, "vsock: listen on %s", path);
	}
	vs->listen_fd = steal_fd(&fd);
	return 0;
}

void vsock_uds_unlisten(struct vsock *vs)
{
	struct stat st;

	if (vs->listen_fd < 0)
		return;
	(void)evloop_del(loop_of(vs), vs->listen_fd);
	(void)close(vs->listen_fd);
	vs->listen_fd = -1;
	/* Only our own socket file: someone may have replaced it meanwhile. */
	if (lstat(vs->uds_path, &st) == 0 && st.st_dev == vs->listen_dev &&
	    st.st_ino == vs->listen_ino)
		(void)unlink(vs->uds_path);
}
