/* test-agent-hostile.c - the host client against a guest agent that lies.
 *
 * Each case starts the hostile fake agent (hostile.c) in one mode and
 * points the real client at it: kvrun-agent-run (argv[2], a sanitizer
 * build under make check) as a child, or the library in this process.
 * What is checked, per docs/agent.md "Protocol violations": an ERROR reply
 * is always a failure (errnum 0 or not an errno: EPROTO), never a success
 * with an uninitialized reply; a flood of replies to requests never made
 * ends the connection with memory staying bounded; an exit status outside
 * 0..255 is refused; the stream-attach timeout is one deadline, not one
 * per byte; guest text reaches the host's stderr escaped and cut; a guest
 * that keeps stdout open after the exit status is bounded. The tool must
 * exit 125 with one printable line and no sanitizer report.
 *
 * KVRUN_TEST_ONLY=SUBSTRING runs only the cases whose name contains it. */
#include "hostile.h"
#include "tap.h"

#include "agent-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *tool;
static long honest_rss_kb;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- running kvrun-agent-run against the fake ---- */

struct tool_run {
	int status; /* exit code; 128 + N when killed by signal N; -1 when it had to be killed */
	long maxrss_kb;
	double secs;
	char out[4096], err[8192];
	size_t err_len;
};

static size_t slurp(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

static void run_tool(const char *dir, struct tool_run *t)
{
	int out = memfd_create("tool-out", MFD_CLOEXEC),
	    err = memfd_create("tool-err", MFD_CLOEXEC);
	double t0 = now_s();
	struct rusage ru = { 0 };
	int st = 0;

	memset(t, 0, sizeof(*t));
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(out, 1);
		dup2(err, 2);
		execl(tool, tool, "--unix", dir, "--timeout", "3000", "--", "true", (char *)NULL);
		_exit(127);
	}
	t->status = -1;
	for (;;) {
		pid_t r = wait4(pid, &st, WNOHANG, &ru);
		if (r == pid) {
			t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		if (r < 0 || now_s() - t0 > 90) {
			kill(pid, SIGKILL);
			wait4(pid, &st, 0, &ru);
			break;
		}
		sleep_ms(10);
	}
	t->secs = now_s() - t0;
	t->maxrss_kb = ru.ru_maxrss;
	slurp(out, t->out, sizeof(t->out));
	t->err_len = slurp(err, t->err, sizeof(t->err));
	close(out);
	close(err);
}

/* The tool's stderr is one line of printable ASCII, its own message, with
 * no sanitizer report. */
static bool one_clean_line(const struct tool_run *t, const char **why)
{
	const char *e = t->err;

	*why = "";
	if (strstr(e, "Sanitizer") || strstr(e, "runtime error"))
		return *why = "a sanitizer report", false;
	if (strncmp(e, "kvrun-agent-run: ", 17) != 0)
		return *why = "does not start with the tool's name", false;
	if (t->err_len == 0 || e[t->err_len - 1] != '\n' || strchr(e, '\n') != e + t->err_len - 1)
		return *why = "not exactly one line", false;
	for (size_t i = 0; i + 1 < t->err_len; i++)
		if ((unsigned char)e[i] < 0x20 || (unsigned char)e[i] > 0x7e)
			return *why = "a control or non-ASCII byte", false;
	if (t->err_len > 600)
		return *why = "longer than 600 bytes", false;
	return true;
}

static const char *first_line(const struct tool_run *t)
{
	static char b[240];
	size_t n = 0;

	for (const char *s = t->err; *s && *s != '\n' && n < sizeof(b) - 5; s++)
		n += (size_t)snprintf(
		    b + n, sizeof(b) - n,
		    (unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ? "\\x%02x" : "%c",
		    (unsigned char)*s);
	b[n] = '\0';
	return b;
}

/* Run the tool against a fake in h's mode; expect 125, a clean line and
 * each of the words in the message. */
static void tool_case(struct hostile *h, const char *what, const char *w1, const char *w2,
		      struct tool_run *t)
{
	const char *why;

	if (!ok(hostile_start(h) == 0, "%s: fake agent listening", what))
		return;
	run_tool(h->dir, t);
	hostile_stop(h);
	bool clean = one_clean_line(t, &why);
	ok(t->status == 125 && clean && (!w1 || strstr(t->err, w1)) && (!w2 || strstr(t->err, w2)),
	   "%s: kvrun-agent-run exits 125 with one clean line naming '%s'%s%s (status %d, %.1f s; "
	   "%s; %s)",
	   what, w1 ? w1 : "", w2 ? " and " : "", w2 ? w2 : "", t->status, t->secs, why,
	   first_line(t));
}

/* ---- the cases ---- */

static void case_honest(void)
{
	struct hostile h = { .mode = HOSTILE_HONEST };
	struct tool_run t;

	if (!ok(hostile_start(&h) == 0, "honest fake agent listening"))
		return;
	run_tool(h.dir, &t);
	hostile_stop(&h);
	honest_rss_kb = t.maxrss_kb;
	ok(t.status == 0 && t.err_len == 0 && h.client_closed_ctl,
	   "the fixture: against an honest fake the tool exits 0 quietly (status %d, %ld KiB max "
	   "RSS, %s)",
	   t.status, t.maxrss_kb, first_line(&t));
}

static void case_hello_errnum0(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR,
			     .err_type = KVAP_MSG_HELLO,
			     .errnum = 0,
			     .message = "errnum zero" };
	struct tool_run t;
	tool_case(&h, "HELLO answered ERROR errnum 0", "HELLO", "errnum 0", &t);
}

static void case_hello_errnum_high(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR,
			     .err_type = KVAP_MSG_HELLO,
			     .errnum = 0x80000000u,
			     .message = "errnum 2^31" };
	struct tool_run t;
	tool_case(&h, "HELLO answered ERROR errnum 0x80000000", "HELLO", "errnum 2147483648", &t);
}

