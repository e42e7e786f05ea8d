/* cpuid.c - see cpuid.h. */
#include "cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define LEAF_KVM_BASE	 0x40000000u
#define LEAF_KVM_TIMING	 0x40000010u
#define KVM_APIC_BUS_KHZ 1000000u /* the in-kernel LAPIC timer counts at 1 GHz */

#define L1_EBX_APIC_ID_SHIFT  24
#define L1_EBX_NLOGICAL_SHIFT 16
#define L1_ECX_TSC_DEADLINE   (1u << 24)
#define L1_ECX_XSAVE	      (1u << 26)
#define L1_ECX_HYPERVISOR     (1u << 31)
#define L1_EDX_HTT	      (1u << 28)
#define EXT1_ECX_CMP_LEGACY   (1u << 1)

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c =
		    calloc(1, sizeof(*c) + (n + CPUID_EXTRA_ENTRIES) * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int r = -errno;
		free(c);
		if (r != -E2BIG)
			return r;
	}
	return -E2BIG;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

uint64_t cpuid_xcr0(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *l1 = cpuid_find(c, 0x1, 0), *d = cpuid_find(c, 0xd, 0);

	if (!l1 || !(l1->ecx & L1_ECX_XSAVE) || !d)
		return 0;
	return (uint64_t)d->edx << 32 | d->eax;
}

/* Bits needed to number n things: 1 -> 0, 2 -> 1, 3..4 -> 2, ... */
static unsigned order(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_patch(struct kvm_cpuid2 *c, const struct cpuid_params *p)
{
	unsigned id = p->vcpu_id, n = p->ncpus, bits = order(p->ncpus);
	struct kvm_cpuid_entry2 *e;

	for (uint32_t i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		switch (e->function) {
		case 0x1:
			e->ebx &= 0x0000ffff;
			e->ebx |= id << L1_EBX_APIC_ID_SHIFT | (n & 0xff) << L1_EBX_NLOGICAL_SHIFT;
			e->ecx |= L1_ECX_HYPERVISOR;
			if (p->tsc_deadline)
				e->ecx |= L1_ECX_TSC_DEADLINE;
			if (n > 1)
				e->edx |= L1_EDX_HTT;
			else
				e->edx &= ~L1_EDX_HTT;
			break;
		case 0x4: /* Intel cache parameters: cores per package - 1 */
			e->eax &= ~(0x3fu << 26);
			e->eax |= ((n - 1) & 0x3f) << 26;
			e->eax &= ~(0xfffu << 14); /* one logical CPU per cache */
			break;
		case 0xb:
		case 0x1f: /* extended topology: level 0 = SMT (1 thread), 1 = core */
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1u << 8 | 0;
			} else if (e->index == 1) {
				e->eax = bits;
				e->ebx = n;
				e->ecx = 2u << 8 | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			e->edx = id;
			break;
		case 0x80000001:
			if (n > 1)
				e->ecx |= EXT1_ECX_CMP_LEGACY;
			else
				e->ecx &= ~EXT1_ECX_CMP_LEGACY;
			break;
		case 0x80000008: /* AMD: NC = cores - 1, ApicIdCoreIdSize */
			e->ecx &= ~0xf0ffu;
			e->ecx |= (n - 1) & 0xff;
			e->ecx |= (bits & 0xf) << 12;
			break;
		case 0x8000001e: /* AMD extended APIC ID, core (compute unit) and node */
			e->eax = id;
			e->ebx = id & 0xff; /* one thread per core */
			e->ecx = 0;	    /* node 0, one node */
			break;
		default:
			break;
		}
	}

	/* The timing leaf: the guest then needs no TSC or APIC calibration. */
	e = cpuid_find(c, LEAF_KVM_BASE, 0);
	if (e && p->tsc_khz && !cpuid_find(c, LEAF_KVM_TIMING, 0)) {
		if (e->eax < LEAF_KVM_TIMING)
			e->eax = LEAF_KVM_TIMING;
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){ .function = LEAF_KVM_TIMING,
								   .eax = p->tsc_khz,
								   .ebx = KVM_APIC_BUS_KHZ };
	}
}
