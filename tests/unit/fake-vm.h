/* fake-vm.h - a struct vmm for unit tests that need no /dev/kvm.
 *
 * Owns: building just enough of the machine for PCI, MSI-X and virtio-pci
 * register tests: the port and MMIO buses, the event loop (not running
 * unless a test starts it), a little guest RAM, the recording irq router
 * (vm_fd = -1) and bus 0. Guest accesses go through the buses exactly as
 * vCPU exits would deliver them. */
#ifndef KVRUN_TESTS_FAKE_VM_H
#define KVRUN_TESTS_FAKE_VM_H

#include <stdint.h>
#include <string.h>

#include "irq.h"
#include "layout.h"
#include "pci/pci.h"
#include "vm.h"

static inline int fake_vm_init(struct vmm *vm, uint64_t mem_bytes)
{
	struct kv_err err = { 0 };

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	if (io_bus_init(&vm->pio) || io_bus_init(&vm->mmio) || evloop_init(&vm->loop))
		return -1;
	if (mem_bytes && guest_mem_init(&vm->mem, mem_bytes, false) < 0)
		return -1;
	if (irq_init(vm, &err) < 0 || pci_init(vm, &err) < 0)
		return -1;
	return 0;
}

static inline void fake_vm_destroy(struct vmm *vm)
{
	pci_destroy(vm);
	irq_destroy(vm);
	guest_mem_destroy(&vm->mem);
	evloop_destroy(&vm->loop);
	io_bus_destroy(&vm->mmio);
	io_bus_destroy(&vm->pio);
}

/* Guest accesses. */
static inline uint64_t mmio_rd(struct vmm *vm, uint64_t addr, unsigned len)
{
	uint64_t v = 0;
	io_bus_access(&vm->mmio, addr, &v, len, false);
	return v;
}

static inline void mmio_wr(struct vmm *vm, uint64_t addr, uint64_t v, unsigned len)
{
	io_bus_access(&vm->mmio, addr, &v, len, true);
}

static inline uint64_t ecam_addr(unsigned slot, unsigned fn, unsigned reg)
{
	return LAYOUT_ECAM_GPA + ((uint64_t)slot << 15) + ((uint64_t)fn << 12) + reg;
}

static inline uint32_t ecam_rd(struct vmm *vm, unsigned slot, unsigned reg, unsigned len)
{
	return (uint32_t)mmio_rd(vm, ecam_addr(slot, 0, reg), len);
}

static inline void ecam_wr(struct vmm *vm, unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
	mmio_wr(vm, ecam_addr(slot, 0, reg), v, len);
}

static inline uint32_t cf8_addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static inline uint32_t cf8_rd(struct vmm *vm, unsigned bus, unsigned slot, unsigned fn,
			      unsigned reg, unsigned len)
{
	uint32_t a = cf8_addr(bus, slot, fn, reg), v = 0;
	io_bus_access(&vm->pio, LAYOUT_PCI_CONF_PORT, &a, 4, true);
	io_bus_access(&vm->pio, LAYOUT_PCI_CONF_PORT + 4 + (reg & 3), &v, len, false);
	return v;
}

static inline void cf8_wr(struct vmm *vm, unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
	uint32_t a = cf8_addr(0, slot, 0, reg);
	io_bus_access(&vm->pio, LAYOUT_PCI_CONF_PORT, &a, 4, true);
	io_bus_access(&vm->pio, LAYOUT_PCI_CONF_PORT + 4 + (reg & 3), &v, len, true);
}

/* Walk slot's capability list (as a guest would, via ECAM) for id; 0 if absent. */
static inline unsigned find_cap(struct vmm *vm, unsigned slot, unsigned id, unsigned after)
{
	unsigned pos = after ? ecam_rd(vm, slot, after + 1, 1) : ecam_rd(vm, slot, 0x34, 1);
	for (int guard = 0; pos && guard < 48; guard++) {
		if (ecam_rd(vm, slot, pos, 1) == id)
			return pos;
		pos = ecam_rd(vm, slot, pos + 1, 1);
	}
	return 0;
}

#endif
