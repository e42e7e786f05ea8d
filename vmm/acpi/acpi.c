/* acpi.c - the ACPI table builder.
 *
 * Owns: acpi_build(): validating the arguments, laying the tables out in the
 * caller's buffer (RSDP, XSDT, FADT, DSDT, MADT, MCFG, each 16-byte aligned)
 * and linking them by guest-physical address. The DSDT is written before the
 * tables that point past it, because its length decides where MADT and MCFG go. */
#include "acpi.h"
#include "tables.h"

#include <errno.h>
#include <string.h>

static size_t align_up(size_t v)
{
	return (v + ACPI_TABLE_ALIGN - 1) & ~(size_t)(ACPI_TABLE_ALIGN - 1);
}

int acpi_build(const struct acpi_config *cfg, void *buf, size_t size, uint64_t buf_gpa,
	       uint64_t *rsdp_gpa, size_t *used)
{
	uint8_t *b = buf;
	size_t avail = size < ACPI_TABLES_MAX_SIZE ? size : ACPI_TABLES_MAX_SIZE;
	size_t off_xsdt, off_fadt, off_dsdt, off_madt, off_mcfg, end, len;
	uint64_t xsdt[ACPI_XSDT_ENTRIES];
	int r;

	if (!cfg || (!buf && size) || !rsdp_gpa || !used)
		return -EINVAL;
	if (buf_gpa % ACPI_RSDP_ALIGN || buf_gpa > UINT64_MAX - ACPI_TABLES_MAX_SIZE)
		return -EINVAL;
	r = acpi_config_check(cfg);
	if (r < 0)
		return r;
	if (avail)
		memset(b, 0, avail);

	off_xsdt = align_up(ACPI_RSDP_SIZE);
	off_fadt = align_up(off_xsdt + ACPI_XSDT_SIZE(ACPI_XSDT_ENTRIES));
	off_dsdt = align_up(off_fadt + ACPI_FADT_SIZE);
	if (avail < off_dsdt)
		return -ENOSPC;

	r = acpi_dsdt_write(b + off_dsdt, avail - off_dsdt, cfg, &len);
	if (r < 0)
		return r;
	off_madt = align_up(off_dsdt + len);
	if (off_madt > avail)
		return -ENOSPC;
	r = acpi_madt_write(b + off_madt, avail - off_madt, cfg, &len);
	if (r < 0)
		return r;
	off_mcfg = align_up(off_madt + len);
	if (off_mcfg > avail)
		return -ENOSPC;
	r = acpi_mcfg_write(b + off_mcfg, avail - off_mcfg, cfg, &len);
	if (r < 0)
		return r;
	end = off_mcfg + len;

	r = acpi_fadt_write(b + off_fadt, avail - off_fadt, cfg, buf_gpa + off_dsdt, &len);
	if (r < 0)
		return r;
	xsdt[0] = buf_gpa + off_fadt;
	xsdt[1] = buf_gpa + off_madt;
	xsdt[2] = buf_gpa + off_mcfg;
	r = acpi_xsdt_write(b + off_xsdt, avail - off_xsdt, xsdt, ACPI_XSDT_ENTRIES, &len);
	if (r < 0)
		return r;
	r = acpi_rsdp_write(b, avail, buf_gpa + off_xsdt, &len);
	if (r < 0)
		return r;
	*rsdp_gpa = buf_gpa;
	*used = end;
	return 0;
}
