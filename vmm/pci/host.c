/* host.c - bus 0: the host bridge, both config-space decoders, slots, BAR placement.
 *
 * Owns: the CONFIG_ADDRESS latch at 0xCF8 and the data window at
 * 0xCFC-0xCFF (configuration mechanism #1, including AMD's extended-register
 * bits 27:24 so that it reaches the same bytes ECAM does), the ECAM window
 * (bus 0 only: 32 devices x 8 functions x 4 KiB), slot allocation, and
 * first placement of BARs in the 32-bit window (bump allocation, naturally
 * aligned, largest first). 64-bit BARs are placed below 4 GiB as well: the
 * guest may move them anywhere its ACPI _CRS windows allow. */
#include "pci.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "vm.h"

#define CF8_ENABLE (1u << 31)
#define CF8_MASK   0x8ffffffcu /* enable, AMD ext reg 27:24, bus, dev, fn, reg 7:2 */

static struct pci_dev *lookup(struct pci_bus *bus, unsigned busno, unsigned slot, unsigned fn)
{
	if (busno != 0 || fn != 0 || slot >= PCI_NUM_SLOTS)
		return NULL;
	return bus->slots[slot];
}

void pci_bus_cfg_access(struct pci_bus *bus, unsigned busno, unsigned slot, unsigned fn,
			uint32_t reg, void *data, unsigned len, bool is_write)
{
	bool size_ok = (len == 1 || len == 2 || len == 4) && (reg & 3u) + len <= 4;
	struct pci_dev *d = lookup(bus, busno, slot, fn);

	if (!size_ok || !d) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (reg >= PCI_CFG_SIZE) { /* PCIe extended space: no extended capabilities */
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		pci_dev_cfg_write(d, reg, data, len);
	else
		pci_dev_cfg_read(d, reg, data, len);
}

static void cf8_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_bus *bus = opaque;

	if (off == 0 && len == 4) {
		uint32_t v = atomic_load(&bus->cf8);
		memcpy(data, &v, 4);
	} else {
		memset(data, 0xff, len);
	}
}

static void cf8_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	uint32_t v;

	/* Only dword accesses reach CONFIG_ADDRESS; byte writes to 0xCF9 (the
	 * chipset reset register on real boards) are ignored. */
	if (off == 0 && len == 4) {
		memcpy(&v, data, 4);
		atomic_store(&bus->cf8, v & CF8_MASK);
	}
}

static void cfc_access(struct pci_bus *bus, uint64_t off, void *data, unsigned len, bool w)
{
	uint32_t a = atomic_load(&bus->cf8);

	if (!(a & CF8_ENABLE)) {
		if (!w)
			memset(data, 0xff, len);
		return;
	}
	uint32_t reg = ((a >> 16) & 0xf00u) | (a & 0xfcu);
	pci_bus_cfg_access(bus, (a >> 16) & 0xff, (a >> 11) & 0x1f, (a >> 8) & 0x7,
			   reg + (uint32_t)off, data, len, w);
}

static void cfc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	cfc_access(opaque, off, data, len, false);
}

static void cfc_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	cfc_access(opaque, off, (void *)data, len, true);
}

static void ecam_access(struct pci_bus *bus, uint64_t off, void *data, unsigned len, bool w)
{
	pci_bus_cfg_access(bus, (unsigned)(off >> 20), (off >> 15) & 0x1f, (off >> 12) & 0x7,
			   off & 0xfff, data, len, w);
}

static void ecam_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	ecam_access(opaque, off, data, len, false);
}

static void ecam_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	ecam_access(opaque, off, (void *)data, len, true);
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };
static const struct io_ops cfc_ops = { .read = cfc_read, .write = cfc_write };
static const struct io_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

static void bus_free(struct pci_bus *bus)
{
	if (bus->ecam_registered)
		(void)io_bus_unregister(bus->mmio, LAYOUT_ECAM_GPA);
	if (bus->pio_registered) {
		(void)io_bus_unregister(bus->pio, LAYOUT_PCI_CONF_PORT);
		(void)io_bus_unregister(bus->pio, LAYOUT_PCI_CONF_PORT + 4);
	}
	pci_dev_fini(&bus->host);
	free(bus);
}

