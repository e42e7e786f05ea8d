/* hostile.c - see hostile.h. */
#include "hostile.h"
#include "raw.h"
#include "tap.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define JUNK_ID	   0x7fffffffu
#define ACCEPT_MS  10000
#define RECV_S	   30
#define STASH_TEXT 4000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct timeval tv = { RECV_S, 0 };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* A whole frame of type around payload[0..len). */
static bool send_payload(int fd, uint16_t type, uint32_t id, const void *payload, uint32_t len)
{
	uint8_t *f = malloc(KVAP_HDR_SIZE + len);

	put_hdr(f, KVAP_VERSION_MAJOR, type, id, len);
	if (len)
		memcpy(f + KVAP_HDR_SIZE, payload, len);
	bool good = send_all(fd, f, KVAP_HDR_SIZE + len);
	free(f);
	return good;
}

static bool send_body(int fd, uint16_t type, uint32_t id, const void *body)
{
	uint8_t *buf;
	size_t len;

	if (kvap_frame_encode_alloc(type, id, body, &buf, &len, NULL) < 0) {
		diag("hostile: cannot encode %s", kvap_type_name(type));
		return false;
	}
	bool good = send_all(fd, buf, len);
	free(buf);
	return good;
}

/* ERROR with errnum written out even when it is 0 (the encoder leaves zero
 * fields out, and an ERROR without errnum does not decode). */
static size_t error_payload(uint8_t *p, uint32_t errnum, const char *message)
{
	size_t n = 0, mlen = message ? strlen(message) : 0;

	p[n++] = 1, p[n++] = 0;
	p[n++] = 4, p[n++] = 0, p[n++] = 0, p[n++] = 0;
	for (int i = 0; i < 4; i++)
		p[n++] = (uint8_t)(errnum >> (8 * i));
	if (message) {
		p[n++] = 2, p[n++] = 0;
		for (int i = 0; i < 4; i++)
			p[n++] = (uint8_t)(mlen >> (8 * i));
		memcpy(p + n, message, mlen);
		n += mlen;
	}
	return n;
}

static bool send_error(int fd, uint32_t id, uint32_t errnum, const char *message)
{
	size_t mlen = message ? strlen(message) : 0;
	uint8_t *p = malloc(32 + mlen);
	size_t n = error_payload(p, errnum, message);
	bool good = send_payload(fd, KVAP_MSG_ERROR, id, p, (uint32_t)n);

	free(p);
	return good;
}

