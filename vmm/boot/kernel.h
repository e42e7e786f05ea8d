/* kernel.h - parsing a guest kernel image into a load plan.
 *
 * Owns: the description of how a kernel is laid out in guest memory (which
 * bytes of the file go where, the 64-bit entry point, how much memory it
 * needs from its load address) for the two formats kvrun boots with the Linux
 * 64-bit boot protocol: bzImage (bzimage.c) and ELF vmlinux (elf.c). The
 * parsers are pure functions over a buffer: they never touch guest memory
 * and they reject truncated or corrupt images with a message saying why. */
#ifndef KVRUN_VMM_BOOT_KERNEL_H
#define KVRUN_VMM_BOOT_KERNEL_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define KERNEL_MAX_SEGMENTS 8

/* Copy file bytes [off, off+filesz) to gpa and zero up to memsz. */
struct kernel_segment {
	uint64_t gpa;
	uint64_t off;
	uint64_t filesz;
	uint64_t memsz;
};

enum kernel_format { KERNEL_BZIMAGE = 1, KERNEL_ELF };

struct kernel_image {
	enum kernel_format format;
	unsigned nsegs;
	struct kernel_segment segs[KERNEL_MAX_SEGMENTS];
	uint64_t entry;	   /* guest-physical 64-bit entry point */
	uint64_t load_gpa; /* lowest guest-physical address the kernel uses */
	uint64_t end_gpa;  /* first address above everything it uses (incl. init_size) */
	/* The setup header to place in the zero page: the image's own for a
	 * bzImage, a synthesized one for an ELF vmlinux. */
	struct setup_header hdr;
};

/* Oldest boot protocol with xloadflags (XLF_KERNEL_64): 2.12. */
#define BZIMAGE_MIN_VERSION 0x020c

/* Parse a bzImage. -ENOEXEC when buf is not a bzImage at all (no boot flag
 * or "HdrS" magic), -EINVAL when it is one kvrun cannot boot (too old, no
 * 64-bit entry, corrupt or truncated), with err saying which. */
int bzimage_parse(const void *buf, size_t len, struct kernel_image *out, struct kv_err *err);

/* Parse an x86-64 ELF vmlinux (PT_LOAD segments at their physical
 * addresses, entry = e_entry). Same error convention as bzimage_parse. */
int elf_parse(const void *buf, size_t len, struct kernel_image *out, struct kv_err *err);

/* Either format, by magic; -ENOEXEC (with err) when neither. */
int kernel_parse(const void *buf, size_t len, struct kernel_image *out, struct kv_err *err);

#endif
