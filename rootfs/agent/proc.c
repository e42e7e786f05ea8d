/* proc.c - the agent's process table.
 *
 * Owns: starting a process (pipes or pty, the fork, the child's setup
 * report), holding it before execve until its streams are attached (and
 * START for the init), reaping children, deciding when a process is
 * complete (exited, and every output stream drained and closed), answering
 * WAITs, and freeing an exec'd process once its status was collected. The
 * init's entry stays for the container's life. Children the agent did not
 * start (orphans reparented to PID 1, or to the --no-init subreaper) are
 * reaped and forgotten. */
#include "agent.h"
#include "child.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define POWEROFF_GRACE_MS 5000 /* init exited, no WAIT pending: wait this long for one */

static void proc_free(void *ptr)
{
	struct proc *p = ptr;

	free(p->exec_id);
	free(p->waiters);
	free(p);
}

static void proc_remove(struct agent *a, struct proc *p)
{
	if (p->dead)
		return;
	p->dead = true;
	for (struct proc **pp = &a->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	for (int k = 0; k < 4; k++) {
		pstream_close(a, &p->st[k]);
		pump_release(&p->st[k].out);
		pump_release(&p->st[k].in);
	}
	if (p->gate_fd >= 0)
		close(p->gate_fd);
	p->gate_fd = -1;
	watch_close(a, &p->report);
	agent_defer_free(a, proc_free, p);
}

struct proc *proc_find(struct agent *a, const char *exec_id)
{
	if (!exec_id)
		exec_id = "";
	for (struct proc *p = a->procs; p; p = p->next)
		if (!p->dead && strcmp(p->exec_id, exec_id) == 0)
			return p;
	return NULL;
}

size_t proc_live_count(struct agent *a)
{
	size_t n = 0;

	for (struct proc *p = a->procs; p; p = p->next)
		n += p->state != PROC_EXITED;
	return n;
}

void proc_kill_all(struct agent *a, int sig)
{
	if (a->ct && a->ct->cg)
		(void)cgroup_signal(a->ct->cg, sig);
	for (struct proc *p = a->procs; p; p = p->next)
		if (p->state != PROC_EXITED && p->pid > 0) {
			(void)kill(-p->pid, sig); /* its session / process group */
			(void)kill(p->pid, sig);
		}
}

void proc_free_all(struct agent *a)
{
	while (a->procs)
		proc_remove(a, a->procs);
}

/* Release the child into execve once nothing it needs is missing. */
void proc_maybe_release(struct agent *a, struct proc *p)
{
	if (p->state != PROC_HELD || !p->started)
		return;
	for (int k = 0; k < 4; k++)
		if ((p->streams & KVAP_STREAM_BIT(k)) && !p->st[k].attached)
			return;
	char go = 1;
	if (write(p->gate_fd, &go, 1) != 1)
		alog("releasing pid %d: %s", (int)p->pid, strerror(errno));
	close(p->gate_fd);
	p->gate_fd = -1;
	p->state = PROC_RUNNING;
	adebug("pid %d released (exec id '%s')", (int)p->pid, p->exec_id);
}

static void exit_body(const struct proc *p, struct kvap_exit *e)
{
	*e = (struct kvap_exit){ .pid = (uint32_t)p->pid };
	if (WIFSIGNALED(p->status)) {
		e->term_signal = (uint8_t)WTERMSIG(p->status);
		e->core_dumped = WCOREDUMP(p->status);
	} else {
		e->exit_code = (uint8_t)WEXITSTATUS(p->status);
	}
}

void proc_answer_waiters(struct agent *a, struct proc *p)
{
	struct kvap_exit e;

	if (!p->complete)
		return;
	exit_body(p, &e);
	for (size_t i = 0; i < p->n_waiters; i++) {
		struct conn *c = conn_find(a, p->waiters[i].conn);
		if (!c)
			continue;
		conn_send_reply(a, c, KVAP_MSG_WAIT_REPLY, p->waiters[i].req_id, &e);
		p->collected = true;
	}
	p->n_waiters = 0;
	if (p->is_init && a->ct && a->ct->spec.poweroff_on_exit) {
		if (p->collected)
			power_schedule(a, KVAP_SHUTDOWN_POWEROFF, 0);
		else if (a->power == POWER_NONE)
			power_schedule(a, KVAP_SHUTDOWN_POWEROFF, -POWEROFF_GRACE_MS);
	}
	if (p->collected && !p->is_init)
		proc_remove(a, p);
}

void proc_check_complete(struct agent *a, struct proc *p)
{
	static const int outputs[] = { KVAP_STREAM_STDOUT, KVAP_STREAM_STDERR, KVAP_STREAM_TTY };

	if (p->dead || p->complete || p->state != PROC_EXITED || p->reply_pending)
		return;
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		const struct pstream *s = &p->st[outputs[i]];
		if ((p->streams & KVAP_STREAM_BIT(outputs[i])) && s->attached && !s->done)
			return;
	}
	p->complete = true;
	adebug("pid %d complete (exec id '%s', status 0x%x)", (int)p->pid, p->exec_id, p->status);
	proc_answer_waiters(a, p);
}

