/* child.c - a process's setup between fork and execve (see child.h).
 *
 * Owns: everything the child does to itself, in this order: default
 * signals, new session, stdio; in a container: its cgroup, its namespaces
 * (new ones for the init, the init's for an EXEC, ns.c), oom_score_adj,
 * and for the init the container root (rootfs.c); a terminal's pty from
 * the devpts the process sees (its controlling terminal, /dev/console for
 * the init); then rlimits, seccomp when no_new_privs is off (runc's order:
 * while the process may still load it), bounding set, supplementary
 * groups, gid and uid (keeping capabilities across the uid change),
 * working directory, capability sets, no_new_privs, umask, finding the
 * executable on PATH, and seccomp when no_new_privs is on (as late as
 * possible). Every failure is reported to the agent with the step and
 * errno, so the host's CREATE or EXEC fails with a precise ERROR instead
 * of an exit code 127. Runs in a forked copy of the single-threaded agent,
 * so plain libc calls are safe here. */
#include "agent.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41) /* Linux 4.13 */
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const rlimit_names[] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",	       [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",	       [RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",	       [RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

/* One report; fd >= 0 goes along as SCM_RIGHTS (the pty master). */
static void report_fd(int sock, int stage, int err, const char *msg, int fd)
{
	struct child_report r = { .stage = stage, .err = err };
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	snprintf(r.msg, sizeof(r.msg), "%s", msg);
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t w = sendmsg(sock, &m, MSG_NOSIGNAL);
	(void)w;
}

static void report(int sock, int stage, int err, const char *msg)
{
	report_fd(sock, stage, err, msg, -1);
}

__attribute__((format(printf, 3, 4), noreturn)) static void fail(const struct child_cfg *cfg,
								 int err, const char *fmt, ...)
{
	char msg[sizeof(((struct child_report *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(cfg->report_fd, CHILD_SETUP_FAILED, err, msg);
	_exit(127);
}

static void setup_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

static void setup_stdio(const struct child_cfg *cfg)
{
	if (setsid() < 0)
		fail(cfg, errno, "setsid: %s", strerror(errno));
	if (!cfg->terminal)
		for (int fd = 0; fd < 3; fd++)
			if (dup2(cfg->stdio[fd], fd) < 0)
				fail(cfg, errno, "dup2: %s", strerror(errno));
	/* Nothing of the agent's may leak into the process: every other fd is
	 * close-on-exec already; this makes sure of it. */
	if (syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) < 0 && errno != ENOSYS &&
	    errno != EINVAL)
		fail(cfg, errno, "close_range: %s", strerror(errno));
}

/* The init's /dev/console (made by rootfs.c when /dev is the runtime's):
 * the slave, by its name in the container's devpts, checked to be it. */
static void bind_console(const struct child_cfg *cfg, unsigned int n)
{
	char name[32];
	struct stat a, b;

	snprintf(name, sizeof(name), "/dev/pts/%u", n);
	if (stat(name, &a) < 0 || fstat(0, &b) < 0)
		fail(cfg, errno, "the terminal %s: %s", name, strerror(errno));
	if (!S_ISCHR(a.st_mode) || a.st_rdev != b.st_rdev)
		fail(cfg, ENXIO, "the terminal %s is another device", name);
	if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		fail(cfg, errno, "binding the terminal %s on /dev/console: %s", name,
		     strerror(errno));
}

/* A terminal process's pty comes from the devpts it sees: in a container,
 * the container's own instance (its root and namespaces are in place by
 * now), as runc does, so ttyname() finds the slave under /dev/pts. The
 * slave becomes the controlling terminal of the new session and fds 0-2;
 * the master goes to the agent with READY. Returns the master. */
static int setup_tty(const struct child_cfg *cfg)
{
	const struct kvap_process *s = cfg->spec;
	unsigned int n;
	int unlock = 0;
	struct stat st;

	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		fail(cfg, errno, "opening /dev/ptmx for the terminal: %s%s", strerror(errno),
		     errno == ENOENT ? " (a terminal needs devpts on /dev/pts)" : "");
	if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || ioctl(m, TIOCGPTN, &n) < 0)
		fail(cfg, ENOTTY, "/dev/ptmx is not a pty multiplexer");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		fail(cfg, errno, "unlocking the pty: %s", strerror(errno));
	int t = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t < 0)
		fail(cfg, errno, "opening the pty slave: %s", strerror(errno));
	if (s->console.rows || s->console.cols) {
		struct winsize ws = { .ws_row = s->console.rows, .ws_col = s->console.cols };
		(void)ioctl(t, TIOCSWINSZ, &ws);
	}
	if (ioctl(t, TIOCSCTTY, 0) < 0)
		fail(cfg, errno, "making the pty the controlling terminal: %s", strerror(errno));
	for (int fd = 0; fd < 3; fd++)
		if (dup2(t, fd) < 0)
			fail(cfg, errno, "dup2: %s", strerror(errno));
	if (t > 2)
		close(t);
	if (cfg->init && cfg->ct && cfg->ct->isolated && cfg->ct->setup_dev)
		bind_console(cfg, n);
	return m;
}

/* Join the container's cgroup, enter its namespaces, set oom_score_adj,
 * and for the init build its root. */
static void setup_container(const struct child_cfg *cfg)
{
	const struct container *ct = cfg->ct;
	const struct kvap_process *s = cfg->spec;
	char msg[sizeof(((struct child_report *)0)->msg)], path[4096];
	int r;

	if (s->oom_score_adj_set) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		int n = snprintf(path, sizeof(path), "%d", (int)s->oom_score_adj);
		if (fd < 0 || write(fd, path, (size_t)n) != n)
			fail(cfg, errno, "oom_score_adj %d: %s", (int)s->oom_score_adj,
			     strerror(errno));
		close(fd);
	}
	if (!ct || !ct->isolated)
		return;
	if (ct->cg) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", ct->cg);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			fail(cfg, errno, "joining the cgroup %s: %s", ct->cg, strerror(errno));
		close(fd);
	}
	if ((r = ns_enter(cfg, msg, sizeof(msg))) < 0)
		fail(cfg, -r, "%s", msg);
	if (cfg->init && (r = rootfs_setup(cfg, msg, sizeof(msg))) < 0)
		fail(cfg, -r, "%s", msg);
}

