/* spawn.c - creating a process held before execve.
 *
 * Owns: checking the requested streams against the terminal flag, creating
 * the process's stdio (a pipe per announced stream, /dev/null for the rest;
 * a terminal's pty is opened by the child, in the container's devpts, and
 * its master comes back as the tty stream), the report socket and gate
 * pipe, and
 * the fork (in the container's pid namespace, ns.c). The child's side is
 * child.c; the rest of the life is proc.c.
 * The CREATE/EXEC reply is sent when the child reports it is set up. */
#include "agent.h"
#include "child.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

static void pstreams_init(struct proc *p)
{
	for (int k = 0; k < 4; k++) {
		p->st[k] = (struct pstream){ .p = p, .kind = (uint32_t)k };
		p->st[k].sock.fd = -1;
		p->st[k].io.fd = -1;
	}
}

/* Fill cfg->stdio / cfg->terminal and the agent's ends in p->st[].io. Child
 * ends are added to child_fds[] so the parent closes them after fork. */
static int make_stdio(struct proc *p, const struct kvap_process *spec, struct child_cfg *cfg,
		      int child_fds[5], struct kv_err *err)
{
	if (spec->terminal) {
		/* The child opens the pty where it runs and sends the master
		 * with READY (child.c, proc_on_report). */
		cfg->terminal = true;
		return 0;
	}
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return kv_errno(err, -errno, "/dev/null");
	child_fds[3] = devnull;
	for (int k = 0; k < 3; k++) {
		int fds[2];
		cfg->stdio[k] = devnull;
		if (!(p->streams & KVAP_STREAM_BIT(k)))
			continue;
		if (pipe2(fds, O_CLOEXEC) < 0)
			return kv_errno(err, -errno, "pipe");
		bool in = k == KVAP_STREAM_STDIN;
		p->st[k].io.fd = in ? fds[1] : fds[0];
		cfg->stdio[k] = child_fds[k] = in ? fds[0] : fds[1];
		if (fcntl(p->st[k].io.fd, F_SETFL, O_NONBLOCK) < 0)
			return kv_errno(err, -errno, "pipe O_NONBLOCK");
	}
	return 0;
}

static int check_streams(const struct kvap_process *spec, uint32_t streams, struct kv_err *err)
{
	uint32_t tty = KVAP_STREAM_BIT(KVAP_STREAM_TTY);

	if (streams & ~0xfu)
		return kv_errf(err, -EINVAL, "streams 0x%x: unknown stream kinds", streams);
	if (spec->terminal && streams != tty)
		return kv_errf(err, -EINVAL,
			       "a terminal process has exactly one stream, the tty (streams 0x%x)",
			       streams);
	if (!spec->terminal && (streams & tty))
		return kv_errf(err, -EINVAL, "a tty stream needs terminal set");
	if (!spec->n_args)
		return kv_errf(err, -EINVAL, "args is empty: no program to run");
	return 0;
}

int proc_spawn(struct agent *a, const char *exec_id, const struct kvap_process *spec,
	       uint32_t streams, const uint8_t token[KVAP_TOKEN_SIZE], const struct container *ct,
	       struct proc **out, struct kv_err *err)
{
	int child_fds[5] = { -1, -1, -1, -1, -1 }; /* closed in the parent after fork */
	int report[2] = { -1, -1 }, gate[2] = { -1, -1 };
	struct child_cfg cfg = {
		.spec = spec, .ct = ct, .init = !exec_id || !*exec_id, .run_dir = a->run_dir
	};
	int r;

	if ((r = check_streams(spec, streams, err)) < 0)
		return r;
	struct proc *p = calloc(1, sizeof(*p));
	if (!p || !(p->exec_id = strdup(exec_id ? exec_id : ""))) {
		free(p);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	p->is_init = !*p->exec_id;
	p->terminal = spec->terminal;
	p->streams = streams;
	p->started = !p->is_init;
	p->gate_fd = -1;
	p->report = (struct watch){ .fd = -1, .fn = NULL, .owner = p };
	memcpy(p->token, token, KVAP_TOKEN_SIZE);
	pstreams_init(p);

	if ((r = make_stdio(p, spec, &cfg, child_fds, err)) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, report) < 0 ||
	    pipe2(gate, O_CLOEXEC) < 0) {
		r = kv_errno(err, -errno, "the report socket and gate pipe");
		goto fail;
	}
	cfg.report_fd = report[1];
	cfg.gate_fd = gate[0];
	pid_t pid = ns_fork(a, ct, cfg.init);
	if (pid < 0) {
		r = kv_errno(err, -errno, "fork%s",
			     ct && ct->isolated ? " (in the container's pid namespace)" : "");
		goto fail;
	}
	if (pid == 0)
		child_main(&cfg);

	close_fds(child_fds, 5);
	close(report[1]);
	close(gate[0]);
	p->pid = pid;
	p->state = PROC_SPAWNING;
	p->gate_fd = gate[1];
	p->report = (struct watch){ .fd = report[0], .fn = proc_on_report, .owner = p };
	(void)fcntl(report[0], F_SETFL, O_NONBLOCK);
	p->next = a->procs;
	a->procs = p;
	if (watch_set(a, &p->report, EPOLLIN) < 0)
		alog("cannot watch pid %d's setup", (int)pid);
	adebug("pid %d forked (exec id '%s', streams 0x%x)", (int)pid, p->exec_id, streams);
	*out = p;
	return 0;

fail:
	close_fds(child_fds, 5);
	close_fds(report, 2);
	close_fds(gate, 2);
	for (int k = 0; k < 4; k++)
		if (p->st[k].io.fd >= 0)
			close(p->st[k].io.fd);
	free(p->exec_id);
	free(p);
	return r;
}
