/* cpuid.h - the CPUID a vCPU shows its guest.
 *
 * Owns: fetching what KVM supports (KVM_GET_SUPPORTED_CPUID) and shaping it
 * per vCPU: APIC IDs and the topology leaves for N vCPUs (one core each, one
 * package), the hypervisor bit, the TSC-deadline timer the in-kernel LAPIC
 * emulates, and the KVM paravirtual leaves (0x40000000+, kept so the guest
 * uses kvm-clock) plus the 0x40000010 timing leaf (TSC and APIC bus
 * frequency). cpuid_patch() is pure and unit-tested. */
#ifndef KVRUN_VMM_CPUID_H
#define KVRUN_VMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

/* Room for the timing leaf cpuid_patch() may add. */
#define CPUID_EXTRA_ENTRIES 1

/* KVM_GET_SUPPORTED_CPUID into a malloc'ed table with CPUID_EXTRA_ENTRIES
 * spare slots (nent counts only the filled ones). */
int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out);

struct cpuid_params {
	unsigned vcpu_id; /* also its APIC ID */
	unsigned ncpus;
	bool tsc_deadline; /* KVM_CAP_TSC_DEADLINE_TIMER */
	uint32_t tsc_khz;  /* 0: unknown, no timing leaf */
};

/* Shape a copy of the supported table for one vCPU. The table must have
 * CPUID_EXTRA_ENTRIES spare slots after nent. */
void cpuid_patch(struct kvm_cpuid2 *c, const struct cpuid_params *p);

/* The XCR0 that enables every XSAVE state component c offers the guest
 * (leaf 0xD sub-leaf 0, EDX:EAX), or 0 when c has no XSAVE (leaf 1 ECX). */
uint64_t cpuid_xcr0(struct kvm_cpuid2 *c);

/* The entry for function/index, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

#endif
