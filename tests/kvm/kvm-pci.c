/* kvm-pci - real-KVM checks for vmm/irq*.c and the virtio-pci notify path,
 * run by tests/kvm/suite (fails, never skips, without /dev/kvm). KVM accepts the base routing
 * table, whose ISA lines reach the IOAPIC pins the ACPI MADT names, plus MSI routes, irqfds and ioeventfds (any-length, 2-byte with
 * datamatch, port I/O); then a real-mode guest kicks two virtio-pci queues
 * and reads num_queues: the kicks must land in the kick eventfds without a
 * single MMIO exit, the read must exit and be answered by the BAR handler. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit/fake-vm.h"
#include "virtio-pci-priv.h"
#include "virtio-pci.h"

#define GUEST_RAM 0x10000ULL /* one 64 KiB slot at 0: everything above is MMIO */
#define BAR_GPA	  0xf0000ULL /* reachable from real mode as F000:xxxx */

static int nop_activate(struct virtio_dev *d)
{
	return 0;
}

static void nop(struct virtio_dev *d)
{
}

static void nop_notify(struct virtio_dev *d, unsigned q)
{
}

static const struct virtio_dev_ops ops = {
	.activate = nop_activate, .reset = nop, .queue_notify = nop_notify, .destroy = nop
};

/* mov ax,0xf000; mov ds,ax; mov word [0x3000],0; mov word [0x3004],1;
 * mov ax,[0x0012]; xor bx,bx; mov ds,bx; mov [0x0500],ax; out DONE_PORT,al.
 * (Not hlt: with the in-kernel irqchip, KVM halts the vCPU in the kernel.) */
#define DONE_PORT 0xf1
static const uint8_t guest_code[] = { 0xb8, 0x00, 0xf0, 0x8e, 0xd8,	0xc7, 0x06, 0x00,
				      0x30, 0x00, 0x00, 0xc7, 0x06,	0x04, 0x30, 0x01,
				      0x00, 0xa1, 0x12, 0x00, 0x31,	0xdb, 0x8e, 0xdb,
				      0xa3, 0x00, 0x05, 0xe6, DONE_PORT };

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

/* Raise KVM GSI gsi and return the IOAPIC's IRR bits that came on; lower it
 * again. The pins are masked, so the request stays pending where it landed
 * (while the line is high: KVM clears IRR when it goes low). */
static uint32_t ioapic_irr_when_raised(int vm_fd, unsigned gsi)
{
	struct kvm_irq_level hi = { .irq = gsi, .level = 1 }, lo = { .irq = gsi, .level = 0 };
	struct kvm_irqchip before = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irqchip after = { .chip_id = KVM_IRQCHIP_IOAPIC };
	uint32_t irr = ~0u;

	if (ioctl(vm_fd, KVM_GET_IRQCHIP, &before) == 0 && ioctl(vm_fd, KVM_IRQ_LINE, &hi) == 0 &&
	    ioctl(vm_fd, KVM_GET_IRQCHIP, &after) == 0)
		irr = after.chip.ioapic.irr & ~before.chip.ioapic.irr;
	(void)ioctl(vm_fd, KVM_IRQ_LINE, &lo);
	return irr;
}

