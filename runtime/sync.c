/* sync.c - see sync.h. */
#include "sync.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int sync_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0;
}

int sync_send(int fd, const char *fmt, ...)
{
	char buf[SYNC_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	for (;;) {
		ssize_t w = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
		if (w >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int sync_recv(int fd, char *buf, size_t size, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t n = recv(fd, buf, size - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		buf[n] = '\0';
		return 0;
	}
}

void close_other_fds(const int *keep, size_t n)
{
	int sorted[16];
	size_t k = 0;

	for (size_t i = 0; i < n && k < 16; i++)
		if (keep[i] > 2)
			sorted[k++] = keep[i];
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	unsigned from = 3;
	for (size_t i = 0; i < k; i++) {
		if ((unsigned)sorted[i] > from)
			(void)close_range(from, (unsigned)sorted[i] - 1, 0);
		from = (unsigned)sorted[i] + 1;
	}
	(void)close_range(from, ~0u, 0);
}
