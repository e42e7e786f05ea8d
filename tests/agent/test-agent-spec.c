/* test-agent-spec.c - what a process spec and the container requests do.
 *
 * Against kvrun-agent-test (argv[1]) with --listen-unix/--no-init:
 * environment and cwd, uid/gid/groups, rlimits (and an impossible one as
 * an EXEC error), capabilities and no_new_privs, a terminal with its size
 * and RESIZE, PS and STATS, CREATE/START rules and the hostname (inside
 * the agent's own UTS namespace), and the two ways the agent stops:
 * poweroff_on_exit after the init's WAIT, and SHUTDOWN. Checks that need
 * root are skipped otherwise. */
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
	ok((agent_client_features(c) & (KVAP_FEAT_PS | KVAP_FEAT_STATS | KVAP_FEAT_MOUNT_FS)) ==
		   (KVAP_FEAT_PS | KVAP_FEAT_STATS | KVAP_FEAT_MOUNT_FS) &&
	       !(agent_client_features(c) & KVAP_FEAT_NET) &&
	       strstr(agent_client_software(c), "kvrun-agent"),
	   "HELLO: features PS, STATS, MOUNT_FS, not NET (%s)", agent_client_software(c));
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

/* A fresh agent per container test: CREATE is once per agent. */
static void test_container(const char *agent, bool root)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;
	char host_name[128] = "", *argv[] = { "hostname", NULL };
	struct kvap_create spec = { .container_id = "ctr",
				    .rootfs_type = KVAP_ROOTFS_INITRAMFS,
				    .hostname = root ? "kvrun-guest" : NULL,
				    .process = { .args = argv, .n_args = 1 },
				    .poweroff_on_exit = true };

	gethostname(host_name, sizeof(host_name));
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "container agent: %s", err.msg);
		return;
	}
	int r = agent_proc_create_start(c, &spec, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p, &err);
	ok(r == 0 && p->pid > 0, "CREATE + streams + START (%s)", err.msg);
	if (r < 0) {
		agent_client_free(c);
		agent_h_stop(&h);
		return;
	}
	struct kvap_create again = spec;
	r = agent_client_create(c, &again, NULL, &err);
	ok(r == -EEXIST, "a second CREATE: EEXIST (%s)", err.msg);
	r = agent_client_start(c, "ctr", NULL, &err);
	ok(r == -EALREADY, "a second START: EALREADY (%s)", err.msg);
	char *ex_argv[] = { "true", NULL };
	struct kvap_process ex = { .args = ex_argv, .n_args = 1 };
	struct agent_proc *p2;
	r = agent_proc_exec(c, "other", "x", &ex, 0, &p2, &err);
	ok(r == -ENOENT, "EXEC into another container id: ENOENT (%s)", err.msg);
	int o = memfd_with(NULL, 0);
	r = agent_proc_forward(p, -1, o, -1, &st, &err);
	size_t n;
	char *out = memfd_read(o, &n);
	char now[128] = "";
	gethostname(now, sizeof(now));
	if (root)
		ok(r == 0 && !strcmp(out, "kvrun-guest\n") && !strcmp(now, host_name),
		   "the init sees CREATE's hostname; the host's is untouched (%s)", show(out));
	else
		ok(r == 0, "the init ran # SKIP hostname needs root");
	free(out);
	close(o);
	agent_proc_free(p);
	agent_client_free(c); /* the host has the status: poweroff goes ahead */
	bool stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		stopped = !agent_h_alive(&h);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	int status = agent_h_stop(&h);
	ok(stopped && status == 0,
	   "poweroff_on_exit: after the WAIT reply the agent stops (--no-init: exits 0, 0x%x)",
	   status);

	/* SHUTDOWN. */
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "shutdown agent: %s", err.msg);
		return;
	}
	r = agent_client_shutdown(c, KVAP_SHUTDOWN_POWEROFF, &err);
	agent_client_free(c);
	stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		stopped = !agent_h_alive(&h);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	status = agent_h_stop(&h);
	ok(r == 0 && stopped && status == 0,
	   "SHUTDOWN is answered, then the agent stops (exits 0: 0x%x)", status);

	/* What `kvrun vm --exec` does: one call, the VM powers off after. */
	struct agent_run_opts ro = AGENT_RUN_OPTS_DEFAULT;
	struct run_result res;
	char *cmd[] = { "sh", "-c", "cat; echo bye >&2; exit 5", NULL };
	ro.poweroff = true;
	if (agent_h_start(&h, agent) < 0) {
		ok(0, "run-command agent");
		return;
	}
	run_cmd(&h.d, cmd, "in\n", 3, &ro, &res);
	stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		stopped = !agent_h_alive(&h);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	status = agent_h_stop(&h);
	ok(res.status == 5 && !strcmp(res.out, "in\n") && !strcmp(res.err, "bye\n") && stopped &&
	       status == 0,
	   "agent_run_command with poweroff: status 5, stdio forwarded, then the agent stops "
	   "(%d %s)",
	   res.status, res.e.msg);
	run_result_free(&res);
}

