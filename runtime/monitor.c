/* monitor.c - see monitor.h. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent-client.h"
#include "agent-spec.h"
#include "console.h"
#include "kvap-frame.h"
#include "network.h"
#include "relay.h"
#include "sync.h"
#include "vmm.h"

/* How long the guest gets to power off after its init exited. */
#define POWEROFF_GRACE_MS 10000
#define RETRY_MS	  50

struct mon {
	struct monitor_args *a;
	struct vmm *vm; /* NULL once vmm_run returned */
	pthread_mutex_t lock;
	int gone_fd; /* eventfd: the VM is gone */
	struct agent_dialer dialer;
	int status; /* the init's exit status, or -1 */
	int tty_fd;
	struct relay relay;
	bool relay_on;
	int ctl_fd;
	struct network net;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stop_vm(struct mon *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->vm)
		vmm_request_stop(m->vm);
	pthread_mutex_unlock(&m->lock);
}

static bool wait_gone(struct mon *m, int ms)
{
	struct pollfd p = { .fd = m->gone_fd, .events = POLLIN };
	int64_t end = now_ms() + ms;

	for (;;) {
		int left = (int)(end - now_ms());
		int r = poll(&p, 1, left < 0 ? 0 : left);
		if (r > 0)
			return true;
		if (r == 0 || errno != EINTR)
			return false;
	}
}

/* Until the agent accepts a connection on its control port. */
static int wait_agent(struct mon *m, struct kv_err *err)
{
	struct agent_dialer once = m->dialer;
	unsigned timeout_s = m->a->sb->boot_timeout_s;
	int64_t end = now_ms() + (int64_t)timeout_s * 1000;
	struct kv_err e = { 0 };

	once.timeout_ms = 0;
	once.io_timeout_ms = 6000;
	for (;;) {
		int fd = agent_dial(&once, KVAP_PORT_CONTROL, &e);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (now_ms() >= end)
			return kv_errf(err, -ETIMEDOUT,
				       "the guest agent did not answer within %u s (boot_timeout; "
				       "last: %s)",
				       timeout_s, e.msg);
		if (wait_gone(m, RETRY_MS))
			return kv_errf(err, -ECANCELED,
				       "the VM stopped before the guest agent was ready");
	}
}

static int redirect_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	close(fd);
	return 0;
}

static int ctl_handle(void *opaque, const char *req, char *reply, size_t size)
{
	struct mon *m = opaque;
	struct kv_err err = { 0 };
	int r;

	pthread_mutex_lock(&m->lock);
	if (!m->vm)
		r = kv_errf(&err, -ESRCH, "the VM is not running");
	else if (strcmp(req, "pause") == 0)
		r = vmm_pause(m->vm, &err);
	else if (strcmp(req, "resume") == 0)
		r = vmm_resume(m->vm, &err);
	else if (strcmp(req, "ping") == 0)
		r = 0;
	else
		r = kv_errf(&err, -EINVAL, "unknown request \"%.64s\"", req);
	pthread_mutex_unlock(&m->lock);
	if (r < 0)
		snprintf(reply, size, "error %s", err.msg);
	return r;
}

static int ctl_listen(struct mon *m, struct kv_err *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return kv_errno(err, -errno, "control socket");
	state_path(m->a->c, "ctl.sock", a.sun_path, sizeof(a.sun_path));
	(void)unlink(a.sun_path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		int e = -errno;
		close(fd);
		return kv_errno(err, e, "control socket %s/ctl.sock", m->a->c->dir);
	}
	return fd;
}

/* Fail create: tell it why, stop the VM. */
static void *fail_create(struct mon *m, const struct kv_err *err)
{
	(void)sync_send(m->a->sync_fd, "error %s", err->msg);
	stop_vm(m);
	return NULL;
}

static void record_exit(struct mon *m, int status)
{
	char buf[16];
	struct kv_err err = { 0 };
	int n = snprintf(buf, sizeof(buf), "%d\n", status);

	if (state_write_file(m->a->c, "exit", buf, (size_t)n, &err) < 0)
		kvrun_error(m->a->g, "%s", err.msg);
}

