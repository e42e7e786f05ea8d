/* test-agent-exec.c - the agent and the client together, on the host.
 *
 * Runs kvrun-agent-test (argv[1]) with --listen-unix in a temp dir and
 * drives it through agent-client: stdout and stderr kept apart, exit codes
 * and signals, 10 MiB of binary output intact, stdin forwarded with EOF,
 * 20 sequential and 8 concurrent runs, out-of-order WAIT replies on one
 * connection, output that waits in the guest while the host does not read,
 * and a missing program reported as an EXEC error. */
#include "harness.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG (10u << 20)

static struct agent_h H;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static char *random_file(const char *name, size_t len, char **data_out)
{
	char *path = malloc(256);
	char *data = malloc(len);

	snprintf(path, 256, "%s/%s", H.dir, name);
	for (size_t off = 0; off < len;) {
		ssize_t n = getrandom(data + off, len - off, 0);
		if (n > 0)
			off += (size_t)n;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		diag("writing %s failed", path);
	if (fd >= 0)
		close(fd);
	*data_out = data;
	return path;
}

static void test_basic(void)
{
	char *argv[] = { "sh", "-c", "echo hi; echo err >&2; exit 3", NULL };
	struct run_result r;

	run_cmd(&H.d, argv, NULL, 0, NULL, &r);
	ok(r.status == 3, "exit code 3 (got %d: %s)", r.status, r.e.msg);
	ok(r.out && !strcmp(r.out, "hi\n"), "stdout is exactly \"hi\\n\" (got \"%s\")",
	   show(r.out));
	ok(r.err && !strcmp(r.err, "err\n"), "stderr is exactly \"err\\n\" (got \"%s\")",
	   show(r.err));
	run_result_free(&r);
}

static void test_big_output(void)
{
	char *data, *data2;
	char *path = random_file("big", BIG, &data);
	char *path2 = random_file("big2", 1u << 20, &data2);
	char script[600];
	struct run_result r;

	char *argv[] = { "cat", path, NULL };
	run_cmd(&H.d, argv, NULL, 0, NULL, &r);
	ok(r.status == 0 && r.out_len == BIG && !memcmp(r.out, data, BIG),
	   "10 MiB of random bytes on stdout intact (status %d, %zu bytes, fnv %llx vs %llx)",
	   r.status, r.out_len, fnv1a(r.out, r.out_len), fnv1a(data, BIG));
	run_result_free(&r);

	snprintf(script, sizeof(script), "cat '%s' & cat '%s' >&2; wait", path, path2);
	char *argv2[] = { "sh", "-c", script, NULL };
	run_cmd(&H.d, argv2, NULL, 0, NULL, &r);
	ok(r.status == 0 && r.out_len == BIG && !memcmp(r.out, data, BIG) &&
	       r.err_len == (1u << 20) && !memcmp(r.err, data2, 1u << 20),
	   "10 MiB on stdout and 1 MiB on stderr at once, each intact (%zu, %zu bytes)", r.out_len,
	   r.err_len);
	run_result_free(&r);
	free(data);
	free(data2);
	free(path);
	free(path2);
}

struct feeder {
	int fd;
	const char *data;
	size_t len;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;

