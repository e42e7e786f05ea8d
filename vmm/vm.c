/* vm.c - the builder: the machine is put together here, in boot order.
 *
 * Owns: the order in which a VM is built (KVM -> VM -> memory -> IRQ chip and
 * GSI routing -> vCPUs -> kernel, initrd and command line -> ACPI tables and
 * zero page -> boot registers -> legacy devices -> PCI bus, virtio devices
 * and pvpanic) and its exact reverse in vm_teardown(), which
 * undoes any prefix of it so a failure at any step leaves nothing behind.
 * Also the machine-wide services devices call: vm_request_exit, vm_fail and
 * vm_irq_line. */
#include "vm.h"
#include "acpi/acpi.h"
#include "boot/loader.h"
#include "boot/x86.h"
#include "boot/zeropage.h"
#include "cpuid.h"
#include "devices/acpi_pm.h"
#include "devices/chardev.h"
#include "devices/i8042.h"
#include "devices/pvpanic.h"
#include "devices/uart8250.h"
#include "irq.h"
#include "kvm.h"
#include "layout.h"
#include "pci/pci.h"
#include "vcpu.h"
#include "virtio/virtio-pci.h"
#include "virtio/virtio_devs.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* No in-kernel i8254 PIT. Measured in the test host (docs/vmm.md, "Legacy
 * devices"): with the ACPI MADT the guest ticks from the LAPIC timer in
 * TSC-deadline mode and takes its clock and TSC frequency from kvm-clock,
 * with or without a PIT, at the same boot time. Were it turned on, its IRQ 0
 * would reach IOAPIC pin 2 as the MADT says: irq_init() replaces KVM's
 * default routing (which sends it to pin 0). Without ACPI tables, a PIT is
 * the only tick source: the guest hung at its first sleep. */
#define WITH_PIT false

void vm_request_exit(struct vmm *vm, enum vmm_exit_reason why)
{
	int none = VMM_EXIT_NONE;

	/* Only the first reason counts; the kicks are repeated harmlessly. */
	(void)atomic_compare_exchange_strong(&vm->exit_reason, &none, (int)why);
	vm_pause_wake_all(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	evloop_stop(&vm->loop);
}

void vm_fail(struct vmm *vm, int code, const char *fmt, ...)
{
	int none = VMM_EXIT_NONE;
	va_list ap;

	/* Claim the reason first, so only the winner writes exit_err. The
	 * reader (vmm_run) looks at it only after every vCPU has joined. */
	if (atomic_compare_exchange_strong(&vm->exit_reason, &none, VMM_EXIT_ERROR)) {
		vm->exit_err.code = code;
		va_start(ap, fmt);
		vsnprintf(vm->exit_err.msg, sizeof(vm->exit_err.msg), fmt, ap);
		va_end(ap);
	}
	vm_request_exit(vm, VMM_EXIT_ERROR);
}

int vm_irq_line(struct vmm *vm, unsigned gsi, bool level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level ? 1 : 0 };

	if (gsi >= LAYOUT_IOAPIC_PINS)
		return -EINVAL;
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static void com1_set_irq(void *opaque, bool level)
{
	(void)vm_irq_line(opaque, LAYOUT_COM1_IRQ, level);
}

/* --- the steps, in order ---------------------------------------------------- */

static int create_vcpus(struct vmm *vm, const struct kvm_info *info, struct kv_err *err)
{
	struct kvm_cpuid2 *supported = NULL;
	int r;

	if (vm->ncpus > info->max_vcpus)
		return kv_errf(err, -EINVAL, "%u vCPUs requested; this KVM allows at most %u",
			       vm->ncpus, info->max_vcpus);
	r = cpuid_get_supported(vm->kvm_fd, &supported);
	if (r < 0)
		return kv_errno(err, r, "KVM_GET_SUPPORTED_CPUID");
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(supported);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		r = vcpu_create(&vm->vcpus[i], vm, i, supported, info->tsc_deadline, err);
		if (r < 0)
			break;
	}
	free(supported);
	return r;
}

/* The ACPI tables describe this machine to the kernel: the CPUs and the
 * IOAPIC (MADT), power off and reset (FADT, DSDT), PCI (DSDT, MCFG), COM1. */
