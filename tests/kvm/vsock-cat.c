/* vsock-cat.c - a guest-side AF_VSOCK relay for the KVM tests.
 *
 * Owns: what busybox cannot do in the guest: connect to the host (CID 2)
 * or accept one connection on a vsock port, then copy stdin to the socket
 * (half-closing it at stdin's EOF) and the socket to stdout until the
 * socket's EOF. Static, sanitizer-free, put into the test image next to
 * the agent by tests/kvm/exec.sh.
 *
 *   vsock-cat connect PORT   connect to CID 2, PORT
 *   vsock-cat listen PORT    accept one connection on PORT (any CID)
 *
 * Prints "vsock-cat: listening" on stderr once a listener is bound. Exit
 * status 0, or 1 with the failing call and errno on stderr. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static int fail(const char *what)
{
	fprintf(stderr, "vsock-cat: %s: %s\n", what, strerror(errno));
	return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
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

static int relay(int s)
{
	static char buf[65536];
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = s, .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail("poll");
		}
		if (p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				shutdown(s, SHUT_WR);
				p[0].fd = -1;
			} else if (write_all(s, buf, (size_t)n) < 0) {
				return fail("write to the socket");
			}
		}
		if (p[1].revents) {
			ssize_t n = read(s, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return fail("read from the socket");
			if (n == 0)
				return 0;
			if (write_all(1, buf, (size_t)n) < 0)
				return fail("write to stdout");
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK };
	int s, c;

	if (argc != 3 || (strcmp(argv[1], "connect") && strcmp(argv[1], "listen"))) {
		fprintf(stderr, "usage: vsock-cat connect|listen PORT\n");
		return 2;
	}
	a.svm_port = (unsigned)strtoul(argv[2], NULL, 10);
	s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail("socket");
	if (strcmp(argv[1], "connect") == 0) {
		a.svm_cid = VMADDR_CID_HOST;
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return fail("connect");
		return relay(s);
	}
	a.svm_cid = VMADDR_CID_ANY;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
		return fail("bind/listen");
	fprintf(stderr, "vsock-cat: listening\n");
	c = accept(s, NULL, NULL);
	if (c < 0)
		return fail("accept");
	close(s);
	return relay(c);
}