static void *container_main(void *arg)
{
	struct mon *m = arg;
	struct monitor_args *a = m->a;
	struct agent_client *c = NULL;
	struct agent_proc *p = NULL;
	struct kvap_create spec;
	struct kv_err err = { 0 };
	char msg[SYNC_MSG_MAX];
	uint32_t streams = 0;
	int r;

	/* Confined before anything the guest says reaches this thread. */
	if ((r = vmm_confine_thread(m->vm, VMM_ROLE_MONITOR, &err)) < 0)
		return fail_create(m, &err);
	if ((r = wait_agent(m, &err)) < 0 || (r = agent_client_connect(&m->dialer, &c, &err)) < 0)
		return fail_create(m, &err);
	/* The guest's interfaces before anything of the container exists. */
	if ((r = network_configure_guest(&m->net, c, &err)) < 0) {
		agent_client_free(c);
		return fail_create(m, &err);
	}
	if (sync_send(a->sync_fd, "booted") < 0 ||
	    sync_recv(a->sync_fd, msg, sizeof(msg), -1) < 0 || strcmp(msg, "create") != 0) {
		agent_client_free(c);
		stop_vm(m);
		return NULL;
	}

	bool tty = a->cfg->process.terminal;
	if (tty && a->terminal_on_stdin) {
		/* `kvrun run` in the foreground: its terminal; its SIGWINCH is passed on. */
		m->tty_fd = 0;
		streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY);
	} else if (tty) {
		/* The console socket's terminal, set up before the VM (setup_console). */
		streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY);
	} else {
		streams = stdio_streams();
	}
	struct agent_spec_notes notes = { .n = 0 };
	uint64_t features = agent_client_features(c);
	if ((r = agent_spec_create(a->cfg, a->id, features, a->sb->initramfs_root, a->no_pivot,
				   &spec, &notes, &err)) == 0) {
		for (size_t i = 0; i < notes.n; i++)
			kvrun_warn(a->g, "%s: %s: not applied: the guest agent (%s) cannot", a->id,
				   notes.unapplied[i], agent_client_software(c));
		if (tty && !a->cfg->process.has_console_size)
			console_size(m->tty_fd, &spec.process.console.rows,
				     &spec.process.console.cols);
		r = agent_proc_create(c, &spec, streams, &p, &err);
		agent_spec_create_free(&spec);
	}
	if (r < 0) {
		agent_client_free(c);
		return fail_create(m, &err);
	}
	if (sync_send(a->sync_fd, "created %u", p->pid) < 0 ||
	    sync_recv(a->sync_fd, msg, sizeof(msg), -1) < 0 || strcmp(msg, "commit") != 0) {
		agent_proc_free(p);
		agent_client_free(c);
		stop_vm(m);
		return NULL;
	}
	(void)sync_send(a->sync_fd, "ack");
	close(a->sync_fd);
	a->sync_fd = -1;

	/* The relay was made before the VM ran (prepare_relay): this thread
	 * may not make threads any more. */
	if (m->relay_on)
		relay_go(&m->relay);

	struct kvap_exit st;
	r = tty ? agent_proc_forward(p, m->tty_fd, m->tty_fd == 0 ? 1 : m->tty_fd, -1, &st, &err)
		: agent_proc_forward(p, streams & KVAP_STREAM_BIT(0) ? 0 : -1,
				     streams & KVAP_STREAM_BIT(1) ? 1 : -1,
				     streams & KVAP_STREAM_BIT(2) ? 2 : -1, &st, &err);
	agent_proc_free(p);
	agent_client_free(c);
	if (r < 0) {
		kvrun_error(a->g, "container %s: lost the guest agent: %s", a->id, err.msg);
		stop_vm(m);
		return NULL;
	}
	m->status = agent_exit_status(&st);
	record_exit(m, m->status);
	kvrun_debug(a->g, "container %s: init exited with status %d", a->id, m->status);
	/* The agent powers the guest off once the init's status is out. */
	if (!wait_gone(m, POWEROFF_GRACE_MS)) {
		kvrun_warn(a->g,
			   "container %s: the guest did not power off within %d s; stopping it",
			   a->id, POWEROFF_GRACE_MS / 1000);
		stop_vm(m);
	}
	return NULL;
}

/* The relay thread (signals, the control socket) is made now, while this
 * thread may still make threads and descriptors; container_main lets it go
 * once the init exists. */
