/* test-agent-spec.c - what a process spec does.
 *
 * Against kvrun-agent-test (argv[1]) with --listen-unix/--no-init:
 * environment and cwd, uid/gid/groups, rlimits (and an impossible one as
 * an EXEC error), capabilities and no_new_privs, a terminal with its size
 * and RESIZE, PS and STATS. Checks that need root are skipped otherwise.
 * The container requests are test-agent-container.c. */
#include "harness.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct agent_h H;

/* EXEC proc with stdout (and stdin from `in`), forward, collect. */
static int run_proc(const char *exec_id, struct kvap_process *proc, const char *in, char **out,
		    struct kv_err *err)
{
	struct agent_client *c;
	struct agent_proc *p;
	struct kvap_exit st;
	uint32_t streams = proc->terminal ? KVAP_STREAM_BIT(KVAP_STREAM_TTY)
					  : KVAP_STREAM_BIT(KVAP_STREAM_STDOUT) |
						KVAP_STREAM_BIT(KVAP_STREAM_STDERR);
	int r = agent_client_connect(&H.d, &c, err);

	*out = NULL;
	if (r < 0)
		return r;
	r = agent_proc_exec(c, "kvrun", exec_id, proc, streams, &p, err);
	if (r == 0) {
		int o = memfd_with(NULL, 0), i = in ? memfd_with(in, strlen(in)) : -1;
		size_t n;
		r = agent_proc_forward(p, i, o, o, &st, err);
		*out = memfd_read(o, &n);
		close(o);
		if (i >= 0)
			close(i);
		agent_proc_free(p);
		if (r == 0)
			r = agent_exit_status(&st);
	}
	agent_client_free(c);
	return r;
}

static void test_env_cwd(void)
{
	char *argv[] = { "sh", "-c", "echo \"$FOO:$(pwd):$#\"", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "FOO=bar baz", NULL };
	struct agent_run_opts o = AGENT_RUN_OPTS_DEFAULT;
	struct run_result r;

	o.env = env;
	o.cwd = "/tmp";
	run_cmd(&H.d, argv, NULL, 0, &o, &r);
	ok(r.status == 0 && !strcmp(r.out, "bar baz:/tmp:0\n"), "environment and cwd (%s)",
	   show(r.out));
	run_result_free(&r);
	o.cwd = "/nonexistent-kvrun-cwd";
	run_cmd(&H.d, argv, NULL, 0, &o, &r);
	ok(r.status == -ENOENT && strstr(r.e.msg, "cwd"), "a missing cwd is an EXEC error (%s)",
	   r.e.msg);
	run_result_free(&r);
}

static void test_identity(bool root)
{
	char *argv[] = { "sh", "-c", "echo $(id -u) $(id -g) $(id -G)", NULL };
	uint32_t gids[] = { 1001, 1002 };
	struct kvap_process proc = {
		.args = argv, .n_args = 3, .uid = 1000, .gid = 1000, .gids = gids, .n_gids = 2
	};
	struct kv_err err = { 0 };
	char *out;

	if (!root) {
		ok(1, "uid/gid/groups # SKIP not root");
		return;
	}
	int r = run_proc("ident", &proc, NULL, &out, &err);
	ok(r == 0 && out && !strcmp(out, "1000 1000 1000 1001 1002\n"),
	   "uid 1000, gid 1000, groups 1001 1002 (%d %s %s)", r, show(out), err.msg);
	free(out);
}

static void test_rlimits(void)
{
	char *argv[] = { "sh", "-c", "echo $(ulimit -n) $(ulimit -Hn)", NULL };
	struct kvap_rlimit rl[] = { { RLIMIT_NOFILE, 100, 200 } };
	struct kvap_process proc = { .args = argv, .n_args = 3, .rlimits = rl, .n_rlimits = 1 };
	struct kv_err err = { 0 };
	char *out;

	proc.uid = getuid();
	proc.gid = getgid();
	int r = run_proc("rl", &proc, NULL, &out, &err);
	ok(r == 0 && out && !strcmp(out, "100 200\n"), "RLIMIT_NOFILE 100/200 applied (%s %s)",
	   show(out), err.msg);
	free(out);

	rl[0] = (struct kvap_rlimit){ RLIMIT_NOFILE, 300, 200 };
	r = run_proc("rl2", &proc, NULL, &out, &err);
	ok(r == -EINVAL && strstr(err.msg, "RLIMIT_NOFILE") && strstr(err.msg, "hard"),
	   "a soft limit above the hard limit is an EXEC error (%d: %s)", r, err.msg);
	free(out);

	struct rlimit cur;
	getrlimit(RLIMIT_NOFILE, &cur);
	if (getuid() == 0) {
		ok(1, "raising a hard limit without privilege # SKIP root may raise it");
		return;
	}
	rl[0] = (struct kvap_rlimit){ RLIMIT_NOFILE, cur.rlim_max + 1, cur.rlim_max + 1 };
	r = run_proc("rl3", &proc, NULL, &out, &err);
	ok(r == -EPERM && strstr(err.msg, "setrlimit"),
	   "a hard limit above the agent's is an EXEC error (%d: %s)", r, err.msg);
	free(out);
}

