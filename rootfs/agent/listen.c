/* listen.c - the agent's listening sockets and accepting connections.
 *
 * Owns: the vsock listeners (AF_VSOCK, any CID, ports 1024 and 1025), their
 * --listen-unix stand-ins (Unix sockets DIR/1024 and DIR/1025) used to run
 * the agent as an ordinary process in tests, and handing each accepted
 * connection to control.c or stream.c. The vsock device may still be
 * probing when the agent starts, so binding is retried for a while. */
#include "agent.h"

#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VSOCK_BIND_TRIES 200 /* x 50 ms: the transport may load after us */
#define LISTEN_BACKLOG	 128
#define MAX_CONNS	 1024 /* control + stream connections being set up */

int listen_vsock(uint32_t port, int *out)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = VMADDR_CID_ANY,
				  .svm_port = port };
	int err = 0;

	for (int i = 0; i < VSOCK_BIND_TRIES; i++) {
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0) {
			*out = fd;
			return 0;
		}
		err = -errno;
		if (fd >= 0)
			close(fd);
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return err;
}

int listen_unix(const char *dir, uint32_t port, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u", dir, port);

	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	*out = fd;
	return 0;
}

static void on_accept(struct agent *a, struct watch *w, uint32_t events)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				alog("accept: %s", strerror(errno));
			return;
		}
		if (a->n_conns >= MAX_CONNS) {
			alog("too many connections: refusing one");
			close(fd);
			continue;
		}
		if (w == &a->lctl)
			conn_accept(a, fd);
		else
			sconn_accept(a, fd);
	}
}

void listen_register(struct agent *a, int ctl_fd, int stream_fd)
{
	a->lctl = (struct watch){ .fd = ctl_fd, .fn = on_accept, .owner = a };
	a->lstream = (struct watch){ .fd = stream_fd, .fn = on_accept, .owner = a };
	if (watch_set(a, &a->lctl, EPOLLIN) < 0 || watch_set(a, &a->lstream, EPOLLIN) < 0)
		agent_fatal(a, "cannot watch the listening sockets");
}
