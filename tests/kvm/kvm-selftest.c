/* kvm-selftest - a micro-guest that exercises /dev/kvm directly.
 *
 * Owns: the smallest end-to-end check of a KVM host, in the spirit of the
 * Linux KVM selftests. A few bytes of 64-bit guest code signal the host
 * through port I/O, MMIO and hlt; the host asserts every report (TAP).
 *
 *   kvm-selftest run     TAP micro-guest test (exit 0 when all pass)
 *   kvm-selftest probe   time a ring-0 loop: prints "ring0-loop-ns N"; used to
 *                        tell hardware virtualization from emulation (PVM)
 *   kvm-selftest caps    print what this /dev/kvm offers
 */
#include "cleanup.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE  (2u << 20) /* guest RAM at gpa 0 */
#define GDT_GPA	  0x500
#define CODE_GPA  0x1000
#define DATA_GPA  0x3000 /* the guest stores a marker here */
#define PML4_GPA  0x8000
#define PDPT_GPA  0x9000
#define PD0_GPA	  0xa000
#define PD2_GPA	  0xb000
#define MMIO_GPA  0x80000000ULL /* mapped by the page tables, not backed by RAM */
#define STACK_TOP (MEM_SIZE - 16)

#define PORT_SYNC  0x10
#define PORT_SUM   0x11
#define PORT_IN	   0x12
#define PORT_ECHO  0x13
#define IN_VALUE   0x55aa
#define MARKER	   0xdeadbeefcafef00dULL
#define MMIO_VALUE 0x1122334455667788ULL

/* The guest program: position-independent, copied to CODE_GPA. */
extern const uint8_t guest_test_start[], guest_test_end[];
extern const uint8_t guest_probe_start[], guest_probe_end[];
__asm__(".pushsection .rodata\n"
	".globl guest_test_start, guest_test_end\n"
	"guest_test_start:\n"
	"  mov $0x1234, %eax\n"
	"  out %eax, $0x10\n" /* GUEST_SYNC(0x1234) */
	"  xor %ebx, %ebx\n"
	"  mov $100, %ecx\n"
	"1: add %rcx, %rbx\n"
	"  dec %ecx\n"
	"  jnz 1b\n"
	"  mov %ebx, %eax\n"
	"  out %eax, $0x11\n" /* report sum(1..100) */
	"  movabs $0xdeadbeefcafef00d, %rax\n"
	"  mov %rax, 0x3000\n" /* store a marker in RAM */
	"  in $0x12, %eax\n"   /* host supplies a value */
	"  inc %eax\n"
	"  out %eax, $0x13\n" /* echo it back, plus one */
	"  movabs $0x1122334455667788, %rax\n"
	"  movabs $0x80000008, %rdx\n"
	"  mov %rax, (%rdx)\n" /* an MMIO write */
	"  hlt\n"	       /* GUEST_DONE */
	"guest_test_end:\n"
	".globl guest_probe_start, guest_probe_end\n"
	"guest_probe_start:\n"
	"2: dec %rcx\n" /* rcx iterations of a ring-0 loop */
	"  jnz 2b\n"
	"  hlt\n"
	"guest_probe_end:\n"
	".popsection\n");

struct vm {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void vm_close(struct vm *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->mem)
		munmap(v->mem, MEM_SIZE);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->kvm >= 0)
		close(v->kvm);
}

static int set_cpuid(struct vm *v)
{
	int n = 128;
	cleanup_free struct kvm_cpuid2 *c = NULL;

	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG)
			return -errno;
		n *= 2;
	}
	/* Long mode needs the guest's CPUID to advertise it (KVM checks EFER). */
	return ioctl(v->vcpu, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int l)
{
	*s = (struct kvm_segment){ .base = 0,
				   .limit = 0xffffffff,
				   .selector = sel,
				   .type = type,
				   .present = 1,
				   .dpl = 0,
				   .db = !l,
				   .s = 1,
				   .l = l,
				   .g = 1 };
}

/* Build a 64-bit machine running code at CODE_GPA; -errno and a message on failure. */
static int vm_open(struct vm *v, const uint8_t *code, size_t len, uint64_t rcx, const char **what)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	uint64_t *gdt, *pml4, *pdpt, *pd0, *pd2;

	memset(v, 0, sizeof(*v));
	v->kvm = v->vm = v->vcpu = -1;
