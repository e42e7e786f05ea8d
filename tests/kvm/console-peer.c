/* console-peer.c - the client end of `kvrun create/exec --console-socket`.
 *
 * Owns: what containerd's shim or conmon do with a console socket, for the
 * runtime tests: listen on SOCKET, accept one connection, receive the
 * terminal's master fd over SCM_RIGHTS (checking that a name came with
 * it), then play SCRIPT against the terminal and copy all its output to
 * stdout. SCRIPT lines:
 *   expect TEXT        wait until TEXT appears in the output read since the
 *                      last expect (60 s at most)
 *   send TEXT          write TEXT to the terminal (\n, \r, \t, \\ escapes)
 *   resize ROWS COLS   set the window size on the master (TIOCSWINSZ)
 *   waitfile PATH      wait until PATH exists (120 s at most), reading meanwhile
 *   hangup             close the master
 *   eof                read until the terminal reports its end
 * Exit status: 0 when the script completed; 1 (with a message on stderr)
 * when something did not happen; 2 usage or set-up error. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char seen[1 << 16];
static size_t nseen;

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what is there (up to ms); false at the end of the terminal. */
static int pump(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	int r = poll(&p, 1, ms);

	if (r <= 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
	if (nseen + (size_t)n >= sizeof(seen)) {
		nseen = 0;
	}
	memcpy(seen + nseen, buf, (size_t)n);
	nseen += (size_t)n;
	seen[nseen] = '\0';
	return 1;
}

static void unescape(char *s)
{
	char *o = s;
	for (char *i = s; *i; i++) {
		if (*i == '\\' && i[1]) {
			i++;
			*o++ = *i == 'n' ? '\n' : *i == 'r' ? '\r' : *i == 't' ? '\t' : *i;
		} else {
			*o++ = *i;
		}
	}
	*o = '\0';
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: console-peer SOCKET SCRIPT\n");
		return 2;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(argv[1]);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0) {
		perror("console-peer: listen");
		return 2;
	}
	FILE *script = fopen(argv[2], "r");
	if (!script) {
		perror("console-peer: script");
		return 2;
	}
	int c = accept(l, NULL, NULL);
	if (c < 0) {
		perror("console-peer: accept");
		return 2;
	}
	char name[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(c, &m, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (n <= 0 || !cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "console-peer: no fd received (%zd)\n", n);
		return 1;
	}
	name[n] = '\0';
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	fprintf(stderr, "console-peer: got the terminal (\"%s\")\n", name);
	close(c);

	char line[4096];
	while (fgets(line, sizeof(line), script)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "expect ", 7)) {
			char *want = line + 7;
			unescape(want);
			long end = now_ms() + 60000;
			while (!strstr(seen, want)) {
				if (now_ms() > end || !pump(master, 200)) {
					fprintf(stderr, "console-peer: did not see \"%s\"\n", want);
					return 1;
				}
			}
			/* The next expect looks after this one. */
			char *at = strstr(seen, want) + strlen(want);
			nseen = strlen(at);
			memmove(seen, at, nseen + 1);
		} else if (!strncmp(line, "send ", 5)) {
			unescape(line + 5);
			if (write(master, line + 5, strlen(line + 5)) < 0) {
				perror("console-peer: send");
				return 1;
			}
		} else if (!strncmp(line, "resize ", 7)) {
			struct winsize ws = { 0 };
			if (sscanf(line + 7, "%hu %hu", &ws.ws_row, &ws.ws_col) != 2 ||
			    ioctl(master, TIOCSWINSZ, &ws) < 0) {
				perror("console-peer: resize");
				return 1;
			}
		} else if (!strncmp(line, "waitfile ", 9)) {
			long end = now_ms() + 120000;
			while (access(line + 9, F_OK) != 0) {
				if (now_ms() > end) {
					fprintf(stderr, "console-peer: %s did not appear\n",
						line + 9);
					return 1;
				}
				(void)pump(master, 100);
			}
		} else if (!strcmp(line, "hangup")) {
			close(master);
			master = -1;
		} else if (!strcmp(line, "eof")) {
			long end = now_ms() + 60000;
			while (pump(master, 200))
				if (now_ms() > end) {
					fprintf(stderr, "console-peer: the terminal did not end\n");
					return 1;
				}
		} else if (line[0] && line[0] != '#') {
			fprintf(stderr, "console-peer: bad script line \"%s\"\n", line);
			return 2;
		}
	}
	return 0;
}