static void load_seccomp(const struct child_cfg *cfg)
{
	int r = seccomp_apply(cfg->ct ? cfg->ct->seccomp : NULL);

	if (r < 0)
		fail(cfg, -r, "loading the seccomp filter: %s", strerror(-r));
}

static void setup_rlimits(const struct child_cfg *cfg)
{
	const struct kvap_process *s = cfg->spec;

	for (uint32_t i = 0; i < s->n_rlimits; i++) {
		const struct kvap_rlimit *l = &s->rlimits[i];
		const char *name = l->type < sizeof(rlimit_names) / sizeof(rlimit_names[0]) &&
					   rlimit_names[l->type]
				       ? rlimit_names[l->type]
				       : "unknown";
		struct rlimit rl = { .rlim_cur = l->soft == UINT64_MAX ? RLIM_INFINITY : l->soft,
				     .rlim_max = l->hard == UINT64_MAX ? RLIM_INFINITY : l->hard };
		if (l->soft > l->hard)
			fail(cfg, EINVAL,
			     "rlimit %s (%u): soft limit %llu is above the hard limit %llu", name,
			     l->type, (unsigned long long)l->soft, (unsigned long long)l->hard);
		if (setrlimit((int)l->type, &rl) < 0)
			fail(cfg, errno, "setrlimit %s (%u) soft %llu hard %llu: %s", name, l->type,
			     (unsigned long long)l->soft, (unsigned long long)l->hard,
			     strerror(errno));
	}
}

static bool caps_given(const struct kvap_caps *c)
{
	return c->bounding || c->effective || c->inheritable || c->permitted || c->ambient;
}

