/* exec.c - see exec.h. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "foreground.h"
#include "relay.h"
#include "state.h"
#include "sync.h"

#define EXEC_EXIT_LOST 255

/* Run the guest process and relay until it exits. With sync_fd >= 0
 * (a forked exec process), "started PID" or "error MSG" goes there once it
 * runs or could not. Returns its exit status, or -1 with err set when it
 * did not start, or EXEC_EXIT_LOST when the guest went away. */
static int exec_serve(struct kvrun *g, const struct exec_req *x, int sync_fd, bool own_session,
		      struct kv_err *err)
{
	struct agent_client *c = NULL;
	struct agent_proc *p = NULL;
	struct kvap_process proc = *x->proc;
	uint32_t streams = 0;
	int tty_fd = -1;
	char exec_id[80];
	uint8_t rnd[6];

	if (proc.terminal && x->console_socket) {
		tty_fd = console_setup(x->console_socket, proc.console.rows, proc.console.cols,
				       own_session, err);
		if (tty_fd < 0)
			goto fail;
		/* Our own stdio must not stay open: a client reading the verb's
		 * output would wait for this process. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		for (int i = 0; null >= 0 && i < 3; i++)
			(void)dup2(null, i);
		if (null >= 0)
			close(null);
		streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY);
	} else if (proc.terminal) {
		tty_fd = 0;
		streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY);
	} else {
		streams = stdio_streams();
	}
	if (proc.terminal && !proc.console.rows && tty_fd >= 0)
		console_size(tty_fd, &proc.console.rows, &proc.console.cols);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(exec_id, sizeof(exec_id), "exec-%d-%02x%02x%02x%02x%02x%02x", (int)getpid(),
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if (agent_client_connect(&x->dialer, &c, err) < 0)
		goto fail;
	if (!(agent_client_features(c) & KVAP_FEAT_CONTAINER)) {
		/* A KVAP 1.0 agent: no umask, oomScoreAdj or caps_set; an empty
		 * capability set is a bit above the last capability there. */
		proc.umask_set = proc.oom_score_adj_set = false;
		if (proc.caps_set && !proc.caps.bounding && !proc.caps.effective &&
		    !proc.caps.inheritable && !proc.caps.permitted && !proc.caps.ambient)
			proc.caps.bounding = 1ull << 63;
		proc.caps_set = false;
	}
	if (agent_proc_exec(c, x->container_id, exec_id, &proc, streams, &p, err) < 0)
		goto fail;
	if (sync_fd >= 0) {
		(void)sync_send(sync_fd, "started %u", p->pid);
		close(sync_fd);
		(void)prctl(PR_SET_PDEATHSIG, 0);
	} else if (x->pid_file && write_pid_file(x->pid_file, getpid(), err) < 0) {
		(void)agent_client_signal(c, exec_id, SIGKILL, false, NULL);
		goto fail;
	}

	struct relay relay = {
		.dialer = x->dialer, .exec_id = exec_id, .tty_fd = tty_fd, .ctl_fd = -1, .g = g
	};
	struct fg_tty tty = { 0 };
	relay.dialer.timeout_ms = 2000;
	bool relay_on = relay_start(&relay, err) == 0;
	if (tty_fd == 0)
		fg_tty_raw(&tty);
	struct kvap_exit st;
	int r = tty_fd >= 0 ? agent_proc_forward(p, tty_fd, tty_fd == 0 ? 1 : tty_fd, -1, &st, err)
			    : agent_proc_forward(p, streams & KVAP_STREAM_BIT(0) ? 0 : -1,
						 streams & KVAP_STREAM_BIT(1) ? 1 : -1,
						 streams & KVAP_STREAM_BIT(2) ? 2 : -1, &st, err);
	fg_tty_restore(&tty);
	if (relay_on)
		relay_stop(&relay);
	agent_proc_free(p);
	agent_client_free(c);
	if (r < 0) {
		kvrun_error(g, "exec %s: %s", exec_id, err->msg);
		return EXEC_EXIT_LOST;
	}
	return agent_exit_status(&st);
fail:
	if (sync_fd >= 0)
		(void)sync_send(sync_fd, "error %s", err->msg);
	agent_client_free(c);
	return -1;
}

/* The forked exec process: never returns. */
static _Noreturn void exec_child(struct kvrun *g, const struct exec_req *x, int sync_fd,
				 pid_t parent)
{
	struct kv_err err = { 0 };

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EXEC_EXIT_LOST);
	(void)setsid();
	signal(SIGPIPE, SIG_IGN);
	int keep[] = { sync_fd, x->keep_fd, g->log_fd };
	close_other_fds(keep, sizeof(keep) / sizeof(keep[0]));
	g->quiet_stderr = true;
	int r = exec_serve(g, x, sync_fd, true, &err);
	_exit(r < 0 ? EXEC_EXIT_LOST : r);
}

int exec_run(struct kvrun *g, const struct exec_req *x, struct kv_err *err)
{
	char msg[SYNC_MSG_MAX];
	int sync[2];
	int r;

	if (x->proc->terminal && !x->console_socket && !x->detach && !isatty(0))
		return kv_errf(err, -EINVAL,
			       "--tty without --console-socket needs a terminal on stdin"),
		       -1;
	if (x->detach && x->proc->terminal && !x->console_socket)
		return kv_errf(err, -EINVAL, "--detach with --tty needs --console-socket"), -1;
	if (!x->proc->terminal && x->console_socket)
		return kv_errf(err, -EINVAL, "--console-socket needs --tty (process.terminal)"), -1;

	if (!x->detach && !x->console_socket) {
		/* In the foreground with our own stdio: this process is the exec's. */
		fg_block_signals();
		signal(SIGPIPE, SIG_IGN);
		return exec_serve(g, x, -1, false, err);
	}

	/* Detached, or with a terminal for --console-socket (whose window-size
	 * changes need a session of its own): a process of its own. */
	if ((r = sync_pair(sync)) < 0)
		return kv_errno(err, r, "socketpair"), -1;
	if (!x->detach)
		fg_block_signals();
	fflush(NULL);
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		close(sync[0]);
		exec_child(g, x, sync[1], parent);
	}
	close(sync[1]);
	if (child < 0) {
		close(sync[0]);
		return kv_errno(err, -errno, "fork"), -1;
	}
	r = sync_recv(sync[0], msg, sizeof(msg), 60000);
	close(sync[0]);
	if (r < 0 || strncmp(msg, "started ", 8) != 0) {
		if (r == 0 && strncmp(msg, "error ", 6) == 0)
			kv_errf(err, -EIO, "%s", msg + 6);
		else
			kv_errf(err, -EIO, "the exec process did not start (%s)",
				r < 0 ? strerror(-r) : msg);
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	if (x->pid_file && (r = write_pid_file(x->pid_file, child, err)) < 0) {
		kill(child, SIGKILL);
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	if (x->detach)
		return 0;
	return fg_wait(child);
}
