/* pause.c - vmm_pause() and vmm_resume(): stopping every vCPU and letting
 * them go again.
 *
 * Owns: the pause handshake. vmm_pause() sets pause_req, kicks each vCPU
 * out of KVM_RUN and waits until every started vCPU has parked; a parked
 * vCPU tells the guest's kvmclock it was stopped (KVM_KVMCLOCK_CTRL, so the
 * guest's watchdogs do not count the pause as a lockup) and sleeps on a
 * futex on pause_req. vmm_resume() clears pause_req and wakes them. The
 * device loop keeps running throughout: host-side I/O completes, the guest
 * just does not run. A VM that stops while paused wakes its vCPUs through
 * vm_pause_wake_all(), which only does atomic stores and a futex wake and
 * so is async-signal-safe like vm_request_exit(). */
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAUSE_TIMEOUT_MS 5000

static void futex_wait(_Atomic int *addr, int val)
{
	(void)syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *addr)
{
	(void)syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void vm_vcpu_park(struct vmm *vm, struct vcpu *v)
{
	/* The kick that brought us here left immediate_exit set; clear it
	 * before re-checking exit_reason, so a stop request that kicks after
	 * this point is still seen (the loop checks exit_reason next). */
	if (v->run)
		v->run->immediate_exit = 0;
	(void)ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0); /* EINVAL without a guest kvmclock */
	atomic_fetch_add(&vm->parked, 1);
	while (atomic_load(&vm->pause_req) && atomic_load(&vm->exit_reason) == VMM_EXIT_NONE)
		futex_wait(&vm->pause_req, 1);
	atomic_fetch_sub(&vm->parked, 1);
}

void vm_pause_wake_all(struct vmm *vm)
{
	atomic_store(&vm->pause_req, 0);
	futex_wake(&vm->pause_req);
}

static unsigned started_vcpus(struct vmm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		n += atomic_load(&vm->vcpus[i].started) ? 1 : 0;
	return n;
}

int vmm_pause(struct vmm *vm, struct kv_err *err)
{
	struct timespec tick = { 0, 1000000 };
	int r = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (atomic_load(&vm->exit_reason) != VMM_EXIT_NONE) {
		r = kv_errf(err, -ESRCH, "the VM is stopping");
		goto out;
	}
	atomic_store(&vm->pause_req, 1);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (int waited = 0; atomic_load(&vm->parked) < started_vcpus(vm); waited++) {
		if (atomic_load(&vm->exit_reason) != VMM_EXIT_NONE) {
			r = kv_errf(err, -ESRCH, "the VM stopped while pausing");
			goto out;
		}
		if (waited >= PAUSE_TIMEOUT_MS) {
			vm_pause_wake_all(vm);
			r = kv_errf(err, -ETIMEDOUT, "the vCPUs did not stop within %d ms",
				    PAUSE_TIMEOUT_MS);
			goto out;
		}
		nanosleep(&tick, NULL);
	}
out:
	pthread_mutex_unlock(&vm->pause_lock);
	return r;
}

int vmm_resume(struct vmm *vm, struct kv_err *err)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm_pause_wake_all(vm);
	pthread_mutex_unlock(&vm->pause_lock);
	(void)err;
	return 0;
}

bool vmm_paused(struct vmm *vm)
{
	return atomic_load(&vm->pause_req) != 0;
}
