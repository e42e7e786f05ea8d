/* agent-client-dial.c - reaching a guest vsock port from the host.
 *
 * Owns: the two dialers. Hybrid vsock: connect to the VMM's Unix socket,
 * send "CONNECT <port>\n", read the "OK <host port>\n" line (peeking, so
 * that nothing after it is consumed: that belongs to the guest), and the
 * socket is then a byte stream to the guest port. Unix: connect to
 * DIR/<port>, where kvrun-agent --listen-unix DIR listens in tests. While
 * the guest boots the port is not there yet (no socket file, refused, or
 * the VMM closing without OK): that is retried every 20-100 ms until the
 * dialer's timeout.
 * A dial in two halves (CONNECT sent, answer read later) lets a caller
 * overlap several connections' round trips to a guest that is up. */
#include "agent-client.h"
#include "cleanup.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dialer_init(struct agent_dialer *d, enum agent_dial_kind kind, const char *path,
		       size_t extra, struct kv_err *err)
{
	*d = (struct agent_dialer){ .kind = kind,
				    .timeout_ms = AGENT_DIAL_TIMEOUT_MS,
				    .io_timeout_ms = AGENT_IO_TIMEOUT_MS };
	if (!path || !*path)
		return kv_errf(err, -EINVAL, "agent socket path is empty");
	if (strlen(path) + extra >= sizeof(d->path))
		return kv_errf(err, -ENAMETOOLONG, "agent socket path %s is too long", path);
	strcpy(d->path, path);
	return 0;
}

int agent_dialer_hybrid(struct agent_dialer *d, const char *socket_path, struct kv_err *err)
{
	return dialer_init(d, AGENT_DIAL_HYBRID, socket_path, 0, err);
}

int agent_dialer_unix(struct agent_dialer *d, const char *dir, struct kv_err *err)
{
	return dialer_init(d, AGENT_DIAL_UNIX, dir, 11 /* "/4294967295" */, err);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Read the VMM's answer line without reading past it: peek at what has
 * arrived and consume exactly up to the newline (not a byte per read). */
static int read_line(int fd, char *line, size_t cap, int timeout_ms, struct kv_err *err)
{
	size_t n = 0;
	int64_t end = mono_ms() + timeout_ms;

	while (n < cap - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)(end - mono_ms());
		if (left <= 0)
			return kv_errf(err, -ETIMEDOUT, "no answer to CONNECT within %d ms",
				       timeout_ms);
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return kv_errno(err, -errno, "poll");
		if (r == 0)
			continue;
		ssize_t got = recv(fd, line + n, cap - 1 - n, MSG_PEEK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return kv_errno(err, -errno, "reading the CONNECT answer");
		if (got == 0)
			return kv_errf(err, -ECONNRESET,
				       "the VMM closed the connection: nothing listens on the port "
				       "in the guest (yet)");
		char *nl = memchr(line + n, '\n', (size_t)got);
		size_t take = nl ? (size_t)(nl - (line + n)) + 1 : (size_t)got;
		ssize_t rd;
		do
			rd = read(fd, line + n, take);
		while (rd < 0 && errno == EINTR);
		if (rd != (ssize_t)take)
			return kv_errno(err, rd < 0 ? -errno : -EIO, "reading the CONNECT answer");
		n += take;
		if (nl) {
			line[n - 1] = '\0';
			return 0;
		}
	}
	return kv_errf(err, -EPROTO, "CONNECT answer too long");
}

static int hybrid_start(const struct agent_dialer *d, uint32_t port, struct kv_err *err)
{
	char line[32];
	cleanup_close int fd = unix_connect(d->path);
	int r;

	if (fd < 0)
		return kv_errno(err, fd, "connecting to %s", d->path);
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if ((r = write_full(fd, line, (size_t)n)) < 0)
		return kv_errno(err, r, "sending CONNECT to %s", d->path);
	return steal_fd(&fd);
}

static int hybrid_finish(const struct agent_dialer *d, int fd, uint32_t port, struct kv_err *err)
{
	char line[64];
	int io_ms = d->io_timeout_ms ? d->io_timeout_ms : AGENT_IO_TIMEOUT_MS;
	int r = read_line(fd, line, sizeof(line), io_ms < 0 ? INT32_MAX : io_ms, err);

	if (r < 0)
		return r;
	if (strncmp(line, "OK ", 3) != 0) {
		char shown[48];
		return kv_errf(err, -EPROTO, "%s answered CONNECT %u with '%s'", d->path, port,
			       kv_escape(shown, sizeof(shown), line, 40));
	}
	return 0;
}

static int hybrid_once(const struct agent_dialer *d, uint32_t port, struct kv_err *err)
{
	cleanup_close int fd = hybrid_start(d, port, err);
	int r;

	if (fd < 0)
		return fd;
	if ((r = hybrid_finish(d, fd, port, err)) < 0)
		return r;
	return steal_fd(&fd);
}

static int unix_once(const struct agent_dialer *d, uint32_t port, struct kv_err *err)
{
	char path[sizeof(d->path) + 16];

	snprintf(path, sizeof(path), "%s/%u", d->path, port);
	int fd = unix_connect(path);
	return fd < 0 ? kv_errno(err, fd, "connecting to %s", path) : fd;
}

int agent_dial_start(const struct agent_dialer *d, uint32_t port, struct kv_err *err)
{
	return d->kind == AGENT_DIAL_HYBRID ? hybrid_start(d, port, err) : unix_once(d, port, err);
}

int agent_dial_finish(const struct agent_dialer *d, int fd, uint32_t port, struct kv_err *err)
{
	return d->kind == AGENT_DIAL_HYBRID ? hybrid_finish(d, fd, port, err) : 0;
}

static bool retryable(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET || r == -EAGAIN;
}

int agent_dial(const struct agent_dialer *d, uint32_t port, struct kv_err *err)
{
	int64_t start = mono_ms(), end = start + (d->timeout_ms > 0 ? d->timeout_ms : 0);
	int delay = 20;

	for (;;) {
		int r = d->kind == AGENT_DIAL_HYBRID ? hybrid_once(d, port, err)
						     : unix_once(d, port, err);
		if (r >= 0 || !retryable(r))
			return r;
		if (mono_ms() >= end) {
			if (d->timeout_ms <= 0)
				return r;
			char last[sizeof(err->msg)] = "";
			if (err)
				snprintf(last, sizeof(last), "%s", err->msg);
			return kv_errf(err, -ETIMEDOUT,
				       "guest port %u not reachable within %d ms: %s", port,
				       d->timeout_ms, last);
		}
		struct timespec ts = { 0, delay * 1000000L };
		nanosleep(&ts, NULL);
		if (delay < 100)
			delay *= 2;
	}
}
