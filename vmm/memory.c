/* memory.c - see memory.h. */
#include "memory.h"
#include "layout.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

int guest_mem_init(struct guest_mem *m, uint64_t size, bool hugepages)
{
	unsigned flags = MFD_CLOEXEC | (hugepages ? MFD_HUGETLB : 0);
	uint64_t low;

	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (size < 2 * MiB || size % (2 * MiB) != 0)
		return -EINVAL;
	if (size > (1ULL << 40))
		return -E2BIG;

	m->memfd = memfd_create("kvrun-guest-ram", flags);
	if (m->memfd < 0)
		return -errno;
	if (ftruncate(m->memfd, (off_t)size) < 0)
		goto fail;
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->memfd, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		goto fail;
	}
	(void)madvise(m->base, size, MADV_DONTDUMP);
	m->size = size;
	m->hugepages = hugepages;

	low = size < LAYOUT_MMIO_HOLE_GPA ? size : LAYOUT_MMIO_HOLE_GPA;
	m->regions[0] = (struct guest_mem_region){ .gpa = 0, .size = low, .hva = m->base };
	m->nregions = 1;
	if (size > low) {
		m->regions[1] = (struct guest_mem_region){ .gpa = LAYOUT_4G,
							   .size = size - low,
							   .hva = m->base + low };
		m->nregions = 2;
	}
	return 0;
fail : {
	int r = -errno;
	guest_mem_destroy(m);
	return r;
}
}

void guest_mem_destroy(struct guest_mem *m)
{
	if (m->base)
		(void)munmap(m->base, m->size);
	if (m->memfd >= 0)
		(void)close(m->memfd);
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
}

int guest_mem_register(const struct guest_mem *m, int vm_fd)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = m->regions[i].gpa,
			.memory_size = m->regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)m->regions[i].hva,
		};
		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return -errno;
	}
	return 0;
}

void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct guest_mem_region *r = &m->regions[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	void *src = gpa_to_hva(m, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
	void *dst = gpa_to_hva(m, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

uint64_t guest_mem_end(const struct guest_mem *m)
{
	const struct guest_mem_region *last = &m->regions[m->nregions ? m->nregions - 1 : 0];

	return last->gpa + last->size;
}
