/* vmm.c - the public API in vmm.h over the builder (vm.c) and vCPUs (vcpu.c).
 *
 * Owns: the VM's run phase: starting the vCPU threads with process signals
 * blocked in them, running the device loop on the caller's thread until the
 * VM stops, joining the vCPUs, and reporting why it stopped. */
#include "vmm.h"
#include "devices/chardev.h"
#include "devices/uart8250.h"
#include "sandbox.h"
#include "vcpu.h"
#include "virtio/virtio_devs.h"
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

int vmm_create(const struct vmm_config *cfg, struct vmm **out, struct kv_err *err)
{
	return vm_build(cfg, out, err);
}

static int start_vcpus(struct vmm *vm)
{
	sigset_t all, old;
	int r = 0;

	/* Threads inherit this mask: process signals (SIGTERM, SIGINT, ...)
	 * then reach the loop thread, never a vCPU. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < vm->ncpus && r == 0; i++)
		r = vcpu_start(&vm->vcpus[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

void vm_gate_wait(struct vmm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->gate_arrived++;
	pthread_cond_broadcast(&vm->gate_cv);
	while (!vm->gate_open)
		pthread_cond_wait(&vm->gate_cv, &vm->gate_lock);
	pthread_mutex_unlock(&vm->gate_lock);
}

static void open_gate(struct vmm *vm)
{
	pthread_mutex_lock(&vm->gate_lock);
	vm->gate_open = true;
	pthread_cond_broadcast(&vm->gate_cv);
	pthread_mutex_unlock(&vm->gate_lock);
}

/* After set-up, before the first guest instruction: every vCPU thread has
 * confined itself and waits at the gate; the jail loses what only set-up
 * needed; then this thread (the device loop) confines itself and opens the
 * gate. A failure stops the VM before it runs. */
static int confine(struct vmm *vm, unsigned started)
{
	struct kv_err e = { 0 };
	int r;

	pthread_mutex_lock(&vm->gate_lock);
	while (vm->gate_arrived < started)
		pthread_cond_wait(&vm->gate_cv, &vm->gate_lock);
	pthread_mutex_unlock(&vm->gate_lock);
	r = jail_trim(&e);
	if (r == 0)
		r = sandbox_confine(vm, VMM_ROLE_DEVICE, -1, &e);
	if (r < 0)
		vm_fail(vm, r, "%s", e.msg);
	open_gate(vm);
	return r;
}

int vmm_run(struct vmm *vm, enum vmm_exit_reason *why, struct kv_err *err)
{
	bool sandbox = vm->cfg->sandbox.seccomp || vm->cfg->sandbox.drop_caps;
	unsigned started = 0;
	int r;

	r = vcpu_install_kick_handler();
	if (r < 0)
		vm_fail(vm, r, "cannot install the vCPU kick signal handler");
	if (r == 0 && vm->com1 && (r = uart8250_start_input(vm->com1)) < 0)
		vm_fail(vm, r, "cannot watch the serial console's input: %s", strerror(-r));
	if (r == 0 && (r = start_vcpus(vm)) < 0)
		vm_fail(vm, r, "cannot start a vCPU thread: %s", strerror(-r));
	for (unsigned i = 0; i < vm->ncpus; i++)
		started += atomic_load(&vm->vcpus[i].started);
	if (sandbox && confine(vm, started) < 0)
		r = -1;
	else if (!sandbox)
		open_gate(vm);
	if (r == 0) {
		r = evloop_run(&vm->loop);
		if (r < 0)
			vm_fail(vm, r, "device event loop failed: %s", strerror(-r));
	}
	/* Whatever ended the loop, make sure every vCPU leaves and join them. */
	vm_request_exit(vm, VMM_EXIT_ERROR);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(&vm->vcpus[i]);

	*why = (enum vmm_exit_reason)atomic_load(&vm->exit_reason);
	if (*why == VMM_EXIT_ERROR) {
		if (err)
			*err = vm->exit_err;
		return vm->exit_err.code ? vm->exit_err.code : -EIO;
	}
	return 0;
}

void vmm_request_stop(struct vmm *vm)
{
	if (vm)
		vm_request_exit(vm, VMM_EXIT_STOPPED);
}

const char *vmm_pty_path(const struct vmm *vm, bool serial)
{
	if (!serial)
		return vm->console ? virtio_console_pty_path(vm->console) : NULL;
	return vm->serial_chr ? chardev_pty_path(vm->serial_chr) : NULL;
}

void vmm_destroy(struct vmm *vm)
{
	vm_teardown(vm);
}
