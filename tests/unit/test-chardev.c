/* Unit tests for vmm/devices/chardev.c: file output, pty input and output,
 * input delivery through the event loop, and clear errors. */
#include "chardev.h"
#include "evloop.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int input_calls;

static struct evloop loop;

static void on_input_stop(void *opaque)
{
	char buf[16];
	ssize_t n = chardev_read(opaque, buf, sizeof(buf));

	if (n > 0 && memcmp(buf, "ping", 4) == 0)
		input_calls++;
	evloop_stop(&loop);
}

int main(void)
{
	struct kv_err err = { 0 };
	struct chardev *c = NULL;
	char path[] = "/tmp/kvrun-chardev-XXXXXX";
	char buf[64] = { 0 };
	int fd = mkstemp(path);

	tap_plan(10);

	/* File backend: appends, no input. */
	struct vmm_chardev file = { .kind = VMM_CHR_FILE, .path = path };
	ok(fd >= 0 && chardev_open(&file, &c, &err) == 0, "open file chardev");
	ok(chardev_write(c, "hello ", 6) == 0 && chardev_write(c, "world", 5) == 0,
	   "write to file");
	ok(chardev_read(c, buf, sizeof(buf)) == 0, "file chardev has no input");
	chardev_close(c);
	ok(read(fd, buf, sizeof(buf)) == 11 && memcmp(buf, "hello world", 11) == 0,
	   "file holds both writes in order");
	close(fd);
	unlink(path);

	/* Missing directory: a clear error naming the path. */
	struct vmm_chardev bad = { .kind = VMM_CHR_FILE, .path = "/nonexistent-dir/x" };
	ok(chardev_open(&bad, &c, &err) == -ENOENT && strstr(err.msg, "/nonexistent-dir/x"),
	   "missing directory is reported with its path: %s", err.msg);

	/* pty backend: output reaches the slave, slave input reaches the loop. */
	struct vmm_chardev pty = { .kind = VMM_CHR_PTY };
	ok(chardev_open(&pty, &c, &err) == 0 && chardev_pty_path(c), "open pty chardev");
	int slave = open(chardev_pty_path(c), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ok(slave >= 0, "pty slave %s opens", chardev_pty_path(c));
	memset(buf, 0, sizeof(buf));
	ok(chardev_write(c, "out", 3) == 0 && read(slave, buf, 3) == 3 &&
	       memcmp(buf, "out", 3) == 0,
	   "pty output reaches the slave");
	ok(evloop_init(&loop) == 0 && chardev_watch_input(c, &loop, on_input_stop, c) == 0,
	   "watch pty input");
	(void)!write(slave, "ping", 4);
	evloop_run(&loop);
	ok(input_calls == 1, "pty input delivered on the loop");
	chardev_close(c);
	close(slave);
	evloop_destroy(&loop);
	return tap_done();
}
