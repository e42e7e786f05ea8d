/* xsdt.c - the Extended System Description Table (ACPI 6, 5.2.8).
 *
 * Owns: the XSDT, a header followed by 64-bit table addresses. */
#include "tables.h"

#include <errno.h>

int acpi_xsdt_write(uint8_t *p, size_t avail, const uint64_t *entries, size_t n, size_t *len)
{
	size_t size = ACPI_XSDT_SIZE(n);

	if (avail < size)
		return -ENOSPC;
	acpi_sdt_header(p, "XSDT", (uint32_t)size, 1);
	for (size_t i = 0; i < n; i++)
		put_le64(p + ACPI_SDT_HEADER_SIZE + 8 * i, entries[i]);
	acpi_sdt_finish(p);
	*len = size;
	return 0;
}