static void case_wait_errnum0(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR, .err_type = KVAP_MSG_WAIT, .errnum = 0 };
	struct tool_run t;
	tool_case(&h, "WAIT answered ERROR errnum 0", "WAIT", "errnum 0", &t);
}

static void case_wait_errnum_max(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR,
			     .err_type = KVAP_MSG_WAIT,
			     .errnum = 0xffffffffu };
	struct tool_run t;
	tool_case(&h, "WAIT answered ERROR errnum 0xffffffff", "WAIT", "errnum 4294967295", &t);
}

static void case_wait_etimedout(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR,
			     .err_type = KVAP_MSG_WAIT,
			     .errnum = ETIMEDOUT,
			     .message = "the agent's own timeout" };
	struct tool_run t;
	tool_case(&h, "WAIT answered ERROR ETIMEDOUT (not taken for 'no reply yet')", "WAIT",
		  "the agent's own timeout", &t);
}

static void case_stream_errnum0(void)
{
	struct hostile h = { .mode = HOSTILE_STREAM_ERROR, .errnum = 0, .message = "no" };
	struct tool_run t;
	tool_case(&h, "STREAM_HELLO answered ERROR errnum 0", "stream", "errnum 0", &t);
}

static void case_exit_signal200(void)
{
	struct hostile h = { .mode = HOSTILE_WAIT_STATUS, .term_signal = 200 };
	struct tool_run t;
	tool_case(&h, "WAIT_REPLY term_signal 200", "signal 200", NULL, &t);
}

static void case_exit_signal128(void)
{
	struct hostile h = { .mode = HOSTILE_WAIT_STATUS, .term_signal = 128 };
	struct tool_run t;
	tool_case(&h, "WAIT_REPLY term_signal 128 (would read as exit 0)", "signal 128", NULL, &t);
}

static void case_junk(void)
{
	struct hostile h = { .mode = HOSTILE_JUNK, .junk_frames = 300000 };
	struct tool_run t;

	tool_case(&h, "300000 SIGNAL_REPLYs with id 0x7fffffff while forwarding", "never sent",
		  NULL, &t);
	long grown = t.maxrss_kb - honest_rss_kb;
	ok(honest_rss_kb > 0 && grown < 48 * 1024,
	   "junk replies: the tool's max RSS stays within 48 MiB of an honest run (%ld KiB vs "
	   "%ld KiB; the client took %u of %u frames)",
	   t.maxrss_kb, honest_rss_kb, h.junk_sent, h.junk_frames);
}

static void case_escape(void)
{
	static char msg[4001];
	struct hostile h = {
		.mode = HOSTILE_ERROR, .err_type = KVAP_MSG_EXEC, .errnum = EPERM, .message = msg
	};
	struct tool_run t;
	size_t n = 0;

	n += (size_t)sprintf(msg + n, "evil\x1b]0;pwned title\x07\x1b[2J\nkvrun: forged line\r");
	for (; n < sizeof(msg) - 1; n++)
		msg[n] = n % 64 ? 'A' : '\t';
	msg[n] = '\0';
	tool_case(&h, "EXEC ERROR with escapes, newlines and 4000 bytes", "EXEC", "evil", &t);
	ok(strstr(t.err, "\\x1b[2J") && !strstr(t.err, "\x1b"),
	   "guest text: ESC shown as \\x1b, never written raw (%s)", first_line(&t));
}

/* ---- the library in this process ---- */

