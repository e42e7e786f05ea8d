/* req-proc.c - the process requests: CREATE, START, EXEC, SIGNAL, WAIT,
 * RESIZE.
 *
 * Owns: the container record (one per VM: CREATE stores its spec for the
 * container's life), the checks each request makes (container id, exec id
 * unique, process known and alive), and which reply each one gets. CREATE
 * and EXEC are answered by proc.c once the child has set itself up; WAIT
 * when the process is complete. Before any CREATE, EXEC runs processes in
 * the VM's own root with the given container id accepted as is: that is
 * what `kvrun vm --exec` uses on a bare VM. */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

void req_container_failed(struct agent *a)
{
	container_free(a, a->ct);
	a->ct = NULL;
}

static int check_container(struct agent *a, const char *id, struct kv_err *err)
{
	if (a->ct && strcmp(a->ct->spec.container_id, id) != 0)
		return kv_errf(err, -ENOENT, "no container '%s' (this VM runs '%s')", id,
			       a->ct->spec.container_id);
	return 0;
}

static struct proc *find_live(struct agent *a, const char *exec_id, struct kv_err *err, int *r)
{
	struct proc *p = proc_find(a, exec_id);

	if (!p || p->collected) {
		*r = kv_errf(err, -ENOENT, "no process '%s'",
			     exec_id && *exec_id ? exec_id : "(init)");
		return NULL;
	}
	return p;
}

int req_create(struct agent *a, struct conn *c, uint32_t id, struct kvap_create *b,
	       struct kv_err *err)
{
	struct proc *p;
	int r;

	if (a->ct)
		return kv_errf(err, -EEXIST, "container '%s' already exists",
			       a->ct->spec.container_id);
	if (proc_find(a, ""))
		return kv_errf(err, -EEXIST, "an init process already exists");
	struct container *ct = calloc(1, sizeof(*ct));
	if (!ct)
		return -ENOMEM;
	ct->spec = *b; /* take ownership: the dispatcher frees a zeroed body */
	memset(b, 0, sizeof(*b));
	if ((r = container_prepare(a, ct, err)) < 0) {
		container_free(a, ct);
		return r;
	}
	r = proc_spawn(a, "", &ct->spec.process, ct->spec.streams, ct->spec.stream_token, ct, &p,
		       err);
	if (r < 0) {
		container_free(a, ct);
		return r;
	}
	a->ct = ct;
	p->reply_pending = true;
	p->reply_conn = c->serial;
	p->reply_req = id;
	p->reply_type = KVAP_MSG_CREATE_REPLY;
	return 0;
}

int req_start(struct agent *a, struct conn *c, uint32_t id, struct kvap_start *b,
	      struct kv_err *err)
{
	int r;

	if (!a->ct)
		return kv_errf(err, -ENOENT, "no container: CREATE first");
	if ((r = check_container(a, b->container_id, err)) < 0)
		return r;
	struct proc *p = proc_find(a, "");
	if (!p)
		return kv_errf(err, -ENOENT, "the container has no init");
	if (p->started)
		return kv_errf(err, -EALREADY, "container '%s' was already started",
			       b->container_id);
	if (p->reply_pending)
		return kv_errf(err, -EBUSY, "the init is still being set up");
	p->started = true;
	if (p->report.fd < 0 || p->state == PROC_EXITED) {
		/* Nothing left to exec: the init died while held. WAIT tells. */
		struct kvap_pid reply = { .pid = (uint32_t)p->pid };
		conn_send_reply(a, c, KVAP_MSG_START_REPLY, id, &reply);
		return 0;
	}
	/* The reply waits for the init's execve (proc_on_report): once START
	 * returns, the container's process is the program, never the agent's
	 * copy about to exec, for EXEC, PS or SIGNAL that follow. */
	p->start_pending = true;
	p->start_conn = c->serial;
	p->start_req = id;
	proc_maybe_release(a, p);
	return 0;
}