int main(void)
{
	struct vmm vm;
	struct kv_err err = { 0 };
	unsigned gsi = 0;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		/* Run it through tests/testhost/with-kvm: no KVM is a failure. */
		printf("1..1\nnot ok 1 - open /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	tap_plan(19);
	alarm(120); /* a guest that never exits must not hang the suite */
	if (fake_vm_init(&vm, 2 * MiB) < 0)
		return 1;
	irq_destroy(&vm); /* replace the recording router with a real one */
	vm.kvm_fd = kvm;
	vm.vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (!ok(vm.vm_fd >= 0, "KVM_CREATE_VM"))
		return tap_done();
	ok(ioctl(vm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) == 0 &&
	       ioctl(vm.vm_fd, KVM_CREATE_IRQCHIP, 0) == 0,
	   "in-kernel irqchip");
	ok(irq_init(&vm, &err) == 0, "KVM accepts the base table: %s", err.msg);
	uint32_t irr0 = ioapic_irr_when_raised(vm.vm_fd, 0);
	ok(irr0 == 1u << 2,
	   "KVM GSI 0 reaches IOAPIC pin 2 (the MADT's IRQ0 override), not pin 0 "
	   "(IRR 0x%x)",
	   irr0);
	uint32_t irr4 = ioapic_irr_when_raised(vm.vm_fd, 4);
	ok(irr4 == 1u << 4, "KVM GSI 4 (COM1) reaches IOAPIC pin 4 (IRR 0x%x)", irr4);

	struct irq_router *r = vm.irq;
	int ra = irq_msi_alloc(r, &gsi);
	ok(ra == 0 && irq_msi_set(r, gsi, 0xfee00000, 0x4030) == 0 && irq_commit(r) == 0 &&
	       irq_committed_entries(r) == IRQ_BASE_ENTRIES + 1,
	   "KVM accepts an MSI route on GSI %u", gsi);
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(irq_irqfd_assign(r, efd, gsi) == 0, "KVM_IRQFD assign");
	uint64_t one = 1;
	ok(write(efd, &one, 8) == 8, "signal the irqfd (KVM injects; no vCPU to see it)");
	ok(irq_irqfd_deassign(r, efd, gsi) == 0 && irq_irqfd_assign(r, efd, gsi) == 0 &&
	       irq_irqfd_deassign(r, efd, gsi) == 0,
	   "deassign, reassign, deassign");
	struct irq_ioeventfd any = { .addr = 0xd0000000, .len = 0 };
	struct irq_ioeventfd dm = {
		.addr = 0xd0001000, .len = 2, .flags = IRQ_IOEVENTFD_DATAMATCH, .data = 3
	};
	struct irq_ioeventfd pio = { .addr = 0x510, .len = 2, .flags = IRQ_IOEVENTFD_PIO };
	ra = irq_ioeventfd_assign(r, efd, &any);
	ok(ra == 0 || ra == -EINVAL, "any-length MMIO ioeventfd (%d)", ra);
	ok(irq_ioeventfd_assign(r, efd, &dm) == 0 && irq_ioeventfd_assign(r, efd, &pio) == 0,
	   "datamatch MMIO and port I/O ioeventfds");
	ok((ra || irq_ioeventfd_deassign(r, efd, &any) == 0) &&
	       irq_ioeventfd_deassign(r, efd, &dm) == 0 &&
	       irq_ioeventfd_deassign(r, efd, &pio) == 0,
	   "all deassigned");
	irq_msi_free(r, gsi);
	close(efd);

	/* A virtio-pci device whose BAR the "firmware" (this test) puts at F000:0. */
	static struct virtqueue vqs[2];
	static struct virtio_dev dev = { .ops = &ops,
					 .name = "kvm-test",
					 .device_id = VIRTIO_ID_RNG,
					 .num_queues = 2,
					 .queue_max_size = 256,
					 .vqs = vqs };
	ok(virtio_pci_add(&vm, &dev, &err) == 0, "virtio_pci_add: %s", err.msg);
	ecam_wr(&vm, 1, 0x10, BAR_GPA | 4, 4);
	ecam_wr(&vm, 1, 0x14, 0, 4);
	ecam_wr(&vm, 1, 4, PCI_COMMAND_MEMORY, 2);
	ok(irq_ioeventfd_fd(r, BAR_GPA + VPCI_NOTIFY_OFF, false) == vqs[0].kick_fd,
	   "KVM accepted the notify ioeventfds");

	struct kvm_userspace_memory_region mr = { .slot = 0,
						  .guest_phys_addr = 0,
						  .memory_size = GUEST_RAM,
						  .userspace_addr = (uintptr_t)vm.mem.base };
	memcpy(vm.mem.base, guest_code, sizeof(guest_code));
	int vcpu = ioctl(vm.vm_fd, KVM_CREATE_VCPU, 0);
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = sz > 0 && vcpu >= 0 ? mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE,
							 MAP_SHARED, vcpu, 0)
						  : MAP_FAILED;
	struct kvm_sregs sr;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	bool setup = ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) == 0 && run != MAP_FAILED &&
		     ioctl(vcpu, KVM_GET_SREGS, &sr) == 0;
	if (setup) {
		sr.cs.base = 0;
		sr.cs.selector = 0;
		setup =
		    ioctl(vcpu, KVM_SET_SREGS, &sr) == 0 && ioctl(vcpu, KVM_SET_REGS, &regs) == 0;
	}
	if (!ok(setup, "real-mode vCPU"))
		return tap_done();

	unsigned notify_exits = 0, other_exits = 0;
	bool done = false;
	for (int i = 0; i < 100 && !done; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0 && errno != EINTR)
			break;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT) {
			done = true;
		} else if (run->exit_reason == KVM_EXIT_MMIO) {
			uint64_t a = run->mmio.phys_addr;
			if (a >= BAR_GPA + VPCI_NOTIFY_OFF && a < BAR_GPA + VPCI_NOTIFY_OFF + 8)
				notify_exits++;
			io_bus_access(&vm.mmio, a, run->mmio.data, run->mmio.len,
				      run->mmio.is_write);
		} else {
			other_exits++;
			break;
		}
	}
	ok(done && other_exits == 0, "guest ran to its final port write");
	ok(notify_exits == 0, "queue kicks caused no MMIO exit");
	ok(readable(vqs[0].kick_fd) && readable(vqs[1].kick_fd),
	   "both kick eventfds signalled by KVM");
	uint16_t nq = 0;
	memcpy(&nq, vm.mem.base + 0x500, 2);
	ok(nq == 2, "num_queues read exited to the BAR handler and returned %u", nq);

	munmap(run, (size_t)sz);
	close(vcpu);
	fake_vm_destroy(&vm);
	close(vm.vm_fd);
	close(kvm);
	return tap_done();
}
