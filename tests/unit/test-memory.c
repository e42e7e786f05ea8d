/* Unit tests for vmm/memory.c: layout around the MMIO hole, gpa_to_hva
 * bounds (region boundary, gpa+len overflow, len 0), and the huge-page tmpfs
 * backing (as root: 2 MiB mappings once touched, no mount left behind). No
 * KVM needed. */
#include "layout.h"
#include "memory.h"
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Sum of one smaps field (kB) over the mappings that contain addr. */
static long smaps_kb(const void *addr, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	long total = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		long kb;
		char name[64];

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (in && sscanf(line, "%63[^:]: %ld kB", name, &kb) == 2 && !strcmp(name, field))
			total = (total < 0 ? 0 : total) + kb;
	}
	fclose(f);
	return total;
}

static int count_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void huge_backing(void)
{
	struct guest_mem m;
	int mounts = count_mounts();

	if (geteuid() != 0) {
		/* Without CAP_SYS_ADMIN no tmpfs can be made: the memfd fallback. */
		ok(guest_mem_init(&m, 64 * MiB, false) == 0 && m.backing == GUEST_MEM_MEMFD,
		   "unprivileged: guest RAM falls back to a plain memfd");
		guest_mem_destroy(&m);
		ok(1, "unprivileged: no huge-page check");
		ok(1, "unprivileged: no mount check");
		return;
	}
	int r = guest_mem_init(&m, 64 * MiB, false);
	ok(r == 0 && m.backing == GUEST_MEM_TMPFS_THP,
	   "as root, guest RAM is a file on a private huge=always tmpfs (%s)",
	   r == 0 ? guest_mem_backing_name(m.backing) : strerror(-r));
	memset(m.base, 0x5a, 8 * MiB);
	long pmd = smaps_kb(m.base, "ShmemPmdMapped");
	ok(pmd >= 2048, "touched RAM is mapped with 2 MiB pages (ShmemPmdMapped %ld kB)", pmd);
	ok(count_mounts() == mounts, "the tmpfs is not attached anywhere (%d mounts, as before)",
	   count_mounts());
	guest_mem_destroy(&m);
}

int main(void)
{
	struct guest_mem m;
	uint8_t buf[16] = { 1, 2, 3 };

	tap_plan(20);
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

	huge_backing();
	return tap_done();
}