/* One report from the child, and the descriptor that came with it (the
 * pty master with READY), close-on-exec. */
static ssize_t recv_report(int sock, struct child_report *r, int *fd)
{
	struct iovec iov = { .iov_base = r, .iov_len = sizeof(*r) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };

	*fd = -1;
	ssize_t n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *fd < 0)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

/* READY for a terminal process: its pty master becomes the tty stream's
 * descriptor (pumped at once if the host attached the stream already).
 * Takes fd; false when there is none or it is not a terminal. */
static bool attach_tty(struct agent *a, struct proc *p, int fd)
{
	struct pstream *s = &p->st[KVAP_STREAM_TTY];
	struct termios t;

	if (fd < 0)
		return false;
	if (s->io.fd >= 0 || tcgetattr(fd, &t) < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		close(fd);
		return false;
	}
	s->io.fd = fd;
	if (s->attached)
		pstream_service(a, s);
	return true;
}

/* START's reply once the init has gone through execve: the pid, or the
 * execve's error. */
static void start_answer(struct agent *a, struct proc *p, int errnum, const char *msg)
{
	if (!p->start_pending)
		return;
	p->start_pending = false;
	struct conn *c = conn_find(a, p->start_conn);
	if (!c)
		return;
	if (errnum) {
		conn_send_error(a, c, p->start_req, errnum, msg);
		return;
	}
	struct kvap_pid body = { .pid = (uint32_t)p->pid };
	conn_send_reply(a, c, KVAP_MSG_START_REPLY, p->start_req, &body);
}

/* The child's setup report: READY, a setup failure, an exec failure, or
 * EOF (a successful exec closed the pipe, or the child died). */
void proc_on_report(struct agent *a, struct watch *w, uint32_t events)
{
	struct proc *p = w->owner;
	struct child_report r;
	int fd = -1;
	ssize_t n = recv_report(w->fd, &r, &fd);

	if (p->dead || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	struct conn *c = p->reply_pending ? conn_find(a, p->reply_conn) : NULL;
	if (n == (ssize_t)sizeof(r) && r.stage == CHILD_READY && p->terminal && p->reply_pending) {
		bool got = attach_tty(a, p, fd);
		fd = -1;
		if (!got) { /* the child waits at the gate: it will not run */
			(void)kill(p->pid, SIGKILL);
			r = (struct child_report){ .stage = CHILD_SETUP_FAILED, .err = EIO };
			snprintf(r.msg, sizeof(r.msg),
				 "the terminal's pty did not reach the agent");
		}
	}
	if (fd >= 0)
		close(fd);
	if (n == (ssize_t)sizeof(r) && r.stage == CHILD_READY && p->reply_pending) {
		struct kvap_pid body = { .pid = (uint32_t)p->pid };
		p->reply_pending = false;
		if (p->state == PROC_SPAWNING)
			p->state = PROC_HELD;
		if (p->is_init && a->ct)
			container_init_ready(a, a->ct, p->pid);
		if (c)
			conn_send_reply(a, c, p->reply_type, p->reply_req, &body);
		proc_maybe_release(a, p);
		return;
	}
	if (n == (ssize_t)sizeof(r) && r.stage == CHILD_EXEC_FAILED) {
		r.msg[sizeof(r.msg) - 1] = '\0';
		r.msg[strcspn(r.msg, "\n")] = '\0';
		alog("pid %d (exec id '%s'): %s", (int)p->pid, p->exec_id, r.msg);
		start_answer(a, p, r.err > 0 ? r.err : EIO, r.msg);
		return;
	}
	watch_close(a, w);
	start_answer(a, p, 0, NULL); /* EOF: the execve succeeded (or the child died) */
	if (!p->reply_pending)
		return; /* exec'd (EOF) after READY */
	/* Setup failed or the child died before READY: the request fails and
	 * the process is forgotten once reaped. */
	p->reply_pending = false;
	p->collected = true;
	int errnum = EIO;
	const char *msg = "the process died while being set up";
	if (n == (ssize_t)sizeof(r) && r.stage == CHILD_SETUP_FAILED) {
		r.msg[sizeof(r.msg) - 1] = '\0';
		errnum = r.err > 0 ? r.err : EIO;
		msg = r.msg;
	}
	if (c)
		conn_send_error(a, c, p->reply_req, errnum, msg);
	adebug("pid %d: setup failed: %s", (int)p->pid, msg);
	if (p->is_init)
		req_container_failed(a);
	if (p->state == PROC_EXITED)
		proc_remove(a, p);
}

void proc_reap(struct agent *a)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		struct proc *p = a->procs;
		while (p && !(p->pid == pid && p->state != PROC_EXITED))
			p = p->next;
		if (!p)
			continue;
		p->state = PROC_EXITED;
		p->status = status;
		if (p->gate_fd >= 0) {
			close(p->gate_fd);
			p->gate_fd = -1;
		}
		adebug("pid %d exited (status 0x%x)", (int)pid, status);
		if (p->collected && !p->reply_pending) {
			proc_remove(a, p); /* setup failed: nobody waits for it */
			continue;
		}
		/* A stream the host never attached has nothing to forward now. */
		proc_check_complete(a, p);
	}
}