int req_exec(struct agent *a, struct conn *c, uint32_t id, struct kvap_exec *b, struct kv_err *err)
{
	struct proc *p;
	int r;

	if ((r = check_container(a, b->container_id, err)) < 0)
		return r;
	if (!b->exec_id || !*b->exec_id)
		return kv_errf(err, -EINVAL, "EXEC needs a non-empty exec id");
	if (proc_find(a, b->exec_id))
		return kv_errf(err, -EEXIST, "exec id '%s' is in use", b->exec_id);
	if (a->ct && a->ct->isolated) {
		struct proc *init = proc_find(a, "");
		if (!init || init->reply_pending)
			return kv_errf(err, -EBUSY, "the container's init is still being set up");
		if (init->state == PROC_EXITED)
			return kv_errf(err, -ESRCH, "container '%s' has stopped: its init exited",
				       b->container_id);
	}
	r = proc_spawn(a, b->exec_id, &b->process, b->streams, b->stream_token, a->ct, &p, err);
	if (r < 0)
		return r;
	p->reply_pending = true;
	p->reply_conn = c->serial;
	p->reply_req = id;
	p->reply_type = KVAP_MSG_EXEC_REPLY;
	return 0;
}

int req_signal(struct agent *a, struct conn *c, uint32_t id, struct kvap_signal *b,
	       struct kv_err *err)
{
	struct kvap_empty reply = { 0 };
	int r = 0;

	if (b->signal >= (uint32_t)NSIG)
		return kv_errf(err, -EINVAL, "signal %u out of range", b->signal);
	if (b->all) {
		if (a->ct && a->ct->cg) {
			/* Every process of the container, wherever it forked to. */
			if ((r = cgroup_signal(a->ct->cg, (int)b->signal)) < 0)
				return kv_errno(err, r, "signalling the container's cgroup");
		} else if (a->init_mode) {
			/* From PID 1, -1 is every process but the agent: the container. */
			if (kill(-1, (int)b->signal) < 0 && errno != ESRCH)
				return kv_errno(err, -errno, "kill(-1, %u)", b->signal);
		} else {
			proc_kill_all(a, (int)b->signal);
		}
		conn_send_reply(a, c, KVAP_MSG_SIGNAL_REPLY, id, &reply);
		return 0;
	}
	struct proc *p = find_live(a, b->exec_id, err, &r);
	if (!p)
		return r;
	if (p->state == PROC_EXITED)
		return kv_errf(err, -ESRCH, "process %d has exited", (int)p->pid);
	if (kill(p->pid, (int)b->signal) < 0)
		return kv_errno(err, -errno, "kill(%d, %u)", (int)p->pid, b->signal);
	conn_send_reply(a, c, KVAP_MSG_SIGNAL_REPLY, id, &reply);
	return 0;
}

int req_wait(struct agent *a, struct conn *c, uint32_t id, struct kvap_wait *b, struct kv_err *err)
{
	int r = 0;
	struct proc *p = find_live(a, b->exec_id, err, &r);

	if (!p) {
		/* The init's status stays collectable. */
		p = proc_find(a, b->exec_id);
		if (!p || !p->is_init)
			return r;
	}
	struct waiter *w = realloc(p->waiters, (p->n_waiters + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	p->waiters = w;
	p->waiters[p->n_waiters++] = (struct waiter){ .conn = c->serial, .req_id = id };
	if (p->complete)
		proc_answer_waiters(a, p);
	return 0;
}

int req_resize(struct agent *a, struct conn *c, uint32_t id, struct kvap_resize *b,
	       struct kv_err *err)
{
	int r = 0;
	struct proc *p = find_live(a, b->exec_id, err, &r);

	if (!p)
		return r;
	if (!p->terminal || p->st[KVAP_STREAM_TTY].io.fd < 0)
		return kv_errf(err, -ENOTTY, "process %d has no terminal", (int)p->pid);
	struct winsize ws = { .ws_row = b->size.rows, .ws_col = b->size.cols };
	if (ioctl(p->st[KVAP_STREAM_TTY].io.fd, TIOCSWINSZ, &ws) < 0)
		return kv_errno(err, -errno, "TIOCSWINSZ");
	struct kvap_empty reply = { 0 };
	conn_send_reply(a, c, KVAP_MSG_RESIZE_REPLY, id, &reply);
	return 0;
}
