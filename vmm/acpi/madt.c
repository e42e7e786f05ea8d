/* madt.c - the Multiple APIC Description Table (ACPI 6, 5.2.12), signature APIC.
 *
 * Owns: the interrupt controller layout: the local APIC address, one enabled
 * Processor Local APIC per vCPU (APIC ID = ACPI UID = index), the IOAPIC,
 * the PC-AT interrupt source override (ISA IRQ 0, the PIT, on GSI 2) and the
 * usual LINT1 = NMI wiring. PCAT_COMPAT is set because KVM's in-kernel
 * irqchip includes a pair of 8259s, which the OS must mask. See docs/acpi.md. */
#include "tables.h"

#include <errno.h>

#define MADT_REVISION	 5 /* ACPI 6.2 to 6.4 layout; Linux honours the online-capable bit */
#define MADT_PCAT_COMPAT 0x1

#define MADT_TYPE_LAPIC	    0
#define MADT_TYPE_IOAPIC    1
#define MADT_TYPE_ISO	    2
#define MADT_TYPE_LAPIC_NMI 4

#define LAPIC_ENABLED 0x1

int acpi_madt_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, size_t *len)
{
	size_t size = ACPI_MADT_SIZE(cfg->ncpus);
	uint8_t *e = p + ACPI_SDT_HEADER_SIZE;

	if (avail < size)
		return -ENOSPC;
	acpi_sdt_header(p, "APIC", (uint32_t)size, MADT_REVISION);
	put_le32(e, (uint32_t)cfg->lapic_addr);
	put_le32(e + 4, MADT_PCAT_COMPAT);
	e += 8;

	for (uint32_t i = 0; i < cfg->ncpus; i++, e += ACPI_MADT_LAPIC_SIZE) {
		e[0] = MADT_TYPE_LAPIC;
		e[1] = ACPI_MADT_LAPIC_SIZE;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC ID */
		put_le32(e + 4, LAPIC_ENABLED);
	}

	e[0] = MADT_TYPE_IOAPIC;
	e[1] = ACPI_MADT_IOAPIC_SIZE;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	put_le32(e + 4, (uint32_t)cfg->ioapic_addr);
	put_le32(e + 8, cfg->ioapic_gsi_base);
	e += ACPI_MADT_IOAPIC_SIZE;

	/* ISA IRQ 0 -> GSI 2; flags 0: conforms to the ISA bus (edge, high). */
	e[0] = MADT_TYPE_ISO;
	e[1] = ACPI_MADT_ISO_SIZE;
	e[2] = 0; /* bus: ISA */
	e[3] = 0; /* source: IRQ 0 */
	put_le32(e + 4, ACPI_PIT_GSI);
	put_le16(e + 8, 0);
	e += ACPI_MADT_ISO_SIZE;

	/* LINT1 of every processor is the NMI input, as on every PC. */
	e[0] = MADT_TYPE_LAPIC_NMI;
	e[1] = ACPI_MADT_LAPIC_NMI_SIZE;
	e[2] = 0xff;		 /* all processors */
	put_le16(e + 3, 0x0005); /* active high, edge triggered */
	e[5] = 1;		 /* LINT1 */

	acpi_sdt_finish(p);
	*len = size;
	return 0;
}
