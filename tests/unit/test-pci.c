/* Unit tests for vmm/pci: both config decoders agree, ids, absent functions,
 * access-size rules, masks, BAR sizing/placement/moves on the MMIO bus,
 * the capability chain, slot exhaustion, and a config-space fuzz. */
#include "tap.h"

#include <errno.h>
#include <stdlib.h>

#include "fake-vm.h"

struct tdev {
	struct pci_dev pci;
	unsigned reads, writes;
	uint64_t last_off;
	int map_events;
	uint64_t last_map_addr;
	bool last_mapped;
	bool destroyed;
};

static void tdev_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct tdev *t = opaque;
	t->reads++;
	t->last_off = off;
	memset(data, 0x5a, len);
}

static void tdev_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct tdev *t = opaque;
	t->writes++;
	t->last_off = off;
}

static const struct io_ops tdev_io = { .read = tdev_read, .write = tdev_write };

static void tdev_bar_map(struct pci_dev *d, unsigned bar, uint64_t addr, bool mapped)
{
	struct tdev *t = (struct tdev *)d;
	t->map_events++;
	t->last_map_addr = addr;
	t->last_mapped = mapped;
}

static void tdev_destroy(struct pci_dev *d)
{
	((struct tdev *)d)->destroyed = true;
	pci_dev_fini(d);
}

static const struct pci_dev_ops tdev_ops = { .bar_map = tdev_bar_map, .destroy = tdev_destroy };

static int tdev_setup(struct tdev *t)
{
	memset(t, 0, sizeof(*t));
	if (pci_dev_init(&t->pci, 0x1234, 0xabcd, 0x018000, 3, 0x1af4, 0x1100) < 0)
		return -1;
	t->pci.ops = &tdev_ops;
	if (pci_dev_add_bar(&t->pci, 0, PCI_BAR_MEM32, 0x1000, &tdev_io, t) < 0 ||
	    pci_dev_add_bar(&t->pci, 2, PCI_BAR_MEM64, 0x4000, &tdev_io, t) < 0)
		return -1;
	int c1 = pci_dev_add_cap(&t->pci, PCI_CAP_ID_VNDR, 16);
	int c2 = pci_dev_add_cap(&t->pci, PCI_CAP_ID_MSIX, 12);
	return c1 == 0x40 && c2 == 0x50 ? 0 : -1;
}

