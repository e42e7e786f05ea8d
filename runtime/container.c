/* container.c - see container.h (create is create.c's). */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "hooks.h"
#include "sync.h"

#define VMM_EXIT_WAIT_MS 10000

static const char *const status_names[] = { "creating", "created", "running", "paused", "stopped" };

const char *ctr_status_name(enum ctr_status s)
{
	return (unsigned)s <= CTR_STOPPED ? status_names[s] : "unknown";
}

int proc_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: the fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	char state = *p;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	/* p is field 3 (state); the start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

bool ctr_vmm_alive(const struct ctr *c)
{
	unsigned long long start;

	if (c->st.pid <= 0)
		return false;
	return proc_start_time(c->st.pid, &start) == 0 && start == c->st.pid_start;
}

int ctr_exit_status(struct ctr *c)
{
	cleanup_free char *buf = NULL;
	size_t len;

	if (state_read_file(c, "exit", 16, &buf, &len, NULL) < 0)
		return -1;
	char *end;
	long v = strtol(buf, &end, 10);
	return end != buf && v >= 0 && v <= 255 ? (int)v : -1;
}

enum ctr_status ctr_status(struct ctr *c)
{
	const char *s = c->st.status;

	if (!s || !ctr_vmm_alive(c) || ctr_exit_status(c) >= 0)
		return CTR_STOPPED;
	for (int i = 0; i <= CTR_STOPPED; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (enum ctr_status)i;
	return CTR_STOPPED;
}

int ctr_config(struct ctr *c, struct oci_config **cfg, struct kv_err *err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r;

	if ((r = state_read_file(c, "config.json", OCI_CONFIG_MAX_BYTES, &buf, &len, err)) < 0)
		return r;
	if ((r = oci_config_parse(buf, len, true, cfg, err)) < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return kv_errf(err, r, "%s/config.json: %s", c->dir, msg);
	}
	return 0;
}

int ctr_hook_state(struct ctr *c, const char *status, char **json, struct kv_err *err)
{
	struct oci_state s = c->st;

	s.status = (char *)status;
	if (strcmp(status, "stopped") == 0 && !ctr_vmm_alive(c))
		s.pid = 0;
	return oci_state_write_hook(&s, json, err);
}

int ctr_dialer(struct ctr *c, int timeout_ms, struct agent_dialer *d, struct kv_err *err)
{
	char path[108];
	int r;

	state_path(c, "vsock.sock", path, sizeof(path));
	if ((r = agent_dialer_hybrid(d, path, err)) < 0)
		return r;
	d->timeout_ms = timeout_ms;
	d->io_timeout_ms = 15000;
	return 0;
}

int ctr_control(struct ctr *c, const char *req, struct kv_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char reply[SYNC_MSG_MAX];
	int r;

	state_path(c, "ctl.sock", a.sun_path, sizeof(a.sun_path));
	cleanup_close int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kv_errno(err, -errno, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return kv_errno(err, -errno, "the VMM process of %s does not answer", c->id);
	if ((r = sync_send(fd, "%s", req)) < 0 ||
	    (r = sync_recv(fd, reply, sizeof(reply), 15000)) < 0)
		return kv_errno(err, r, "the VMM process of %s", c->id);
	if (strcmp(reply, "ok") == 0)
		return 0;
	return kv_errf(err, -EIO, "%s: %s", req,
		       strncmp(reply, "error ", 6) == 0 ? reply + 6 : reply);
}

/* Hooks with the current state; the failing hook's message. */
static int run_hooks(struct ctr *c, const struct oci_config *cfg, enum oci_hook_kind kind,
		     const char *status, struct kv_err *err)
{
	cleanup_free char *json = NULL;
	int r;

	if (!cfg->n_hooks[kind])
		return 0;
	if ((r = ctr_hook_state(c, status, &json, err)) < 0)
		return r;
	return hooks_run(cfg, kind, json, err);
}