static int connect_to(struct hostile *h, int io_ms, struct agent_client **c, struct kv_err *err)
{
	struct agent_dialer d;

	agent_dialer_unix(&d, h->dir, NULL);
	d.timeout_ms = 3000;
	d.io_timeout_ms = io_ms;
	return agent_client_connect(&d, c, err);
}

static void case_ps_errnum0(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR, .err_type = KVAP_MSG_PS, .errnum = 0 };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	struct kvap_ps ps;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 5000, &c, &err) == 0,
		"PS errnum 0: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	memset(&ps, 0xa5, sizeof(ps));
	int r = agent_client_ps(c, &ps, &err);
	ok(r == -EPROTO && !ps.procs && !ps.n_procs && strstr(err.msg, "errnum 0"),
	   "PS answered ERROR errnum 0: -EPROTO, reply zeroed (%d: %s)", r, err.msg);
	r = agent_client_stats(c, &(struct kvap_stats){ 0 }, &err);
	ok(r == -EPROTO, "... and the connection is closed after the violation (%d: %s)", r,
	   err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_stats_errnum_max(void)
{
	struct hostile h = { .mode = HOSTILE_ERROR,
			     .err_type = KVAP_MSG_STATS,
			     .errnum = 0xffffffffu };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	struct kvap_stats st;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 5000, &c, &err) == 0,
		"STATS errnum max: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	memset(&st, 0xa5, sizeof(st));
	int r = agent_client_stats(c, &st, &err);
	ok(r == -EPROTO && !st.nr_procs && !st.mem_total,
	   "STATS answered ERROR errnum 0xffffffff: -EPROTO, reply zeroed (%d: %s)", r, err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_wait_bad_signal(void)
{
	struct hostile h = { .mode = HOSTILE_WAIT_STATUS, .term_signal = 65 };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	struct kvap_exit st;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 5000, &c, &err) == 0,
		"WAIT signal 65: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	memset(&st, 0xa5, sizeof(st));
	int r = agent_client_wait(c, "x", &st, &err);
	ok(r == -EPROTO && !st.term_signal && !st.exit_code && strstr(err.msg, "signal 65"),
	   "WAIT_REPLY term_signal 65: -EPROTO, status zeroed (%d: %s)", r, err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_wrong_type(void)
{
	struct hostile h = { .mode = HOSTILE_WRONG_TYPE, .err_type = KVAP_MSG_PS };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	struct kvap_ps ps;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 5000, &c, &err) == 0,
		"PS answered with STATS_REPLY: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	memset(&ps, 0xa5, sizeof(ps));
	int r = agent_client_ps(c, &ps, &err);
	ok(r == -EPROTO && !ps.procs && strstr(err.msg, "STATS_REPLY"),
	   "PS answered with STATS_REPLY: -EPROTO (%d: %s)", r, err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_stream_drip(void)
{
	struct hostile h = { .mode = HOSTILE_STREAM_DRIP, .drip_ms = 700 };
	struct kvap_process proc = { .args = (char *[]){ "true", NULL }, .n_args = 1, .cwd = "/" };
	struct agent_client *c = NULL;
	struct agent_proc *p = NULL;
	struct kv_err err = { 0 };

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 1000, &c, &err) == 0,
		"stream drip: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	double t0 = now_s();
	int r = agent_proc_exec(c, "kvrun", "drip", &proc, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p,
				&err);
	double secs = now_s() - t0;
	ok(r == -ETIMEDOUT && secs < 6,
	   "a STREAM_HELLO_REPLY dripped 1 byte / 700 ms (11 s in all) against a 1 s timeout: "
	   "-ETIMEDOUT after %.1f s (%d, %u bytes came: %s)",
	   secs, r, h.drip_sent, err.msg);
	agent_proc_free(p);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_hello_drip(void)
{
	struct hostile h = { .mode = HOSTILE_HELLO_DRIP, .drip_ms = 700 };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };

	if (!ok(hostile_start(&h) == 0, "hello drip: listening"))
		return;
	double t0 = now_s();
	int r = connect_to(&h, 1000, &c, &err);
	double secs = now_s() - t0;
	ok(r == -ETIMEDOUT && secs < 6,
	   "a HELLO_REPLY dripped 1 byte / 700 ms against a 1 s timeout: -ETIMEDOUT after %.1f s "
	   "(%d: %s)",
	   secs, r, err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_stdout_open(void)
{
	struct hostile h = { .mode = HOSTILE_STDOUT_OPEN, .hold_ms = 15000 };
	struct kvap_process proc = { .args = (char *[]){ "true", NULL }, .n_args = 1, .cwd = "/" };
	struct agent_client *c = NULL;
	struct agent_proc *p = NULL;
	struct kv_err err = { 0 };
	struct kvap_exit st;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 1000, &c, &err) == 0,
		"stdout held open: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	int r = agent_proc_exec(c, "kvrun", "held", &proc, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p,
				&err);
	double t0 = now_s(), secs = 0;
	if (r == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		r = agent_proc_forward(p, -1, null, -1, &st, &err);
		secs = now_s() - t0;
		close(null);
	}
	ok(r == -ETIMEDOUT && secs < 8 && strstr(err.msg, "open"),
	   "stdout kept open 15 s after the exit status, 1 s timeout: forwarding stops with "
	   "-ETIMEDOUT after %.1f s (%d: %s)",
	   secs, r, err.msg);
	agent_proc_free(p);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_answer_ahead(void)
{
	struct hostile h = { .mode = HOSTILE_ANSWER_AHEAD };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	struct kvap_exit st = { 0 };
	uint32_t id;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 5000, &c, &err) == 0,
		"reply set aside: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	int r = agent_client_wait_send(c, "x", &id, &err);
	if (r == 0)
		r = agent_client_signal(c, "x", SIGTERM, false, &err);
	struct pollfd pfd = { .fd = agent_client_fd(c), .events = POLLIN };
	int readable = poll(&pfd, 1, 200);
	bool buffered = agent_client_buffered(c, id);
	int r2 = agent_client_wait_recv(c, id, 0, &st, &err);
	ok(r == 0 && readable == 0 && buffered && r2 == 0 && st.exit_code == 3,
	   "a WAIT reply read while SIGNAL waited: the socket is not readable, "
	   "agent_client_buffered() says so, and wait_recv(0) returns it (%d %d %d %d %u: %s)",
	   r, readable, buffered, r2, st.exit_code, err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static void case_stash_flood(void)
{
	struct hostile h = { .mode = HOSTILE_STASH_FLOOD };
	struct agent_client *c = NULL;
	struct kv_err err = { 0 };
	uint32_t id;
	int r = 0, n = 0;

	if (!ok(hostile_start(&h) == 0 && connect_to(&h, 5000, &c, &err) == 0,
		"set-aside bytes: connected (%s)", err.msg)) {
		hostile_stop(&h);
		return;
	}
	while (n < AGENT_MAX_IN_FLIGHT && (r = agent_client_wait_send(c, "x", &id, &err)) == 0)
		n++;
	int busy = agent_client_wait_send(c, "x", &id, &err);
	ok(n == AGENT_MAX_IN_FLIGHT && busy == -EBUSY,
	   "%d WAITs sent ahead at most: one more is -EBUSY (%d sent, %d: %s)", AGENT_MAX_IN_FLIGHT,
	   n, busy, err.msg);
	/* The fake reads requests in order: SIGNAL makes it answer every WAIT first. */
	r = agent_client_signal(c, "x", SIGTERM, false, &err);
	ok(r == -EPROTO && strstr(err.msg, "set aside"),
	   "%d WAITs answered with 4000-byte ERRORs while SIGNAL waits: past the set-aside "
	   "budget, -EPROTO (%d: %s)",
	   n, r, err.msg);
	agent_client_free(c);
	hostile_stop(&h);
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "honest", case_honest },
	{ "hello-errnum0", case_hello_errnum0 },
	{ "hello-errnum-high", case_hello_errnum_high },
	{ "wait-errnum0", case_wait_errnum0 },
	{ "wait-errnum-max", case_wait_errnum_max },
	{ "wait-etimedout", case_wait_etimedout },
	{ "stream-errnum0", case_stream_errnum0 },
	{ "ps-errnum0", case_ps_errnum0 },
	{ "stats-errnum-max", case_stats_errnum_max },
	{ "wrong-type", case_wrong_type },
	{ "junk", case_junk },
	{ "stash-flood", case_stash_flood },
	{ "answer-ahead", case_answer_ahead },
	{ "exit-signal200", case_exit_signal200 },
	{ "exit-signal128", case_exit_signal128 },
	{ "wait-bad-signal", case_wait_bad_signal },
	{ "stream-drip", case_stream_drip },
	{ "hello-drip", case_hello_drip },
	{ "escape", case_escape },
	{ "stdout-open", case_stdout_open },
};

int main(int argc, char **argv)
{
	const char *only = getenv("KVRUN_TEST_ONLY");

	if (argc < 3) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test PATH-TO-kvrun-agent-run\n",
			argv[0]);
		return 2;
	}
	tool = argv[2];
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!only || strstr(cases[i].name, only) || (i == 0 && strstr(only, "junk")))
			cases[i].fn();
	tap_plan(tap_n_);
	return tap_done();
}
