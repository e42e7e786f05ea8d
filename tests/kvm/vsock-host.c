/* vsock-host.c - the host side of tests/kvm/exec.sh's vsock checks.
 *
 * Owns: talking to a VM's hybrid vsock socket (docs/vsock.md) from the
 * test script, which bash cannot do:
 *
 *   vsock-host send SOCK PORT      CONNECT PORT (retrying for 30 s while
 *                                  the guest does not listen), copy stdin
 *                                  to the stream, half-close it, then copy
 *                                  the stream to stdout until EOF
 *   vsock-host refused SOCK PORT   CONNECT PORT once; exit 0 when the VMM
 *                                  closes the connection without "OK"
 *   vsock-host wait SOCK PORT MS   retry CONNECT PORT every 5 ms until
 *                                  "OK" (exit 0) or MS ms passed (exit 1)
 *   vsock-host midframe SOCK       CONNECT to the agent's control port,
 *                                  send half of a frame, and hang up
 *   vsock-host listen PATH MS      listen on the Unix socket PATH (what a
 *                                  guest connecting to CID 2 reaches), take
 *                                  one connection and copy it to stdout,
 *                                  sleeping MS ms after each read (a slow
 *                                  reader); PATH is removed at the end
 *
 * Exit status 0, 1 on failure (message on stderr), 2 usage. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "vsock-host: %s: %s\n", what, errno ? strerror(errno) : "failed");
	return 1;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(a->sun_path, path);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* One CONNECT attempt: the stream fd, or -1 (errno set; EPROTO: closed
 * without OK). */
static int connect_once(const char *sock, const char *port)
{
	struct sockaddr_un a;
	char line[64];
	size_t got = 0;
	int fd;

	if (unix_addr(sock, &a) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		goto bad;
	int n = snprintf(line, sizeof(line), "CONNECT %s\n", port);
	if (write_all(fd, line, (size_t)n) < 0)
		goto bad;
	/* Byte by byte: nothing after the newline is ours to take. */
	while (got < sizeof(line) - 1) {
		ssize_t r = read(fd, line + got, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? EPROTO : errno;
			goto bad;
		}
		if (line[got++] == '\n')
			break;
	}
	line[got] = 0;
	if (strncmp(line, "OK ", 3) != 0) {
		errno = EPROTO;
		goto bad;
	}
	return fd;
bad:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int connect_retry(const char *sock, const char *port)
{
	for (int i = 0; i < 300; i++) {
		int fd = connect_once(sock, port);
		if (fd >= 0)
			return fd;
		sleep_ms(100);
	}
	return -1;
}

static int do_wait(const char *sock, const char *port, long ms)
{
	for (long waited = 0; waited <= ms; waited += 5) {
		int fd = connect_once(sock, port);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		sleep_ms(5);
	}
	fprintf(stderr, "vsock-host: port %s not reachable within %ld ms\n", port, ms);
	return 1;
}

static int copy(int from, int to, long delay_ms)
{
	static char buf[65536];

	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (write_all(to, buf, (size_t)n) < 0)
			return -1;
		if (delay_ms)
			sleep_ms(delay_ms);
	}
}

static int do_send(const char *sock, const char *port)
{
	int fd = connect_retry(sock, port);

	if (fd < 0)
		return fail("CONNECT");
	if (copy(0, fd, 0) < 0)
		return fail("sending stdin");
	shutdown(fd, SHUT_WR);
	if (copy(fd, 1, 0) < 0)
		return fail("reading the stream");
	close(fd);
	return 0;
}

static int do_refused(const char *sock, const char *port)
{
	int fd = connect_once(sock, port);

	if (fd >= 0) {
		fprintf(stderr, "vsock-host: CONNECT %s was answered OK\n", port);
		close(fd);
		return 1;
	}
	if (errno != EPROTO)
		return fail("connecting");
	return 0;
}

static int do_midframe(const char *sock)
{
	/* A HELLO-sized header announcing 100 payload bytes, and 10 of them. */
	static const unsigned char part[26] = { 'K', 'V', 'A', 'P', 1, 0, 1, 0, 1, 0, 0, 0, 100 };
	int fd = connect_retry(sock, "1024");

	if (fd < 0)
		return fail("CONNECT 1024");
	if (write_all(fd, part, sizeof(part)) < 0)
		return fail("write");
	sleep_ms(200);
	close(fd);
	return 0;
}

static int do_listen(const char *path, long delay_ms)
{
	struct sockaddr_un a;
	int s, c, r = 0;

	if (unix_addr(path, &a) < 0)
		return fail(path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		return fail(path);
	c = accept(s, NULL, NULL);
	if (c < 0)
		r = fail("accept");
	else if (copy(c, 1, delay_ms) < 0)
		r = fail("reading");
	if (c >= 0)
		close(c);
	close(s);
	unlink(path);
	return r;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "send") == 0 && argc == 4)
		return do_send(argv[2], argv[3]);
	if (strcmp(cmd, "refused") == 0 && argc == 4)
		return do_refused(argv[2], argv[3]);
	if (strcmp(cmd, "wait") == 0 && argc == 5)
		return do_wait(argv[2], argv[3], strtol(argv[4], NULL, 10));
	if (strcmp(cmd, "midframe") == 0 && argc == 3)
		return do_midframe(argv[2]);
	if (strcmp(cmd, "listen") == 0 && argc == 4)
		return do_listen(argv[2], strtol(argv[3], NULL, 10));
	fprintf(stderr, "usage: vsock-host send|refused SOCK PORT | midframe SOCK | "
			"wait SOCK PORT MS | listen PATH DELAY_MS\n");
	return 2;
}