int pci_init(struct vmm *vm, struct kv_err *err)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	int r;

	if (!bus)
		return kv_errno(err, -ENOMEM, "pci: allocating bus 0");
	bus->vm = vm;
	bus->pio = &vm->pio;
	bus->mmio = &vm->mmio;
	bus->mmio32_next = LAYOUT_PCI_MMIO32_GPA;
	bus->mmio32_end = LAYOUT_PCI_MMIO32_GPA + LAYOUT_PCI_MMIO32_SIZE;
	r = pci_dev_init(&bus->host, PCI_HOST_VENDOR, PCI_HOST_DEVICE, 0x060000, 0, 0, 0);
	if (r < 0) {
		free(bus);
		return kv_errno(err, r, "pci: host bridge");
	}
	bus->host.bus = bus;
	bus->slots[0] = &bus->host;

	r = io_bus_register(bus->pio, LAYOUT_PCI_CONF_PORT, 4, &cf8_ops, bus);
	if (r == 0) {
		r = io_bus_register(bus->pio, LAYOUT_PCI_CONF_PORT + 4, 4, &cfc_ops, bus);
		if (r < 0)
			(void)io_bus_unregister(bus->pio, LAYOUT_PCI_CONF_PORT);
	}
	if (r < 0) {
		bus_free(bus);
		return kv_errno(err, r, "pci: registering config ports 0x%x-0x%x",
				LAYOUT_PCI_CONF_PORT, LAYOUT_PCI_CONF_PORT + 7);
	}
	bus->pio_registered = true;
	r = io_bus_register(bus->mmio, LAYOUT_ECAM_GPA, LAYOUT_ECAM_SIZE, &ecam_ops, bus);
	if (r < 0) {
		bus_free(bus);
		return kv_errno(err, r, "pci: registering ECAM at 0x%llx",
				(unsigned long long)LAYOUT_ECAM_GPA);
	}
	bus->ecam_registered = true;
	vm->pci = bus;
	return 0;
}

void pci_destroy(struct vmm *vm)
{
	struct pci_bus *bus = vm->pci;

	if (!bus)
		return;
	for (unsigned slot = PCI_NUM_SLOTS - 1; slot > 0; slot--) {
		struct pci_dev *d = bus->slots[slot];
		if (!d)
			continue;
		pci_dev_unmap_bars(d);
		bus->slots[slot] = NULL;
		if (d->ops && d->ops->destroy)
			d->ops->destroy(d);
	}
	bus_free(bus);
	vm->pci = NULL;
}

int pci_register(struct pci_bus *bus, struct pci_dev *d, struct kv_err *err)
{
	unsigned slot;
	bool placed[PCI_NUM_BARS] = { false };
	uint64_t next = bus->mmio32_next;

	for (slot = 1; slot < PCI_NUM_SLOTS && bus->slots[slot]; slot++)
		;
	if (slot == PCI_NUM_SLOTS)
		return kv_errf(err, -ENOSPC, "pci: bus 0 has no free slot");

	/* Largest BAR first keeps natural alignment from wasting the window. */
	for (;;) {
		int best = -1;
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			if (d->bars[i].type != PCI_BAR_NONE && !placed[i] &&
			    (best < 0 || d->bars[i].size > d->bars[best].size))
				best = (int)i;
		}
		if (best < 0)
			break;
		struct pci_bar *b = &d->bars[best];
		uint64_t addr = (next + b->size - 1) & ~(b->size - 1);
		if (addr + b->size > bus->mmio32_end || addr + b->size < addr)
			return kv_errf(err, -ENOSPC,
				       "pci: 32-bit window full placing a %llu-byte BAR",
				       (unsigned long long)b->size);
		uint32_t reg = PCI_REG_BAR0 + 4 * (unsigned)best;
		pci_cfg_set32(d, reg, (uint32_t)addr | (pci_cfg_get32(d, reg) & 0xfu));
		if (b->type == PCI_BAR_MEM64)
			pci_cfg_set32(d, reg + 4, (uint32_t)(addr >> 32));
		next = addr + b->size;
		placed[best] = true;
	}
	bus->mmio32_next = next;
	d->bus = bus;
	d->slot = slot;
	bus->slots[slot] = d;
	return 0;
}
