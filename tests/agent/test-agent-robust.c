/* test-agent-robust.c - a hostile or broken host against the agent.
 *
 * Against kvrun-agent-test (argv[1]): garbage, requests before HELLO,
 * another major version, unknown types, malformed payloads, oversized
 * headers, a host that disconnects mid-frame, bad stream hellos and a burst
 * of abandoned connections; after each, the agent still serves commands.
 * The client's side of broken peers is test-agent-client.c. */
#include "harness.h"
#include "raw.h"
#include "tap.h"

#include <errno.h>
#include <poll.h>
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
	struct kvap_container_ref e = { 0 };

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

	struct kvap_container_ref e = { 0 };
	raw_request(fd, KVAP_MSG_STATS, 6, &e);
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_STATS_REPLY && m.body.stats_reply.mem_total > 0,
	   "the same connection still answers STATS");
	kvap_msg_clear(&m);

	struct kvap_net_config nc = { 0 };
	raw_request(fd, KVAP_MSG_NET_CONFIG, 7, &nc);
	r = raw_recv(fd, &m, &hdr);
	ok(r == 1 && hdr.type == KVAP_MSG_ERROR && m.body.error.errnum == EPERM &&
	       m.body.error.message && strstr(m.body.error.message, "host's network"),
	   "NET_CONFIG with --no-init: ERROR EPERM (it would change the host's network)");
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

/* The host stops reading stdout and closes it, or drops the control
 * connection with a WAIT pending: the process and the agent carry on as
 * they would with local pipes. */
static void test_host_goes_away(void)
{
	struct agent_client *c, *c2;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;
	char buf[4096];
	char *yes[] = { "yes", NULL };
	struct kvap_process proc = { .args = yes, .n_args = 1 };

	if (agent_client_connect(&H.d, &c, &err) < 0 ||
	    agent_proc_exec(c, "kvrun", "yes", &proc, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p,
			    &err) < 0) {
		ok(0, "exec yes: %s", err.msg);
		return;
	}
	struct pollfd pfd = { .fd = p->fd[KVAP_STREAM_STDOUT], .events = POLLIN };
	ssize_t got = poll(&pfd, 1, 5000) == 1 ? read(pfd.fd, buf, sizeof(buf)) : -1;
	close(p->fd[KVAP_STREAM_STDOUT]);
	p->fd[KVAP_STREAM_STDOUT] = -1;
	int r = agent_client_wait(c, "yes", &st, &err);
	ok(got > 0 && r == 0 && st.term_signal == SIGPIPE,
	   "the host closes stdout of `yes`: it dies of SIGPIPE as in `yes | head` (%d, sig %u)", r,
	   r ? 0 : st.term_signal);
	agent_proc_free(p);

	char *sleeper[] = { "sleep", "0.3", NULL };
	struct kvap_process proc2 = { .args = sleeper, .n_args = 2 };
	uint32_t id;
	r = agent_proc_exec(c, "kvrun", "orphan", &proc2, 0, &p, &err);
	if (r == 0)
		r = agent_client_wait_send(c, "orphan", &id, &err);
	agent_client_free(c); /* with the WAIT pending */
	if (r == 0)
		r = agent_client_connect(&H.d, &c2, &err);
	if (r == 0) {
		r = agent_client_wait(c2, "orphan", &st, &err);
		agent_client_free(c2);
	}
	ok(r == 0 && st.exit_code == 0 && p && st.pid == p->pid,
	   "a control connection closed with a WAIT pending: another one collects the status "
	   "(%d %s)",
	   r, err.msg);
	agent_proc_free(p);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tap_plan(23);
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
	test_host_goes_away();
	ok(still_serving(), "after all of that the agent still runs commands");
	int st = agent_h_stop(&H);
	ok(st == 0, "the agent stops cleanly, no leaks (status 0x%x)", st);
	return tap_done();
}
