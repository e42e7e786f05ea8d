/* Unit tests for vmm/boot/zeropage.c: the e820 map, initrd placement and
 * the boot parameters. */
#include "layout.h"
#include "tap.h"
#include "boot/zeropage.h"

#include <errno.h>
#include <string.h>

static int find(const struct boot_e820_entry *e, unsigned n, uint64_t addr, uint64_t size,
		uint32_t type)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].addr == addr && e[i].size == size && e[i].type == type)
			return 1;
	return 0;
}

static int sorted_disjoint(const struct boot_e820_entry *e, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		if (e[i - 1].addr + e[i - 1].size > e[i].addr)
			return 0;
	return 1;
}

int main(void)
{
	struct guest_mem_region small[1] = { { .gpa = 0, .size = 512 * MiB } };
	struct guest_mem_region big[2] = { { .gpa = 0, .size = LAYOUT_MMIO_HOLE_GPA },
					   { .gpa = LAYOUT_4G, .size = 1 * GiB } };
	struct boot_e820_entry e[E820_MAX_ENTRIES_ZEROPAGE];
	static struct boot_params bp;
	struct setup_header h = { .cmdline_size = 10,
				  .initrd_addr_max = 0x7fffffff,
				  .loadflags = LOADED_HIGH | CAN_USE_HEAP,
				  .version = 0x020f };
	struct kv_err err = { 0 };
	unsigned n = 0;
	uint64_t at = 0;

	tap_plan(24);
	ok(e820_build(small, 1, e, E820_MAX_ENTRIES_ZEROPAGE, &n) == 0, "e820 for 512 MiB");
	ok(find(e, n, 0, LAYOUT_EBDA_GPA, E820_TYPE_RAM), "conventional memory below the EBDA");
	ok(find(e, n, LAYOUT_ACPI_GPA, LAYOUT_ACPI_SIZE, E820_TYPE_ACPI), "ACPI area");
	ok(find(e, n, LAYOUT_EBDA_GPA, LAYOUT_ACPI_GPA - LAYOUT_EBDA_GPA, E820_TYPE_RESERVED),
	   "EBDA/VGA hole reserved");
	ok(find(e, n, MiB, 511 * MiB, E820_TYPE_RAM), "RAM from 1 MiB to the end");
	ok(find(e, n, LAYOUT_ECAM_GPA, LAYOUT_ECAM_SIZE, E820_TYPE_RESERVED), "ECAM reserved");
	ok(sorted_disjoint(e, n), "sorted and disjoint");

	ok(e820_build(big, 2, e, E820_MAX_ENTRIES_ZEROPAGE, &n) == 0, "e820 for 4 GiB");
	ok(find(e, n, MiB, LAYOUT_MMIO_HOLE_GPA - MiB, E820_TYPE_RAM) &&
	       find(e, n, LAYOUT_4G, GiB, E820_TYPE_RAM),
	   "RAM below the hole and above 4 GiB");
	ok(sorted_disjoint(e, n), "sorted and disjoint with high RAM");
	ok(e820_build(big, 2, e, 3, &n) == -E2BIG, "too small a table: -E2BIG");
	small[0].size = MiB;
	ok(e820_build(small, 1, e, E820_MAX_ENTRIES_ZEROPAGE, &n) == -EINVAL,
	   "1 MiB of RAM is too little");
	small[0].size = 512 * MiB;

	ok(initrd_place(10 * MiB, 64 * MiB, 512 * MiB, 0x7fffffff, &at, &err) == 0 &&
	       at == 502 * MiB,
	   "initrd at the top of RAM");
	ok(initrd_place(10 * MiB + 1, 64 * MiB, 512 * MiB, 0x7fffffff, &at, &err) == 0 &&
	       at % 4096 == 0 && at + 10 * MiB + 1 <= 512 * MiB,
	   "page-aligned, still below the end");
	ok(initrd_place(10 * MiB, 64 * MiB, 3 * GiB, 0x37ffffff, &at, &err) == 0 &&
	       at + 10 * MiB == 0x38000000,
	   "initrd_addr_max bounds it");
	ok(initrd_place(500 * MiB, 64 * MiB, 512 * MiB, 0x7fffffff, &at, &err) == -ENOSPC &&
	       strstr(err.msg, "more memory"),
	   "too big to fit above the kernel (%s)", err.msg);
	ok(initrd_place(600 * MiB, 64 * MiB, 512 * MiB, 0x7fffffff, &at, &err) == -ENOSPC,
	   "bigger than RAM");

	struct zeropage_config c = { .hdr = &h,
				     .regions = big,
				     .nregions = 2,
				     .cmdline_gpa = LAYOUT_CMDLINE_GPA,
				     .cmdline_len = 10,
				     .initrd_gpa = 0x123456000ULL,
				     .initrd_size = 0x1000,
				     .rsdp_gpa = LAYOUT_ACPI_GPA };
	ok(zeropage_build(&bp, &c, &err) == 0, "zero page builds");
	ok(bp.hdr.type_of_loader == 0xff && !(bp.hdr.loadflags & CAN_USE_HEAP) &&
	       (bp.hdr.loadflags & LOADED_HIGH),
	   "loader type 0xff, no real-mode heap");
	ok(bp.hdr.cmd_line_ptr == LAYOUT_CMDLINE_GPA && bp.ext_cmd_line_ptr == 0,
	   "command line pointer");
	ok(bp.hdr.ramdisk_image == 0x23456000 && bp.ext_ramdisk_image == 1 &&
	       bp.hdr.ramdisk_size == 0x1000 && bp.ext_ramdisk_size == 0,
	   "initrd address split into ramdisk_image and ext_ramdisk_image");
	ok(bp.acpi_rsdp_addr == LAYOUT_ACPI_GPA, "acpi_rsdp_addr");
	ok(bp.e820_entries == 7, "7 e820 entries for RAM split around the hole (%u)",
	   bp.e820_entries);
	c.cmdline_len = 11;
	ok(zeropage_build(&bp, &c, &err) == -E2BIG && strstr(err.msg, "at most 10"),
	   "command line longer than cmdline_size (%s)", err.msg);
	return tap_done();
}