int main(void)
{
	struct vmm vm;
	struct kv_err err = { 0 };
	static struct tdev t, many[31];

	tap_plan(44);
	if (!ok(fake_vm_init(&vm, 0) == 0, "fake VM with bus 0"))
		return tap_done();

	ok(cf8_rd(&vm, 0, 0, 0, 0, 4) == 0x00081b36, "host bridge 1b36:0008 through 0xCF8/0xCFC");
	ok(ecam_rd(&vm, 0, 0, 4) == 0x00081b36, "host bridge 1b36:0008 through ECAM");
	ok(ecam_rd(&vm, 0, 8, 4) >> 8 == 0x060000, "host bridge class 06.00.00");
	ok(cf8_rd(&vm, 0, 1, 0, 0, 4) == 0xffffffff && ecam_rd(&vm, 1, 0, 4) == 0xffffffff,
	   "empty slot reads all-ones on both paths");
	ok(cf8_rd(&vm, 0, 0, 1, 0, 4) == 0xffffffff &&
	       mmio_rd(&vm, ecam_addr(0, 3, 0), 4) == 0xffffffff,
	   "function 1..7 absent");
	ok(cf8_rd(&vm, 1, 0, 0, 0, 4) == 0xffffffff, "bus 1 absent");
	uint32_t a = 0x00000000, v = 0;
	io_bus_access(&vm.pio, LAYOUT_PCI_CONF_PORT, &a, 4, true);
	io_bus_access(&vm.pio, LAYOUT_PCI_CONF_PORT + 4, &v, 4, false);
	ok(v == 0xffffffff, "CONFIG_ADDRESS without the enable bit reads all-ones");
	a = 0x12345678;
	io_bus_access(&vm.pio, LAYOUT_PCI_CONF_PORT, &a, 4, true);
	io_bus_access(&vm.pio, LAYOUT_PCI_CONF_PORT, &v, 4, false);
	ok(v == (0x12345678u & 0x8ffffffcu), "CONFIG_ADDRESS latches (reserved bits read 0)");
	uint8_t b = 0x06;
	io_bus_access(&vm.pio, LAYOUT_PCI_CONF_PORT + 1, &b, 1, true);
	io_bus_access(&vm.pio, LAYOUT_PCI_CONF_PORT, &v, 4, false);
	ok(v == (0x12345678u & 0x8ffffffcu), "byte write to 0xCF9 leaves the latch alone");

	if (!ok(tdev_setup(&t) == 0, "test device with two BARs and two capabilities"))
		return tap_done();
	ok(pci_register(vm.pci, &t.pci, &err) == 0 && t.pci.slot == 1, "registered in slot 1");

	bool agree = true;
	for (unsigned reg = 0; reg < 256; reg++) {
		for (unsigned len = 1; len <= 4; len <<= 1) {
			if ((reg & 3) + len > 4)
				continue;
			agree &= cf8_rd(&vm, 0, 1, 0, reg, len) == ecam_rd(&vm, 1, reg, len);
		}
	}
	ok(agree, "every byte/word/dword of config space agrees between 0xCFC and ECAM");
	ok(ecam_rd(&vm, 1, 0, 2) == 0x1234 && ecam_rd(&vm, 1, 2, 2) == 0xabcd, "vendor/device ids");
	ok(ecam_rd(&vm, 1, 8, 4) == 0x01800003, "class code and revision");
	ok(ecam_rd(&vm, 1, 0x2c, 4) == 0x11001af4, "subsystem ids");
	ok(ecam_rd(&vm, 1, 0x3d, 1) == 0, "no INTx pin");
	ok(ecam_rd(&vm, 1, 2, 4) == 0xffffffff, "dword access crossing a dword boundary refused");
	ok(mmio_rd(&vm, ecam_addr(1, 0, 0), 8) == ~0ULL, "8-byte ECAM access refused");
	ok(ecam_rd(&vm, 1, 0x100, 4) == 0 && ecam_rd(&vm, 1, 0xffc, 4) == 0,
	   "extended config space of a present function reads 0");

	ecam_wr(&vm, 1, 0, 0xdeadbeef, 4);
	ok(ecam_rd(&vm, 1, 0, 4) == 0xabcd1234, "ids are read-only");
	ecam_wr(&vm, 1, 0x3c, 0x0b, 1);
	ok(ecam_rd(&vm, 1, 0x3c, 1) == 0x0b, "interrupt line is writable");

	uint32_t bar0 = ecam_rd(&vm, 1, 0x10, 4), bar2 = ecam_rd(&vm, 1, 0x18, 4);
	uint32_t bar3 = ecam_rd(&vm, 1, 0x1c, 4);
	ok(bar0 >= LAYOUT_PCI_MMIO32_GPA && (bar0 & 0xfff) == 0,
	   "BAR0 placed in the 32-bit window");
	ok((bar2 & 0xf) == 0x4 && (bar2 & 0x3fff0) == 0 && bar3 == 0,
	   "64-bit BAR2 placed below 4 GiB, 16 KiB aligned");
	uint32_t bar2a = bar2 & ~0xfu;
	ok(bar2a + 0x4000 <= bar0 || bar0 + 0x1000 <= bar2a, "BARs do not overlap");

	ecam_wr(&vm, 1, 0x10, 0xffffffff, 4);
	ok(ecam_rd(&vm, 1, 0x10, 4) == 0xfffff000, "BAR0 sizing reads back ~(4K-1)");
	ecam_wr(&vm, 1, 0x18, 0xffffffff, 4);
	ecam_wr(&vm, 1, 0x1c, 0xffffffff, 4);
	ok(ecam_rd(&vm, 1, 0x18, 4) == 0xffffc004 && ecam_rd(&vm, 1, 0x1c, 4) == 0xffffffff,
	   "64-bit BAR sizing reads back ~(16K-1) with the 64-bit type bits");
	ecam_wr(&vm, 1, 0x10, bar0, 4);
	ecam_wr(&vm, 1, 0x18, bar2, 4);
	ecam_wr(&vm, 1, 0x1c, 0, 4);
	ecam_wr(&vm, 1, 0x30, 0xfffff800, 4);
	ok(ecam_rd(&vm, 1, 0x30, 4) == 0, "no expansion ROM");

	ok(!io_bus_access(&vm.mmio, bar0, &v, 4, false), "BAR not decoded while memory is off");
	ecam_wr(&vm, 1, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ok(io_bus_access(&vm.mmio, bar0 + 8, &v, 4, false) && t.last_off == 8 && v == 0x5a5a5a5a,
	   "memory enable maps BAR0; handler sees BAR-relative offsets");
	ok(io_bus_access(&vm.mmio, bar2a + 0x3ffc, &v, 4, true) && t.last_off == 0x3ffc,
	   "64-bit BAR decoded too");
	ok(t.map_events == 2 && t.last_mapped, "bar_map hook told of both mappings");

	uint32_t moved = 0xd0000000;
	ecam_wr(&vm, 1, 0x10, moved, 4);
	ok(!io_bus_access(&vm.mmio, bar0, &v, 4, false) &&
	       io_bus_access(&vm.mmio, moved + 4, &v, 4, false),
	   "moving BAR0 unregisters the old range and registers the new one");
	ok(t.map_events == 4 && t.last_mapped && t.last_map_addr == moved,
	   "hook saw unmap then map at the new address");
	ecam_wr(&vm, 1, 0x10, LAYOUT_ECAM_GPA, 4);
	ok(!io_bus_access(&vm.mmio, moved, &v, 4, false) && ecam_rd(&vm, 0, 0, 4) == 0x00081b36,
	   "BAR moved over ECAM stays unmapped; ECAM still works");
	ecam_wr(&vm, 1, 0x10, moved, 4);
	ecam_wr(&vm, 1, 4, 0, 2);
	ok(!io_bus_access(&vm.mmio, moved, &v, 4, false) &&
	       !io_bus_access(&vm.mmio, bar2a, &v, 4, false),
	   "memory disable unmaps every BAR");

	ok(ecam_rd(&vm, 1, 6, 2) & PCI_STATUS_CAP_LIST, "status has the capability-list bit");
	ok(find_cap(&vm, 1, PCI_CAP_ID_VNDR, 0) == 0x40 &&
	       find_cap(&vm, 1, PCI_CAP_ID_MSIX, 0) == 0x50,
	   "capability chain walk finds both");
	ok(ecam_rd(&vm, 1, 0x51, 1) == 0, "chain ends");
	ecam_wr(&vm, 1, 0x34, 0x80, 1);
	ecam_wr(&vm, 1, 0x41, 0x99, 1);
	ok(ecam_rd(&vm, 1, 0x34, 1) == 0x40 && ecam_rd(&vm, 1, 0x41, 1) == 0x50,
	   "capability pointers are read-only");
	pthread_mutex_lock(&t.pci.lock);
	pci_cfg_set16(&t.pci, PCI_REG_STATUS, pci_cfg_get16(&t.pci, PCI_REG_STATUS) | 0x8000);
	pthread_mutex_unlock(&t.pci.lock);
	ecam_wr(&vm, 1, 6, 0xffff, 2);
	ok(ecam_rd(&vm, 1, 6, 2) == PCI_STATUS_CAP_LIST, "error bits are write-1-to-clear");

	/* Hostile guest: every value at every offset and size, both decoders. */
	srand(7);
	for (int i = 0; i < 20000; i++) {
		unsigned reg = (unsigned)rand() % 0x1000, len = 1u << (rand() % 4);
		uint32_t val = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		if (i & 1)
			mmio_wr(&vm, ecam_addr((unsigned)rand() % 32, 0, reg), val, len);
		else
			cf8_wr(&vm, 1, reg & 0xff, val, len > 4 ? 4 : len);
	}
	ok(ecam_rd(&vm, 1, 0, 4) == 0xabcd1234 && ecam_rd(&vm, 0, 0, 4) == 0x00081b36,
	   "config fuzz leaves ids intact");
	ecam_wr(&vm, 1, 4, 0, 2);

	int r = 0;
	unsigned n = 0;
	for (unsigned i = 0; i < 31 && r == 0; i++) {
		pci_dev_init(&many[i].pci, 0x1234, (uint16_t)i, 0xff0000, 0, 0, 0);
		many[i].pci.ops = &tdev_ops;
		r = pci_register(vm.pci, &many[i].pci, &err);
		if (r == 0)
			n++;
		else
			pci_dev_fini(&many[i].pci);
	}
	ok(n == 30 && r == -ENOSPC, "30 more devices fit, the 32nd slot does not exist");

	fake_vm_destroy(&vm);
	ok(t.destroyed && many[0].destroyed, "pci_destroy destroys every device");
	return tap_done();
}
