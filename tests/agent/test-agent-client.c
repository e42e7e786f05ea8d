/* test-agent-client.c - the host client against broken agents, and the
 * hybrid vsock dialer.
 *
 * Against a fake agent: the client reports a version mismatch, a reply cut
 * in the middle and a silent agent as clear errors within its timeout, and
 * nothing listening as a timeout naming the path. With kvrun-agent-test
 * (argv[1]) behind a relay that speaks the VMM's CONNECT/OK handshake:
 * output, exit status, stdin and its half-close get through; a relay that
 * refuses is retried until the dial timeout. */
#include "agent-client-oci.h"
#include "harness.h"
#include "hybrid-relay.h"
#include "raw.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct agent_h H;

/* --- a fake agent for the client's error paths --- */

enum fake_mode { FAKE_MAJOR2, FAKE_HALF, FAKE_SILENT, FAKE_V1_0 };

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
	struct kvap_hello h = { .features = f->mode == FAKE_V1_0 ? KVAP_FEATURES_V1_0 : 0,
				.software = "fake" };
	uint8_t *buf;
	size_t len;
	kvap_frame_encode_alloc(KVAP_MSG_HELLO_REPLY, hdr.req_id, &h, &buf, &len, NULL);
	if (f->mode == FAKE_MAJOR2) {
		buf[4] = 2;
		raw_send(fd, buf, len);
	} else if (f->mode == FAKE_HALF) {
		raw_send(fd, buf, len / 2);
	} else if (f->mode == FAKE_V1_0) {
		buf[5] = 0; /* a KVAP 1.0 agent */
		raw_send(fd, buf, len);
		char c;
		(void)read(fd, &c, 1);
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
	ok(r == -EPROTO && strstr(err.msg, "version mismatch") && strstr(err.msg, "KVAP 2."),
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

	fake_start(&f, FAKE_V1_0);
	agent_dialer_unix(&d, f.dir, NULL);
	r = agent_client_connect(&d, &c, &err);
	struct kvap_resources res = { .pids_limit = 5 };
	int u = r == 0 ? agent_client_update(c, "x", &res, &err) : r;
	int fz = r == 0 ? agent_client_freeze(c, "x", true, &err) : r;
	ok(u == -EOPNOTSUPP && fz == -EOPNOTSUPP && strstr(err.msg, "KVAP 1.1"),
	   "client: UPDATE and FREEZE to a 1.0 agent are refused locally (%d %d: %s)", u, fz,
	   err.msg);
	if (r == 0)
		agent_client_free(c);
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
	tap_plan(11);
	test_client_errors();
	if (!ok(agent_h_start(&H, argv[1]) == 0, "agent starts")) {
		agent_h_dump_log(&H);
		return tap_done();
	}
	test_hybrid();
	int st = agent_h_stop(&H);
	ok(st == 0, "the agent stops cleanly, no leaks (status 0x%x)", st);
	return tap_done();
}
