/* acpi.h - ACPI table generation for kvrun micro-VMs (public interface).
 *
 * Owns: the description of the virtual platform that the tables advertise
 * (struct acpi_config), the builder that lays the tables out in a
 * caller-provided buffer standing for a guest-physical range, and the
 * constants the VMM needs to decode the guest's poweroff and reboot writes.
 *
 * The library is pure: no I/O, no allocation, no printing. See docs/acpi.md
 * for the tables, the values chosen and the sleep/reset protocol. */
#ifndef KVRUN_VMM_ACPI_H
#define KVRUN_VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The platform the tables describe. Zero-initialise, then fill every field. */
struct acpi_config {
	uint32_t ncpus;		  /* 1..ACPI_MAX_CPUS; CPU i has APIC ID i and ACPI UID i */
	uint64_t lapic_addr;	  /* local APIC base, 4 KiB aligned, below 4 GiB (0xfee00000) */
	uint64_t ioapic_addr;	  /* IOAPIC base, 4 KiB aligned, below 4 GiB (0xfec00000) */
	uint8_t ioapic_id;	  /* must not collide with a CPU APIC ID, so >= ncpus */
	uint32_t ioapic_gsi_base; /* must be 0: the ISA IRQs (PIT, COM1) live on this IOAPIC */
	uint64_t ecam_base; /* MCFG base: where bus 0's config space would be, 1 MiB aligned */
	uint8_t bus_start, bus_end; /* decoded buses, bus_start <= bus_end; _BBN is bus_start */
	uint16_t pci_io_base, pci_io_size;	   /* PCI I/O window, inside 0x1000..0xffff */
	uint64_t pci_mmio32_base, pci_mmio32_size; /* PCI MMIO window, below 4 GiB */
	uint64_t pci_mmio64_base, pci_mmio64_size; /* PCI MMIO window, at or above 4 GiB */
	uint16_t sleep_ctl_port, sleep_sts_port;   /* FADT hardware-reduced sleep registers */
	uint16_t reset_port;			   /* FADT reset register (SystemIO, 8 bits) */
	uint8_t reset_value;			   /* value the guest writes to reset_port */
	bool com1;     /* describe a 16550 at 0x3f8, IRQ 4, in the DSDT */
	bool cmos_rtc; /* an MC146818 RTC answers at 0x70/0x71; if false the FADT says
			* "no CMOS RTC" and Linux does not probe it */
};

/* Limits and layout. */
#define ACPI_MAX_CPUS		 255u	  /* xAPIC IDs 0..254 fit the MADT LAPIC entry */
#define ACPI_TABLES_MAX_SIZE	 0x20000u /* 128 KiB: 0xE0000..0xFFFFF; acpi_build never touches more */
#define ACPI_RSDP_ALIGN		 16u	  /* buf_gpa must be aligned to this */
#define ACPI_TABLE_ALIGN	 16u	  /* every table starts on this boundary */
#define ACPI_SDT_HEADER_SIZE	 36u
#define ACPI_RSDP_SIZE		 36u
#define ACPI_XSDT_SIZE(n)	 (ACPI_SDT_HEADER_SIZE + 8u * (n))
#define ACPI_XSDT_ENTRIES	 3u   /* FADT, MADT, MCFG (the DSDT hangs off the FADT) */
#define ACPI_FADT_SIZE		 276u /* FADT revision 6 */
#define ACPI_MCFG_SIZE		 60u  /* header, 8 reserved bytes, one 16-byte allocation */
#define ACPI_MADT_LAPIC_SIZE	 8u
#define ACPI_MADT_IOAPIC_SIZE	 12u
#define ACPI_MADT_ISO_SIZE	 10u
#define ACPI_MADT_LAPIC_NMI_SIZE 6u
#define ACPI_MADT_SIZE(ncpus)                                                                      \
	(ACPI_SDT_HEADER_SIZE + 8u + ACPI_MADT_LAPIC_SIZE * (ncpus) + ACPI_MADT_IOAPIC_SIZE +      \
	 ACPI_MADT_ISO_SIZE + ACPI_MADT_LAPIC_NMI_SIZE)

/* Legacy interrupt wiring the MADT advertises (the VMM's KVM GSI routing must match):
 * ISA IRQ 0 (the PIT) arrives on IOAPIC pin 2, every other ISA IRQ n on pin n. */
#define ACPI_PIT_GSI  2u
#define ACPI_COM1_IRQ 4u

/* Hardware-reduced sleep protocol (ACPI 6, "Sleep Control Register" and
 * "Sleep Status Register"). To power off, Linux writes ACPI_WAK_STS to the
 * status port (to clear it), then (ACPI_S5_SLP_TYP << 2) | ACPI_SLP_EN = 0x34
 * to the control port, then polls the status port for ACPI_WAK_STS. */
#define ACPI_S5_SLP_TYP	   5u /* the \_S5 package's SLP_TYPa */
#define ACPI_SLP_TYP_SHIFT 2u
#define ACPI_SLP_TYP_MASK  0x1cu
#define ACPI_SLP_EN	   0x20u
#define ACPI_WAK_STS	   0x80u
#define ACPI_S5_SLEEP_CTL  ((ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT) | ACPI_SLP_EN) /* 0x34 */

/* Decode a byte written to the sleep control port: true when it requests a
 * sleep state transition, with the requested SLP_TYP in *slp_typ. A write
 * without SLP_EN is not a request and must be ignored. */
static inline bool acpi_sleep_ctl_decode(uint8_t val, uint8_t *slp_typ)
{
	if (!(val & ACPI_SLP_EN))
		return false;
	*slp_typ = (uint8_t)((val & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT);
	return true;
}

/* Check a configuration without building anything: 0 or -EINVAL. */
int acpi_config_check(const struct acpi_config *cfg);

/* Build RSDP, XSDT, FADT, DSDT, MADT and MCFG, in that order, into buf,
 * which the guest will see at buf_gpa (16-byte aligned). The RSDP is first,
 * at buf_gpa, so a buffer placed at 0xE0000 is also found by the legacy
 * scan. Only the first min(size, ACPI_TABLES_MAX_SIZE) bytes of buf are
 * written (zeroed, then filled). On success stores the RSDP's guest-physical
 * address in *rsdp_gpa and the bytes used in *used.
 * Returns 0, -EINVAL for a bad config or argument, -ENOSPC if buf is too
 * small (its contents are then unspecified). */
int acpi_build(const struct acpi_config *cfg, void *buf, size_t size, uint64_t buf_gpa,
	       uint64_t *rsdp_gpa, size_t *used);

#endif