int ctr_start(struct kvrun *g, struct ctr *c, struct kv_err *err)
{
	struct oci_config *cfg = NULL;
	struct agent_client *ac = NULL;
	struct agent_dialer d;
	struct kv_err e2 = { 0 };
	int r;

	switch (ctr_status(c)) {
	case CTR_CREATED:
		break;
	case CTR_STOPPED:
		return kv_errf(err, -EINVAL, "cannot start a container that has stopped");
	case CTR_RUNNING:
	case CTR_PAUSED:
		return kv_errf(err, -EINVAL, "cannot start an already running container");
	default:
		return kv_errf(err, -EINVAL,
			       "cannot start a container that is still being created");
	}
	if ((r = ctr_config(c, &cfg, err)) < 0)
		return r;
	/* startContainer: before the user's process runs; on the host (docs/runtime.md). */
	if ((r = run_hooks(c, cfg, OCI_HOOK_START_CONTAINER, "created", err)) < 0)
		goto fail_kill;
	if ((r = ctr_dialer(c, 5000, &d, err)) < 0 ||
	    (r = agent_client_connect(&d, &ac, err)) < 0 ||
	    (r = agent_client_start(ac, c->id, NULL, err)) < 0)
		goto out;
	free(c->st.status);
	c->st.status = strdup("running");
	c->st.started = true;
	if (!c->st.status) {
		r = kv_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = state_save(c, err)) < 0)
		goto out;
	if ((r = run_hooks(c, cfg, OCI_HOOK_POSTSTART, "running", err)) < 0)
		goto fail_kill;
	kvrun_debug(g, "started %s", c->id);
	goto out;
fail_kill:
	/* A failed startContainer or poststart hook: the container does not run. */
	if (ctr_kill_vmm(c, &e2) < 0)
		kvrun_warn(g, "%s", e2.msg);
out:
	agent_client_free(ac);
	oci_config_free(cfg);
	return r;
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int ctr_kill_vmm(struct ctr *c, struct kv_err *err)
{
	unsigned long long start;

	if (c->st.pid <= 0)
		return 0;
	cleanup_close int pfd = pidfd_open_(c->st.pid);
	if (pfd < 0)
		return errno == ESRCH ? 0 : kv_errno(err, -errno, "pidfd_open %d", c->st.pid);
	/* The pidfd pins the process; the start time says it is ours. */
	if (proc_start_time(c->st.pid, &start) < 0 || start != c->st.pid_start)
		return 0;
	if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		return kv_errno(err, -errno, "killing the VMM process %d", c->st.pid);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	for (;;) {
		int n = poll(&p, 1, VMM_EXIT_WAIT_MS);
		if (n > 0)
			return 0;
		if (n == 0)
			return kv_errf(err, -ETIMEDOUT,
				       "the VMM process %d did not exit within %d s", c->st.pid,
				       VMM_EXIT_WAIT_MS / 1000);
		if (errno != EINTR)
			return kv_errno(err, -errno, "poll");
	}
}

int ctr_kill(struct kvrun *g, struct ctr *c, int sig, bool all, struct kv_err *err)
{
	enum ctr_status s = ctr_status(c);
	struct agent_client *ac = NULL;
	struct agent_dialer d;
	struct kv_err e2 = { 0 };
	int r;

	if (s == CTR_STOPPED)
		return kv_errf(err, -ESRCH, "container not running");
	if (s == CTR_PAUSED || s == CTR_CREATING) {
		/* No agent to ask: its vCPUs are stopped (or it is not up yet). */
		if (sig == SIGKILL)
			return ctr_kill_vmm(c, err);
		return kv_errf(err, -EBUSY, "container %s is %s: only SIGKILL can reach it", c->id,
			       ctr_status_name(s));
	}
	r = ctr_dialer(c, 2000, &d, err);
	if (r == 0) {
		if (sig == SIGKILL)
			d.io_timeout_ms = 3000;
		r = agent_client_connect(&d, &ac, sig == SIGKILL ? &e2 : err);
		if (r == 0)
			r = agent_client_signal(ac, "", sig, all, sig == SIGKILL ? &e2 : err);
		agent_client_free(ac);
	}
	if (r < 0 && sig == SIGKILL) {
		kvrun_debug(g, "the agent did not take SIGKILL (%s): killing the VMM", e2.msg);
		return ctr_kill_vmm(c, err);
	}
	if (r == -ESRCH)
		return kv_errf(err, -ESRCH, "container not running");
	return r;
}

int ctr_destroy(struct kvrun *g, struct ctr *c, struct kv_err *err)
{
	struct oci_config *cfg = NULL;
	struct kv_err e2 = { 0 };
	int r;

	if ((r = ctr_kill_vmm(c, err)) < 0)
		return r;
	if (c->st.n_cgroup_dirs &&
	    (r = cgroup_remove(c->st.cgroup_dirs, c->st.n_cgroup_dirs, err)) < 0)
		return r;
	/* poststop: after the VM is gone, before the state goes (host). */
	if (c->st.status && ctr_config(c, &cfg, &e2) == 0) {
		if (run_hooks(c, cfg, OCI_HOOK_POSTSTOP, "stopped", &e2) < 0)
			kvrun_warn(g, "%s", e2.msg);
		oci_config_free(cfg);
	}
	return state_remove(c, err);
}