	for (size_t off = 0; off < f->len;) {
		ssize_t n = write(f->fd, f->data + off, f->len - off > 4096 ? 4096 : f->len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(f->fd);
	return NULL;
}

static void test_stdin(void)
{
	size_t len = 1u << 20;
	char *data = malloc(len);
	struct run_result r;

	for (size_t off = 0; off < len;)
		off += (size_t)getrandom(data + off, len - off, 0);
	char *cat[] = { "cat", NULL };
	run_cmd(&H.d, cat, data, len, NULL, &r);
	ok(r.status == 0 && r.out_len == len && !memcmp(r.out, data, len),
	   "1 MiB of stdin (a regular file) echoed back by cat (status %d, %zu bytes)", r.status,
	   r.out_len);
	run_result_free(&r);

	char *wc[] = { "wc", "-c", NULL };
	run_cmd(&H.d, wc, "", 0, NULL, &r);
	ok(r.status == 0 && r.out && atoi(r.out) == 0, "empty stdin: EOF reaches the process (%s)",
	   show(r.out));
	run_result_free(&r);

	/* From a pipe written slowly by another thread. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	struct feeder f = { p[1], data, 256u << 10 };
	pthread_t t;
	pthread_create(&t, NULL, feed, &f);
	struct agent_run_opts o = AGENT_RUN_OPTS_DEFAULT;
	int out = memfd_with(NULL, 0);
	o.in_fd = p[0];
	o.out_fd = out;
	o.err_fd = -1;
	int st = agent_run_command(&H.d, cat, &o, NULL);
	pthread_join(t, NULL);
	close(p[0]);
	size_t n;
	char *got = memfd_read(out, &n);
	close(out);
	ok(st == 0 && n == f.len && !memcmp(got, data, n),
	   "256 KiB of stdin from a pipe echoed back, EOF ends cat (status %d, %zu bytes)", st, n);
	free(got);
	free(data);
}

static void test_signals(void)
{
	char *argv[] = { "sh", "-c", "echo before; kill -KILL $$; echo after", NULL };
	struct run_result r;
	struct kv_err err = { 0 };

	run_cmd(&H.d, argv, NULL, 0, NULL, &r);
	ok(r.status == 128 + SIGKILL && !strcmp(r.out, "before\n"),
	   "a process killed by SIGKILL reports 137 (got %d, out \"%s\")", r.status, show(r.out));
	run_result_free(&r);

	struct agent_client *c;
	struct agent_proc *p;
	struct kvap_exit st;
	char *sleep_argv[] = { "sleep", "30", NULL };
	struct kvap_process proc = { .args = sleep_argv, .n_args = 2 };
	int rc = agent_client_connect(&H.d, &c, &err);
	if (!ok(rc == 0, "connect (%s)", err.msg))
		return;
	rc = agent_proc_exec(c, "kvrun", "sleeper", &proc, 0, &p, &err);
	ok(rc == 0 && p->pid > 0, "exec sleep 30 without streams (pid %u, %s)", rc ? 0 : p->pid,
	   err.msg);
	rc = agent_client_signal(c, "sleeper", SIGTERM, false, &err);
	ok(rc == 0, "SIGNAL SIGTERM (%s)", err.msg);
	rc = agent_client_wait(c, "sleeper", &st, &err);
	ok(rc == 0 && st.term_signal == SIGTERM && st.exit_code == 0 &&
	       agent_exit_status(&st) == 128 + SIGTERM,
	   "WAIT reports term_signal 15 (rc %d, signal %u, code %u)", rc, st.term_signal,
	   st.exit_code);
	rc = agent_client_signal(c, "sleeper", SIGKILL, false, &err);
	ok(rc == -ENOENT, "the collected exec id is gone (%d: %s)", rc, err.msg);
	agent_proc_free(p);
	agent_client_free(c);
}

static void test_sequential(void)
{
	int good = 0;

	for (int i = 0; i < 20; i++) {
		char arg[16], want[32];
		snprintf(arg, sizeof(arg), "%d", i);
		snprintf(want, sizeof(want), "run %d\n", i);
		char *argv[] = { "sh", "-c", "echo run $1; exit $1", "sh", arg, NULL };
		struct run_result r;
		run_cmd(&H.d, argv, NULL, 0, NULL, &r);
		good += r.status == i && r.out && !strcmp(r.out, want);
		if (r.status != i)
			diag("run %d: status %d %s", i, r.status, r.e.msg);
		run_result_free(&r);
	}
	ok(good == 20, "20 sequential runs, each with its output and exit code (%d good)", good);
}

struct conc {
	int i;
	int ok;
};

static void *conc_run(void *arg)
{
	struct conc *c = arg;
	char arg_s[16];
	struct run_result r;

	snprintf(arg_s, sizeof(arg_s), "%d", c->i);
	char *argv[] = { "sh",
			 "-c",
			 "i=0; while [ $i -lt 3000 ]; do echo line-$1-$i; echo e$i >&2; "
			 "i=$((i+1)); done; exit $1",
			 "sh",
			 arg_s,
			 NULL };
	run_cmd(&H.d, argv, NULL, 0, NULL, &r);
	size_t lines = 0;
	for (size_t k = 0; k < r.out_len; k++)
		lines += r.out[k] == '\n';
	char last[64];
	snprintf(last, sizeof(last), "line-%d-2999\n", c->i);
	c->ok = r.status == c->i && lines == 3000 && r.out_len >= strlen(last) &&
		!strcmp(r.out + r.out_len - strlen(last), last) && r.err_len > 3000;
	if (!c->ok)
		diag("concurrent run %d: status %d, %zu lines: %s", c->i, r.status, lines, r.e.msg);
	run_result_free(&r);
	return NULL;
}

static void test_concurrent(void)
{
	pthread_t t[8];
	struct conc c[8];
	int good = 0;

	for (int i = 0; i < 8; i++) {
		c[i] = (struct conc){ .i = i + 1 };
		pthread_create(&t[i], NULL, conc_run, &c[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		good += c[i].ok;
	}
	ok(good == 8, "8 concurrent runs on 8 connections, outputs complete and apart (%d good)",
	   good);
}

/* Eight processes on one control connection, WAITs answered out of order. */
static void test_one_connection(void)
{
	struct agent_client *c;
	struct kv_err err = { 0 };
	struct agent_proc *p[8] = { 0 };
	uint32_t ids[8];
	int good = 0;

	if (!ok(agent_client_connect(&H.d, &c, &err) == 0, "connect (%s)", err.msg))
		return;
	for (int i = 0; i < 8; i++) {
		char arg[8], name[16];
		snprintf(arg, sizeof(arg), "%d", i);
		snprintf(name, sizeof(name), "multi-%d", i);
		/* Later ones exit first. */
		char *argv[] = { "sh", "-c", "sleep 0.$((8 - $1)); exit $1", "sh", arg, NULL };
		struct kvap_process proc = { .args = argv, .n_args = 5 };
		if (agent_proc_exec(c, "kvrun", name, &proc, 0, &p[i], &err) < 0)
			diag("exec %d: %s", i, err.msg);
	}
	for (int i = 0; i < 8; i++)
		agent_client_wait_send(c, p[i] ? p[i]->exec_id : "none", &ids[i], &err);
	for (int i = 0; i < 8; i++) {
		struct kvap_exit st;
		int r = agent_client_wait_recv(c, ids[i], 10000, &st, &err);
		good += r == 0 && st.exit_code == i && p[i] && st.pid == p[i]->pid;
		agent_proc_free(p[i]);
	}
	ok(good == 8, "8 processes on one connection: each WAIT gets its own status (%d good)",
	   good);
	agent_client_free(c);
}

/* The process writes, exits, and only then does the host read. */
static void slow_reader(size_t len, int delay_ms, const char *what)
{
	char *data;
	char *path = random_file("slow", len, &data);
	char marker[256], script[700];
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;

	snprintf(marker, sizeof(marker), "%s/slow.done", H.dir);
	unlink(marker);
	snprintf(script, sizeof(script), "cat '%s'; echo tail >&2; touch '%s'", path, marker);
	char *argv[] = { "sh", "-c", script, NULL };
	struct kvap_process proc = { .args = argv, .n_args = 3 };
	if (agent_client_connect(&H.d, &c, &err) < 0 ||
	    agent_proc_exec(c, "kvrun", "slow", &proc,
			    KVAP_STREAM_BIT(KVAP_STREAM_STDOUT) |
				KVAP_STREAM_BIT(KVAP_STREAM_STDERR),
			    &p, &err) < 0) {
		ok(0, "slow reader: %s", err.msg);
		return;
	}
	bool finished = false;
	for (int i = 0; i < delay_ms / 10; i++) {
		if (access(marker, F_OK) == 0) {
			finished = true;
			break;
		}
		sleep_ms(10);
	}
	sleep_ms(200); /* let it exit and be reaped while nobody reads */
	int out = memfd_with(NULL, 0), errfd = memfd_with(NULL, 0);
	int r = agent_proc_forward(p, -1, out, errfd, &st, &err);
	size_t n, en;
	char *got = memfd_read(out, &n), *egot = memfd_read(errfd, &en);
	ok(r == 0 && st.exit_code == 0 && n == len && !memcmp(got, data, len) &&
	       !strcmp(egot, "tail\n"),
	   "%s (%s before reading): %zu bytes intact, status %d", what,
	   finished ? "process finished" : "process blocked", n, r ? r : st.exit_code);
	free(got);
	free(egot);
	close(out);
	close(errfd);
	agent_proc_free(p);
	agent_client_free(c);
	free(data);
	free(path);
}

static void test_missing_program(void)
{
	char *argv[] = { "no-such-program-kvrun", NULL };
	struct run_result r;

	run_cmd(&H.d, argv, NULL, 0, NULL, &r);
	ok(r.status == -ENOENT && strstr(r.e.msg, "no-such-program-kvrun") &&
	       strstr(r.e.msg, "not found"),
	   "a missing program is an EXEC error, not an exit code (%d: %s)", r.status, r.e.msg);
	run_result_free(&r);
}

/* kvrun-agent-run, the command line over agent_run_command(). */
static void test_tool(const char *tool)
{
	int out = memfd_with(NULL, 0), st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(out, 1);
		execl(tool, tool, "--unix", H.dir, "-e", "X=tool", "--", "sh", "-c",
		      "echo $X; exit 9", (char *)NULL);
		_exit(126);
	}
	waitpid(pid, &st, 0);
	size_t n;
	char *got = memfd_read(out, &n);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 9 && !strcmp(got, "tool\n"),
	   "kvrun-agent-run --unix DIR -- CMD: output and exit status 9 (0x%x, %s)", st, show(got));
	free(got);
	close(out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tap_plan(25);
	if (!ok(agent_h_start(&H, argv[1]) == 0, "agent starts with --listen-unix %s", H.dir)) {
		agent_h_dump_log(&H);
		return tap_done();
	}
	test_basic();
	test_big_output();
	test_stdin();
	test_signals();
	test_sequential();
	test_concurrent();
	test_one_connection();
	slow_reader(100u << 10, 3000, "100 KiB waits in the guest");
	slow_reader(3u << 20, 500, "3 MiB with the host away for a while");
	test_missing_program();
	if (argc > 2)
		test_tool(argv[2]);
	else
		ok(1, "kvrun-agent-run # SKIP no path given");
	ok(agent_h_alive(&H), "the agent is still running");
	int st = agent_h_stop(&H);
	ok(st == 0, "the agent stops cleanly on SIGTERM, no leaks (status 0x%x)", st);
	return tap_done();
}