static int build_acpi(struct vmm *vm, uint64_t *rsdp_gpa, struct kv_err *err)
{
	uint64_t ram_end = guest_mem_end(&vm->mem);
	struct acpi_config c = {
		.ncpus = vm->ncpus,
		.lapic_addr = LAYOUT_LAPIC_GPA,
		.ioapic_addr = LAYOUT_IOAPIC_GPA,
		.ioapic_id = LAYOUT_IOAPIC_ID,
		.ioapic_gsi_base = 0,
		.ecam_base = LAYOUT_ECAM_GPA,
		.bus_start = 0,
		.bus_end = LAYOUT_ECAM_BUSES - 1,
		.pci_io_base = LAYOUT_PCI_IO_BASE,
		.pci_io_size = LAYOUT_PCI_IO_SIZE,
		.pci_mmio32_base = LAYOUT_PCI_MMIO32_GPA,
		.pci_mmio32_size = LAYOUT_PCI_MMIO32_SIZE,
		.pci_mmio64_base =
		    (ram_end < LAYOUT_4G ? LAYOUT_4G : ram_end) + LAYOUT_PCI_MMIO64_ALIGN - 1,
		.pci_mmio64_size = LAYOUT_PCI_MMIO64_SIZE,
		.sleep_ctl_port = LAYOUT_ACPI_SLEEP_CTL,
		.sleep_sts_port = LAYOUT_ACPI_SLEEP_STS,
		.reset_port = LAYOUT_ACPI_RESET,
		.reset_value = LAYOUT_ACPI_RESET_VAL,
		.com1 = true,
		.cmos_rtc = false,
	};
	void *buf = gpa_to_hva(&vm->mem, LAYOUT_ACPI_GPA, LAYOUT_ACPI_SIZE);
	size_t used;
	int r;

	c.pci_mmio64_base &= ~(LAYOUT_PCI_MMIO64_ALIGN - 1);
	if (!buf)
		return kv_errf(err, -EFAULT, "the ACPI area is not in guest RAM");
	r = acpi_build(&c, buf, LAYOUT_ACPI_SIZE, LAYOUT_ACPI_GPA, rsdp_gpa, &used);
	if (r < 0)
		return kv_errno(err, r, "cannot build the ACPI tables for %u vCPUs", vm->ncpus);
	/* The reset vector shares the legacy area: after the tables. */
	if (used > LAYOUT_RESET_VECTOR_GPA - LAYOUT_ACPI_GPA)
		return kv_errf(err, -ENOSPC, "ACPI tables (%zu bytes) overlap the reset vector",
			       used);
	r = x86_write_reset_stub(&vm->mem, LAYOUT_ACPI_RESET, LAYOUT_ACPI_RESET_VAL);
	if (r < 0)
		return kv_errno(err, r, "cannot write the reset vector");
	return 0;
}

/* Kernel, initrd and command line into RAM; then the tables that describe
 * them and the machine; then the BSP's registers. */
static int load_guest(struct vmm *vm, const struct boot_plan *plan, struct kv_err *err)
{
	struct boot_params *bp;
	uint64_t rsdp_gpa = 0;
	int r;

	r = boot_plan_load(plan, &vm->mem, err);
	if (r < 0)
		return r;

	r = build_acpi(vm, &rsdp_gpa, err);
	if (r < 0)
		return r;

	bp = gpa_to_hva(&vm->mem, LAYOUT_ZERO_PAGE_GPA, sizeof(*bp));
	if (!bp)
		return kv_errf(err, -EFAULT, "zero page is not in guest RAM");
	r = zeropage_build(bp,
			   &(struct zeropage_config){ .hdr = &plan->k.hdr,
						      .regions = vm->mem.regions,
						      .nregions = vm->mem.nregions,
						      .cmdline_gpa = LAYOUT_CMDLINE_GPA,
						      .cmdline_len = plan->cmdline_len,
						      .initrd_gpa = plan->initrd_gpa,
						      .initrd_size = plan->initrd_size,
						      .rsdp_gpa = rsdp_gpa },
			   err);
	if (r < 0)
		return r;
	r = x86_write_boot_tables(&vm->mem);
	if (r < 0)
		return kv_errno(err, r, "cannot write the boot page tables");
	return vcpu_setup_boot(&vm->vcpus[0], plan->k.entry, LAYOUT_ZERO_PAGE_GPA, err);
}

/* Put a virtio device on the PCI bus. The transport owns it from then on;
 * when it refuses, the device is freed here. */
static int add_virtio(struct vmm *vm, struct virtio_dev *dev, struct kv_err *err)
{
	int r = virtio_pci_add(vm, dev, err);

	if (r < 0) {
		dev->ops->reset(dev);
		dev->ops->destroy(dev);
	}
	return r;
}

