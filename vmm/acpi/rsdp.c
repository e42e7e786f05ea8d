/* rsdp.c - the Root System Description Pointer (ACPI 6, 5.2.5.3).
 *
 * Owns: the 36-byte revision 2 RSDP. It points only at the XSDT: the 32-bit
 * RSDT address is 0, which ACPI 2.0+ OSPMs (Linux included) accept. */
#include "tables.h"

#include <errno.h>
#include <string.h>

#define RSDP_CHECKSUM	  8
#define RSDP_V1_LENGTH	  20 /* the part the first checksum covers */
#define RSDP_XSDT	  24
#define RSDP_EXT_CHECKSUM 32

int acpi_rsdp_write(uint8_t *p, size_t avail, uint64_t xsdt_gpa, size_t *len)
{
	if (avail < ACPI_RSDP_SIZE)
		return -ENOSPC;
	memset(p, 0, ACPI_RSDP_SIZE);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	p[15] = 2;	     /* revision: ACPI 2.0 and later */
	put_le32(p + 16, 0); /* RSDT address: none */
	put_le32(p + 20, ACPI_RSDP_SIZE);
	put_le64(p + RSDP_XSDT, xsdt_gpa);
	p[RSDP_CHECKSUM] = (uint8_t)-acpi_sum8(p, RSDP_V1_LENGTH);
	p[RSDP_EXT_CHECKSUM] = (uint8_t)-acpi_sum8(p, ACPI_RSDP_SIZE);
	*len = ACPI_RSDP_SIZE;
	return 0;
}