/* CREATE's mounts and read-only root, MOUNT_FS: inside the --no-init
 * agent's own mount namespace (root only), so the host is never touched. */
static void test_mounts(const char *agent, bool root)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;
	char dest[128], script[512];

	if (!root) {
		ok(1, "mounts and a read-only root # SKIP not root");
		ok(1, "MOUNT_FS # SKIP not root");
		return;
	}
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "mount agent: %s", err.msg);
		return;
	}
	snprintf(dest, sizeof(dest), "%s/mnt", h.dir);
	snprintf(script, sizeof(script),
		 "touch %s/written && ! touch /kvrun-ro-probe 2>/dev/null && "
		 "grep -c ' %s tmpfs .*nosuid' /proc/self/mounts",
		 dest, dest);
	char *argv[] = { "sh", "-c", script, NULL };
	char *opts[] = { "nosuid", "size=1m", "mode=755" };
	struct kvap_mount m = { .source = "tmpfs",
				.destination = dest,
				.type = "tmpfs",
				.options = opts,
				.n_options = 3 };
	struct kvap_create spec = { .container_id = "ro",
				    .rootfs_type = KVAP_ROOTFS_INITRAMFS,
				    .readonly_rootfs = true,
				    .mounts = &m,
				    .n_mounts = 1,
				    .process = { .args = argv, .n_args = 3 } };
	int r = agent_proc_create_start(c, &spec, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p, &err);
	char *out = NULL;
	if (r == 0) {
		int o = memfd_with(NULL, 0);
		size_t n;
		r = agent_proc_forward(p, -1, o, -1, &st, &err);
		out = memfd_read(o, &n);
		close(o);
		agent_proc_free(p);
	}
	ok(r == 0 && st.exit_code == 0 && out && !strcmp(out, "1\n") &&
	       access("/kvrun-ro-probe", F_OK) != 0,
	   "CREATE: a tmpfs mount with its options, and a read-only root (%d %s %s)", r, show(out),
	   err.msg);
	unlink("/kvrun-ro-probe");
	free(out);

	struct kvap_mount_fs mfs = { .tag = "no-such-kvrun-tag", .mount_point = dest };
	union kvap_body reply;
	r = agent_client_call(c, KVAP_MSG_MOUNT_FS, &mfs, &reply, &err);
	ok(r < 0 && strstr(err.msg, "no-such-kvrun-tag") && strstr(err.msg, "virtiofs"),
	   "MOUNT_FS of a tag that does not exist: an ERROR naming it (%d: %s)", r, err.msg);
	agent_client_free(c);
	agent_h_stop(&h);
}

int main(int argc, char **argv)
{
	bool root = geteuid() == 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tap_plan(27);
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
	test_container(argv[1], root);
	test_mounts(argv[1], root);
	return tap_done();
}
