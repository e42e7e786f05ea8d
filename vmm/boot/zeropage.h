/* zeropage.h - the Linux boot parameters ("zero page") and the e820 map.
 *
 * Owns: the memory map the guest kernel is told about (RAM around the legacy
 * hole and the 32-bit MMIO hole, the reserved legacy area, the ACPI tables,
 * ECAM and KVM's private pages), where the initrd goes, and struct
 * boot_params itself. All functions are pure: they fill caller buffers and
 * never touch guest memory, so they are unit-tested without KVM. */
#ifndef KVRUN_VMM_BOOT_ZEROPAGE_H
#define KVRUN_VMM_BOOT_ZEROPAGE_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "memory.h"

#define E820_TYPE_RAM	   1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI	   3

#define BOOT_LOADER_UNDEFINED 0xff /* type_of_loader: "no assigned ID" */

/* Fill out[0..*count) with the e820 map for RAM regions (as guest_mem lays
 * them out: region 0 from address 0, region 1 from 4 GiB). -EINVAL when
 * region 0 is too small to hold the legacy area and 1 MiB above it, -E2BIG
 * when max is too small. */
int e820_build(const struct guest_mem_region *regions, unsigned nregions,
	       struct boot_e820_entry *out, unsigned max, unsigned *count);

/* Choose the initrd's guest address: as high as possible, page-aligned,
 * below both low_ram_end and initrd_addr_max (the last byte the kernel
 * accepts), and above kernel_end. -ENOSPC (with err) when it does not fit. */
int initrd_place(uint64_t size, uint64_t kernel_end, uint64_t low_ram_end, uint32_t initrd_addr_max,
		 uint64_t *gpa, struct kv_err *err);

struct zeropage_config {
	const struct setup_header *hdr; /* from the kernel image */
	const struct guest_mem_region *regions;
	unsigned nregions;
	uint64_t cmdline_gpa;
	size_t cmdline_len;		  /* without the NUL */
	uint64_t initrd_gpa, initrd_size; /* size 0: no initrd */
	uint64_t rsdp_gpa;		  /* 0: no ACPI */
};

/* Build the boot parameters. -E2BIG (with err) when the command line is
 * longer than the kernel's cmdline_size. */
int zeropage_build(struct boot_params *bp, const struct zeropage_config *c, struct kv_err *err);

#endif
