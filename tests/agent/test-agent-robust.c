/* test-agent-robust.c - a hostile or broken peer on either side.
 *
 * Against kvrun-agent-test (argv[1]): garbage, requests before HELLO,
 * another major version, unknown types, malformed payloads, oversized
 * headers, a host that disconnects mid-frame, bad stream hellos and a burst
 * of abandoned connections; after each, the agent still serves commands.
 * Against a fake agent: the client reports a version mismatch, a reply cut
 * in the middle and a silent agent as clear errors within its timeout.
 * Also the hybrid vsock dialer through a relay that speaks the VMM's
 * CONNECT/OK handshake, and one that refuses. */
#include "harness.h"
#include "hybrid-relay.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct agent_h H;

static int raw_connect(const char *dir, unsigned port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u", dir, port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void put_hdr(uint8_t *b, uint8_t major, uint16_t type, uint32_t id, uint32_t len)
{
	memcpy(b, "KVAP", 4);
	b[4] = major;
	b[5] = 0;
	b[6] = (uint8_t)type;
	b[7] = (uint8_t)(type >> 8);
	for (int i = 0; i < 4; i++) {
		b[8 + i] = (uint8_t)(id >> (8 * i));
		b[12 + i] = (uint8_t)(len >> (8 * i));
	}
}

static void raw_send(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		diag("raw send failed: %s", strerror(errno));
}

/* One frame: 1 with *m decoded (or hdr only), 0 at EOF, -1 on timeout/error. */
static int raw_recv(int fd, struct kvap_msg *m, struct kvap_hdr *hdr)
{
	uint8_t h[KVAP_HDR_SIZE], *p = NULL;
	size_t have = 0;

	while (have < sizeof(h)) {
		ssize_t n = read(fd, h + have, sizeof(h) - have);
		if (n <= 0)
			return n == 0 && have == 0 ? 0 : -1;
		have += (size_t)n;
	}
	uint32_t len =
	    (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
	hdr->major = h[4];
	hdr->type = (uint16_t)(h[6] | h[7] << 8);
	hdr->req_id = (uint32_t)h[8] | (uint32_t)h[9] << 8;
	if (len > 65536)
		return -1;
	p = malloc(KVAP_HDR_SIZE + len);
	memcpy(p, h, sizeof(h));
	for (have = 0; have < len;) {
		ssize_t n = read(fd, p + KVAP_HDR_SIZE + have, len - have);
		if (n <= 0) {
			free(p);
			return -1;
		}
		have += (size_t)n;
	}
	size_t used;
	memset(m, 0, sizeof(*m));
	if (kvap_frame_decode(p, KVAP_HDR_SIZE + len, m, &used, NULL) < 0)
		memset(m, 0, sizeof(*m));
	free(p);
	return 1;
}

static void raw_request(int fd, uint16_t type, uint32_t id, const void *body)
{
	uint8_t *buf;
	size_t len;

	if (kvap_frame_encode_alloc(type, id, body, &buf, &len, NULL) == 0) {
		raw_send(fd, buf, len);
		free(buf);
	}
}

static bool raw_hello(int fd)
{
	struct kvap_hello h = { .software = "raw test" };
	struct kvap_msg m;
	struct kvap_hdr hdr;

	raw_request(fd, KVAP_MSG_HELLO, 1, &h);
	bool good = raw_recv(fd, &m, &hdr) == 1 && hdr.type == KVAP_MSG_HELLO_REPLY;
	kvap_msg_clear(&m);
	return good;
}

static bool still_serving(void)
{
	char *argv[] = { "echo", "alive", NULL };
	struct run_result r;

	run_cmd(&H.d, argv, NULL, 0, NULL, &r);
	bool good = r.status == 0 && r.out && !strcmp(r.out, "alive\n");
	if (!good)
		diag("still_serving: %d %s", r.status, r.e.msg);
	run_result_free(&r);
	return good && agent_h_alive(&H);
}

/* EOF, or ECONNRESET when the agent closed with our bytes still unread. */
static bool closed_by_peer(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void test_garbage(void)
{
	int fd = raw_connect(H.dir, KVAP_PORT_CONTROL);
	raw_send(fd, "GET / HTTP/1.1\r\n\r\n", 18);
	ok(closed_by_peer(fd), "bad magic: the agent closes that connection");
	close(fd);
	ok(still_serving(), "and still runs commands");

	fd = raw_connect(H.dir, KVAP_PORT_CONTROL);
	uint8_t h[KVAP_HDR_SIZE];
	put_hdr(h, 1, KVAP_MSG_HELLO, 1, KVAP_MAX_PAYLOAD + 1);
	raw_send(fd, h, sizeof(h));
	ok(closed_by_peer(fd), "a header announcing more than 1 MiB: connection closed");
	close(fd);
}

static void test_before_hello(void)
{
	int fd = raw_connect(H.dir, KVAP_PORT_CONTROL);
	struct kvap_msg m;
	struct kvap_hdr hdr;
	struct kvap_empty e = { 0 };

	raw_request(fd, KVAP_MSG_PS, 5, &e);
	int r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && hdr.req_id == 5 && m.body.error.errnum == EPROTO,
	   "a request before HELLO: ERROR EPROTO (%s)",
	   m.body.error.message ? m.body.error.message : "");
	kvap_msg_clear(&m);
	ok(raw_hello(fd), "HELLO after that works on the same connection");
	close(fd);
}

static void test_version(void)
{
	int fd = raw_connect(H.dir, KVAP_PORT_CONTROL);
	struct kvap_msg m;
	struct kvap_hdr hdr;
	uint8_t frame[KVAP_HDR_SIZE + 14] = { 0 };

	/* HELLO from a major version 2 host: features = 0 (u64). */
	put_hdr(frame, 2, KVAP_MSG_HELLO, 9, 14);
	frame[16] = 1;
	frame[18] = 8;
	raw_send(fd, frame, sizeof(frame));
	int r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && hdr.major == KVAP_VERSION_MAJOR &&
	       hdr.req_id == 9 && m.body.error.errnum == EPROTO && m.body.error.message &&
	       strstr(m.body.error.message, "version"),
	   "major version 2: ERROR EPROTO in the agent's version, saying so (%s)",
	   m.body.error.message ? m.body.error.message : "");
	kvap_msg_clear(&m);
	ok(closed_by_peer(fd), "then the connection is closed");
	close(fd);
}

static void test_in_sync_errors(void)
{
	int fd = raw_connect(H.dir, KVAP_PORT_CONTROL);
	struct kvap_msg m;
	struct kvap_hdr hdr;
	uint8_t frame[KVAP_HDR_SIZE + 7];

	raw_hello(fd);
	put_hdr(frame, 1, 0x0077, 3, 0);
	raw_send(fd, frame, KVAP_HDR_SIZE);
	int r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && m.body.error.errnum == ENOSYS,
	   "unknown request type: ERROR ENOSYS");
	kvap_msg_clear(&m);

	/* CREATE whose only field claims 100 bytes but has 1. */
	put_hdr(frame, 1, KVAP_MSG_CREATE, 4, 7);
	memcpy(frame + KVAP_HDR_SIZE, "\x01\x00\x64\x00\x00\x00x", 7);
	raw_send(fd, frame, sizeof(frame));
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && hdr.req_id == 4 &&
	       m.body.error.errnum == EBADMSG,
	   "malformed payload: ERROR EBADMSG (%s)",
	   m.body.error.message ? m.body.error.message : "");
	kvap_msg_clear(&m);

	struct kvap_empty e = { 0 };
	raw_request(fd, KVAP_MSG_STATS, 6, &e);
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_STATS_REPLY && m.body.stats_reply.mem_total > 0,
	   "the same connection still answers STATS");
	kvap_msg_clear(&m);

	struct kvap_net_config nc = { 0 };
	raw_request(fd, KVAP_MSG_NET_CONFIG, 7, &nc);
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && m.body.error.errnum == ENOSYS,
	   "NET_CONFIG: ERROR ENOSYS for now");
	kvap_msg_clear(&m);
	close(fd);
}

