/* memory.h - guest RAM: allocation, KVM registration and bounds-checked access.
 *
 * Owns: the shared-memory file that backs guest RAM (a memfd, or an unlinked
 * file on a private huge-page tmpfs), its mapping into the VMM, the split of
 * RAM around the 32-bit MMIO hole, and every gpa->hva translation. Any access
 * to guest memory on behalf of the guest goes through gpa_to_hva() or the
 * copy helpers, which refuse a range that is not wholly inside one RAM region
 * (including address-plus-length overflow). */
#ifndef KVRUN_VMM_MEMORY_H
#define KVRUN_VMM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

/* What backs guest RAM. Every kind is a shmem/hugetlbfs file descriptor that
 * can be passed to another process (vhost-user) and mapped MAP_SHARED. */
enum guest_mem_backing {
	GUEST_MEM_MEMFD,     /* memfd_create: 4 KiB pages unless shmem_enabled allows THP */
	GUEST_MEM_TMPFS_THP, /* unlinked file on a detached tmpfs mounted huge=always */
	GUEST_MEM_HUGETLB,   /* memfd_create(MFD_HUGETLB): reserved 2 MiB pages */
};

struct guest_mem {
	int memfd;     /* the file that backs all of guest RAM; -1 when not allocated */
	uint8_t *base; /* one mapping of the whole memfd */
	uint64_t size; /* total RAM bytes */
	enum guest_mem_backing backing;
	unsigned nregions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Allocate size bytes of guest RAM (a multiple of 2 MiB; >= 2 MiB) laid out
 * per layout.h: low RAM up to the MMIO hole, the rest from 4 GiB. With
 * hugepages, the memfd uses MFD_HUGETLB (2 MiB pages). Otherwise RAM is a file
 * on a private tmpfs instance with huge=always when the caller may mount one
 * (CAP_SYS_ADMIN): the guest then faults 2 MiB at a time, and KVM maps it with
 * 2 MiB pages; without that privilege, a plain memfd. */
int guest_mem_init(struct guest_mem *m, uint64_t size, bool hugepages);

/* A short description of a backing, for diagnostics. */
const char *guest_mem_backing_name(enum guest_mem_backing how);
void guest_mem_destroy(struct guest_mem *m);

/* Register every region with KVM (slots 0..nregions-1). */
int guest_mem_register(const struct guest_mem *m, int vm_fd);

/* The host address of [gpa, gpa+len), or NULL when any byte of it is outside
 * guest RAM or the range crosses a region boundary. len 0 is treated as 1. */
void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy to/from guest RAM; -EFAULT when the range is not valid guest RAM. */
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);

/* First guest-physical address above all RAM. */
uint64_t guest_mem_end(const struct guest_mem *m);

#endif