static void prepare_relay(struct mon *m)
{
	struct kv_err err = { 0 };

	m->relay = (struct relay){ .dialer = m->dialer,
				   .exec_id = "",
				   .tty_fd = m->tty_fd,
				   .ctl_fd = m->ctl_fd,
				   .ctl_handle = ctl_handle,
				   .opaque = m,
				   .g = m->a->g,
				   .vm = m->vm };
	m->relay.dialer.timeout_ms = 2000;
	if (relay_prepare(&m->relay, &err) < 0)
		kvrun_error(m->a->g, "%s: %s", m->a->id, err.msg);
	else
		m->relay_on = true;
}

/* With --console-socket: the terminal is made and sent before the VM is
 * built, while the socket and /dev/pts are still visible (the jail hides
 * them). create's own stdio must not stay open here: a client reading
 * create's output would wait for us. */
static int setup_console(struct mon *m, struct kv_err *err)
{
	struct monitor_args *a = m->a;

	if (a->cfg->process.terminal && a->terminal_on_stdin)
		m->tty_fd = 0; /* `kvrun run`'s own terminal */
	if (!a->cfg->process.terminal || a->terminal_on_stdin)
		return 0;
	m->tty_fd = console_setup(a->console_socket, (uint16_t)a->cfg->process.console_height,
				  (uint16_t)a->cfg->process.console_width, true, err);
	if (m->tty_fd < 0)
		return m->tty_fd;
	(void)redirect_null();
	return 0;
}

/* docs/security.md: only what the VM needs stays visible and open. A seccomp
 * violation is logged as an error line in the log's format. */
static int confine_process(struct mon *m, struct kv_err *err)
{
	struct monitor_args *a = m->a;
	struct vmm_sandbox *sb = &a->sb->vm.sandbox;
	bool json = a->g->log_format == KVRUN_LOG_JSON;

	snprintf(a->sb->report_prefix, sizeof(a->sb->report_prefix), "%scontainer %s: ",
		 json ? "{\"level\":\"error\",\"msg\":\"" : "level=error msg=\"", a->id);
	snprintf(a->sb->report_suffix, sizeof(a->sb->report_suffix), "%s", json ? "\"}" : "\"");
	sb->report_fd = a->g->log_fd >= 0 ? a->g->log_fd : STDERR_FILENO;
	sb->report_prefix = a->sb->report_prefix;
	sb->report_suffix = a->sb->report_suffix;
	/* A sandboxed VMM keeps no socket into the network namespace: the
	 * guard (outside any filter) removes the redirects at the end. */
	int r;
	if ((a->sb->jail || sb->seccomp) && (r = network_release_netlink(&m->net, err)) < 0)
		return r;
	if (!a->sb->jail || geteuid() != 0)
		return 0;
	int keep[5 + VMM_MAX_NETS + 1] = { a->sync_fd, a->c->dir_fd, a->g->log_fd, m->ctl_fd,
					   m->tty_fd };
	unsigned n = 0;
	for (size_t i = 0; i < 5; i++)
		if (keep[i] >= 0)
			keep[n++] = keep[i];
	n += network_keep_fds(&m->net, keep + n, (unsigned)(sizeof(keep) / sizeof(keep[0])) - n);
	return vmm_jail(&a->sb->vm, NULL, keep, n, err);
}

