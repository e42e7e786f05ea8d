/* fadt.c - the Fixed ACPI Description Table (ACPI 6, 5.2.9), signature FACP.
 *
 * Owns: a revision 6 FADT for a hardware-reduced ACPI platform: no PM1/GPE
 * blocks, no SCI, no FACS, no SMI command port. Power-off goes through the
 * SLEEP_CONTROL/SLEEP_STATUS registers and reboot through RESET_REG, all
 * byte-wide SystemIO registers that the VMM traps. See docs/acpi.md. */
#include "tables.h"

#include <errno.h>

/* Field offsets (ACPI 6.x, table "FADT Format"). */
#define FADT_FIRMWARE_CTRL  36
#define FADT_DSDT	    40
#define FADT_PM_PROFILE	    45
#define FADT_SCI_INT	    46
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS	    112
#define FADT_RESET_REG	    116
#define FADT_RESET_VALUE    128
#define FADT_MINOR_VERSION  131
#define FADT_X_DSDT	    140
#define FADT_SLEEP_CONTROL  244
#define FADT_SLEEP_STATUS   256

#define FADT_REVISION 6
#define FADT_MINOR    5 /* ACPI 6.5 */

/* IA-PC boot architecture flags. */
#define BOOT_LEGACY_DEVICES 0x0001 /* user-visible ISA/LPC devices (our COM1) */
#define BOOT_8042	    0x0002 /* left clear: there is no i8042 */
#define BOOT_NO_VGA	    0x0004
#define BOOT_NO_CMOS_RTC    0x0020

/* Fixed feature flags. */
#define FLAG_WBINVD	   (1u << 0)
#define FLAG_PROC_C1	   (1u << 2)
#define FLAG_PWR_BUTTON	   (1u << 4) /* no fixed-feature power button */
#define FLAG_SLP_BUTTON	   (1u << 5) /* no fixed-feature sleep button */
#define FLAG_RESET_REG_SUP (1u << 10)
#define FLAG_HEADLESS	   (1u << 12)
#define FLAG_HW_REDUCED	   (1u << 20)

int acpi_fadt_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, uint64_t dsdt_gpa,
		    size_t *len)
{
	uint16_t boot = BOOT_NO_VGA;

	if (avail < ACPI_FADT_SIZE)
		return -ENOSPC;
	acpi_sdt_header(p, "FACP", ACPI_FADT_SIZE, FADT_REVISION);
	/* FIRMWARE_CTRL/X_FIRMWARE_CTRL stay 0: no FACS on hardware-reduced ACPI. */
	put_le32(p + FADT_FIRMWARE_CTRL, 0);
	/* The 32-bit DSDT field duplicates X_DSDT when it fits (they must agree). */
	put_le32(p + FADT_DSDT, dsdt_gpa <= UINT32_MAX ? (uint32_t)dsdt_gpa : 0);
	p[FADT_PM_PROFILE] = 0;	       /* unspecified */
	put_le16(p + FADT_SCI_INT, 0); /* no SCI on hardware-reduced ACPI */
	if (cfg->com1)
		boot |= BOOT_LEGACY_DEVICES;
	if (!cfg->cmos_rtc)
		boot |= BOOT_NO_CMOS_RTC;
	put_le16(p + FADT_IAPC_BOOT_ARCH, boot);
	put_le32(p + FADT_FLAGS, FLAG_WBINVD | FLAG_PROC_C1 | FLAG_PWR_BUTTON | FLAG_SLP_BUTTON |
				     FLAG_RESET_REG_SUP | FLAG_HEADLESS | FLAG_HW_REDUCED);
	acpi_gas_io8(p + FADT_RESET_REG, cfg->reset_port);
	p[FADT_RESET_VALUE] = cfg->reset_value;
	p[FADT_MINOR_VERSION] = FADT_MINOR;
	put_le64(p + FADT_X_DSDT, dsdt_gpa);
	acpi_gas_io8(p + FADT_SLEEP_CONTROL, cfg->sleep_ctl_port);
	acpi_gas_io8(p + FADT_SLEEP_STATUS, cfg->sleep_sts_port);
	acpi_sdt_finish(p);
	*len = ACPI_FADT_SIZE;
	return 0;
}
