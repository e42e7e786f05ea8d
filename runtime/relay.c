/* relay.c - see relay.h. */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "console.h"
#include "sync.h"
#include "vmm.h"

static const int forwarded[] = { SIGHUP,    SIGINT,  SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
				 SIGCONT,   SIGTSTP, SIGTTIN, SIGTTOU, SIGURG,	SIGXCPU, SIGXFSZ,
				 SIGVTALRM, SIGPROF, SIGIO,   SIGPWR,  SIGWINCH };

uint32_t stdio_streams(void)
{
	uint32_t streams = 0;
	struct stat st;

	for (int k = 0; k < 3; k++) {
		if (fstat(k, &st) < 0)
			continue;
		if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
			continue; /* /dev/null */
		streams |= KVAP_STREAM_BIT(k);
	}
	return streams;
}

void relay_sigset(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

static struct agent_client *client(struct relay *r)
{
	struct kv_err err = { 0 };

	if (r->c)
		return r->c;
	if (agent_client_connect(&r->dialer, &r->c, &err) < 0) {
		kvrun_debug(r->g, "relay: cannot reach the guest agent: %s", err.msg);
		r->c = NULL;
	}
	return r->c;
}

static void drop_client(struct relay *r)
{
	agent_client_free(r->c);
	r->c = NULL;
}

static void on_signal(struct relay *r, int sig)
{
	struct kv_err err = { 0 };
	struct agent_client *c;
	int e;

	if (sig == SIGWINCH) {
		uint16_t rows, cols;
		if (r->tty_fd < 0)
			return;
		console_size(r->tty_fd, &rows, &cols);
		if (!rows || !cols || !(c = client(r)))
			return;
		e = agent_client_resize(c, r->exec_id, rows, cols, &err);
	} else {
		if (!(c = client(r)))
			return;
		e = agent_client_signal(c, r->exec_id, sig, false, &err);
	}
	if (e < 0 && e != -ESRCH && e != -ENOENT) {
		kvrun_debug(r->g, "relay: signal %d: %s", sig, err.msg);
		if (e == -ECONNRESET || e == -ETIMEDOUT || e == -EPIPE)
			drop_client(r);
	}
}

static void on_ctl(struct relay *r)
{
	char req[SYNC_MSG_MAX], reply[SYNC_MSG_MAX];
	int fd = accept4(r->ctl_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (sync_recv(fd, req, sizeof(req), 5000) == 0) {
		reply[0] = '\0';
		int e = r->ctl_handle(r->opaque, req, reply, sizeof(reply));
		if (e < 0 && !reply[0])
			snprintf(reply, sizeof(reply), "error %s", strerror(-e));
		else if (e == 0 && !reply[0])
			snprintf(reply, sizeof(reply), "ok");
		(void)sync_send(fd, "%s", reply);
	}
	close(fd);
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct kv_err err = { 0 };

	/* In a VMM process: confined before the first agent reply is read. */
	if (r->vm && vmm_confine_thread(r->vm, VMM_ROLE_MONITOR, &err) < 0) {
		kvrun_error(r->g, "relay: %s", err.msg);
		return NULL;
	}
	/* Prepared ahead (relay_prepare): wait for relay_go, or the end. */
	while (r->go_fd >= 0) {
		struct pollfd p[2] = { { r->quit_fd, POLLIN, 0 }, { r->go_fd, POLLIN, 0 } };
		int n = poll(p, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[0].revents)
			return NULL;
		if (p[1].revents)
			break;
	}
	for (;;) {
		struct pollfd p[3] = { { r->quit_fd, POLLIN, 0 },
				       { r->sig_fd, POLLIN, 0 },
				       { r->ctl_fd, POLLIN, 0 } };
		int n = poll(p, r->ctl_fd >= 0 ? 3 : 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[0].revents)
			break;
		if (p[1].revents) {
			struct signalfd_siginfo si;
			if (read(r->sig_fd, &si, sizeof(si)) == sizeof(si))
				on_signal(r, (int)si.ssi_signo);
		}
		if (r->ctl_fd >= 0 && p[2].revents)
			on_ctl(r);
	}
	return NULL;
}

static int start(struct relay *r, bool deferred, struct kv_err *err)
{
	sigset_t set;
	int e;

	relay_sigset(&set);
	r->c = NULL;
	r->running = false;
	r->go_fd = -1;
	r->sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (r->sig_fd < 0)
		return kv_errno(err, -errno, "signalfd");
	r->quit_fd = eventfd(0, EFD_CLOEXEC);
	if (r->quit_fd < 0 || (deferred && (r->go_fd = eventfd(0, EFD_CLOEXEC)) < 0)) {
		e = -errno;
		close(r->sig_fd);
		if (r->quit_fd >= 0)
			close(r->quit_fd);
		return kv_errno(err, e, "eventfd");
	}
	if ((e = pthread_create(&r->thread, NULL, relay_main, r)) != 0) {
		close(r->sig_fd);
		close(r->quit_fd);
		if (r->go_fd >= 0)
			close(r->go_fd);
		return kv_errno(err, -e, "cannot start the signal relay thread");
	}
	r->running = true;
	return 0;
}

int relay_start(struct relay *r, struct kv_err *err)
{
	return start(r, false, err);
}

int relay_prepare(struct relay *r, struct kv_err *err)
{
	return start(r, true, err);
}

void relay_go(struct relay *r)
{
	uint64_t one = 1;

	if (r->running && r->go_fd >= 0)
		while (write(r->go_fd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
}

void relay_stop(struct relay *r)
{
	uint64_t one = 1;

	if (!r->running)
		return;
	while (write(r->quit_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(r->thread, NULL);
	close(r->quit_fd);
	close(r->sig_fd);
	if (r->go_fd >= 0)
		close(r->go_fd);
	r->go_fd = -1;
	agent_client_free(r->c);
	r->c = NULL;
	r->running = false;
}
