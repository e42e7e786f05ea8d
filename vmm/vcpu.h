/* vcpu.h - virtual CPUs: creation, the run loop, kicking and joining.
 *
 * Owns: each vCPU's fd and kvm_run mapping, its CPUID and MSRs, the BSP's
 * boot registers, and one thread per vCPU running KVM_RUN in a loop that
 * dispatches exits (port I/O and MMIO to the VM's buses, shutdown and system
 * events to vm_request_exit, KVM errors to a VMM error with details). The
 * secondary vCPUs need no set-up: with the in-kernel LAPIC they start in
 * KVM_MP_STATE_UNINITIALIZED and the guest wakes them with INIT/SIPI.
 *
 * Stopping: vcpu_kick() sets kvm_run.immediate_exit and sends the thread
 * VCPU_KICK_SIGNAL, so a vCPU inside KVM_RUN returns with EINTR and one about
 * to enter returns at once; the loop then sees the VM's exit reason and ends. */
#ifndef KVRUN_VMM_VCPU_H
#define KVRUN_VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct vmm;

/* A real-time signal, so it does not collide with the runtime's signals. */
#define VCPU_KICK_SIGNAL (SIGRTMIN + 4)

struct vcpu {
	struct vmm *vm;
	unsigned id; /* also the APIC ID */
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	_Atomic bool started;
};

/* Create vCPU id: fd, kvm_run mapping, CPUID (from supported, shaped for
 * this vCPU) and MSRs. On failure v->fd is -1 and nothing is left behind. */
int vcpu_create(struct vcpu *v, struct vmm *vm, unsigned id, const struct kvm_cpuid2 *supported,
		bool tsc_deadline, struct kv_err *err);

/* Registers for the Linux 64-bit entry (the BSP only). */
int vcpu_setup_boot(struct vcpu *v, uint64_t entry, uint64_t zero_page, struct kv_err *err);

/* Install the process-wide handler for VCPU_KICK_SIGNAL (idempotent). */
int vcpu_install_kick_handler(void);

/* Start the vCPU thread. Call with every signal blocked: the thread
 * unblocks only VCPU_KICK_SIGNAL, so process signals go elsewhere. */
int vcpu_start(struct vcpu *v);

/* Make the vCPU leave KVM_RUN now. Async-signal-safe. */
void vcpu_kick(struct vcpu *v);

void vcpu_join(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);

#endif
