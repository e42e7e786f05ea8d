/* Unit tests for vmm/irq.c with the recording backend (vm_fd = -1): the base
 * table and its agreement with the ACPI MADT, MSI GSI allocation and routes, commits, irqfd and ioeventfd
 * bookkeeping and its uniqueness rules, and concurrent use. */
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "irq.h"
#include "layout.h"

#define NTHREADS   4
#define PER_THREAD 50

static void *hammer(void *arg)
{
	struct irq_router *r = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		unsigned gsi;
		if (irq_msi_alloc(r, &gsi) < 0)
			return (void *)1;
		if (irq_msi_set(r, gsi, 0xfee00000u + i, (uint32_t)gsi) < 0 || irq_commit(r) < 0)
			return (void *)1;
	}
	return NULL;
}

int main(void)
{
	struct irq_router *r;
	unsigned g0 = 0, g1 = 0, gsi;
	uint64_t addr = 0;
	uint32_t data = 0;

	tap_plan(39);
	ok(irq_router_create(-1, &r) == 0, "create a recording router");
	ok(irq_commit(r) == 0 && irq_commit_count(r) == 1, "first commit installs the base table");
	ok(irq_committed_entries(r) == IRQ_BASE_ENTRIES,
	   "base table: 23 IOAPIC routes + 15 PIC routes (%u)", irq_committed_entries(r));
	ok(irq_base_ioapic_pin(0) == ACPI_PIT_GSI && irq_base_pic_pin(0) == 0,
	   "ISA IRQ 0 reaches PIC pin 0 and IOAPIC pin %u, as the MADT override says",
	   ACPI_PIT_GSI);
	ok(irq_base_ioapic_pin(ACPI_COM1_IRQ) == ACPI_COM1_IRQ &&
	       irq_base_pic_pin(ACPI_COM1_IRQ) == ACPI_COM1_IRQ,
	   "COM1's IRQ %u is identity-mapped", ACPI_COM1_IRQ);
	ok(irq_base_ioapic_pin(2) == -1 && irq_base_pic_pin(2) == -1,
	   "KVM GSI 2 (the 8259 cascade) drives nothing");
	int owners[LAYOUT_IOAPIC_PINS] = { 0 }, total = 0, clash = 0;
	for (unsigned g = 0; g < LAYOUT_MSI_GSI_BASE + 4; g++) {
		int pin = irq_base_ioapic_pin(g), pic = irq_base_pic_pin(g);
		if (pin >= 0 && (pin >= LAYOUT_IOAPIC_PINS || owners[pin]++))
			clash++;
		if (pic >= 16 || (pic >= 0 && pin != pic && g != 0))
			clash++;
		total += (pin >= 0) + (pic >= 0);
	}
	ok(!clash && owners[0] == 0 && total == IRQ_BASE_ENTRIES,
	   "every other IOAPIC pin has exactly one GSI, pin 0 none, no route past 23");
	ok(irq_base_ioapic_pin(LAYOUT_MSI_GSI_BASE) == -1 && irq_base_pic_pin(16) == -1,
	   "MSI GSIs have no chip route");
	ok(irq_commit(r) == 0 && irq_commit_count(r) == 1, "commit without change sends nothing");

	ok(irq_msi_alloc(r, &g0) == 0 && g0 == LAYOUT_MSI_GSI_BASE, "first MSI GSI is %u", g0);
	ok(irq_msi_alloc(r, &g1) == 0 && g1 == LAYOUT_MSI_GSI_BASE + 1, "second MSI GSI is %u", g1);
	ok(irq_msi_set(r, 5, 0xfee00000, 0x41) == -EINVAL, "IOAPIC GSIs take no MSI route");
	ok(irq_msi_set(r, g1 + 1, 0xfee00000, 0x41) == -EINVAL, "unallocated GSI refused");
	ok(irq_msi_set(r, LAYOUT_MAX_GSI, 0, 0) == -EINVAL, "GSI past the end refused");
	ok(!irq_msi_committed(r, g0, NULL, NULL), "allocated GSI has no route until set");
	ok(irq_commit(r) == 0 && irq_commit_count(r) == 1, "allocation alone changes nothing");

	ok(irq_msi_set(r, g0, 0x1fee01000ULL, 0x4021) == 0 && irq_commit(r) == 0,
	   "stage and commit an MSI route");
	ok(irq_commit_count(r) == 2 && irq_committed_entries(r) == IRQ_BASE_ENTRIES + 1,
	   "table now has one more entry");
	ok(irq_msi_committed(r, g0, &addr, &data) && addr == 0x1fee01000ULL && data == 0x4021,
	   "committed route carries the 64-bit address and data");
	ok(irq_msi_set(r, g0, 0x1fee01000ULL, 0x4021) == 0 && irq_commit(r) == 0 &&
	       irq_commit_count(r) == 2,
	   "re-staging the same route does not recommit");
	irq_msi_free(r, g0);
	ok(irq_commit(r) == 0 && irq_committed_entries(r) == IRQ_BASE_ENTRIES &&
	       !irq_msi_committed(r, g0, 0, 0),
	   "freeing a GSI drops its route at the next commit");
	ok(irq_msi_alloc(r, &gsi) == 0 && gsi == g0, "freed GSI is reused");

	unsigned n = 2;
	while (irq_msi_alloc(r, &gsi) == 0)
		n++;
	ok(n == LAYOUT_MAX_GSI - LAYOUT_MSI_GSI_BASE, "all %u MSI GSIs allocatable, then -ENOSPC",
	   n);
	for (gsi = LAYOUT_MSI_GSI_BASE; gsi < LAYOUT_MAX_GSI; gsi++)
		irq_msi_free(r, gsi);

	int efd = eventfd(0, EFD_CLOEXEC), efd2 = eventfd(0, EFD_CLOEXEC);
	ok(irq_irqfd_assign(r, efd, g1) == 0 && irq_irqfd_gsi(r, efd) == (int)g1,
	   "irqfd binds an eventfd to a GSI");
	ok(irq_irqfd_assign(r, efd, g0) == -EBUSY, "an eventfd drives one GSI at a time");
	ok(irq_irqfd_deassign(r, efd, g0) == -ENOENT, "deassign must name the bound GSI");
	ok(irq_irqfd_deassign(r, efd, g1) == 0 && irq_irqfd_gsi(r, efd) == -1, "irqfd unbound");
	ok(irq_irqfd_assign(r, -1, g1) == -EINVAL, "bad fd refused");

	struct irq_ioeventfd io = { .addr = 0xc0003000, .len = 2 };
	struct irq_ioeventfd io_dm = {
		.addr = 0xc0003000, .len = 2, .flags = IRQ_IOEVENTFD_DATAMATCH, .data = 1
	};
	ok(irq_ioeventfd_assign(r, efd, &io) == 0 && irq_ioeventfd_fd(r, io.addr, false) == efd,
	   "ioeventfd bound at an MMIO address");
	ok(irq_ioeventfd_assign(r, efd2, &io) == -EEXIST, "identical match refused");
	ok(irq_ioeventfd_assign(r, efd2, &io_dm) == 0 && irq_ioeventfd_count(r) == 2,
	   "same address with datamatch is a different match");
	ok(irq_ioeventfd_fd(r, io.addr, true) == -1, "MMIO binding is not a port binding");
	ok(irq_ioeventfd_deassign(r, efd2, &io) == -ENOENT, "deassign needs the same fd and match");
	ok(irq_ioeventfd_deassign(r, efd, &io) == 0 &&
	       irq_ioeventfd_deassign(r, efd2, &io_dm) == 0 && irq_ioeventfd_count(r) == 0,
	   "both unbound");
	struct irq_ioeventfd bad_len = { .addr = 0x10, .len = 3 };
	struct irq_ioeventfd any_pio = { .addr = 0x10, .len = 0, .flags = IRQ_IOEVENTFD_PIO };
	struct irq_ioeventfd bad_flag = { .addr = 0x10, .len = 4, .flags = 0x80 };
	ok(irq_ioeventfd_assign(r, efd, &bad_len) == -EINVAL &&
	       irq_ioeventfd_assign(r, efd, &any_pio) == -EINVAL &&
	       irq_ioeventfd_assign(r, efd, &bad_flag) == -EINVAL,
	   "invalid lengths and flags refused");
	struct irq_ioeventfd any = { .addr = 0xc0004000, .len = 0 };
	ok(irq_ioeventfd_assign(r, efd, &any) == 0 && irq_ioeventfd_deassign(r, efd, &any) == 0,
	   "any-length MMIO match accepted");

	pthread_t t[NTHREADS];
	int bad = 0;
	unsigned before = irq_commit_count(r);
	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, hammer, r);
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		bad |= ret != NULL;
	}
	ok(!bad, "concurrent alloc/set/commit from %d threads", NTHREADS);
	ok(irq_committed_entries(r) == IRQ_BASE_ENTRIES + NTHREADS * PER_THREAD,
	   "every concurrently staged route committed (%u entries)", irq_committed_entries(r));
	ok(irq_commit_count(r) > before, "commits counted");

	close(efd);
	close(efd2);
	irq_router_free(r);
	return tap_done();
}
