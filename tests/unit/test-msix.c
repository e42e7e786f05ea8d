/* Unit tests for vmm/pci/msix.c: capability fields, the vector table and
 * PBA through a BAR, enable / function mask / per-vector mask turning routes
 * and irqfds on and off, pending bits, and hostile table accesses. */
#include "tap.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include "fake-vm.h"
#include "pci/msix.h"

#define NVEC	  4
#define TABLE_OFF 0x0
#define PBA_OFF	  0x800

struct mdev {
	struct pci_dev pci;
	struct msix msix;
};

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct mdev *m = opaque;
	if (off >= PBA_OFF)
		msix_pba_read(&m->msix, off - PBA_OFF, data, len);
	else
		msix_table_read(&m->msix, off - TABLE_OFF, data, len);
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct mdev *m = opaque;
	if (off < PBA_OFF)
		msix_table_write(&m->msix, off - TABLE_OFF, data, len);
}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

static void cfg_write(struct pci_dev *d, uint32_t off, unsigned len)
{
	msix_cfg_written(&((struct mdev *)d)->msix, d, off, len);
}

static void destroy(struct pci_dev *d)
{
	msix_destroy(&((struct mdev *)d)->msix);
	pci_dev_fini(d);
}

static const struct pci_dev_ops mdev_ops = { .cfg_write = cfg_write, .destroy = destroy };

