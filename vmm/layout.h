/* layout.h - the guest machine's fixed memory, I/O port and interrupt map.
 *
 * Owns: every guest-physical address, port and IRQ number the VMM uses. No
 * other file hard-codes one. docs/vmm.md describes the map for users. */
#ifndef KVRUN_VMM_LAYOUT_H
#define KVRUN_VMM_LAYOUT_H

#include <stdint.h>

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* --- Low memory (below 1 MiB), used by the direct 64-bit boot -------------- */
#define LAYOUT_GDT_GPA	     0x500ULL  /* boot GDT */
#define LAYOUT_ZERO_PAGE_GPA 0x7000ULL /* struct boot_params */
#define LAYOUT_PML4_GPA	     0x9000ULL /* identity-map page tables: PML4, PDPT, 4 PDs */
#define LAYOUT_PDPT_GPA	     0xa000ULL
#define LAYOUT_PD_GPA	     0xb000ULL	 /* 4 pages: 0xb000-0xefff map 0-4 GiB with 2 MiB pages */
#define LAYOUT_CMDLINE_GPA   0x20000ULL	 /* kernel command line */
#define LAYOUT_CMDLINE_MAX   0x10000ULL	 /* bytes, including the NUL */
#define LAYOUT_EBDA_GPA	     0x9fc00ULL	 /* e820: RAM ends here; 0x9fc00-0xfffff reserved */
#define LAYOUT_ACPI_GPA	     0xe0000ULL	 /* RSDP + ACPI tables (legacy scan area) */
#define LAYOUT_ACPI_SIZE     0x20000ULL	 /* 0xe0000-0xfffff */
#define LAYOUT_HIGH_RAM_GPA  0x100000ULL /* first byte of RAM above the legacy hole */

/* --- Kernel and initrd ----------------------------------------------------- */
#define LAYOUT_KERNEL_GPA 0x1000000ULL /* 16 MiB: default load address of 64-bit kernels */

/* --- RAM and the 32-bit MMIO hole ------------------------------------------ */
/* RAM occupies [0, min(size, MMIO_HOLE)) and, for the remainder, [4 GiB, ...). */
#define LAYOUT_MMIO_HOLE_GPA   0xc0000000ULL /* 3 GiB: start of the 32-bit device hole */
#define LAYOUT_4G	       0x100000000ULL
#define LAYOUT_PCI_MMIO32_GPA  0xc0000000ULL /* PCI BAR window below 4 GiB */
#define LAYOUT_PCI_MMIO32_SIZE 0x20000000ULL /* 512 MiB */
#define LAYOUT_ECAM_GPA	       0xe0000000ULL /* PCIe ECAM (MMCONFIG) */
#define LAYOUT_ECAM_BUSES      1	     /* bus 0 only: 1 MiB of ECAM */
#define LAYOUT_ECAM_SIZE       (LAYOUT_ECAM_BUSES * 1ULL * MiB)
#define LAYOUT_IOAPIC_GPA      0xfec00000ULL
#define LAYOUT_LAPIC_GPA       0xfee00000ULL
#define LAYOUT_KVM_IDMAP_GPA   0xfeffc000ULL /* KVM_SET_IDENTITY_MAP_ADDR (1 page) */
#define LAYOUT_KVM_TSS_GPA     0xfeffd000ULL /* KVM_SET_TSS_ADDR (3 pages) */
/* The 64-bit PCI window starts at the first 1 GiB boundary above RAM. */
#define LAYOUT_PCI_MMIO64_ALIGN GiB
#define LAYOUT_PCI_MMIO64_SIZE	(64ULL * GiB)

/* --- I/O ports ----------------------------------------------------------- */
#define LAYOUT_COM1_PORT      0x3f8
#define LAYOUT_COM1_IRQ	      4
#define LAYOUT_PCI_CONF_PORT  0xcf8 /* 0xcf8 address, 0xcfc-0xcff data */
#define LAYOUT_ACPI_SLEEP_CTL 0x600 /* FADT SLEEP_CONTROL_REG */
#define LAYOUT_ACPI_SLEEP_STS 0x601 /* FADT SLEEP_STATUS_REG */
#define LAYOUT_ACPI_RESET     0x602 /* FADT RESET_REG */
#define LAYOUT_ACPI_RESET_VAL 0x1
#define LAYOUT_PCI_IO_BASE    0xc000 /* PCI I/O BAR window (unused by virtio-pci modern) */
#define LAYOUT_PCI_IO_SIZE    0x4000

/* --- Interrupts ---------------------------------------------------------- */
#define LAYOUT_IOAPIC_ID    0xfe /* distinct from every CPU APIC ID (0..254) */
#define LAYOUT_IOAPIC_PINS  24	 /* GSIs 0-23 belong to the in-kernel IOAPIC */
#define LAYOUT_MSI_GSI_BASE 24	 /* GSIs from here on are MSI routes (virtio MSI-X) */
#define LAYOUT_MAX_GSI	    1024

#define LAYOUT_MAX_CPUS 254

#endif
