/* test-agent-oci.c - a container's root, mounts, devices and process.
 *
 * Against kvrun-agent-test (argv[1]) with --no-init, as root, each case on
 * a fresh agent (one container per agent) and a busybox root directory
 * (rootfs type 3), in a private mount namespace of the test's own: the
 * runc-like default spec (pivot_root, proc in a new pid namespace, a fresh
 * /dev with the default devices, devpts, mqueue, read-only sysfs, a
 * namespaced cgroup2), host and domain name, the process's identity,
 * umask, rlimits, oom_score_adj, an explicitly empty capability set and
 * no_new_privs, bind mounts of directories and single files from a
 * stand-in virtio-fs share (a tmpfs at run/fs/<tag>) and from guest paths
 * with their flags, a share path that tries to leave the share, a
 * read-only root with masked and read-only paths, no_pivot, a terminal's
 * pty from the container's own devpts (tty names it, /dev/console, the
 * initial size; for an EXEC too, with job control), spec devices, EXEC
 * joining the container, and START answering once the init went through
 * execve. Without
 * root every case is a failure, not a skip: the container tests need it. */
#include "oci-spec.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *agent;
static char base[128];

static int start(struct agent_h *h)
{
	return agent_h_start(h, agent);
}

static void finish(struct agent_h *h, const char *what)
{
	int st = agent_h_stop(h);
	ok(st == 0, "%s: the agent exits cleanly afterwards (0x%x)", what, st);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_default_spec(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char *argv[4] = {
		NULL, NULL,
		"echo pid=$$; cat /marker; test -e /usr && echo host-root || echo own-root;"
		"ls /sys/fs/cgroup | grep -c '^cgroup.procs$'; grep ^0:: /proc/self/cgroup;"
		"test -c /dev/null -a -c /dev/zero -a -c /dev/full -a -c /dev/random -a "
		"-c /dev/urandom -a -c /dev/tty && echo devices;"
		"readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin;"
		"grep -q ' /dev/mqueue .* - mqueue ' /proc/self/mountinfo && echo mqueue;"
		"grep -q ' /dev/pts .* - devpts ' /proc/self/mountinfo && echo devpts;"
		"grep -q ' /sys ro,' /proc/self/mountinfo && echo sys-ro;"
		"hostname; cat /proc/sys/kernel/domainname; grep -c : /proc/net/dev",
		NULL
	};
	struct kvap_create spec = oci_spec("default", argv);
	char *out = NULL, host[128] = "", after[128] = "";

	spec.hostname = "ctr-host";
	spec.domainname = "example.org";
	gethostname(host, sizeof(host));
	if (start(&h) < 0) {
		ok(0, "default spec: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	gethostname(after, sizeof(after));
	const char *want = "pid=1\nmarker\nown-root\n1\n0::/\ndevices\npts/ptmx\n/proc/self/fd\n"
			   "/proc/self/fd/0\nmqueue\ndevpts\nsys-ro\nctr-host\nexample.org\n1\n";
	ok(r == 0 && out && !strcmp(out, want) && !strcmp(host, after),
	   "runc's default spec: pivot_root into the root, PID 1 of its own pid namespace, "
	   "namespaced cgroup2, default devices and links, mqueue, devpts, read-only sysfs, "
	   "host and domain name, only lo (%d %s; %s)",
	   r, show(out), err.msg);
	if (out && strcmp(out, want))
		diag("got: %s", out);
	free(out);
	finish(&h, "default spec");
}

static void test_process(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	uint32_t gids[] = { 1001, 1002 };
	struct kvap_rlimit rl[] = { { 7 /* RLIMIT_NOFILE */, 300, 400 } };
	char *argv[4] = { NULL, NULL,
			  "id -u; id -g; id -G; umask; ulimit -n; cat /proc/self/oom_score_adj;"
			  "touch /dev/shm/f && stat -c %a /dev/shm/f;"
			  "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status",
			  NULL };
	struct kvap_create spec = oci_spec("process", argv);
	char *out = NULL;

	spec.process.uid = 1000;
	spec.process.gid = 1000;
	spec.process.gids = gids;
	spec.process.n_gids = 2;
	spec.process.umask = 027;
	spec.process.umask_set = true;
	spec.process.rlimits = rl;
	spec.process.n_rlimits = 1;
	spec.process.oom_score_adj = 500;
	spec.process.oom_score_adj_set = true;
	spec.process.caps_set = true; /* and all five sets empty */
	spec.process.no_new_privileges = true;
	if (start(&h) < 0) {
		ok(0, "process: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	const char *want = "1000\n1000\n1000 1001 1002\n0027\n300\n500\n640\n"
			   "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n";
	ok(r == 0 && out && !strcmp(out, want),
	   "process: uid, gid, additional gids, umask 027, RLIMIT_NOFILE, oom_score_adj, "
	   "caps_set with empty sets (no bounding set either), no_new_privs (%d %s; %s)",
	   r, show(out), err.msg);
	if (out && strcmp(out, want))
		diag("got: %s", out);
	free(out);
	finish(&h, "process");
}

/* A tmpfs at run/fs/share stands in for the virtio-fs share "share". */
static int make_share(struct agent_h *h, void *arg)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/run/fs/share", h->dir);
	if (mkdir_all(p) < 0 || mount("tmpfs", p, "tmpfs", 0, "mode=755") < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/run/fs/share/data", h->dir);
	mkdir(p, 0777);
	snprintf(p, sizeof(p), "%s/run/fs/share/data/in-data", h->dir);
	write_file(p, "in-data\n");
	snprintf(p, sizeof(p), "%s/run/fs/share/hosts", h->dir);
	write_file(p, "1.2.3.4 x\n");
	snprintf(p, sizeof(p), "%s/run/fs/share/evil", h->dir);
	if (symlink("/../../../../../../../etc", p) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/hostdir", h->dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/hostdir/file", h->dir);
	write_file(p, "hostfile\n");
	return 0;
}

static void unmount_share(struct agent_h *h)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/run/fs/share", h->dir);
	umount2(p, MNT_DETACH);
}

static void test_mounts(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char hostdir[160], p[256];
	char *o_rbind[] = { "rbind", "rw" }, *o_ro[] = { "bind", "ro" },
	     *o_host[] = { "bind", "nosuid", "nodev", "noexec", "rprivate" },
	     *o_tmp[] = { "size=1m", "mode=700", "noexec" };
	char *argv[4] = { NULL, NULL,
			  "cat /data/in-data; echo new > /data/out && echo wrote-data;"
			  "cat /etc/hosts; (echo x > /etc/hosts) 2>/dev/null || echo hosts-ro;"
			  "cat /mnt/host/file; grep ' /mnt/host ' /proc/self/mountinfo | "
			  "grep -q 'nosuid,nodev,noexec' && echo host-flags;"
			  "grep ' /scratch ' /proc/self/mountinfo | grep -q noexec && stat -c %a "
			  "/scratch",
			  NULL };
	struct kvap_create spec = oci_spec("mounts", argv);
	char *out = NULL;

	if (agent_h_start_with(&h, agent, make_share, NULL) < 0) {
		ok(0, "mounts: agent and share");
		return;
	}
	snprintf(hostdir, sizeof(hostdir), "%s/hostdir", h.dir);
	struct kvap_mount m[OCI_N_BASE_MOUNTS + 4] = { OCI_BASE_MOUNTS };
	m[OCI_N_BASE_MOUNTS] = (struct kvap_mount){ "data", "/data", "bind", o_rbind, 2, "share" };
	m[OCI_N_BASE_MOUNTS + 1] =
	    (struct kvap_mount){ "hosts", "/etc/hosts", "bind", o_ro, 2, "share" };
	m[OCI_N_BASE_MOUNTS + 2] =
	    (struct kvap_mount){ hostdir, "/mnt/host", NULL, o_host, 5, NULL };
	m[OCI_N_BASE_MOUNTS + 3] =
	    (struct kvap_mount){ "tmpfs", "/scratch", "tmpfs", o_tmp, 3, NULL };
	spec.mounts = m;
	spec.n_mounts = OCI_N_BASE_MOUNTS + 4;
	int r = ctr_run(&h, &spec, &out, &err);
	snprintf(p, sizeof(p), "%s/run/fs/share/data/out", h.dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	char got[16] = "";
	if (fd >= 0) {
		ssize_t n = read(fd, got, sizeof(got) - 1);
		got[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	const char *want = "in-data\nwrote-data\n1.2.3.4 x\nhosts-ro\nhostfile\nhost-flags\n700\n";
	ok(r == 0 && out && !strcmp(out, want) && !strcmp(got, "new\n"),
	   "bind mounts: a share's directory (rw, the write reaches the share), a share's single "
	   "file read-only, a guest directory with nosuid,nodev,noexec, a tmpfs with its "
	   "options (%d %s; %s)",
	   r, show(out), err.msg);
	if (out && strcmp(out, want))
		diag("got: %s", out);
	free(out);
	unmount_share(&h);
	finish(&h, "mounts");

	/* A path inside the share that climbs out of it finds nothing. */
	char *o_b[] = { "bind" };
	char *argv2[4] = { NULL, NULL, "cat /p", NULL };
	spec = oci_spec("escape", argv2);
	struct kvap_mount esc[] = { { "evil/passwd", "/p", "bind", o_b, 1, "share" } };
	spec.mounts = esc;
	spec.n_mounts = 1;
	if (agent_h_start_with(&h, agent, make_share, NULL) < 0) {
		ok(0, "escape: agent");
		return;
	}
	r = ctr_run(&h, &spec, &out, &err);
	ok(r == -ENOENT && strstr(err.msg, "evil/passwd") && strstr(err.msg, "share"),
	   "a bind source symlinked out of the share resolves inside it: CREATE fails with "
	   "ENOENT naming it (%d %s)",
	   r, err.msg);
	free(out);
	esc[0].source = "../../../../etc/passwd";
	r = ctr_run(&h, &spec, &out, &err);
	ok(r == -ENOENT, "a bind source with .. stays in the share too (%d %s)", r, err.msg);
	free(out);
	unmount_share(&h);
	finish(&h, "escape");
}

static void test_readonly(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char *masked[] = { "/secret", "/secretdir", "/no-such-path" };
	char *ro[] = { "/dev/shm", "/proc/sys" };
	char *argv[4] = { NULL, NULL,
			  "touch /x 2>/dev/null || echo root-ro; echo \"[$(cat /secret)]\";"
			  "ls /secretdir | wc -l; touch /dev/shm/y 2>/dev/null || echo shm-ro;"
			  "(echo 100 > /proc/sys/kernel/msgmax) 2>/dev/null || echo procsys-ro",
			  NULL };
	struct kvap_create spec = oci_spec("readonly", argv);
	char p[300], *out = NULL;

	snprintf(p, sizeof(p), "%s/secret", oci_root);
	write_file(p, "s3cret\n");
	snprintf(p, sizeof(p), "%s/secretdir", oci_root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/secretdir/x", oci_root);
	write_file(p, "x\n");
	spec.readonly_rootfs = true;
	spec.masked_paths = masked;
	spec.n_masked_paths = 3;
	spec.readonly_paths = ro;
	spec.n_readonly_paths = 2;
	if (start(&h) < 0) {
		ok(0, "readonly: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	snprintf(p, sizeof(p), "%s/x", oci_root);
	const char *want = "root-ro\n[]\n0\nshm-ro\nprocsys-ro\n";
	ok(r == 0 && out && !strcmp(out, want) && access(p, F_OK) != 0,
	   "read-only root; a masked file reads empty, a masked directory is empty, a missing "
	   "masked path is skipped; read-only paths refuse writes (%d %s; %s)",
	   r, show(out), err.msg);
	free(out);
	finish(&h, "readonly");
}

static void test_no_pivot_and_console(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char *argv[4] = { NULL, NULL, "cat /marker; echo $$", NULL };
	struct kvap_create spec = oci_spec("nopivot", argv);
	char *out = NULL;

	spec.no_pivot = true;
	if (start(&h) < 0) {
		ok(0, "no_pivot: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	ok(r == 0 && out && !strcmp(out, "marker\n1\n"),
	   "no_pivot: the root is moved over / instead (%d %s; %s)", r, show(out), err.msg);
	free(out);
	finish(&h, "no_pivot");

	char *argv2[4] = { NULL, NULL,
			   "stat -c %F /dev/console; tty; test -t 0 && echo tty; stty size", NULL };
	spec = oci_spec("console", argv2);
	spec.process.terminal = true;
	spec.process.console = (struct kvap_winsize){ .rows = 33, .cols = 101 };
	if (start(&h) < 0) {
		ok(0, "console: agent");
		return;
	}
	r = ctr_run(&h, &spec, &out, &err);
	ok(r == 0 && out &&
	       !strcmp(out, "character special file\r\n/dev/pts/0\r\ntty\r\n33 101\r\n"),
	   "a terminal process: its pty comes from the container's own devpts (tty names it), "
	   "is /dev/console and has the initial size (%d %s; %s)",
	   r, show(out), err.msg);
	free(out);
	finish(&h, "console");
}

static void test_devices(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	struct kvap_device dev[] = { { "/dev/kvrun-null", 'c', 1, 3, 0640, 1000, 1001 },
				     { "/dev/sub/fifo", 'p', 0, 0, 0, 0, 0 } };
	char *argv[4] = { NULL, NULL,
			  "stat -c '%t:%T %a %u:%g %F' /dev/kvrun-null; echo hi > /dev/kvrun-null "
			  "&& echo writable; stat -c '%a %F' /dev/sub/fifo",
			  NULL };
	struct kvap_create spec = oci_spec("devices", argv);
	char *out = NULL;

	spec.devices = dev;
	spec.n_devices = 2;
	if (start(&h) < 0) {
		ok(0, "devices: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	const char *want = "1:3 640 1000:1001 character special file\nwritable\n666 fifo\n";
	ok(r == 0 && out && !strcmp(out, want),
	   "linux.devices: a character device with its mode and owner, a FIFO in a new "
	   "directory with the default mode 0666 (%d %s; %s)",
	   r, show(out), err.msg);
	free(out);
	finish(&h, "devices");

	/* No /dev mount at all: runc's rule makes them in the root's /dev. */
	char *argv2[4] = { NULL, NULL,
			   "test -c /dev/null -a -c /dev/tty -a -L /dev/fd && echo made", NULL };
	spec = oci_spec("devices-root", argv2);
	spec.n_mounts = 1; /* proc only */
	if (agent_h_start(&h, agent) < 0) {
		ok(0, "devices in the root: agent");
		return;
	}
	r = ctr_run(&h, &spec, &out, &err);
	ok(r == 0 && out && !strcmp(out, "made\n"),
	   "without a /dev mount the default devices are made in the root's /dev (%d %s; %s)", r,
	   show(out), err.msg);
	free(out);
	finish(&h, "devices in the root");
}

static void test_exec_joins(void)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p, *e;
	struct kv_err err = { 0 };
	char *argv[4] = { NULL, NULL, "", NULL };
	struct kvap_create spec = oci_spec("joined", argv);
	/* The init is sleep itself, not a shell that execs it later: START
	 * returns once the init went through execve, so its cmdline is fixed
	 * when the EXEC reads it. */
	char *init_argv[] = { "busybox", "sleep", "100", NULL };
	char *ex_argv[] = { "sh", "-c",
			    "hostname; tr '\\0' ' ' </proc/1/cmdline; echo; cat /marker;"
			    "grep ^0:: /proc/self/cgroup",
			    NULL };
	struct kvap_process ex = {
		.args = ex_argv, .n_args = 3, .env = oci_env, .n_env = 2, .cwd = "/"
	};
	struct kvap_exit st;

	spec.process.args = init_argv;
	spec.process.n_args = 3;
	spec.hostname = "joined-host";
	if (start(&h) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "exec: agent (%s)", err.msg);
		return;
	}
	int r = agent_proc_create_start(c, &spec, 0, &p, &err);
	if (r == 0)
		r = agent_proc_exec(c, "joined", "e1", &ex, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &e,
				    &err);
	char *out = NULL;
	if (r == 0) {
		int o = memfd_with(NULL, 0);
		size_t n;
		r = agent_proc_forward(e, -1, o, -1, &st, &err);
		out = memfd_read(o, &n);
		close(o);
		agent_proc_free(e);
	}
	ok(r == 0 && out && !strcmp(out, "joined-host\nbusybox sleep 100 \nmarker\n0::/\n"),
	   "EXEC joins the container: its UTS, pid, mount and cgroup namespaces (%d %s; %s)", r,
	   show(out), err.msg);
	free(out);

	/* A terminal EXEC: a pty of the container's devpts, the controlling
	 * terminal of its own session, its process group in the foreground. */
	char *tty_argv[] = { "sh", "-c",
			     "tty; read -r pid comm st ppid pgrp sid tty tpgid rest </proc/$$/stat;"
			     "echo $((pid == sid)) $((tpgid == pgrp)) $((tty != 0))",
			     NULL };
	struct kvap_process tx = { .args = tty_argv,
				   .n_args = 3,
				   .env = oci_env,
				   .n_env = 2,
				   .cwd = "/",
				   .terminal = true };
	out = NULL;
	r = agent_proc_exec(c, "joined", "t1", &tx, KVAP_STREAM_BIT(KVAP_STREAM_TTY), &e, &err);
	if (r == 0) {
		int o = memfd_with(NULL, 0);
		size_t n;
		r = agent_proc_forward(e, -1, o, -1, &st, &err);
		out = memfd_read(o, &n);
		close(o);
		agent_proc_free(e);
	}
	ok(r == 0 && out && !strcmp(out, "/dev/pts/0\r\n1 1 1\r\n"),
	   "a terminal EXEC: its pty is in the container's devpts, the controlling terminal of "
	   "its session, in the foreground (%d %s; %s)",
	   r, show(out), err.msg);
	free(out);
	r = agent_client_signal(c, NULL, SIGKILL, true, &err);
	struct kvap_exit ist;
	int w = r == 0 ? agent_client_wait(c, "", &ist, &err) : r;
	ok(r == 0 && w == 0 && ist.term_signal == SIGKILL, "SIGNAL all kills the init (%d %d %s)",
	   r, w, err.msg);
	r = agent_proc_exec(c, "joined", "e2", &ex, 0, &e, &err);
	ok(r == -ESRCH, "EXEC into a stopped container: ESRCH (%d %s)", r, err.msg);
	if (r == 0)
		agent_proc_free(e);
	agent_proc_free(p);
	agent_client_free(c);
	finish(&h, "exec");
}

/* An init whose execve fails after START released it (a file that is
 * executable but no program): START fails with that errno. */
static void test_start_exec_fails(void)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p = NULL;
	struct kv_err err = { 0 };
	char *argv[4] = { NULL, NULL, "", NULL };
	struct kvap_create spec = oci_spec("badexec", argv);
	char *bad_argv[] = { "/notexec", NULL };
	char path[300];

	snprintf(path, sizeof(path), "%s/notexec", oci_root);
	write_file(path, "no program\n");
	chmod(path, 0755);
	spec.process.args = bad_argv;
	spec.process.n_args = 1;
	if (start(&h) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "failed execve: agent (%s)", err.msg);
		return;
	}
	int r = agent_proc_create_start(c, &spec, 0, &p, &err);
	ok(r == -ENOEXEC && strstr(err.msg, "/notexec"),
	   "START waits for the init's execve: one that fails makes START fail with its errno "
	   "(%d %s)",
	   r, err.msg);
	if (p)
		agent_proc_free(p);
	agent_client_free(c);
	unlink(path);
	finish(&h, "failed execve");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	agent = argv[1];
	signal(SIGPIPE, SIG_IGN);
	snprintf(base, sizeof(base), "/tmp/kvrun-oci-test.XXXXXX");
	if (geteuid() != 0 || !mkdtemp(base) || oci_setup(base) < 0) {
		tap_plan(1);
		ok(0, "the container tests need root and a private mount namespace (%s)",
		   strerror(errno));
		return tap_done();
	}
	char p[300];
	snprintf(p, sizeof(p), "%s/marker", oci_root);
	write_file(p, "marker\n");
	test_default_spec();
	test_process();
	test_mounts();
	test_readonly();
	test_no_pivot_and_console();
	test_devices();
	test_exec_joins();
	test_start_exec_fails();
	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	if (system(p) != 0)
		diag("could not remove %s", base);
	tap_plan(tap_n_);
	return tap_done();
}