int main(void)
{
	struct vmm vm;
	struct kv_err err = { 0 };
	static struct mdev m;
	uint64_t addr = 0;
	uint32_t data = 0;

	tap_plan(34);
	if (!ok(fake_vm_init(&vm, 0) == 0, "fake VM"))
		return tap_done();
	pci_dev_init(&m.pci, 0x1af4, 0x1044, 0xff0000, 1, 0x1af4, 0x1044);
	m.pci.ops = &mdev_ops;
	pci_dev_add_bar(&m.pci, 0, PCI_BAR_MEM64, 0x1000, &bar_ops, &m);
	ok(msix_init(&m.msix, &m.pci, vm.irq, NVEC, 0, TABLE_OFF, PBA_OFF) == 0, "msix_init");
	ok(pci_register(vm.pci, &m.pci, &err) == 0, "registered");

	unsigned cap = find_cap(&vm, 1, PCI_CAP_ID_MSIX, 0);
	ok(cap != 0, "MSI-X capability found in the chain at 0x%x", cap);
	ok((ecam_rd(&vm, 1, cap + 2, 2) & 0x7ff) == NVEC - 1, "table size field is N-1");
	ok(ecam_rd(&vm, 1, cap + 4, 4) == (TABLE_OFF | 0) &&
	       ecam_rd(&vm, 1, cap + 8, 4) == (PBA_OFF | 0),
	   "table and PBA offset/BIR");
	ecam_wr(&vm, 1, cap + 2, 0x07ff, 2);
	ok((ecam_rd(&vm, 1, cap + 2, 2) & 0x7ff) == NVEC - 1, "table size is read-only");

	uint64_t bar = pci_bar_addr(&m.pci, 0);
	ecam_wr(&vm, 1, 4, PCI_COMMAND_MEMORY, 2);
	uint64_t tbl = bar + TABLE_OFF, pba = bar + PBA_OFF;
	ok(mmio_rd(&vm, tbl + 12, 4) == 1 && mmio_rd(&vm, tbl + 3 * 16 + 12, 4) == 1,
	   "vectors start masked");
	mmio_wr(&vm, tbl + 0, 0xfee01000, 4);
	mmio_wr(&vm, tbl + 4, 0, 4);
	mmio_wr(&vm, tbl + 8, 0x4031, 4);
	ok(mmio_rd(&vm, tbl, 8) == 0xfee01000 && mmio_rd(&vm, tbl + 8, 4) == 0x4031,
	   "entry 0 address/data read back (qword and dword)");
	int gsi0 = msix_vector_gsi(&m.msix, 0), fd0 = msix_vector_fd(&m.msix, 0);
	ok(gsi0 >= LAYOUT_MSI_GSI_BASE && fd0 >= 0, "vector 0 owns GSI %d and an eventfd", gsi0);
	ok(!msix_vector_live(&m.msix, 0) && irq_irqfd_gsi(vm.irq, fd0) == -1,
	   "programmed but masked and MSI-X off: not live");

	mmio_wr(&vm, tbl + 12, 0, 4);
	ok(!msix_vector_live(&m.msix, 0), "unmasked but MSI-X disabled: not live");
	ecam_wr(&vm, 1, cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK, 2);
	ok(!msix_vector_live(&m.msix, 0), "enabled with function mask: not live");
	ecam_wr(&vm, 1, cap + 2, MSIX_CTRL_ENABLE, 2);
	ok(msix_vector_live(&m.msix, 0) && irq_irqfd_gsi(vm.irq, fd0) == gsi0,
	   "enabled, unmasked: irqfd bound to the vector's GSI");
	ok(irq_msi_committed(vm.irq, (unsigned)gsi0, &addr, &data) && addr == 0xfee01000 &&
	       data == 0x4031,
	   "route committed with the guest's address/data");
	ok(!msix_vector_live(&m.msix, 1), "other vectors still masked");

	mmio_wr(&vm, tbl + 8, 0x4032, 4);
	ok(irq_msi_committed(vm.irq, (unsigned)gsi0, NULL, &data) && data == 0x4032,
	   "rewriting data of a live vector updates the route");
	mmio_wr(&vm, tbl, 0x00000001fee02000ULL, 8);
	ok(irq_msi_committed(vm.irq, (unsigned)gsi0, &addr, NULL) && addr == 0x1fee02000ULL,
	   "qword address write updates the route");

	mmio_wr(&vm, tbl + 12, 1, 4);
	ok(!msix_vector_live(&m.msix, 0) && irq_irqfd_gsi(vm.irq, fd0) == -1,
	   "masking the vector unbinds the irqfd");
	ok(mmio_rd(&vm, pba, 8) == 0, "nothing pending yet");
	ok(msix_notify(&m.msix, 0), "notify a masked vector");
	ok(mmio_rd(&vm, pba, 8) == 1 && mmio_rd(&vm, pba, 4) == 1, "PBA bit 0 pending");
	mmio_wr(&vm, pba, 0, 8);
	ok(mmio_rd(&vm, pba, 8) == 1, "PBA is read-only");
	mmio_wr(&vm, tbl + 12, 0, 4);
	ok(msix_vector_live(&m.msix, 0) && mmio_rd(&vm, pba, 8) == 0,
	   "unmask rebinds the irqfd (KVM injects the pending count); PBA clear");
	ok(!msix_notify(&m.msix, NVEC) && !msix_notify(&m.msix, 0xffff),
	   "out-of-range vectors refused");

	ecam_wr(&vm, 1, cap + 2, 0, 2);
	ok(!msix_vector_live(&m.msix, 0), "disabling MSI-X unbinds everything");

	ecam_wr(&vm, 1, cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK, 2);
	for (unsigned i = 1; i < NVEC; i++) {
		mmio_wr(&vm, tbl + 16 * i, 0xfee00000 + 0x1000 * i, 4);
		mmio_wr(&vm, tbl + 16 * i + 8, 0x4040 + i, 4);
		mmio_wr(&vm, tbl + 16 * i + 12, 0, 4);
	}
	unsigned commits = irq_commit_count(vm.irq);
	ecam_wr(&vm, 1, cap + 2, MSIX_CTRL_ENABLE, 2);
	ok(msix_vector_live(&m.msix, 1) && msix_vector_live(&m.msix, 3) &&
	       irq_commit_count(vm.irq) == commits + 1,
	   "clearing the function mask brings 3 vectors live with one table commit");
	ecam_wr(&vm, 1, cap + 2, 0, 2);

	mmio_wr(&vm, tbl + 16 + 12, 0xffffffff, 4);
	ok(mmio_rd(&vm, tbl + 16 + 12, 4) == 1, "reserved vector-control bits read 0");
	ok(mmio_rd(&vm, tbl + 2, 4) == 0xffffffff && mmio_rd(&vm, tbl, 2) == 0xffff &&
	       mmio_rd(&vm, tbl + 4, 8) == ~0ULL,
	   "misaligned and narrow table reads return all-ones");
	ok(mmio_rd(&vm, tbl + NVEC * 16, 4) == 0xffffffff && mmio_rd(&vm, pba + 8, 8) == ~0ULL,
	   "reads past the table and PBA return all-ones");
	mmio_wr(&vm, tbl + 1, 0x12345678, 4);
	mmio_wr(&vm, tbl + 2, 0x1234, 2);
	mmio_wr(&vm, tbl + NVEC * 16, 0x1234, 4);
	ok(mmio_rd(&vm, tbl + 0, 4) == 0xfee02000, "bad table writes change nothing");

	unsigned entries = irq_committed_entries(vm.irq);
	fake_vm_destroy(&vm);
	ok(entries == IRQ_BASE_ENTRIES + NVEC,
	   "one MSI route per programmed vector was in the table");
	struct irq_router *r;
	ok(irq_router_create(-1, &r) == 0, "fresh router");
	struct mdev m2;
	pci_dev_init(&m2.pci, 0, 0, 0, 0, 0, 0);
	ok(msix_init(&m2.msix, &m2.pci, r, 0, 0, 0, 0) < 0 &&
	       msix_init(&m2.msix, &m2.pci, r, 4, 0, 4, 0) < 0,
	   "zero vectors or a misaligned table refused");
	pci_dev_fini(&m2.pci);
	irq_router_free(r);
	return tap_done();
}
