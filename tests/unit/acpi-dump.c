/* acpi-dump - write the tables vmm/acpi generates to files, for iasl.
 *
 * Usage: acpi-dump DIR [NCPUS [nocom1]]
 * Builds the tables for the test platform (acpi-test-config.h) as if placed
 * at 0xE0000, follows RSDP -> XSDT -> FADT -> DSDT like an OS would, and
 * writes DIR/rsdp.dat, xsdt.dat, facp.dat, dsdt.dat, apic.dat and mcfg.dat. */
#include "acpi-test-config.h"
#include "acpi.h"
#include "cleanup.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t tables[ACPI_TABLES_MAX_SIZE];
static size_t used;

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The table at gpa, bounds-checked against the used part of the buffer. */
static const uint8_t *at(uint64_t gpa, size_t *len)
{
	uint64_t off = gpa - TEST_ACPI_GPA;

	if (gpa < TEST_ACPI_GPA || off + ACPI_SDT_HEADER_SIZE > used)
		return NULL;
	*len = (size_t)le(tables + off + 4, 4);
	return off + *len <= used ? tables + off : NULL;
}

static int dump(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	cleanup_free char *path = NULL;
	cleanup_close int fd = -1;

	if (!p || asprintf(&path, "%s/%s.dat", dir, name) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, p, len) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct acpi_config cfg;
	const uint8_t *xsdt, *fadt, *dsdt = NULL, *madt = NULL, *mcfg = NULL;
	uint64_t rsdp, n = 2;
	size_t xl = 0, fl = 0, dl = 0, ml = 0, cl = 0;
	int r;

	if (argc < 2 || argc > 4 || (argc > 2 && parse_u64(argv[2], 1000, &n) < 0)) {
		fprintf(stderr, "usage: acpi-dump DIR [NCPUS [nocom1]]\n");
		return 2;
	}
	cfg = acpi_test_config((uint32_t)n);
	if (argc > 3)
		cfg.com1 = strcmp(argv[3], "nocom1") != 0;
	r = acpi_build(&cfg, tables, sizeof(tables), TEST_ACPI_GPA, &rsdp, &used);
	if (r < 0) {
		fprintf(stderr, "acpi-dump: acpi_build: %s\n", strerror(-r));
		return 1;
	}
	xsdt = at(le(tables + 24, 8), &xl);
	fadt = xsdt ? at(le(xsdt + 36, 8), &fl) : NULL;
	if (fadt) {
		dsdt = at(le(fadt + 140, 8), &dl);
		madt = at(le(xsdt + 44, 8), &ml);
		mcfg = at(le(xsdt + 52, 8), &cl);
	}
	if (!dsdt || !madt || !mcfg || dump(argv[1], "rsdp", tables, ACPI_RSDP_SIZE) < 0 ||
	    dump(argv[1], "xsdt", xsdt, xl) < 0 || dump(argv[1], "facp", fadt, fl) < 0 ||
	    dump(argv[1], "dsdt", dsdt, dl) < 0 || dump(argv[1], "apic", madt, ml) < 0 ||
	    dump(argv[1], "mcfg", mcfg, cl) < 0) {
		fprintf(stderr, "acpi-dump: cannot follow or write the tables\n");
		return 1;
	}
	return 0;
}
