/* config.c - validation of struct acpi_config.
 *
 * Owns: every rule a configuration must satisfy before tables are built:
 * CPU count and APIC IDs, interrupt controller placement, the PCI bus range,
 * ECAM and windows (non-empty, not wrapping, not overlapping each other or
 * the APICs), and the sleep/reset ports (present, outside the PCI I/O
 * window, the 0xCF8 config ports and COM1, and not mistakable for one
 * another). Returns 0 or -EINVAL. */
#include "acpi.h"

#include <errno.h>

#define FOUR_GIB	(1ull << 32)
#define APIC_PAGE	0x1000ull
#define ISA_IO_END	0x1000u /* PCI I/O windows start above the legacy ISA range */
#define PCI_CONFIG_PORT 0xcf8u
#define COM1_PORT	0x3f8u

struct range {
	uint64_t base, size; /* size >= 1 and base + size - 1 does not wrap */
};

static bool range_ok(struct range r)
{
	return r.size != 0 && r.size - 1 <= UINT64_MAX - r.base;
}

static bool overlap(struct range a, struct range b)
{
	return a.base <= b.base + (b.size - 1) && b.base <= a.base + (a.size - 1);
}

static bool below_4g(struct range r)
{
	return r.base < FOUR_GIB && r.size <= FOUR_GIB - r.base;
}

static bool port_in(uint16_t port, uint32_t base, uint32_t size)
{
	return port >= base && port - base < size;
}

static bool port_ok(const struct acpi_config *c, uint16_t port)
{
	if (port == 0 || port_in(port, c->pci_io_base, c->pci_io_size) ||
	    port_in(port, PCI_CONFIG_PORT, 8))
		return false;
	return !(c->com1 && port_in(port, COM1_PORT, 8));
}

static int check_apics(const struct acpi_config *c)
{
	struct range lapic = { c->lapic_addr, APIC_PAGE }, ioapic = { c->ioapic_addr, APIC_PAGE };

	if (c->ncpus == 0 || c->ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	/* CPU APIC IDs are 0..ncpus-1. */
	if (c->ioapic_id < c->ncpus)
		return -EINVAL;
	/* ISA IRQs 0-15 (the PIT override, COM1) must land on this IOAPIC. */
	if (c->ioapic_gsi_base != 0)
		return -EINVAL;
	if ((c->lapic_addr | c->ioapic_addr) & (APIC_PAGE - 1))
		return -EINVAL;
	if (!range_ok(lapic) || !range_ok(ioapic) || !below_4g(lapic) || !below_4g(ioapic) ||
	    overlap(lapic, ioapic))
		return -EINVAL;
	return 0;
}

static int check_pci(const struct acpi_config *c)
{
	struct range lapic = { c->lapic_addr, APIC_PAGE }, ioapic = { c->ioapic_addr, APIC_PAGE };
	struct range ecam, m32 = { c->pci_mmio32_base, c->pci_mmio32_size },
			   m64 = { c->pci_mmio64_base, c->pci_mmio64_size };

	if (c->bus_start > c->bus_end || (c->ecam_base & ((1u << 20) - 1)))
		return -EINVAL;
	ecam.size = (uint64_t)(c->bus_end - c->bus_start + 1) << 20;
	if (c->ecam_base > UINT64_MAX - ((uint64_t)c->bus_start << 20))
		return -EINVAL;
	ecam.base = c->ecam_base + ((uint64_t)c->bus_start << 20);
	if (!range_ok(ecam))
		return -EINVAL;

	if (c->pci_io_size == 0 || c->pci_io_base < ISA_IO_END ||
	    (uint32_t)c->pci_io_base + c->pci_io_size > 0x10000u)
		return -EINVAL;

	if (!range_ok(m32) || !below_4g(m32) || !range_ok(m64) || m64.base < FOUR_GIB)
		return -EINVAL;
	if (overlap(m32, ecam) || overlap(m64, ecam) || overlap(m32, lapic) ||
	    overlap(m32, ioapic) || overlap(ecam, lapic) || overlap(ecam, ioapic))
		return -EINVAL;
	return 0;
}

static int check_ports(const struct acpi_config *c)
{
	if (!port_ok(c, c->sleep_ctl_port) || !port_ok(c, c->sleep_sts_port) ||
	    !port_ok(c, c->reset_port))
		return -EINVAL;
	/* A reset write must not read as a sleep request on a shared port... */
	if (c->reset_port == c->sleep_ctl_port && (c->reset_value & ACPI_SLP_EN))
		return -EINVAL;
	/* ...nor as the WAK_STS clear Linux writes before entering S5. */
	if (c->reset_port == c->sleep_sts_port && c->reset_value == ACPI_WAK_STS)
		return -EINVAL;
	return 0;
}

int acpi_config_check(const struct acpi_config *cfg)
{
	int r;

	if (!cfg)
		return -EINVAL;
	r = check_apics(cfg);
	if (r == 0)
		r = check_pci(cfg);
	if (r == 0)
		r = check_ports(cfg);
	return r;
}
