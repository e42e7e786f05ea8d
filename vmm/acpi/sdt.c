/* sdt.c - helpers shared by the ACPI table writers.
 *
 * Owns: the System Description Table header layout (ACPI 6, 5.2.6), the
 * 8-bit checksum, and the Generic Address Structure (5.2.3.2). */
#include "tables.h"

#include <string.h>

uint8_t acpi_sum8(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

void acpi_sdt_header(uint8_t *p, const char sig[4], uint32_t len, uint8_t revision)
{
	memcpy(p, sig, 4);
	put_le32(p + SDT_LENGTH, len);
	p[8] = revision;
	p[SDT_CHECKSUM] = 0;
	memcpy(p + 10, ACPI_OEM_ID, 6);
	memcpy(p + 16, ACPI_OEM_TABLE_ID, 8);
	put_le32(p + 24, ACPI_OEM_REVISION);
	memcpy(p + 28, ACPI_CREATOR_ID, 4);
	put_le32(p + 32, ACPI_CREATOR_REVISION);
}

void acpi_sdt_finish(uint8_t *p)
{
	uint32_t len =
	    (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;

	p[SDT_CHECKSUM] = 0;
	p[SDT_CHECKSUM] = (uint8_t)-acpi_sum8(p, len);
}

void acpi_gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = 1; /* address space: SystemIO */
	p[1] = 8; /* register bit width */
	p[2] = 0; /* register bit offset */
	p[3] = 1; /* access size: byte */
	put_le64(p + 4, port);
}
