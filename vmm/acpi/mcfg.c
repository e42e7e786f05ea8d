/* mcfg.c - the PCI Express memory-mapped configuration table, MCFG (PCI
 * Firmware Specification 3.x, 4.1.2; signature reserved by ACPI 6, 5.2.6).
 *
 * Owns: one ECAM allocation: segment 0, buses bus_start..bus_end, whose base
 * address is where bus 0's configuration space would be. */
#include "tables.h"

#include <errno.h>

int acpi_mcfg_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, size_t *len)
{
	uint8_t *alloc = p + ACPI_SDT_HEADER_SIZE + 8; /* after 8 reserved bytes */

	if (avail < ACPI_MCFG_SIZE)
		return -ENOSPC;
	acpi_sdt_header(p, "MCFG", ACPI_MCFG_SIZE, 1);
	put_le64(alloc, cfg->ecam_base);
	put_le16(alloc + 8, 0); /* PCI segment group */
	alloc[10] = cfg->bus_start;
	alloc[11] = cfg->bus_end;
	acpi_sdt_finish(p);
	*len = ACPI_MCFG_SIZE;
	return 0;
}
