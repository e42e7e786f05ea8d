/* memory.c - see memory.h. */
#include "memory.h"
#include "layout.h"

#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

/* An unlinked file of `size` bytes on a private tmpfs instance mounted with
 * huge=always, so that transparent huge pages back it whatever the system's
 * shmem_enabled says (Debian's default, never, leaves a memfd on 4 KiB pages).
 * The instance is never attached to any mount namespace: fsmount() gives a
 * detached mount, the open (unlinked) file keeps it alive, and it vanishes with
 * the last reference to the file. Needs CAP_SYS_ADMIN; -errno otherwise. */
static int huge_tmpfs_file(uint64_t size)
{
	cleanup_close int fs = -1, mnt = -1;
	char bytes[32];
	int fd;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	snprintf(bytes, sizeof(bytes), "%" PRIu64, size);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "huge", "always", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "size", bytes, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", "4", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	mnt =
	    fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (mnt < 0)
		return -errno;
	/* Named, then unlinked, so that maps and smaps show what it is. Nobody
	 * else can see this tmpfs, so the name cannot clash. */
	fd = openat(mnt, "kvrun-guest-ram", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	(void)unlinkat(mnt, "kvrun-guest-ram", 0);
	return fd;
}

/* The file behind guest RAM: hugetlbfs pages when asked, else a huge-page
 * tmpfs file where kvrun may create one, else a plain memfd. */
static int ram_file(uint64_t size, bool hugepages, enum guest_mem_backing *how)
{
	int fd;

	if (hugepages) {
		*how = GUEST_MEM_HUGETLB;
		fd = memfd_create("kvrun-guest-ram", MFD_CLOEXEC | MFD_HUGETLB);
		return fd < 0 ? -errno : fd;
	}
	fd = huge_tmpfs_file(size);
	if (fd >= 0) {
		*how = GUEST_MEM_TMPFS_THP;
		return fd;
	}
	*how = GUEST_MEM_MEMFD;
	fd = memfd_create("kvrun-guest-ram", MFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

const char *guest_mem_backing_name(enum guest_mem_backing how)
{
	switch (how) {
	case GUEST_MEM_HUGETLB:
		return "memfd, hugetlbfs 2 MiB pages";
	case GUEST_MEM_TMPFS_THP:
		return "private tmpfs file, transparent huge pages";
	case GUEST_MEM_MEMFD:
		return "memfd, 4 KiB pages";
	}
	return "none";
}

int guest_mem_init(struct guest_mem *m, uint64_t size, bool hugepages)
{
	uint64_t low;
	int fd;

	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (size < 2 * MiB || size % (2 * MiB) != 0)
		return -EINVAL;
	if (size > (1ULL << 40))
		return -E2BIG;

	fd = ram_file(size, hugepages, &m->backing);
	if (fd < 0)
		return fd;
	m->memfd = fd;
	if (ftruncate(m->memfd, (off_t)size) < 0)
		goto fail;
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->memfd, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		goto fail;
	}
	(void)madvise(m->base, size, MADV_DONTDUMP);
	m->size = size;

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
