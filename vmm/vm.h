/* vm.h - the VMM's internal machine object, shared by every vmm/ module.
 *
 * Owns: the definition of struct vmm (opaque to users of vmm.h) and the few
 * machine-wide services devices call: raising an IOAPIC line and requesting
 * that the VM stop. Construction order lives in vm.c (the builder), which
 * reads top to bottom as the boot sequence and unwinds in reverse. */
#ifndef KVRUN_VMM_VM_H
#define KVRUN_VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "evloop.h"
#include "memory.h"
#include "vmm.h"

struct vcpu;
struct irq_router;
struct pci_bus;
struct uart8250;
struct chardev;
struct virtio_dev;

struct vmm {
	const struct vmm_config *cfg;

	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;

	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct evloop loop; /* the device thread: vmm_run() drives it */

	struct irq_router *irq; /* GSI routing table and irqfds (irq.c) */
	struct pci_bus *pci;	/* host bridge, config space, BARs (pci/) */
	struct uart8250 *com1;
	struct chardev *serial_chr; /* COM1's backend (opened by the builder) */
	struct virtio_dev *console; /* virtio-console, owned by its PCI function; or NULL */

	unsigned ncpus;
	struct vcpu *vcpus;

	/* Confinement (vmm_run): each vCPU thread confines itself, then waits
	 * here until the device loop has confined itself too, so no guest
	 * instruction runs before every thread is filtered. */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cv;
	unsigned gate_arrived; /* vCPU threads confined (or failed) */
	bool gate_open;

	/* First reason recorded wins; see vm_request_exit(). */
	_Atomic int exit_reason; /* enum vmm_exit_reason */
	struct kv_err exit_err;	 /* filled with VMM_EXIT_ERROR */

	/* vmm_pause/vmm_resume (pause.c): while pause_req is 1 the vCPUs wait
	 * outside KVM_RUN (a futex on pause_req); parked counts them. */
	_Atomic int pause_req;
	_Atomic unsigned parked;
	pthread_mutex_t pause_lock; /* one pause or resume at a time */
};

/* pause.c: a vCPU thread that saw pause_req waits here until resumed or
 * the VM stops. */
void vm_vcpu_park(struct vmm *vm, struct vcpu *v);
/* pause.c: wake parked vCPUs because the VM stops; async-signal-safe. */
void vm_pause_wake_all(struct vmm *vm);

/* Record why the VM stops (the first caller wins), kick every vCPU out of
 * KVM_RUN and stop the device loop. Callable from any thread, including vCPU
 * threads and the loop itself; async-signal-safe. */
void vm_request_exit(struct vmm *vm, enum vmm_exit_reason why);

/* Stop the VM with a fatal VMM error (reason VMM_EXIT_ERROR, err filled
 * from fmt) unless another reason was recorded first. Not signal-safe. */
__attribute__((format(printf, 3, 4))) void vm_fail(struct vmm *vm, int code, const char *fmt, ...);

/* The builder (vm.c): build the machine described by cfg, in order, or
 * unwind what was built and fail. vm_teardown() undoes any prefix of it. */
int vm_build(const struct vmm_config *cfg, struct vmm **out, struct kv_err *err);
void vm_teardown(struct vmm *vm);

/* A vCPU thread arrives at the start gate (confined, or failed to be) and
 * waits until vmm_run opens it. */
void vm_gate_wait(struct vmm *vm);

/* Drive IOAPIC input gsi (0..LAYOUT_IOAPIC_PINS-1) high or low (KVM_IRQ_LINE). */
int vm_irq_line(struct vmm *vm, unsigned gsi, bool level);

#endif
