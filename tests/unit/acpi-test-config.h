/* acpi-test-config.h - the platform the ACPI tests and acpi-dump describe.
 *
 * Owns: one realistic struct acpi_config (the values docs/acpi.md suggests
 * for the VMM), shared by test-acpi.c and acpi-dump.c. */
#ifndef KVRUN_TESTS_ACPI_TEST_CONFIG_H
#define KVRUN_TESTS_ACPI_TEST_CONFIG_H

#include "acpi.h"

#define TEST_ACPI_GPA 0xe0000ull

static inline struct acpi_config acpi_test_config(uint32_t ncpus)
{
	struct acpi_config c = {
		.ncpus = ncpus,
		.lapic_addr = 0xfee00000,
		.ioapic_addr = 0xfec00000,
		.ioapic_id = (uint8_t)(ncpus < ACPI_MAX_CPUS ? ncpus : ACPI_MAX_CPUS),
		.ioapic_gsi_base = 0,
		.ecam_base = 0xe0000000,
		.bus_start = 0,
		.bus_end = 255,
		.pci_io_base = 0x1000,
		.pci_io_size = 0xf000,
		.pci_mmio32_base = 0xc0000000,
		.pci_mmio32_size = 0x20000000,
		.pci_mmio64_base = 0x8000000000ull,
		.pci_mmio64_size = 0x1000000000ull,
		.sleep_ctl_port = 0x600,
		.sleep_sts_port = 0x601,
		.reset_port = 0x602,
		.reset_value = 0x01,
		.com1 = true,
		.cmos_rtc = false,
	};
	return c;
}

#endif
