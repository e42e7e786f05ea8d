/* hooks.c - see hooks.h. */
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

/* A hook may exit without reading its stdin: the write then fails with EPIPE
 * instead of killing the caller with SIGPIPE (blocked around the write, and
 * the one it raised in this thread taken back). */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t w = write(fd, buf, len);
	int saved = errno;
	if (w < 0 && saved == EPIPE && !sigismember(&old, SIGPIPE) && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE))
		(void)sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w;
}

#define HOOK_OUT_MAX 4096

extern char **environ;

struct capture {
	char buf[HOOK_OUT_MAX + 1];
	size_t len;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(int fd, struct capture *c, bool *open)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		*open = false;
		return;
	}
	size_t keep = (size_t)n;
	if (keep > HOOK_OUT_MAX - c->len)
		keep = HOOK_OUT_MAX - c->len;
	memcpy(c->buf + c->len, tmp, keep);
	c->len += keep;
	c->buf[c->len] = '\0';
}

static void trim(struct capture *c)
{
	while (c->len && (c->buf[c->len - 1] == '\n' || c->buf[c->len - 1] == ' '))
		c->buf[--c->len] = '\0';
}

static int run_one(const char *kind, size_t idx, const struct oci_hook *h, const char *state,
		   struct kv_err *err)
{
	int in[2], out[2], errp[2];
	struct capture co = { .len = 0 }, ce = { .len = 0 };

	if (pipe2(in, O_CLOEXEC) < 0)
		return kv_errno(err, -errno, "hook %s[%zu]: pipe", kind, idx);
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return kv_errno(err, -errno, "hook %s[%zu]: pipe", kind, idx);
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return kv_errno(err, -errno, "hook %s[%zu]: pipe", kind, idx);
	}
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)
			_exit(127);
		char *def[] = { h->path, NULL };
		char **argv = h->n_args ? h->args : def;
		char **envp = h->n_env ? h->env : environ;
		execve(h->path, argv, envp);
		dprintf(2, "exec %s: %s", h->path, strerror(errno));
		_exit(127);
	}
	int fork_errno = errno;
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		close(errp[0]);
		return kv_errno(err, -fork_errno, "hook %s[%zu] %s: fork", kind, idx, h->path);
	}
	/* The state goes in while the outputs are read, so a hook that writes
	 * before reading cannot block us. */
	(void)fcntl(in[1], F_SETFL, O_NONBLOCK);
	const char *sp = state;
	size_t sleft = strlen(state);
	bool o_open = true, e_open = true, in_open = true;
	int64_t deadline = h->timeout ? now_ms() + (int64_t)h->timeout * 1000 : 0;
	bool timed_out = false;
	while (o_open || e_open) {
		struct pollfd p[3] = { { out[0], POLLIN, 0 },
				       { errp[0], POLLIN, 0 },
				       { in[1], POLLOUT, 0 } };
		int ms = -1;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				timed_out = true;
				break;
			}
			ms = (int)left;
		}
		if (!o_open)
			p[0].fd = -1;
		if (!e_open)
			p[1].fd = -1;
		if (!in_open)
			p[2].fd = -1;
		int n = poll(p, 3, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (p[0].revents)
			drain(out[0], &co, &o_open);
		if (p[1].revents)
			drain(errp[0], &ce, &e_open);
		if (in_open && p[2].revents) {
			ssize_t w =
			    (p[2].revents & POLLOUT) ? write_nosigpipe(in[1], sp, sleft) : -1;
			if (w > 0) {
				sp += w;
				sleft -= (size_t)w;
			}
			if (sleft == 0 || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(in[1]);
				in_open = false;
			}
		}
	}
	if (in_open)
		close(in[1]);
	close(out[0]);
	close(errp[0]);
	if (timed_out) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	int status = 0;
	while (!timed_out && deadline) {
		/* Outputs closed, but the hook may not have exited yet. */
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			goto reaped;
		if (w < 0 && errno != EINTR)
			break;
		if (now_ms() >= deadline) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
reaped:
	trim(&co);
	trim(&ce);
	if (timed_out)
		return kv_errf(err, -ETIMEDOUT, "hook %s[%zu] %s: timed out after %u s", kind, idx,
			       h->path, h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	char how[64];
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	return kv_errf(err, -EIO, "hook %s[%zu] %s failed: %s%s%s%s%s", kind, idx, h->path, how,
		       co.len ? ", stdout: " : "", co.buf, ce.len ? ", stderr: " : "", ce.buf);
}

int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
	      struct kv_err *err)
{
	for (size_t i = 0; i < cfg->n_hooks[kind]; i++) {
		int r = run_one(oci_hook_name(kind), i, &cfg->hooks[kind][i], state_json, err);
		if (r < 0)
			return r;
	}
	return 0;
}
