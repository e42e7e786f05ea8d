/* hybrid-relay.c - see hybrid-relay.h. */
#include "hybrid-relay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct relay_conn {
	struct relay *r;
	int fd;
};

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void relay_bytes(int a, int b)
{
	int fds[2] = { a, b };
	bool eof[2] = { false, false };
	char buf[65536];

	while (!eof[0] || !eof[1]) {
		struct pollfd p[2] = { { a, eof[0] ? 0 : POLLIN, 0 },
				       { b, eof[1] ? 0 : POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		for (int i = 0; i < 2; i++) {
			if (eof[i] || !p[i].revents)
				continue;
			ssize_t n = read(fds[i], buf, sizeof(buf));
			if (n <= 0) {
				eof[i] = true;
				shutdown(fds[1 - i], SHUT_WR);
				continue;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w =
				    send(fds[1 - i], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
				if (w <= 0)
					return;
				off += w;
			}
		}
	}
}

static void *conn_thread(void *arg)
{
	struct relay_conn *rc = arg;
	char line[64], path[128];
	size_t n = 0;
	unsigned port;

	while (n < sizeof(line) - 1 && read(rc->fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	int g = -1;
	if (!rc->r->refuse && sscanf(line, "CONNECT %u", &port) == 1) {
		snprintf(path, sizeof(path), "%s/%u", rc->r->agent_dir, port);
		g = connect_unix(path);
	}
	if (g >= 0) {
		const char *ok = "OK 1073741824\n";
		if (write(rc->fd, ok, strlen(ok)) == (ssize_t)strlen(ok))
			relay_bytes(rc->fd, g);
		close(g);
	}
	close(rc->fd);
	__atomic_sub_fetch(&rc->r->active, 1, __ATOMIC_SEQ_CST);
	free(rc);
	return NULL;
}

static void *accept_thread(void *arg)
{
	struct relay *r = arg;

	for (;;) {
		int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* shut down by relay_stop() */
		}
		struct relay_conn *rc = malloc(sizeof(*rc));
		pthread_t t;
		rc->r = r;
		rc->fd = fd;
		r->accepted++;
		__atomic_add_fetch(&r->active, 1, __ATOMIC_SEQ_CST);
		if (pthread_create(&t, NULL, conn_thread, rc) != 0) {
			close(fd);
			free(rc);
			__atomic_sub_fetch(&r->active, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		pthread_detach(t);
	}
}

int relay_start(struct relay *r, const char *path, const char *agent_dir, bool refuse)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->agent_dir, sizeof(r->agent_dir), "%s", agent_dir);
	r->refuse = refuse;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	r->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(r->lfd, 64) < 0)
		return -errno;
	return -pthread_create(&r->thread, NULL, accept_thread, r);
}

void relay_stop(struct relay *r)
{
	shutdown(r->lfd, SHUT_RDWR);
	pthread_join(r->thread, NULL);
	close(r->lfd);
	unlink(r->path);
	for (int i = 0; i < 500 && __atomic_load_n(&r->active, __ATOMIC_SEQ_CST); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}