static void test_mid_frame(void)
{
	struct kvap_hello h = { .software = "half" };
	uint8_t *buf;
	size_t len;

	kvap_frame_encode_alloc(KVAP_MSG_HELLO, 1, &h, &buf, &len, NULL);
	for (size_t cut = 1; cut < len; cut += 7) {
		int fd = raw_connect(H.dir, KVAP_PORT_CONTROL);
		raw_send(fd, buf, cut);
		close(fd);
	}
	free(buf);
	ok(still_serving(), "hosts disconnecting in the middle of a frame: the agent serves on");

	for (int i = 0; i < 100; i++) {
		int fd = raw_connect(H.dir, i % 2 ? KVAP_PORT_STREAM : KVAP_PORT_CONTROL);
		if (i % 3 == 0)
			raw_send(fd, "KVAP", 4);
		close(fd);
	}
	ok(still_serving(), "100 abandoned connections on both ports: still serving");
}

static void test_stream_hello(void)
{
	struct kvap_msg m;
	struct kvap_hdr hdr;
	int fd = raw_connect(H.dir, KVAP_PORT_STREAM);

	raw_send(fd, "garbage-garbage-garbage", 23);
	ok(closed_by_peer(fd), "stream port: garbage closes the connection");
	close(fd);

	struct kvap_stream_hello sh = { .exec_id = "nobody", .kind = KVAP_STREAM_STDOUT };
	fd = raw_connect(H.dir, KVAP_PORT_STREAM);
	raw_request(fd, KVAP_MSG_STREAM_HELLO, 2, &sh);
	int r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && m.body.error.errnum == ENOENT,
	   "STREAM_HELLO for an unknown process: ERROR ENOENT");
	kvap_msg_clear(&m);
	close(fd);

	/* A real process, a wrong token. */
	struct agent_client *c;
	struct kv_err err = { 0 };
	char *argv[] = { "echo", "x", NULL };
	struct kvap_process proc = { .args = argv, .n_args = 2 };
	struct kvap_exec ex = { .container_id = "kvrun",
				.exec_id = "tok",
				.process = proc,
				.streams = KVAP_STREAM_BIT(KVAP_STREAM_STDOUT) };
	union kvap_body reply;
	if (agent_client_connect(&H.d, &c, &err) < 0 ||
	    agent_client_call(c, KVAP_MSG_EXEC, &ex, &reply, &err) < 0) {
		ok(0, "exec for the token test: %s", err.msg);
		return;
	}
	sh.exec_id = "tok";
	memset(sh.token, 0xee, sizeof(sh.token));
	fd = raw_connect(H.dir, KVAP_PORT_STREAM);
	raw_request(fd, KVAP_MSG_STREAM_HELLO, 3, &sh);
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && m.body.error.errnum == EACCES,
	   "STREAM_HELLO with a wrong token: ERROR EACCES");
	kvap_msg_clear(&m);
	close(fd);
	memset(sh.token, 0, sizeof(sh.token)); /* the token EXEC announced */
	sh.kind = KVAP_STREAM_STDERR;
	fd = raw_connect(H.dir, KVAP_PORT_STREAM);
	raw_request(fd, KVAP_MSG_STREAM_HELLO, 4, &sh);
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && m.body.error.errnum == EINVAL,
	   "STREAM_HELLO for a kind not announced: ERROR EINVAL");
	kvap_msg_clear(&m);
	close(fd);
	agent_client_signal(c, "tok", SIGKILL, false, &err);
	struct kvap_exit st;
	r = agent_client_wait(c, "tok", &st, &err);
	ok(r == 0 && st.term_signal == SIGKILL,
	   "a process held for a stream that never comes can be killed and waited (%d %s)", r,
	   err.msg);
	agent_client_free(c);
}

