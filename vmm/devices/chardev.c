/* chardev.c - see chardev.h.
 *
 * Backends: stdio (fds 0 and 1; a terminal on stdin is put in raw mode but
 * keeps ISIG, so Ctrl-C still stops the VM), file (append-only output, no
 * input), pty (a new pseudo-terminal; the VMM keeps the slave open so the
 * master never reports hang-up before a user attaches; output is dropped
 * while the pty's buffer is full, as with any unattended terminal) and none. */
#include "chardev.h"
#include "cleanup.h"
#include "evloop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

struct chardev {
	enum vmm_chardev_kind kind;
	int in_fd, out_fd; /* -1 when absent */
	int pty_slave_fd;
	bool close_in, close_out;
	bool tty_raw;
	struct termios saved_tio;
	char pty_path[64];
	bool out_broken, in_eof;

	struct evloop *loop; /* non-NULL while watching in_fd */
	void (*on_input)(void *opaque);
	void *opaque;
};

static void on_readable(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;

	if (c->on_input)
		c->on_input(c->opaque);
}

static int make_raw(int fd, struct termios *saved, bool keep_isig)
{
	struct termios tio;

	if (tcgetattr(fd, &tio) < 0)
		return -errno;
	if (saved)
		*saved = tio;
	cfmakeraw(&tio);
	if (keep_isig)
		tio.c_lflag |= ISIG;
	if (tcsetattr(fd, TCSANOW, &tio) < 0)
		return -errno;
	return 0;
}

static int open_pty(struct chardev *c, struct kv_err *err)
{
	cleanup_close int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		return kv_errno(err, -errno, "pty console: posix_openpt");
	if (grantpt(master) < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, c->pty_path, sizeof(c->pty_path)) != 0)
		return kv_errno(err, -errno, "pty console: cannot set up the pty");
	c->pty_slave_fd = open(c->pty_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->pty_slave_fd < 0)
		return kv_errno(err, -errno, "pty console: open %s", c->pty_path);
	(void)make_raw(c->pty_slave_fd, NULL, false);
	int fl = fcntl(master, F_GETFL);
	if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
		return kv_errno(err, -errno, "pty console: fcntl");
	c->in_fd = c->out_fd = steal_fd(&master);
	c->close_in = true;
	return 0;
}

int chardev_open(const struct vmm_chardev *cfg, struct chardev **out, struct kv_err *err)
{
	cleanup_free struct chardev *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return kv_errf(err, -ENOMEM, "out of memory");
	c->kind = cfg->kind;
	c->in_fd = c->out_fd = c->pty_slave_fd = -1;

	switch (cfg->kind) {
	case VMM_CHR_NONE:
		break;
	case VMM_CHR_STDIO:
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
		if (isatty(STDIN_FILENO) && make_raw(STDIN_FILENO, &c->saved_tio, true) == 0)
			c->tty_raw = true;
		break;
	case VMM_CHR_FILE:
		if (!cfg->path || !*cfg->path)
			return kv_errf(err, -EINVAL, "file console: no path given");
		c->out_fd =
		    open(cfg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
		if (c->out_fd < 0)
			return kv_errno(err, -errno, "console file %s", cfg->path);
		c->close_out = true;
		break;
	case VMM_CHR_PTY:
		r = open_pty(c, err);
		if (r < 0) {
			if (c->pty_slave_fd >= 0)
				close(c->pty_slave_fd);
			return r;
		}
		break;
	default:
		return kv_errf(err, -EINVAL, "unknown console kind %d", (int)cfg->kind);
	}
	*out = steal_ptr(&c);
	return 0;
}

int chardev_watch_input(struct chardev *c, struct evloop *loop, void (*on_input)(void *opaque),
			void *opaque)
{
	int r;

	if (c->loop) {
		(void)evloop_del(c->loop, c->in_fd);
		c->loop = NULL;
	}
	c->on_input = on_input;
	c->opaque = opaque;
	if (!on_input || c->in_fd < 0 || c->in_eof)
		return 0;
	r = evloop_add(loop, c->in_fd, EPOLLIN, on_readable, c);
	if (r == -EPERM) {
		/* A regular file or /dev/null on stdin cannot be polled: there
		 * is no interactive input to wait for. */
		c->in_eof = true;
		return 0;
	}
	if (r < 0)
		return r;
	c->loop = loop;
	return 0;
}

ssize_t chardev_read(struct chardev *c, void *buf, size_t len)
{
	struct pollfd p = { .fd = c->in_fd, .events = POLLIN };
	ssize_t n;

	if (c->in_fd < 0 || c->in_eof)
		return 0;
	/* stdin is shared with other processes: poll instead of O_NONBLOCK. */
	if (poll(&p, 1, 0) < 0)
		return errno == EINTR ? -EAGAIN : -errno;
	if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
		return -EAGAIN;
	n = read(c->in_fd, buf, len);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? -EAGAIN : -errno;
	if (n == 0) {
		c->in_eof = true;
		if (c->loop) {
			(void)evloop_del(c->loop, c->in_fd);
			c->loop = NULL;
		}
	}
	return n;
}

int chardev_write(struct chardev *c, const void *buf, size_t len)
{
	int r;

	if (c->out_fd < 0 || c->out_broken)
		return 0;
	if (c->kind == VMM_CHR_PTY) {
		/* Non-blocking: an unattended pty drops output once full. */
		ssize_t w = write(c->out_fd, buf, len);
		return (w < 0 && errno != EAGAIN && errno != EIO) ? -errno : 0;
	}
	r = write_full(c->out_fd, buf, len);
	if (r == -EPIPE)
		c->out_broken = true;
	return r;
}

const char *chardev_pty_path(const struct chardev *c)
{
	return c && c->kind == VMM_CHR_PTY ? c->pty_path : NULL;
}

void chardev_close(struct chardev *c)
{
	if (!c)
		return;
	if (c->loop)
		(void)evloop_del(c->loop, c->in_fd);
	if (c->tty_raw)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_tio);
	if (c->close_in && c->in_fd >= 0)
		close(c->in_fd);
	if (c->close_out && c->out_fd >= 0 && c->out_fd != c->in_fd)
		close(c->out_fd);
	if (c->pty_slave_fd >= 0)
		close(c->pty_slave_fd);
	free(c);
}
