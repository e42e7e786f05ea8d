/* kvm.h - /dev/kvm and the VM file descriptor.
 *
 * Owns: opening /dev/kvm with a message that says what to do when it is
 * missing or not permitted, checking the API version and every capability
 * the VMM relies on (naming the missing one), creating the VM, KVM's private
 * pages (TSS and identity map, at layout.h addresses), the in-kernel
 * interrupt controllers (LAPIC per vCPU, IOAPIC, PIC) and, when asked, the
 * in-kernel PIT. */
#ifndef KVRUN_VMM_KVM_H
#define KVRUN_VMM_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct kvm_info {
	int vcpu_mmap_size;  /* KVM_GET_VCPU_MMAP_SIZE */
	unsigned max_vcpus;  /* KVM_CAP_MAX_VCPUS (or NR_VCPUS) */
	bool tsc_deadline;   /* KVM_CAP_TSC_DEADLINE_TIMER */
	bool immediate_exit; /* KVM_CAP_IMMEDIATE_EXIT */
};

/* Open /dev/kvm (O_CLOEXEC), check the API version and capabilities. */
int kvm_open(int *kvm_fd, struct kvm_info *info, struct kv_err *err);

/* Create the VM and place KVM's TSS and identity-map pages. The returned fd
 * is O_CLOEXEC (KVM creates it so). */
int kvm_create_vm(int kvm_fd, int *vm_fd, struct kv_err *err);

/* The in-kernel IRQ chip (a LAPIC per vCPU, IOAPIC, PIC) and, when with_pit,
 * the i8254 PIT. Must precede vCPU creation. */
int kvm_create_irqchip(int vm_fd, bool with_pit, struct kv_err *err);

#endif