/* --- a fake agent for the client's error paths --- */

enum fake_mode { FAKE_MAJOR2, FAKE_HALF, FAKE_SILENT };

struct fake {
	char dir[64];
	int lfd;
	enum fake_mode mode;
	pthread_t t;
};

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	struct kvap_msg m;
	struct kvap_hdr hdr;
	struct timeval tv = { 5, 0 };

	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	raw_recv(fd, &m, &hdr);
	kvap_msg_clear(&m);
	struct kvap_hello h = { .features = 0, .software = "fake" };
	uint8_t *buf;
	size_t len;
	kvap_frame_encode_alloc(KVAP_MSG_HELLO_REPLY, hdr.req_id, &h, &buf, &len, NULL);
	if (f->mode == FAKE_MAJOR2) {
		buf[4] = 2;
		raw_send(fd, buf, len);
	} else if (f->mode == FAKE_HALF) {
		raw_send(fd, buf, len / 2);
	} else {
		char c;
		(void)read(fd, &c, 1); /* until the client gives up and closes */
	}
	free(buf);
	close(fd);
	return NULL;
}

static int fake_start(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	f->mode = mode;
	strcpy(f->dir, "/tmp/kvrun-fake-agent.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u", f->dir, KVAP_PORT_CONTROL);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 4) < 0)
		return -1;
	return pthread_create(&f->t, NULL, fake_thread, f);
}