_Noreturn void monitor_main(struct monitor_args *a)
{
	struct mon m = { .a = a, .status = -1, .tty_fd = -1, .ctl_fd = -1 };
	struct kv_err err = { 0 };
	enum vmm_exit_reason why = VMM_EXIT_NONE;
	char msg[SYNC_MSG_MAX];
	pthread_t ctr;
	sigset_t set;
	int r;

	/* No PR_SET_PDEATHSIG: it is per thread, and the thread that could clear
	 * it runs the VM. A create that dies is noticed on the channel instead
	 * (end of file), and the VM is stopped. */
	if (getppid() != a->parent)
		_exit(MONITOR_EXIT_NO_STATUS);
	(void)setsid();
	relay_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int keep[] = { a->sync_fd, a->c->dir_fd, a->g->log_fd };
	close_other_fds(keep, sizeof(keep) / sizeof(keep[0]));
	if (chdir("/") < 0)
		_exit(MONITOR_EXIT_NO_STATUS);
	a->g->quiet_stderr = true;
	a->g->verb = "vmm";
	(void)prctl(PR_SET_NAME, "kvrun-vmm");

	if (sync_recv(a->sync_fd, msg, sizeof(msg), -1) < 0 || strcmp(msg, "go") != 0)
		_exit(MONITOR_EXIT_NO_STATUS);
	/* A new network namespace, when the config asks for one: the VMM needs no
	 * host network, and hooks (docker's libnetwork-setkey) find it at
	 * /proc/PID/ns/net. Then create runs those hooks. */
	if (network_enter(a->cfg, &err) < 0 || sync_send(a->sync_fd, "ready") < 0) {
		(void)sync_send(a->sync_fd, "error %s", err.msg);
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	if (sync_recv(a->sync_fd, msg, sizeof(msg), -1) < 0 || strcmp(msg, "boot") != 0)
		_exit(MONITOR_EXIT_NO_STATUS);
	/* The state directory's absolute path (--root may be relative). */
	char fdlink[64], dir[PATH_MAX];
	snprintf(fdlink, sizeof(fdlink), "/proc/self/fd/%d", a->c->dir_fd);
	ssize_t dn = readlink(fdlink, dir, sizeof(dir) - 1);
	if (dn <= 0) {
		(void)sync_send(a->sync_fd, "error the state directory's path: %s",
				strerror(errno));
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	dir[dn] = '\0';
	sandbox_bind_state_dir(a->sb, a->c->dir_fd, dir, a->settings->console_log || a->g->debug);
	if (share_needed(&a->sb->share) && share_build(&a->sb->share, a->sb->share_dir, &err) < 0) {
		(void)sync_send(a->sync_fd, "error %s", err.msg);
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	if (agent_dialer_hybrid(&m.dialer, a->sb->vsock_path, &err) < 0 ||
	    (m.ctl_fd = ctl_listen(&m, &err)) < 0) {
		(void)sync_send(a->sync_fd, "error %s", err.msg);
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	m.dialer.io_timeout_ms = 30000;
	/* The taps and their guard: once this process dies by any path, the taps
	 * go with its fds and the guard removes the filters. */
	if (network_attach(a->cfg, &a->sb->vm, &m.net, &err) < 0) {
		(void)sync_send(a->sync_fd, "error %s", err.msg);
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	/* The taps are open and the guard runs: the jail may hide the netns now. */
	if (setup_console(&m, &err) < 0 || confine_process(&m, &err) < 0) {
		(void)sync_send(a->sync_fd, "error %s", err.msg);
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	m.gone_fd = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&m.lock, NULL);
	if (m.gone_fd < 0 || vmm_create(&a->sb->vm, &m.vm, &err) < 0) {
		if (m.gone_fd < 0)
			kv_errno(&err, -errno, "eventfd");
		(void)sync_send(a->sync_fd, "error %s", err.msg);
		_exit(MONITOR_EXIT_NO_STATUS);
	}
	prepare_relay(&m);
	if ((r = pthread_create(&ctr, NULL, container_main, &m)) != 0) {
		(void)sync_send(a->sync_fd, "error cannot start a thread: %s", strerror(r));
		vmm_destroy(m.vm);
		_exit(MONITOR_EXIT_NO_STATUS);
	}

	r = vmm_run(m.vm, &why, &err);

	pthread_mutex_lock(&m.lock);
	struct vmm *vm = m.vm;
	m.vm = NULL;
	pthread_mutex_unlock(&m.lock);
	uint64_t one = 1;
	while (write(m.gone_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	vmm_destroy(vm); /* closes the host ends of the vsock streams, and the taps */
	network_detach(&m.net);
	pthread_join(ctr, NULL);
	if (m.relay_on)
		relay_stop(&m.relay);
	if (r < 0)
		kvrun_error(a->g, "container %s: VMM error: %s", a->id, err.msg);
	else if (m.status < 0)
		kvrun_error(a->g, "container %s: the VM stopped (%s) without an exit status", a->id,
			    why == VMM_EXIT_PANIC	   ? "guest panic"
			    : why == VMM_EXIT_REBOOT	   ? "guest reboot"
			    : why == VMM_EXIT_TRIPLE_FAULT ? "triple fault"
			    : why == VMM_EXIT_POWEROFF	   ? "guest power-off"
							   : "stopped");
	if (a->sync_fd >= 0)
		close(a->sync_fd);
	if (m.ctl_fd >= 0) {
		char path[108];
		state_path(a->c, "ctl.sock", path, sizeof(path));
		(void)unlink(path);
		close(m.ctl_fd);
	}
	_exit(m.status >= 0 ? m.status : MONITOR_EXIT_NO_STATUS);
}
