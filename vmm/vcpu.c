/* vcpu.c - see vcpu.h. */
#include "vcpu.h"
#include "boot/x86.h"
#include "cpuid.h"
#include "sandbox.h"
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_FAST_STRING 0x1

/* XCR0 starts with every state component the guest's CPUID offers, not
 * x87 alone as after a reset. The guest kernel sets XCR0 itself, so where
 * KVM sees its XSETBV this changes nothing. But KVM computes CPUID 0xD.0
 * EBX (the XSAVE area size for the current XCR0) from the XCR0 it knows,
 * and a hypervisor under us that does not pass the guest's XSETBV on (QEMU
 * 7.2's TCG nested SVM, the test host's L0) left it at the x87-only 576
 * bytes: Linux then reported "XSAVE consistency problem: size 832 !=
 * kernel_size 576" and ran without XSAVE and AVX, and KVM would have loaded
 * the stale XCR0 on each entry. Measured with a real-mode guest doing
 * XSETBV: KVM_GET_XCRS still said 1 afterwards (docs/vmm.md). */
static int set_xcr0(struct vcpu *v, uint64_t xcr0, struct kv_err *err)
{
	struct kvm_xcrs x = { .nr_xcrs = 1, .xcrs[0] = { .xcr = 0, .value = xcr0 } };

	if (!xcr0)
		return 0; /* no XSAVE for this guest */
	if (ioctl(v->fd, KVM_SET_XCRS, &x) < 0)
		return kv_errno(err, -errno, "KVM_SET_XCRS (XCR0 0x%llx) on vCPU %u",
				(unsigned long long)xcr0, v->id);
	return 0;
}

int vcpu_create(struct vcpu *v, struct vmm *vm, unsigned id, const struct kvm_cpuid2 *supported,
		bool tsc_deadline, struct kv_err *err)
{
	size_t csize = sizeof(*supported) +
		       (supported->nent + CPUID_EXTRA_ENTRIES) * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = NULL;
	int r, khz;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		v->fd = -1;
		return kv_errno(err, -errno, "KVM_CREATE_VCPU %u", id);
	}
	v->run_size = (size_t)vm->vcpu_mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		r = kv_errno(err, -errno, "mmap of vCPU %u's kvm_run", id);
		goto fail;
	}

	c = malloc(csize);
	if (!c) {
		r = kv_errf(err, -ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(c, supported, sizeof(*supported) + supported->nent * sizeof(supported->entries[0]));
	khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	cpuid_patch(c, &(struct cpuid_params){ .vcpu_id = id,
					       .ncpus = vm->ncpus,
					       .tsc_deadline = tsc_deadline,
					       .tsc_khz = khz > 0 ? (uint32_t)khz : 0 });
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		r = kv_errno(err, -errno, "KVM_SET_CPUID2 on vCPU %u", id);
		goto fail;
	}
	r = set_xcr0(v, cpuid_xcr0(c), err);
	if (r < 0)
		goto fail;

	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[1];
	} msrs = { .hdr.nmsrs = 1,
		   .e[0] = { .index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING } };
	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1) {
		r = kv_errf(err, -EIO, "KVM_SET_MSRS (IA32_MISC_ENABLE) on vCPU %u failed", id);
		goto fail;
	}
	free(c);
	return 0;
fail:
	free(c);
	vcpu_destroy(v);
	return r;
}

int vcpu_setup_boot(struct vcpu *v, uint64_t entry, uint64_t zero_page, struct kv_err *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return kv_errno(err, -errno, "KVM_GET_SREGS");
	x86_boot_sregs(&sregs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return kv_errno(err, -errno, "KVM_SET_SREGS");
	x86_boot_regs(&regs, entry, zero_page);
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return kv_errno(err, -errno, "KVM_SET_REGS");
	x86_boot_fpu(&fpu);
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return kv_errno(err, -errno, "KVM_SET_FPU");
	return 0;
}

static void kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

int vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static void fail_internal(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_regs regs = { 0 };
	char data[160] = "";
	size_t n = 0;

	(void)ioctl(v->fd, KVM_GET_REGS, &regs);
	for (unsigned i = 0; i < run->internal.ndata && i < 4 && n < sizeof(data); i++)
		n += (size_t)snprintf(data + n, sizeof(data) - n, " 0x%llx",
				      (unsigned long long)run->internal.data[i]);
	vm_fail(v->vm, -EIO,
		"vCPU %u: KVM internal error, suberror %u (1 = emulation failure) "
		"at rip 0x%llx; data:%s",
		v->id, run->internal.suberror, (unsigned long long)regs.rip, n ? data : " none");
}

/* Handle one exit; false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vmm *vm = v->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
			(void)io_bus_access(&vm->pio, run->io.port, data, run->io.size,
					    run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO:
		(void)io_bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				    run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN: /* triple fault, or a reset the guest forced that way */
		vm_request_exit(vm, VMM_EXIT_TRIPLE_FAULT);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_exit(vm, VMM_EXIT_POWEROFF);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_exit(vm, VMM_EXIT_REBOOT);
			break;
		case KVM_SYSTEM_EVENT_CRASH:
			vm_request_exit(vm, VMM_EXIT_PANIC);
			break;
		default:
			vm_fail(vm, -EIO, "vCPU %u: unknown KVM system event %u", v->id,
				run->system_event.type);
			break;
		}
		return false;
	case KVM_EXIT_HLT: /* the in-kernel LAPIC handles HLT: not expected */
		vm_fail(vm, -EIO, "vCPU %u halted with no in-kernel LAPIC to wake it", v->id);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_fail(vm, -EIO,
			"vCPU %u: KVM could not enter the guest (hardware reason 0x%llx on "
			"host CPU %u)",
			v->id, (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		fail_internal(v);
		return false;
	default:
		vm_fail(vm, -EIO, "vCPU %u: unhandled KVM exit reason %u", v->id, run->exit_reason);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vmm *vm = v->vm;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	/* Confined before the first guest instruction, then wait for the
	 * device loop to be confined too (vmm_run opens the gate). */
	if (vm->cfg->sandbox.seccomp || vm->cfg->sandbox.drop_caps) {
		struct kv_err e = { 0 };
		int r = sandbox_confine(vm, VMM_ROLE_VCPU, v->fd, &e);
		if (r < 0)
			vm_fail(vm, r, "vCPU %u: %s", v->id, e.msg);
		vm_gate_wait(vm);
	}
	while (atomic_load(&vm->exit_reason) == VMM_EXIT_NONE) {
		if (atomic_load(&vm->pause_req)) {
			vm_vcpu_park(vm, v); /* resets the kick's immediate_exit */
			continue;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* Kicked: whoever kicked recorded why (exit_reason,
				 * pause_req) before, and the loop looks at both next. */
				v->run->immediate_exit = 0;
				continue;
			}
			vm_fail(vm, -errno, "vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			break;
		}
		if (!handle_exit(v))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);

	if (r == 0) {
		char name[16];
		snprintf(name, sizeof(name), "vcpu%u", v->id);
		(void)pthread_setname_np(v->thread, name);
		atomic_store(&v->started, true);
	}
	return -r;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->run)
		v->run->immediate_exit = 1;
	if (atomic_load(&v->started))
		(void)pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (atomic_load(&v->started)) {
		(void)pthread_join(v->thread, NULL);
		atomic_store(&v->started, false);
	}
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_join(v);
	if (v->run)
		(void)munmap(v->run, v->run_size);
	if (v->fd >= 0)
		(void)close(v->fd);
	v->run = NULL;
	v->fd = -1;
}
