/* vm-exec.c - `kvrun vm --exec`: the thread that runs the command.
 *
 * Owns: waiting for the agent (one CONNECT attempt at a time, so that the
 * VM stopping ends the wait at once), having it mount the shared
 * directories the caller named (MOUNT_FS), running the command as the guest's
 * init with the caller's stdio, and stopping the VM whenever it would not
 * power off by itself (agent never ready, a broken connection, a guest that
 * does not power off after the command). vmm_request_stop() is only called
 * under x->lock while the VM still exists. */
#include "vm-exec.h"

#include "agent-client.h"
#include "kvap-frame.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* How long the guest gets to power off once the command has exited. */
#define POWEROFF_GRACE_MS 30000
#define RETRY_MS	  50

struct vm_exec {
	struct vmm *vm; /* NULL once the VM is gone */
	pthread_mutex_t lock;
	int gone_efd; /* readable once vm_exec_vm_gone() ran */
	pthread_t thread;
	struct agent_dialer dialer;
	char *const *argv;
	const struct kvap_net_config *net;
	const struct vm_exec_mount *mounts;
	unsigned nmounts;
	int ready_timeout_ms;
	int result;
	struct kv_err err;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stop_vm(struct vm_exec *x)
{
	pthread_mutex_lock(&x->lock);
	if (x->vm)
		vmm_request_stop(x->vm);
	pthread_mutex_unlock(&x->lock);
}

/* Sleep up to ms; true when the VM went away meanwhile. */
static bool wait_gone(struct vm_exec *x, int ms)
{
	struct pollfd p = { .fd = x->gone_efd, .events = POLLIN };
	int64_t end = now_ms() + ms;

	for (;;) {
		int left = (int)(end - now_ms());
		if (left < 0)
			left = 0;
		int r = poll(&p, 1, left);
		if (r > 0)
			return true;
		if (r == 0)
			return false;
		if (errno != EINTR)
			return false;
	}
}

/* Until the agent accepts a connection on its control port. */
static int wait_ready(struct vm_exec *x)
{
	struct agent_dialer once = x->dialer;
	int64_t end = now_ms() + x->ready_timeout_ms;
	struct kv_err e = { 0 };

	once.timeout_ms = 0;	   /* one attempt */
	once.io_timeout_ms = 6000; /* the VMM answers a CONNECT within 5 s */
	for (;;) {
		int fd = agent_dial(&once, KVAP_PORT_CONTROL, &e);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (now_ms() >= end)
			return kv_errf(
			    &x->err, -ETIMEDOUT,
			    "the guest agent did not answer on %s within %d s (last: %s)",
			    x->dialer.path, x->ready_timeout_ms / 1000, e.msg);
		if (wait_gone(x, RETRY_MS))
			return kv_errf(&x->err, -ECANCELED,
				       "the VM stopped before the guest agent was ready");
	}
}

/* The guest's network, before the command starts. */
static int send_net(struct vm_exec *x)
{
	struct agent_client *c = NULL;
	struct kv_err e = { 0 };
	int r;

	if (!x->net || x->net->n_ifaces == 0)
		return 0;
	r = agent_client_connect(&x->dialer, &c, &e);
	if (r == 0)
		r = agent_client_net_config(c, x->net, &e);
	agent_client_free(c);
	if (r < 0)
		return kv_errf(&x->err, r, "configuring the guest's network: %s", e.msg);
	return 0;
}

/* MOUNT_FS each of x->mounts, in order, on one control connection. */
static int mount_all(struct vm_exec *x)
{
	struct agent_client *c;
	struct kv_err e = { 0 };
	int r = 0;

	if (x->nmounts == 0)
		return 0;
	if ((r = agent_client_connect(&x->dialer, &c, &x->err)) < 0)
		return r;
	for (unsigned i = 0; i < x->nmounts && r == 0; i++) {
		const struct vm_exec_mount *m = &x->mounts[i];
		r = agent_client_mount_fs(c, m->tag, m->mount_point, NULL, 0, &e);
		if (r < 0)
			kv_errf(&x->err, r, "mounting virtio-fs tag %s on %s in the guest: %s",
				m->tag, m->mount_point, e.msg);
	}
	agent_client_free(c);
	return r;
}

static void *exec_main(void *arg)
{
	struct vm_exec *x = arg;
	struct agent_run_opts opts = AGENT_RUN_OPTS_DEFAULT;
	int r;

	opts.poweroff = true;
	/* Confined before anything the guest says reaches this thread. */
	pthread_mutex_lock(&x->lock);
	struct vmm *vm = x->vm;
	pthread_mutex_unlock(&x->lock);
	struct kv_err e = { 0 };
	if (vm && (r = vmm_confine_thread(vm, VMM_ROLE_MONITOR, &e)) < 0) {
		x->result = kv_errf(&x->err, r, "%s", e.msg);
		stop_vm(x);
		return NULL;
	}
	r = wait_ready(x);
	if (r == 0)
		r = send_net(x);
	if (r == 0)
		r = mount_all(x);
	if (r == 0)
		r = agent_run_command(&x->dialer, x->argv, &opts, &x->err);
	x->result = r;
	if (r < 0) {
		stop_vm(x);
		return NULL;
	}
	/* The agent powers the guest off after its init exited. */
	if (!wait_gone(x, POWEROFF_GRACE_MS)) {
		fprintf(stderr,
			"kvrun vm: the guest did not power off within %d s of the "
			"command's exit; stopping it\n",
			POWEROFF_GRACE_MS / 1000);
		stop_vm(x);
	}
	return NULL;
}

int vm_exec_start(struct vmm *vm, const char *socket_path, char *const argv[],
		  const struct vm_exec_mount *mounts, unsigned n, int ready_timeout_ms,
		  const struct kvap_net_config *net, struct vm_exec **out, struct kv_err *err)
{
	struct vm_exec *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return kv_errf(err, -ENOMEM, "out of memory");
	x->vm = vm;
	x->argv = argv;
	x->net = net;
	x->mounts = mounts;
	x->nmounts = n;
	x->ready_timeout_ms = ready_timeout_ms;
	if ((r = agent_dialer_hybrid(&x->dialer, socket_path, err)) < 0) {
		free(x);
		return r;
	}
	x->gone_efd = eventfd(0, EFD_CLOEXEC);
	if (x->gone_efd < 0) {
		r = kv_errno(err, -errno, "eventfd");
		free(x);
		return r;
	}
	pthread_mutex_init(&x->lock, NULL);
	if ((r = pthread_create(&x->thread, NULL, exec_main, x)) != 0) {
		close(x->gone_efd);
		pthread_mutex_destroy(&x->lock);
		free(x);
		return kv_errno(err, -r, "cannot start the --exec thread");
	}
	(void)pthread_setname_np(x->thread, "kvrun-exec");
	*out = x;
	return 0;
}

void vm_exec_vm_gone(struct vm_exec *x)
{
	uint64_t one = 1;

	pthread_mutex_lock(&x->lock);
	x->vm = NULL;
	pthread_mutex_unlock(&x->lock);
	while (write(x->gone_efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

int vm_exec_finish(struct vm_exec *x, struct kv_err *err)
{
	pthread_join(x->thread, NULL);
	int r = x->result;
	if (r < 0 && err)
		*err = x->err;
	close(x->gone_efd);
	pthread_mutex_destroy(&x->lock);
	free(x);
	return r;
}