static int attach_devices(struct vmm *vm, struct kv_err *err)
{
	const struct vmm_config *cfg = vm->cfg;
	struct virtio_dev *dev = NULL;
	int r;

	/* Legacy platform devices: COM1, the ACPI power registers and the
	 * keyboard controller's reset line. */
	r = chardev_open(&cfg->serial, &vm->serial_chr, err);
	if (r < 0)
		return r;
	r = uart8250_create(vm->serial_chr, &vm->loop,
			    &(struct uart8250_irq){ .set = com1_set_irq, .opaque = vm }, &vm->com1);
	if (r == 0)
		r = uart8250_attach(vm->com1, &vm->pio, LAYOUT_COM1_PORT);
	if (r < 0)
		return kv_errno(err, r, "cannot create the COM1 UART");
	r = acpi_pm_attach(vm);
	if (r < 0)
		return kv_errno(err, r, "cannot register the ACPI power ports");
	r = i8042_attach(vm);
	if (r < 0)
		return kv_errno(err, r, "cannot register the i8042 reset port");

	/* PCI bus 0: the host bridge at 00:00.0, then one slot per device in
	 * this order (console, rng, disks, vsock, NICs, shared directories,
	 * pvpanic). Every device interrupts through MSI-X; pvpanic is always there so a guest panic is reported
	 * as one (exit 4 in `kvrun vm`) rather than a reboot or a hang. */
	r = pci_init(vm, err);
	if (r < 0)
		return r;
	if (cfg->console.kind != VMM_CHR_NONE) {
		if ((r = virtio_console_create(vm, &cfg->console, &dev, err)) < 0 ||
		    (r = add_virtio(vm, dev, err)) < 0)
			return r;
		vm->console = dev;
	}
	if (cfg->rng) {
		if ((r = virtio_rng_create(vm, &dev, err)) < 0 ||
		    (r = add_virtio(vm, dev, err)) < 0)
			return r;
	}
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		/* One request queue per vCPU (blk-mq maps them 1:1). */
		if ((r = virtio_blk_create(vm, &cfg->disks[i], vm->ncpus, &dev, err)) < 0 ||
		    (r = add_virtio(vm, dev, err)) < 0)
			return r;
	}
	/* The vsock device binds its Unix listener and watches it on vm->loop,
	 * which vm_build initialized before calling us. */
	if (cfg->vsock.guest_cid != 0) {
		if ((r = virtio_vsock_create(vm, &cfg->vsock, &dev, err)) < 0 ||
		    (r = add_virtio(vm, dev, err)) < 0)
			return r;
	}
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if ((r = virtio_net_create(vm, &cfg->nets[i], i, &dev, err)) < 0 ||
		    (r = add_virtio(vm, dev, err)) < 0)
			return r;
	}
	/* Each shared directory is a virtio-fs device with its own FUSE
	 * server and worker threads; one request queue (Linux 6.1 uses only
	 * the first anyway). */
	for (unsigned i = 0; i < cfg->nfs; i++) {
		for (unsigned j = 0; j < i; j++)
			if (cfg->fs[i].tag && cfg->fs[j].tag &&
			    strcmp(cfg->fs[i].tag, cfg->fs[j].tag) == 0)
				return kv_errf(err, -EINVAL, "virtio-fs: tag %s is used twice",
					       cfg->fs[i].tag);
		if ((r = virtio_fs_create(vm, &cfg->fs[i], NULL, &dev, err)) < 0 ||
		    (r = add_virtio(vm, dev, err)) < 0)
			return r;
	}
	return pvpanic_add(vm, err);
}

