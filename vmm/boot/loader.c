/* loader.c - see loader.h. */
#include "loader.h"
#include "cleanup.h"
#include "layout.h"
#include "util.h"
#include "zeropage.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KERNEL_FILE_MAX (512 * MiB)

/* Open a regular file for reading; its size in *size. */
static int open_regular(const char *what, const char *path, int *fd_out, uint64_t *size,
			struct kv_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return kv_errno(err, -errno, "%s %s", what, path);
	if (fstat(fd, &st) < 0)
		return kv_errno(err, -errno, "%s %s", what, path);
	if (!S_ISREG(st.st_mode))
		return kv_errf(err, -EINVAL, "%s %s: not a regular file", what, path);
	if (st.st_size == 0)
		return kv_errf(err, -EINVAL, "%s %s: empty file", what, path);
	*size = (uint64_t)st.st_size;
	*fd_out = steal_fd(&fd);
	return 0;
}

static int plan_kernel(struct boot_plan *p, const char *path, uint64_t low_ram, struct kv_err *err)
{
	cleanup_close int fd = -1;
	struct kernel_image *k = &p->k;
	struct kv_err perr;
	uint64_t size;
	int r;

	r = open_regular("kernel", path, &fd, &size, err);
	if (r < 0)
		return r;
	if (size > KERNEL_FILE_MAX)
		return kv_errf(err, -EFBIG, "kernel %s: %llu MiB is too large for a kernel", path,
			       (unsigned long long)(size / MiB));
	p->kbuf = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p->kbuf == MAP_FAILED) {
		p->kbuf = NULL;
		return kv_errno(err, -errno, "kernel %s: mmap", path);
	}
	p->ksize = size;
	r = kernel_parse(p->kbuf, size, k, &perr);
	if (r < 0)
		return kv_errf(err, r, "kernel %s: %s", path, perr.msg);
	if (k->end_gpa > low_ram)
		return kv_errf(
		    err, -ENOMEM,
		    "kernel %s does not fit: it needs guest RAM up to %llu MiB (loaded at "
		    "%llu MiB, %llu MiB for its image and decompression) but the VM has "
		    "%llu MiB: give it more --memory",
		    path, (unsigned long long)((k->end_gpa + MiB - 1) / MiB),
		    (unsigned long long)(k->load_gpa / MiB),
		    (unsigned long long)((k->end_gpa - k->load_gpa + MiB - 1) / MiB),
		    (unsigned long long)(low_ram / MiB));
	return 0;
}

int boot_plan_make(struct boot_plan *p, const char *kernel, const char *initrd, const char *cmdline,
		   uint64_t low_ram, struct kv_err *err)
{
	struct kv_err perr;
	int r;

	memset(p, 0, sizeof(*p));
	p->initrd_fd = -1;
	p->kernel_path = kernel;
	p->initrd_path = initrd;
	p->cmdline = cmdline ? cmdline : "";
	p->cmdline_len = strlen(p->cmdline);
	if (p->cmdline_len + 1 > LAYOUT_CMDLINE_MAX)
		return kv_errf(err, -E2BIG, "kernel command line is %zu bytes; at most %llu fit",
			       p->cmdline_len, (unsigned long long)(LAYOUT_CMDLINE_MAX - 1));

	r = plan_kernel(p, kernel, low_ram, err);
	if (r < 0 || !initrd)
		return r;
	r = open_regular("initrd", initrd, &p->initrd_fd, &p->initrd_size, err);
	if (r < 0)
		return r;
	r = initrd_place(p->initrd_size, p->k.end_gpa, low_ram, p->k.hdr.initrd_addr_max,
			 &p->initrd_gpa, &perr);
	if (r < 0)
		return kv_errf(err, r, "initrd %s: %s", initrd, perr.msg);
	return 0;
}

int boot_plan_load(const struct boot_plan *p, const struct guest_mem *m, struct kv_err *err)
{
	for (unsigned i = 0; i < p->k.nsegs; i++) {
		const struct kernel_segment *s = &p->k.segs[i];
		uint8_t *dst = gpa_to_hva(m, s->gpa, s->memsz);
		if (!dst)
			return kv_errf(err, -ENOMEM,
				       "kernel %s: segment at 0x%llx+0x%llx is not in "
				       "guest RAM",
				       p->kernel_path, (unsigned long long)s->gpa,
				       (unsigned long long)s->memsz);
		memcpy(dst, (const uint8_t *)p->kbuf + s->off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	if (p->initrd_fd >= 0) {
		void *dst = gpa_to_hva(m, p->initrd_gpa, p->initrd_size);
		if (!dst)
			return kv_errf(err, -ENOMEM, "initrd %s: placement outside guest RAM",
				       p->initrd_path);
		for (uint64_t done = 0; done < p->initrd_size;) {
			ssize_t n = pread(p->initrd_fd, (uint8_t *)dst + done,
					  p->initrd_size - done, (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return kv_errno(err, n < 0 ? -errno : -EIO, "initrd %s: read",
						p->initrd_path);
			done += (uint64_t)n;
		}
	}
	if (guest_mem_write(m, LAYOUT_CMDLINE_GPA, p->cmdline, p->cmdline_len + 1) < 0)
		return kv_errf(err, -EFAULT, "command line area is not in guest RAM");
	return 0;
}

void boot_plan_release(struct boot_plan *p)
{
	if (p->kbuf)
		(void)munmap(p->kbuf, p->ksize);
	if (p->initrd_fd >= 0)
		(void)close(p->initrd_fd);
	p->kbuf = NULL;
	p->initrd_fd = -1;
}
