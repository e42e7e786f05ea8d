/* zeropage.c - see zeropage.h. */
#include "zeropage.h"
#include "layout.h"

#include <errno.h>
#include <string.h>

#define PAGE		4096ULL
#define KVM_PRIVATE_END (LAYOUT_KVM_TSS_GPA + 3 * PAGE)

static int add(struct boot_e820_entry *out, unsigned max, unsigned *n, uint64_t addr, uint64_t size,
	       uint32_t type)
{
	if (*n == max)
		return -E2BIG;
	out[(*n)++] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	return 0;
}

int e820_build(const struct guest_mem_region *regions, unsigned nregions,
	       struct boot_e820_entry *out, unsigned max, unsigned *count)
{
	uint64_t low;
	int r;

	*count = 0;
	if (nregions < 1 || regions[0].gpa != 0 || regions[0].size <= LAYOUT_HIGH_RAM_GPA ||
	    regions[0].size > LAYOUT_MMIO_HOLE_GPA)
		return -EINVAL;
	low = regions[0].size;

	/* Conventional memory, then the EBDA/VGA/BIOS area: reserved, except
	 * the part that holds the ACPI tables. */
	if ((r = add(out, max, count, 0, LAYOUT_EBDA_GPA, E820_TYPE_RAM)) < 0 ||
	    (r = add(out, max, count, LAYOUT_EBDA_GPA, LAYOUT_ACPI_GPA - LAYOUT_EBDA_GPA,
		     E820_TYPE_RESERVED)) < 0 ||
	    (r = add(out, max, count, LAYOUT_ACPI_GPA, LAYOUT_ACPI_SIZE, E820_TYPE_ACPI)) < 0 ||
	    (r = add(out, max, count, LAYOUT_HIGH_RAM_GPA, low - LAYOUT_HIGH_RAM_GPA,
		     E820_TYPE_RAM)) < 0)
		return r;
	/* Linux only trusts an MCFG's ECAM when e820 (or ACPI) reserves it.
	 * KVM's TSS and identity-map pages must not be handed out either. */
	if ((r = add(out, max, count, LAYOUT_ECAM_GPA, LAYOUT_ECAM_SIZE, E820_TYPE_RESERVED)) < 0 ||
	    (r = add(out, max, count, LAYOUT_KVM_IDMAP_GPA, KVM_PRIVATE_END - LAYOUT_KVM_IDMAP_GPA,
		     E820_TYPE_RESERVED)) < 0)
		return r;
	for (unsigned i = 1; i < nregions; i++) {
		if (regions[i].gpa < LAYOUT_4G)
			return -EINVAL;
		if ((r = add(out, max, count, regions[i].gpa, regions[i].size, E820_TYPE_RAM)) < 0)
			return r;
	}
	return 0;
}

int initrd_place(uint64_t size, uint64_t kernel_end, uint64_t low_ram_end, uint32_t initrd_addr_max,
		 uint64_t *gpa, struct kv_err *err)
{
	uint64_t top = low_ram_end;
	uint64_t at;

	if ((uint64_t)initrd_addr_max + 1 < top)
		top = (uint64_t)initrd_addr_max + 1;
	if (size == 0 || size > top || ((top - size) & ~(PAGE - 1)) < kernel_end)
		return kv_errf(err, -ENOSPC,
			       "initrd of %llu KiB does not fit in guest RAM between the kernel "
			       "(ending at %llu MiB) and %llu MiB: give the VM more memory",
			       (unsigned long long)(size / KiB),
			       (unsigned long long)(kernel_end / MiB),
			       (unsigned long long)(top / MiB));
	at = (top - size) & ~(PAGE - 1);
	*gpa = at;
	return 0;
}

int zeropage_build(struct boot_params *bp, const struct zeropage_config *c, struct kv_err *err)
{
	struct setup_header *h = &bp->hdr;
	unsigned n = 0;
	int r;

	memset(bp, 0, sizeof(*bp));
	*h = *c->hdr;
	h->type_of_loader = BOOT_LOADER_UNDEFINED;
	h->loadflags &= (uint8_t)~CAN_USE_HEAP; /* no real-mode setup code runs */
	h->heap_end_ptr = 0;

	if (c->cmdline_len > h->cmdline_size)
		return kv_errf(err, -E2BIG,
			       "kernel command line is %zu bytes; this kernel accepts at most %u",
			       c->cmdline_len, h->cmdline_size);
	h->cmd_line_ptr = (uint32_t)c->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(c->cmdline_gpa >> 32);

	if (c->initrd_size) {
		h->ramdisk_image = (uint32_t)c->initrd_gpa;
		h->ramdisk_size = (uint32_t)c->initrd_size;
		bp->ext_ramdisk_image = (uint32_t)(c->initrd_gpa >> 32);
		bp->ext_ramdisk_size = (uint32_t)(c->initrd_size >> 32);
	}
	bp->acpi_rsdp_addr = c->rsdp_gpa;

	r = e820_build(c->regions, c->nregions, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE, &n);
	if (r < 0)
		return kv_errno(err, r, "cannot build the e820 memory map");
	bp->e820_entries = (uint8_t)n;
	return 0;
}