int vm_build(const struct vmm_config *cfg, struct vmm **out, struct kv_err *err)
{
	struct boot_plan plan = { .initrd_fd = -1 };
	struct kvm_info info;
	struct vmm *vm;
	int r;

	if (cfg->cpus < 1 || cfg->cpus > LAYOUT_MAX_CPUS)
		return kv_errf(err, -EINVAL, "cpus: %u is not between 1 and %d", cfg->cpus,
			       LAYOUT_MAX_CPUS);
	if (!cfg->kernel)
		return kv_errf(err, -EINVAL, "no kernel given");
	if (cfg->nnets > VMM_MAX_NETS)
		return kv_errf(err, -EINVAL, "nets: %u NICs; at most %d", cfg->nnets, VMM_MAX_NETS);
	if (cfg->ndisks > VMM_MAX_DISKS || cfg->nfs > VMM_MAX_FS)
		return kv_errf(err, -EINVAL,
			       "%u disks and %u shared directories (at most %d and %d)",
			       cfg->ndisks, cfg->nfs, VMM_MAX_DISKS, VMM_MAX_FS);
	if (cfg->mem_bytes < 2 * MiB || cfg->mem_bytes % (2 * MiB))
		return kv_errf(err, -EINVAL, "memory: %llu bytes is not a multiple of 2 MiB",
			       (unsigned long long)cfg->mem_bytes);
	/* Bad input first: a missing or non-kernel file, or one that does not
	 * fit in the memory given, is reported before KVM is touched. */
	r = boot_plan_make(
	    &plan, cfg->kernel, cfg->initrd, cfg->cmdline,
	    cfg->mem_bytes < LAYOUT_MMIO_HOLE_GPA ? cfg->mem_bytes : LAYOUT_MMIO_HOLE_GPA, err);
	if (r < 0) {
		boot_plan_release(&plan);
		return r;
	}
	/* glibc's malloc reads /proc/sys/vm/overcommit_memory the first time
	 * it trims the heap of a thread's own arena: a confined thread may not
	 * open files. One arena (the main one, trimmed with brk) for every
	 * thread of a sandboxed VMM avoids that; vCPUs and workers allocate
	 * little. Process-wide, and only arenas made from now on. */
	if (cfg->sandbox.seccomp)
		(void)mallopt(M_ARENA_MAX, 1);
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		boot_plan_release(&plan);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->mem.memfd = -1;
	vm->ncpus = cfg->cpus;
	atomic_init(&vm->exit_reason, VMM_EXIT_NONE);
	pthread_mutex_init(&vm->gate_lock, NULL);
	pthread_cond_init(&vm->gate_cv, NULL);
	atomic_init(&vm->pause_req, 0);
	atomic_init(&vm->parked, 0);
	pthread_mutex_init(&vm->pause_lock, NULL);
	if ((r = io_bus_init(&vm->pio)) < 0 || (r = io_bus_init(&vm->mmio)) < 0 ||
	    (r = evloop_init(&vm->loop)) < 0) {
		kv_errno(err, r, "cannot initialize the VMM");
		goto fail;
	}

	if ((r = kvm_open(&vm->kvm_fd, &info, err)) < 0)
		goto fail;
	vm->vcpu_mmap_size = info.vcpu_mmap_size;
	if ((r = kvm_create_vm(vm->kvm_fd, &vm->vm_fd, err)) < 0)
		goto fail;
	if ((r = guest_mem_init(&vm->mem, cfg->mem_bytes, cfg->hugepages)) < 0) {
		kv_errno(err, r, "cannot allocate %llu MiB of guest memory%s",
			 (unsigned long long)(cfg->mem_bytes / MiB),
			 cfg->hugepages ? " from 2 MiB huge pages" : "");
		goto fail;
	}
	if ((r = guest_mem_register(&vm->mem, vm->vm_fd)) < 0) {
		kv_errno(err, r, "KVM_SET_USER_MEMORY_REGION");
		goto fail;
	}
	if ((r = kvm_create_irqchip(vm->vm_fd, WITH_PIT, err)) < 0)
		goto fail;
	/* Our own GSI routing table replaces KVM's default one (irq.c). */
	if ((r = irq_init(vm, err)) < 0)
		goto fail;
	if ((r = create_vcpus(vm, &info, err)) < 0)
		goto fail;
	if ((r = load_guest(vm, &plan, err)) < 0)
		goto fail;
	if ((r = attach_devices(vm, err)) < 0)
		goto fail;
	boot_plan_release(&plan);
	*out = vm;
	return 0;
fail:
	boot_plan_release(&plan);
	vm_teardown(vm);
	return r;
}

void vm_teardown(struct vmm *vm)
{
	if (!vm)
		return;
	/* Devices first: they reference the loop, the buses, the GSI router
	 * and guest RAM. PCI devices unbind their irqfds and ioeventfds, so
	 * the router goes after them and the VM fd after both. */
	pci_destroy(vm);
	vm->console = NULL;
	irq_destroy(vm);
	uart8250_destroy(vm->com1);
	chardev_close(vm->serial_chr);
	for (unsigned i = 0; vm->vcpus && i < vm->ncpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	if (vm->vm_fd >= 0)
		(void)close(vm->vm_fd);
	guest_mem_destroy(&vm->mem); /* after the VM fd: KVM no longer maps it */
	if (vm->kvm_fd >= 0)
		(void)close(vm->kvm_fd);
	if (vm->loop.epfd > 0 || vm->loop.wake_efd > 0)
		evloop_destroy(&vm->loop);
	io_bus_destroy(&vm->mmio);
	io_bus_destroy(&vm->pio);
	pthread_cond_destroy(&vm->gate_cv);
	pthread_mutex_destroy(&vm->gate_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	free(vm);
}