static void setup_identity(const struct child_cfg *cfg)
{
	const struct kvap_process *s = cfg->spec;
	bool caps = caps_given(&s->caps) || s->caps_set;
	int r;

	if (caps && (r = caps_drop_bounding(s->caps.bounding)) < 0)
		fail(cfg, -r, "dropping capabilities from the bounding set: %s", strerror(-r));
	if (caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(cfg, errno, "PR_SET_KEEPCAPS: %s", strerror(errno));
	if (setgroups(s->n_gids, s->gids) < 0)
		fail(cfg, errno, "setgroups (%u groups): %s", s->n_gids, strerror(errno));
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		fail(cfg, errno, "setresgid %u: %s", s->gid, strerror(errno));
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		fail(cfg, errno, "setresuid %u: %s", s->uid, strerror(errno));
	if (s->cwd && *s->cwd && chdir(s->cwd) < 0)
		fail(cfg, errno, "cwd %s: %s", s->cwd, strerror(errno));
	if (caps && (r = caps_apply(&s->caps)) < 0)
		fail(cfg, -r, "setting capabilities: %s", strerror(-r));
	if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(cfg, errno, "no_new_privs: %s", strerror(errno));
}

static const char *env_path(const struct kvap_process *s)
{
	for (uint32_t i = 0; i < s->n_env; i++)
		if (strncmp(s->env[i], "PATH=", 5) == 0)
			return s->env[i] + 5;
	return DEFAULT_PATH;
}

/* Like execvp's search, done before the gate so a missing program is an
 * EXEC error the host sees, not an exit status. */
static char *find_program(const struct child_cfg *cfg, const char *name)
{
	static char path[4096];

	if (!*name)
		fail(cfg, ENOENT, "empty program name");
	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			fail(cfg, errno, "%s: %s", name, strerror(errno));
		return (char *)name;
	}
	int first_err = ENOENT;
	for (const char *p = env_path(cfg->spec); p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		int len = snprintf(path, sizeof(path), "%.*s%s%s", (int)n, n ? p : ".", "/", name);
		p = colon ? colon + 1 : NULL;
		if (len < 0 || (size_t)len >= sizeof(path))
			continue;
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (access(path, X_OK) == 0)
			return path;
		first_err = errno;
	}
	fail(cfg, first_err, "%s: %s", name,
	     first_err == ENOENT ? "not found on PATH" : strerror(first_err));
}

/* Decoded string lists are counted, execve wants NULL-terminated arrays. */
static char **null_terminated(const struct child_cfg *cfg, char **items, uint32_t n)
{
	char **v = calloc((size_t)n + 1, sizeof(char *));

	if (!v)
		fail(cfg, ENOMEM, "out of memory");
	if (n)
		memcpy(v, items, n * sizeof(char *));
	return v;
}

void child_main(const struct child_cfg *cfg)
{
	const struct kvap_process *s = cfg->spec;
	char go;

	setup_signals();
	setup_stdio(cfg);
	setup_container(cfg);
	int master = cfg->terminal ? setup_tty(cfg) : -1;
	setup_rlimits(cfg);
	if (!s->n_args)
		fail(cfg, EINVAL, "no program: args is empty");
	if (!s->no_new_privileges)
		load_seccomp(cfg);
	setup_identity(cfg);
	umask(s->umask_set ? (mode_t)(s->umask & 0777) : 022);
	char *prog = find_program(cfg, s->args[0]);
	char **argv = null_terminated(cfg, s->args, s->n_args);
	char **envp = null_terminated(cfg, s->env, s->n_env);
	if (s->no_new_privileges)
		load_seccomp(cfg);

	report_fd(cfg->report_fd, CHILD_READY, 0, "", master);
	if (master >= 0)
		close(master);
	/* Held here until every stream is attached (and START, for the init).
	 * EOF without the byte: the agent gave up on this process. */
	if (read(cfg->gate_fd, &go, 1) != 1)
		_exit(127);
	close(cfg->gate_fd);

	execve(prog, argv, envp);
	int e = errno;
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "kvrun-agent: exec %s: %s\n", prog, strerror(e));
	if (n > 0) {
		ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
		(void)w;
	}
	report(cfg->report_fd, CHILD_EXEC_FAILED, e, msg + strlen("kvrun-agent: "));
	_exit(e == ENOENT ? 127 : 126);
}
