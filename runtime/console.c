/* console.c - see console.h. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"

/* Connect to a Unix socket by path; a path too long for sun_path goes
 * through an O_PATH fd of its directory. */
static int connect_path(const char *path, struct kv_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	cleanup_close int dfd = -1;
	int fd;

	if (strlen(path) < sizeof(a.sun_path)) {
		strcpy(a.sun_path, path);
	} else {
		cleanup_free char *c1 = strdup(path), *c2 = strdup(path);
		if (!c1 || !c2)
			return kv_errf(err, -ENOMEM, "out of memory");
		dfd = open(dirname(c1), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return kv_errno(err, -errno, "--console-socket %s", path);
		snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dfd, basename(c2));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kv_errno(err, -errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;
		close(fd);
		return kv_errno(err, e, "--console-socket %s", path);
	}
	return fd;
}

static int send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	for (;;) {
		ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

void console_size(int fd, uint16_t *rows, uint16_t *cols)
{
	struct winsize ws = { 0 };

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		ws.ws_row = ws.ws_col = 0;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
}

int console_setup(const char *socket_path, uint16_t rows, uint16_t cols, bool ctty,
		  struct kv_err *err)
{
	char name[64];
	int r;

	cleanup_close int sock = connect_path(socket_path, err);
	if (sock < 0)
		return sock;
	cleanup_close int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return kv_errno(err, -errno, "opening a pty");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)))
		return kv_errno(err, -errno, "preparing the pty");
	cleanup_close int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return kv_errno(err, -errno, "opening %s", name);
	struct termios t;
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(slave, TCSANOW, &t);
	}
	if (rows && cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		(void)ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (ctty && ioctl(slave, TIOCSCTTY, 0) < 0)
		return kv_errno(err, -errno, "making %s the controlling terminal", name);
	if ((r = send_fd(sock, master, "/dev/ptmx")) < 0)
		return kv_errno(err, r, "sending the terminal to --console-socket %s", socket_path);
	return steal_fd(&slave);
}