static void fake_stop(struct fake *f)
{
	char path[128];

	pthread_join(f->t, NULL);
	close(f->lfd);
	snprintf(path, sizeof(path), "%s/%u", f->dir, KVAP_PORT_CONTROL);
	unlink(path);
	rmdir(f->dir);
}

static void test_client_errors(void)
{
	struct fake f;
	struct agent_dialer d;
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	struct timespec t0, t1;

	fake_start(&f, FAKE_MAJOR2);
	agent_dialer_unix(&d, f.dir, NULL);
	int r = agent_client_connect(&d, &c, &err);
	ok(r == -EPROTO && strstr(err.msg, "version mismatch") && strstr(err.msg, "2.0"),
	   "client: an agent of major version 2 is an explicit error (%d: %s)", r, err.msg);
	fake_stop(&f);

	fake_start(&f, FAKE_HALF);
	agent_dialer_unix(&d, f.dir, NULL);
	r = agent_client_connect(&d, &c, &err);
	ok(r == -ECONNRESET && strstr(err.msg, "middle of a frame"),
	   "client: an agent that disconnects mid-frame is a clear error (%d: %s)", r, err.msg);
	fake_stop(&f);

	fake_start(&f, FAKE_SILENT);
	agent_dialer_unix(&d, f.dir, NULL);
	d.io_timeout_ms = 300;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = agent_client_connect(&d, &c, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ok(r == -ETIMEDOUT && secs < 3, "client: a silent agent times out (%d after %.2f s: %s)", r,
	   secs, err.msg);
	fake_stop(&f);

	agent_dialer_unix(&d, "/nonexistent-kvrun-dir", NULL);
	d.timeout_ms = 200;
	r = agent_client_connect(&d, &c, &err);
	ok(r == -ETIMEDOUT && strstr(err.msg, "not reachable"),
	   "client: nothing listening: retried, then -ETIMEDOUT (%s)", err.msg);
}

static void test_hybrid(void)
{
	struct relay rel;
	struct agent_dialer d;
	struct kv_err err = { 0 };
	char path[128];

	snprintf(path, sizeof(path), "%s/vsock.sock", H.dir);
	if (!ok(relay_start(&rel, path, H.dir, false) == 0, "hybrid relay listening"))
		return;
	agent_dialer_hybrid(&d, path, NULL);
	char *argv[] = { "sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' x; echo err >&2; exit 7",
			 NULL };
	struct run_result r;
	run_cmd(&d, argv, NULL, 0, NULL, &r);
	bool all_x = r.out_len == (1u << 20);
	for (size_t i = 0; all_x && i < r.out_len; i++)
		all_x = r.out[i] == 'x';
	ok(r.status == 7 && all_x && !strcmp(r.err, "err\n"),
	   "over hybrid vsock (CONNECT/OK): 1 MiB stdout, stderr and exit 7 (%d %zu %s)", r.status,
	   r.out_len, r.e.msg);
	run_result_free(&r);
	char *cat[] = { "cat", NULL };
	run_cmd(&d, cat, "through the relay", 17, NULL, &r);
	ok(r.status == 0 && !strcmp(r.out, "through the relay"),
	   "over hybrid vsock: stdin and its EOF (half-close) get through (%s)", show(r.out));
	run_result_free(&r);
	relay_stop(&rel);

	snprintf(path, sizeof(path), "%s/refuse.sock", H.dir);
	relay_start(&rel, path, H.dir, true);
	agent_dialer_hybrid(&d, path, NULL);
	d.timeout_ms = 300;
	struct agent_client *c;
	int rc = agent_client_connect(&d, &c, &err);
	ok(rc == -ETIMEDOUT && rel.accepted >= 2,
	   "hybrid: a guest port that is not listening is retried until the timeout (%u tries: "
	   "%s)",
	   rel.accepted, err.msg);
	relay_stop(&rel);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tap_plan(29);
	if (!ok(agent_h_start(&H, argv[1]) == 0, "agent starts")) {
		agent_h_dump_log(&H);
		return tap_done();
	}
	test_garbage();
	test_before_hello();
	test_version();
	test_in_sync_errors();
	test_mid_frame();
	test_stream_hello();
	test_client_errors();
	test_hybrid();
	ok(still_serving(), "after all of that the agent still runs commands");
	int st = agent_h_stop(&H);
	ok(st == 0, "the agent stops cleanly, no leaks (status 0x%x)", st);
	return tap_done();
}
