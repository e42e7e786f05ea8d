/* Unit tests for vmm/memory.c: layout around the MMIO hole and gpa_to_hva
 * bounds (region boundary, gpa+len overflow, len 0). No KVM needed. */
#include "layout.h"
#include "memory.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>

int main(void)
{
	struct guest_mem m;
	uint8_t buf[16] = { 1, 2, 3 };

	tap_plan(17);
	ok(guest_mem_init(&m, 3 * MiB, false) == -EINVAL, "size not a multiple of 2 MiB");
	ok(guest_mem_init(&m, 0, false) == -EINVAL, "size 0");
	ok(guest_mem_init(&m, 64 * MiB, false) == 0, "64 MiB");
	ok(m.nregions == 1 && m.regions[0].gpa == 0 && m.regions[0].size == 64 * MiB,
	   "one region from 0");
	ok(gpa_to_hva(&m, 0, 1) == m.base, "gpa 0");
	ok(gpa_to_hva(&m, 64 * MiB - 1, 1) != NULL, "last byte");
	ok(gpa_to_hva(&m, 64 * MiB - 1, 2) == NULL, "range crossing the end");
	ok(gpa_to_hva(&m, 64 * MiB, 0) == NULL, "len 0 at the end is checked as 1 byte");
	ok(gpa_to_hva(&m, 10, 0) == m.base + 10, "len 0 inside");
	ok(gpa_to_hva(&m, UINT64_MAX - 1, 4) == NULL, "gpa + len overflows");
	ok(gpa_to_hva(&m, 16, UINT64_MAX) == NULL, "huge len");
	ok(guest_mem_write(&m, 100, buf, 3) == 0 && m.base[102] == 3, "write inside");
	ok(guest_mem_read(&m, 64 * MiB - 2, buf, 3) == -EFAULT, "read across the end");
	ok(guest_mem_end(&m) == 64 * MiB, "end");
	guest_mem_destroy(&m);

	/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB from 4 GiB (not touched). */
	ok(guest_mem_init(&m, 4 * GiB, false) == 0 && m.nregions == 2 &&
	       m.regions[1].gpa == LAYOUT_4G && m.regions[1].size == GiB,
	   "RAM split around the MMIO hole");
	ok(gpa_to_hva(&m, LAYOUT_MMIO_HOLE_GPA - 4, 8) == NULL &&
	       gpa_to_hva(&m, LAYOUT_MMIO_HOLE_GPA, 1) == NULL,
	   "the hole is not RAM and a range cannot cross into it");
	ok(gpa_to_hva(&m, LAYOUT_4G, 8) == m.base + LAYOUT_MMIO_HOLE_GPA &&
	       guest_mem_end(&m) == LAYOUT_4G + GiB,
	   "high RAM maps after low RAM in the memfd");
	guest_mem_destroy(&m);
	return tap_done();
}