/* A frame one byte at a time, until done or the client is gone. */
static void drip(struct hostile *h, int fd, uint16_t type, uint32_t id, const void *body)
{
	uint8_t *buf;
	size_t len;

	if (kvap_frame_encode_alloc(type, id, body, &buf, &len, NULL) < 0)
		return;
	for (size_t i = 0; i < len; i++) {
		if (i)
			sleep_ms(h->drip_ms);
		if (!send_all(fd, buf + i, 1))
			break;
		h->drip_sent++;
	}
	free(buf);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The next stream connection; -1 when none came in time or the client
 * closed (or wrote to) the control connection instead. */
static int accept_stream(struct hostile *h, int ctl)
{
	struct pollfd p[2] = { { .fd = h->lfd[1], .events = POLLIN },
			       { .fd = ctl, .events = POLLIN } };

	if (poll(p, 2, ACCEPT_MS) <= 0 || p[1].revents)
		return -1;
	return accept_within(h->lfd[1], 0);
}

/* Accept the announced streams and answer their hellos; stdout and stderr
 * are closed at once (no output) unless the mode needs them open. */
static void attach_streams(struct hostile *h, int ctl, uint32_t streams)
{
	bool dripped = false;

	for (unsigned k = 0; k < 4; k++) {
		if (!(streams & KVAP_STREAM_BIT(k)))
			continue;
		int fd = accept_stream(h, ctl);
		struct kvap_msg m;
		struct kvap_hdr hdr;
		if (fd < 0)
			return;
		if (raw_recv(fd, &m, &hdr) != 1) {
			close(fd);
			return;
		}
		kvap_msg_clear(&m);
		struct kvap_empty e = { 0 };
		if (h->mode == HOSTILE_STREAM_ERROR) {
			send_error(fd, hdr.req_id, h->errnum, h->message);
			close(fd);
			continue;
		}
		if (h->mode == HOSTILE_STREAM_DRIP && !dripped) {
			drip(h, fd, KVAP_MSG_STREAM_HELLO_REPLY, hdr.req_id, &e);
			dripped = true;
		} else {
			send_body(fd, KVAP_MSG_STREAM_HELLO_REPLY, hdr.req_id, &e);
		}
		h->sfd[k] = fd;
	}
	if (h->mode != HOSTILE_JUNK && h->mode != HOSTILE_STDOUT_OPEN) {
		close_fd(&h->sfd[KVAP_STREAM_STDOUT]);
		close_fd(&h->sfd[KVAP_STREAM_STDERR]);
		close_fd(&h->sfd[KVAP_STREAM_TTY]);
	}
}

static void answer_wait(struct hostile *h, int fd, uint32_t id)
{
	struct kvap_exit st = { .pid = 42 };

	switch (h->mode) {
	case HOSTILE_JUNK: {
		uint8_t f[KVAP_HDR_SIZE];
		put_hdr(f, KVAP_VERSION_MAJOR, KVAP_MSG_SIGNAL_REPLY, JUNK_ID, 0);
		for (unsigned i = 0; i < h->junk_frames && send_all(fd, f, sizeof(f)); i++)
			h->junk_sent++;
		close_fd(&h->sfd[KVAP_STREAM_STDOUT]);
		close_fd(&h->sfd[KVAP_STREAM_STDERR]);
		break;
	}
	case HOSTILE_WAIT_STATUS:
		st.exit_code = h->exit_code;
		st.term_signal = h->term_signal;
		break;
	case HOSTILE_STDOUT_OPEN:
		send_body(fd, KVAP_MSG_WAIT_REPLY, id, &st);
		for (unsigned t = 0; t < h->hold_ms && h->sfd[KVAP_STREAM_STDOUT] >= 0; t += 100) {
			struct pollfd p = { .fd = h->sfd[KVAP_STREAM_STDOUT], .events = POLLRDHUP };
			if (poll(&p, 1, 100) > 0)
				break; /* the client closed it */
		}
		close_fd(&h->sfd[KVAP_STREAM_STDOUT]);
		close_fd(&h->sfd[KVAP_STREAM_STDERR]);
		return;
	case HOSTILE_ANSWER_AHEAD:
	case HOSTILE_STASH_FLOOD:
		if (h->n_waits < sizeof(h->waits) / sizeof(h->waits[0]))
			h->waits[h->n_waits++] = id;
		return; /* answered with the next SIGNAL */
	default:
		break;
	}
	send_body(fd, KVAP_MSG_WAIT_REPLY, id, &st);
}

/* The pending WAITs' replies and then SIGNAL's, in one write. */
static void answer_signal(struct hostile *h, int fd, uint32_t id)
{
	size_t cap = 64 + h->n_waits * (KVAP_HDR_SIZE + 32 + STASH_TEXT), n = 0;
	uint8_t *buf = malloc(cap);
	char *text = malloc(STASH_TEXT + 1);

	memset(text, 'x', STASH_TEXT);
	text[STASH_TEXT] = '\0';
	for (unsigned i = 0; i < h->n_waits; i++) {
		if (h->mode == HOSTILE_STASH_FLOOD) {
			uint8_t *p = buf + n + KVAP_HDR_SIZE;
			size_t len = error_payload(p, ENOENT, text);
			put_hdr(buf + n, KVAP_VERSION_MAJOR, KVAP_MSG_ERROR, h->waits[i],
				(uint32_t)len);
			n += KVAP_HDR_SIZE + len;
		} else {
			struct kvap_exit st = { .pid = 42, .exit_code = 3 };
			size_t len;
			kvap_frame_encode(KVAP_MSG_WAIT_REPLY, h->waits[i], &st, buf + n, cap - n,
					  &len, NULL);
			n += len;
		}
	}
	h->n_waits = 0;
	put_hdr(buf + n, KVAP_VERSION_MAJOR, KVAP_MSG_SIGNAL_REPLY, id, 0);
	n += KVAP_HDR_SIZE;
	send_all(fd, buf, n);
	free(text);
	free(buf);
}

static void serve(struct hostile *h, int fd)
{
	struct kvap_msg m;
	struct kvap_hdr hdr;
	int r;

	while ((r = raw_recv(fd, &m, &hdr)) == 1) {
		uint32_t id = hdr.req_id, streams = 0;
		struct kvap_empty e = { 0 };
		struct kvap_pid pid = { .pid = 42 };

		h->requests++;
		if (hdr.type == KVAP_MSG_EXEC)
			streams = m.body.exec.streams;
		if (hdr.type == KVAP_MSG_CREATE)
			streams = m.body.create.streams;
		kvap_msg_clear(&m);
		if (h->mode == HOSTILE_ERROR && hdr.type == h->err_type) {
			send_error(fd, id, h->errnum, h->message);
			continue;
		}
		if (h->mode == HOSTILE_WRONG_TYPE && hdr.type == h->err_type) {
			struct kvap_stats st = { .nr_procs = 7 };
			send_body(fd, KVAP_MSG_STATS_REPLY, id, &st);
			continue;
		}
		switch (hdr.type) {
		case KVAP_MSG_HELLO: {
			struct kvap_hello hello = {
				.features =
				    h->features ? h->features : KVAP_FEAT_PS | KVAP_FEAT_STATS,
				.software = "hostile test agent",
			};
			if (h->mode == HOSTILE_HELLO_DRIP)
				drip(h, fd, KVAP_MSG_HELLO_REPLY, id, &hello);
			else
				send_body(fd, KVAP_MSG_HELLO_REPLY, id, &hello);
			break;
		}
		case KVAP_MSG_EXEC:
		case KVAP_MSG_CREATE:
			send_body(fd, kvap_reply_type(hdr.type), id, &pid);
			attach_streams(h, fd, streams);
			break;
		case KVAP_MSG_START:
			send_body(fd, KVAP_MSG_START_REPLY, id, &pid);
			break;
		case KVAP_MSG_WAIT:
			answer_wait(h, fd, id);
			break;
		case KVAP_MSG_SIGNAL:
			if (h->mode == HOSTILE_ANSWER_AHEAD || h->mode == HOSTILE_STASH_FLOOD)
				answer_signal(h, fd, id);
			else
				send_body(fd, KVAP_MSG_SIGNAL_REPLY, id, &e);
			break;
		case KVAP_MSG_PS: {
			struct kvap_ps ps = { 0 };
			send_body(fd, KVAP_MSG_PS_REPLY, id, &ps);
			break;
		}
		case KVAP_MSG_STATS: {
			struct kvap_stats st = { .nr_procs = 1 };
			send_body(fd, KVAP_MSG_STATS_REPLY, id, &st);
			break;
		}
		default:
			send_error(fd, id, ENOSYS, "not in this fake");
			break;
		}
	}
	h->client_closed_ctl = r == 0;
}

static void *hostile_main(void *arg)
{
	struct hostile *h = arg;
	int fd = accept_within(h->lfd[0], ACCEPT_MS);

	if (fd >= 0) {
		serve(h, fd);
		close(fd);
	}
	for (int k = 0; k < 4; k++)
		close_fd(&h->sfd[k]);
	return NULL;
}

static int listen_at(const char *dir, unsigned port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u", dir, port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int hostile_start(struct hostile *h)
{
	h->running = false;
	h->junk_sent = h->requests = h->drip_sent = h->n_waits = 0;
	h->client_closed_ctl = false;
	for (int k = 0; k < 4; k++)
		h->sfd[k] = -1;
	strcpy(h->dir, "/tmp/kvrun-hostile.XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	h->lfd[0] = listen_at(h->dir, KVAP_PORT_CONTROL);
	h->lfd[1] = listen_at(h->dir, KVAP_PORT_STREAM);
	if (h->lfd[0] < 0 || h->lfd[1] < 0 ||
	    pthread_create(&h->thread, NULL, hostile_main, h) != 0) {
		hostile_stop(h);
		return -1;
	}
	h->running = true;
	return 0;
}

void hostile_stop(struct hostile *h)
{
	char path[128];

	if (h->running)
		pthread_join(h->thread, NULL);
	h->running = false;
	for (int i = 0; i < 2; i++) {
		if (h->lfd[i] >= 0)
			close(h->lfd[i]);
		h->lfd[i] = -1;
		snprintf(path, sizeof(path), "%s/%u", h->dir,
			 i ? KVAP_PORT_STREAM : KVAP_PORT_CONTROL);
		unlink(path);
	}
	rmdir(h->dir);
}
