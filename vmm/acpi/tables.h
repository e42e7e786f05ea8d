/* tables.h - internal interface between the ACPI builder and the table writers.
 *
 * Owns: the little-endian store helpers, the common SDT header, checksum and
 * Generic Address Structure helpers (sdt.c), and the prototypes of the
 * per-table writers. Each writer fills p, which has `avail` zeroed bytes,
 * stores the table's length in *len and returns 0, or -ENOSPC when avail is
 * too small (writing nothing past avail). Not part of the public API. */
#ifndef KVRUN_VMM_ACPI_TABLES_H
#define KVRUN_VMM_ACPI_TABLES_H

#include "acpi.h"

#include <stddef.h>
#include <stdint.h>

#define ACPI_OEM_ID	      "KVRUN "	 /* 6 bytes */
#define ACPI_OEM_TABLE_ID     "KVRUNVM " /* 8 bytes */
#define ACPI_OEM_REVISION     1u
#define ACPI_CREATOR_ID	      "KVRN"
#define ACPI_CREATOR_REVISION 1u

/* Header field offsets shared by every System Description Table. */
#define SDT_LENGTH   4
#define SDT_CHECKSUM 9

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Sum of len bytes, modulo 256. */
uint8_t acpi_sum8(const void *p, size_t len);

/* Fill the 36-byte SDT header; the checksum is left 0 for acpi_sdt_finish(). */
void acpi_sdt_header(uint8_t *p, const char sig[4], uint32_t len, uint8_t revision);

/* Set the header checksum so the table (of the length in its header) sums to 0. */
void acpi_sdt_finish(uint8_t *p);

/* Generic Address Structure (12 bytes) for one byte-wide SystemIO register. */
void acpi_gas_io8(uint8_t *p, uint16_t port);

int acpi_rsdp_write(uint8_t *p, size_t avail, uint64_t xsdt_gpa, size_t *len);
int acpi_xsdt_write(uint8_t *p, size_t avail, const uint64_t *entries, size_t n, size_t *len);
int acpi_fadt_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, uint64_t dsdt_gpa,
		    size_t *len);
int acpi_dsdt_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, size_t *len);
int acpi_madt_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, size_t *len);
int acpi_mcfg_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, size_t *len);

#endif