#define STEP(cond, msg)                                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			*what = msg;                                                               \
			return -errno ? -errno : -EIO;                                             \
		}                                                                                  \
	} while (0)
	errno = 0;
	STEP((v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) >= 0, "open /dev/kvm");
	STEP(ioctl(v->kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION, "KVM API version is not 12");
	STEP((v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0)) >= 0, "KVM_CREATE_VM");
	(void)ioctl(v->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	STEP(v->mem != MAP_FAILED || (v->mem = NULL), "mmap guest memory");
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)v->mem,
	};
	STEP(ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION");
	STEP((v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0)) >= 0, "KVM_CREATE_VCPU");
	int sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	STEP(sz > 0, "KVM_GET_VCPU_MMAP_SIZE");
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	STEP(v->run != MAP_FAILED || (v->run = NULL), "mmap kvm_run");
	STEP(set_cpuid(v) == 0, "KVM_SET_CPUID2");

	/* GDT: null, 64-bit code (0x8), data (0x10). */
	gdt = (uint64_t *)(v->mem + GDT_GPA);
	gdt[1] = 0x00af9a000000ffffULL;
	gdt[2] = 0x00cf92000000ffffULL;
	/* Identity map 0-2 MiB, and 2 MiB at MMIO_GPA that no RAM backs. */
	pml4 = (uint64_t *)(v->mem + PML4_GPA);
	pdpt = (uint64_t *)(v->mem + PDPT_GPA);
	pd0 = (uint64_t *)(v->mem + PD0_GPA);
	pd2 = (uint64_t *)(v->mem + PD2_GPA);
	pml4[0] = PDPT_GPA | 0x3;
	pdpt[0] = PD0_GPA | 0x3;
	pdpt[2] = PD2_GPA | 0x3;
	pd0[0] = 0x0 | 0x83;	  /* present, writable, 2 MiB page */
	pd2[0] = MMIO_GPA | 0x83; /* 0x80000000 */
	memcpy(v->mem + CODE_GPA, code, len);

	STEP(ioctl(v->vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
	set_seg(&sregs.cs, 0x8, 0xb, 1);
	set_seg(&sregs.ds, 0x10, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 1u << 5;				/* PAE */
	sregs.cr0 = (1u << 0) | (1u << 4) | (1u << 31); /* PE, ET, PG */
	sregs.efer = (1u << 8) | (1u << 10);		/* LME, LMA */
	STEP(ioctl(v->vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS (64-bit mode)");
	regs.rip = CODE_GPA;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2;
	regs.rcx = rcx;
	STEP(ioctl(v->vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");
#undef STEP
	return 0;
}

static int vm_run(struct vm *v)
{
	while (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_IO:
		return "IO";
	case KVM_EXIT_MMIO:
		return "MMIO";
	case KVM_EXIT_HLT:
		return "HLT";
	case KVM_EXIT_SHUTDOWN:
		return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:
		return "FAIL_ENTRY";
	case KVM_EXIT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	default:
		return "other";
	}
}

/* Run to the next exit and check it is a port write of `size` bytes to port. */
static int expect_out(struct vm *v, uint16_t port, uint32_t want, const char *desc)
{
	struct kvm_run *r = v->run;
	uint32_t val = 0;

	if (vm_run(v) < 0)
		return ok(0, "%s: KVM_RUN failed: %s", desc, strerror(errno));
	if (!ok(r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_OUT &&
		    r->io.port == port && r->io.size == 4 && r->io.count == 1,
		"%s: exit is a 4-byte OUT to port %#x (got %s, port %#x)", desc, port,
		exit_name(r->exit_reason), r->exit_reason == KVM_EXIT_IO ? r->io.port : 0))
		return 0;
	memcpy(&val, (uint8_t *)r + r->io.data_offset, 4);
	return ok(val == want, "%s: guest reported %#x (want %#x)", desc, val, want);
}

static int cmd_run(void)
{
	struct vm v;
	const char *what = "";
	struct kvm_run *r;
	uint64_t mmio_val = 0, marker = 0;
	struct kvm_regs regs;

	tap_plan(13);
	int e =
	    vm_open(&v, guest_test_start, (size_t)(guest_test_end - guest_test_start), 0, &what);
	if (!ok(e == 0, "set up a 64-bit micro-guest%s%s%s", e ? " (" : "", e ? what : "",
		e ? ")" : "")) {
		diag("%s: %s", what, strerror(-e));
		vm_close(&v);
		return 1;
	}
	r = v.run;
	expect_out(&v, PORT_SYNC, 0x1234, "GUEST_SYNC");
	expect_out(&v, PORT_SUM, 5050, "guest computed sum(1..100)");

	ok(vm_run(&v) == 0 && r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_IN &&
	       r->io.port == PORT_IN && r->io.size == 4,
	   "guest reads port %#x", PORT_IN);
	uint32_t in = IN_VALUE;
	memcpy((uint8_t *)r + r->io.data_offset, &in, 4);
	memcpy(&marker, v.mem + DATA_GPA, sizeof(marker));
	ok(marker == MARKER, "guest's store to RAM is visible to the host (%#llx)",
	   (unsigned long long)marker);
	expect_out(&v, PORT_ECHO, IN_VALUE + 1, "host-supplied IN value reached the guest");

	ok(vm_run(&v) == 0 && r->exit_reason == KVM_EXIT_MMIO && r->mmio.is_write &&
	       r->mmio.phys_addr == MMIO_GPA + 8 && r->mmio.len == 8,
	   "guest's write to unbacked memory is an 8-byte MMIO exit at %#llx",
	   (unsigned long long)r->mmio.phys_addr);
	memcpy(&mmio_val, r->mmio.data, sizeof(mmio_val));
	ok(mmio_val == MMIO_VALUE, "MMIO data is %#llx", (unsigned long long)mmio_val);

	ok(vm_run(&v) == 0 && r->exit_reason == KVM_EXIT_HLT, "guest halts (exit %s)",
	   exit_name(r->exit_reason));
	ok(ioctl(v.vcpu, KVM_GET_REGS, &regs) == 0 &&
	       regs.rip == CODE_GPA + (uint64_t)(guest_test_end - guest_test_start),
	   "rip is just past hlt (%#llx)", (unsigned long long)regs.rip);
	vm_close(&v);
	return tap_done();
}

static int cmd_probe(void)
{
	/* Hardware virtualization runs this in a few ms; an emulated ring 0
	 * (PVM, ~2 M instructions/s) needs about a second. */
	const uint64_t iters = 1000000;
	struct vm v;
	const char *what = "";
	struct timespec t0, t1;
	int e = vm_open(&v, guest_probe_start, (size_t)(guest_probe_end - guest_probe_start), iters,
			&what);

	if (e < 0) {
		fprintf(stderr, "kvm-selftest probe: %s: %s\n", what, strerror(-e));
		vm_close(&v);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	e = vm_run(&v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (e < 0 || v.run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "kvm-selftest probe: guest did not halt (%s)\n",
			e < 0 ? strerror(-e) : exit_name(v.run->exit_reason));
		vm_close(&v);
		return 1;
	}
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("ring0-loop-ns %lld iterations %llu\n", ns, (unsigned long long)iters);
	vm_close(&v);
	return 0;
}

static int cmd_caps(void)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{ KVM_CAP_IRQCHIP, "IRQCHIP" },
		{ KVM_CAP_IRQ_ROUTING, "IRQ_ROUTING" },
		{ KVM_CAP_IRQFD, "IRQFD" },
		{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
		{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
		{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
		{ KVM_CAP_SIGNAL_MSI, "SIGNAL_MSI" },
		{ KVM_CAP_PIT2, "PIT2" },
		{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
		{ KVM_CAP_GET_TSC_KHZ, "GET_TSC_KHZ" },
		{ KVM_CAP_X2APIC_API, "X2APIC_API" },
	};
	cleanup_close int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		fprintf(stderr, "kvm-selftest caps: open /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	printf("/dev/kvm: API version %d, max vCPUs %d\n", ioctl(kvm, KVM_GET_API_VERSION, 0),
	       ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS));
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("  %-16s %s\n", caps[i].name,
		       ioctl(kvm, KVM_CHECK_EXTENSION, caps[i].cap) > 0 ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "run"))
		return cmd_run();
	if (!strcmp(cmd, "probe"))
		return cmd_probe();
	if (!strcmp(cmd, "caps"))
		return cmd_caps();
	fprintf(stderr,
		"usage: kvm-selftest run|probe|caps\n"
		"  run    TAP test: a 64-bit micro-guest reports through I/O, MMIO and hlt\n"
		"  probe  time a ring-0 loop (tells hardware virtualization from emulation)\n"
		"  caps   print what /dev/kvm offers\n");
	return strcmp(cmd, "--help") && strcmp(cmd, "-h") ? 2 : 0;
}
