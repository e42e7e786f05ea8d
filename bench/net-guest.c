/* net-guest.c - bench/net's traffic generator: a TCP server and its client.
 *
 * Owns: the three measurements of bench/net (docs/performance.md), made by
 * the client (in the guest) against the server (in the peer's network
 * namespace), each for SECONDS of the client's monotonic clock:
 *
 *   out  the client sends; the server counts until end of file and answers
 *        with the count: Mbit/s = count / time until that answer;
 *   in   the server sends until the client closes; the client counts what
 *        it read in SECONDS;
 *   rr   1-byte request, 1-byte answer, one at a time (TCP_NODELAY):
 *        transactions per second.
 *
 * The client prints `NETBENCH <test> <value>` on stdout, or `NETBENCH-FAIL
 * <test> <reason>`. Usage: net-guest server PORT | net-guest client
 * IPV4 PORT out|in|rr SECONDS. Static, not sanitized (bench/meson.build). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (128 * 1024)

static char buf[BUF];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void serve(int c)
{
	char cmd;
	uint64_t total = 0;
	ssize_t r;

	if (read_all(c, &cmd, 1) < 0)
		return;
	switch (cmd) {
	case 'S':
		while ((r = read(c, buf, BUF)) > 0 || (r < 0 && errno == EINTR))
			if (r > 0)
				total += (uint64_t)r;
		(void)write_all(c, &total, sizeof(total));
		break;
	case 'G':
		memset(buf, 'g', BUF);
		while (write_all(c, buf, BUF) == 0)
			;
		break;
	case 'R':
		nodelay(c);
		while (read_all(c, &cmd, 1) == 0 && write_all(c, &cmd, 1) == 0)
			;
		break;
	}
}

static int server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
		perror("net-guest server");
		return 1;
	}
	printf("NETBENCH-SERVER %d\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		pid_t p = fork();
		if (p == 0) {
			close(s);
			serve(c);
			_exit(0);
		}
		close(c);
	}
}

static int fail(const char *test, const char *what)
{
	printf("NETBENCH-FAIL %s %s: %s\n", test, what, strerror(errno));
	return 1;
}

static int client(const char *host, int port, const char *test, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char cmd = !strcmp(test, "out") ? 'S' : !strcmp(test, "in") ? 'G' : 'R';

	signal(SIGPIPE, SIG_IGN);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    (strcmp(test, "out") && strcmp(test, "in") && strcmp(test, "rr"))) {
		fprintf(stderr, "net-guest: bad host or test\n");
		return 2;
	}
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail(test, "connect");
	if (cmd == 'R')
		nodelay(s);
	if (write_all(s, &cmd, 1) < 0)
		return fail(test, "command");
	double t0 = now(), end = t0 + secs, t;
	uint64_t total = 0, n = 0;
	if (cmd == 'S') {
		memset(buf, 's', BUF);
		while (now() < end)
			if (write_all(s, buf, BUF) < 0)
				return fail(test, "write");
		shutdown(s, SHUT_WR);
		if (read_all(s, &total, sizeof(total)) < 0)
			return fail(test, "the server's count");
		t = now() - t0;
		printf("NETBENCH out %.1f\n", (double)total * 8 / t / 1e6);
	} else if (cmd == 'G') {
		ssize_t r;
		while ((t = now()) < end) {
			r = read(s, buf, BUF);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return fail(test, "read");
			total += (uint64_t)r;
		}
		printf("NETBENCH in %.1f\n", (double)total * 8 / (t - t0) / 1e6);
	} else {
		char c = 'r';
		while ((t = now()) < end) {
			if (write_all(s, &c, 1) < 0 || read_all(s, &c, 1) < 0)
				return fail(test, "request");
			n++;
		}
		printf("NETBENCH rr %.0f\n", (double)n / (t - t0));
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]));
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), argv[4], atof(argv[5]));
	fprintf(stderr,
		"usage: net-guest server PORT | net-guest client IPV4 PORT out|in|rr SECONDS\n");
	return 2;
}