static void test_caps(bool root)
{
	char *argv[] = { "sh", "-c", "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status",
			 NULL };
	struct kvap_caps caps = { .bounding = 1ull << 10,
				  .effective = 1ull << 10,
				  .permitted = 1ull << 10 };
	struct kvap_process proc = {
		.args = argv, .n_args = 3, .caps = caps, .no_new_privileges = true
	};
	struct kv_err err = { 0 };
	char *out;

	if (!root) {
		ok(1, "capabilities # SKIP not root");
		return;
	}
	int r = run_proc("caps", &proc, NULL, &out, &err);
	ok(r == 0 && out && strstr(out, "CapEff:\t0000000000000400") &&
	       strstr(out, "CapBnd:\t0000000000000400") && strstr(out, "NoNewPrivs:\t1"),
	   "only CAP_NET_BIND_SERVICE left, no_new_privs set (%s)", show(out));
	free(out);
}

static void test_terminal(void)
{
	char *argv0[] = { "sh", "-c", "tty; stty size; exit 4", NULL };
	struct agent_run_opts o = AGENT_RUN_OPTS_DEFAULT;
	struct run_result res;

	o.terminal = true;
	o.rows = 30;
	o.cols = 100;
	run_cmd(&H.d, argv0, NULL, 0, &o, &res);
	ok(res.status == 4 && strstr(res.out, "/dev/pts/") && strstr(res.out, "30 100\r\n"),
	   "a terminal process: a pty, its initial size, exit 4 (%s %s)", show(res.out), res.e.msg);
	run_result_free(&res);

	/* RESIZE before the process reads its input, then it reports the size. */
	char *argv[] = { "sh", "-c", "read x; stty size", NULL };
	struct kvap_process proc = {
		.args = argv, .n_args = 3, .terminal = true, .console = { 30, 100 }
	};
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;

	if (agent_client_connect(&H.d, &c, &err) < 0 ||
	    agent_proc_exec(c, "kvrun", "tty", &proc, KVAP_STREAM_BIT(KVAP_STREAM_TTY), &p, &err) <
		0) {
		ok(0, "terminal exec: %s", err.msg);
		ok(0, "resize");
		return;
	}
	int r = agent_client_resize(c, "tty", 40, 120, &err);
	int in = memfd_with("go\n", 3), out_fd = memfd_with(NULL, 0);
	int fr = agent_proc_forward(p, in, out_fd, -1, &st, &err);
	size_t n;
	char *out = memfd_read(out_fd, &n);
	ok(r == 0 && fr == 0 && st.exit_code == 0 && strstr(out, "40 120"),
	   "RESIZE changes the pty size; tty input reaches the process (%d %s %s)", r, show(out),
	   err.msg);
	free(out);
	close(in);
	close(out_fd);
	agent_proc_free(p);
	r = agent_client_resize(c, "tty", 1, 1, &err);
	ok(r == -ENOENT, "RESIZE of a collected process: ENOENT (%d)", r);
	agent_client_free(c);
}

static void test_ps_stats(void)
{
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_ps ps;
	struct kvap_stats s;
	struct kvap_exit st;
	char *argv[] = { "sleep", "30", NULL };
	struct kvap_process proc = { .args = argv, .n_args = 2 };

	if (agent_client_connect(&H.d, &c, &err) < 0 ||
	    agent_proc_exec(c, "kvrun", "ps", &proc, 0, &p, &err) < 0) {
		ok(0, "ps exec: %s", err.msg);
		return;
	}
	ok((agent_client_features(c) &
	    (KVAP_FEAT_PS | KVAP_FEAT_STATS | KVAP_FEAT_MOUNT_FS | KVAP_FEAT_NET)) ==
		   (KVAP_FEAT_PS | KVAP_FEAT_STATS | KVAP_FEAT_MOUNT_FS | KVAP_FEAT_NET) &&
	       strstr(agent_client_software(c), "kvrun-agent"),
	   "HELLO: features PS, STATS, MOUNT_FS, NET (%s)", agent_client_software(c));
	bool found = false;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	nanosleep(&ts, NULL); /* let it exec */
	int r = agent_client_ps(c, &ps, &err);
	for (uint32_t i = 0; r == 0 && i < ps.n_procs; i++)
		found |= ps.procs[i].pid == p->pid && ps.procs[i].n_cmdline == 2 &&
			 !strcmp(ps.procs[i].cmdline[0], "sleep") && ps.procs[i].state;
	ok(r == 0 && found, "PS lists the exec'd sleep with its command line (%u entries)",
	   r == 0 ? ps.n_procs : 0);
	if (r == 0)
		kvap_free_ps_reply(&ps);
	r = agent_client_stats(c, &s, &err);
	ok(r == 0 && s.mem_total > 0 && s.mem_available <= s.mem_total && s.uptime_ns > 0 &&
	       s.nr_procs > 0 && s.cpu_idle_ns + s.cpu_user_ns > 0,
	   "STATS: %llu MiB total, %u processes", (unsigned long long)(s.mem_total >> 20),
	   s.nr_procs);
	agent_client_signal(c, "ps", SIGKILL, true, &err);
	r = agent_client_wait(c, "ps", &st, &err);
	ok(r == 0 && st.term_signal == SIGKILL, "SIGNAL all kills it (%d %s)", r, err.msg);
	agent_proc_free(p);
	agent_client_free(c);
}

int main(int argc, char **argv)
{
	bool root = geteuid() == 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tap_plan(17);
	if (!ok(agent_h_start(&H, argv[1]) == 0, "agent starts")) {
		agent_h_dump_log(&H);
		return tap_done();
	}
	test_env_cwd();
	test_identity(root);
	test_rlimits();
	test_caps(root);
	test_terminal();
	test_ps_stats();
	ok(agent_h_alive(&H), "the agent is still running");
	int st = agent_h_stop(&H);
	ok(st == 0, "the agent stops cleanly, no leaks (status 0x%x)", st);
	return tap_done();
}
