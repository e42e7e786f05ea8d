/* loader.h - putting the kernel, initrd and command line into guest RAM.
 *
 * Owns: reading the files the user named (regular files only), checking that
 * the kernel and initrd fit in the memory given (with a message that names
 * the sizes), and copying them to the addresses kernel.h and zeropage.h
 * choose. Planning is separate from loading so the builder can reject bad
 * input before it touches KVM. */
#ifndef KVRUN_VMM_BOOT_LOADER_H
#define KVRUN_VMM_BOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kernel.h"
#include "memory.h"

struct boot_plan {
	struct kernel_image k;
	const char *kernel_path;
	void *kbuf; /* the kernel file, mapped read-only */
	size_t ksize;
	const char *initrd_path;
	int initrd_fd; /* -1: no initrd */
	uint64_t initrd_gpa, initrd_size;
	const char *cmdline; /* never NULL */
	size_t cmdline_len;
};

/* Open and parse the kernel, open the initrd, and place both in the low_ram
 * bytes of RAM below the PCI hole. initrd may be NULL, cmdline too. */
int boot_plan_make(struct boot_plan *p, const char *kernel, const char *initrd, const char *cmdline,
		   uint64_t low_ram, struct kv_err *err);

/* Copy the kernel, initrd and command line (to LAYOUT_CMDLINE_GPA). */
int boot_plan_load(const struct boot_plan *p, const struct guest_mem *m, struct kv_err *err);

/* Unmap and close; safe on a zeroed or failed plan. */
void boot_plan_release(struct boot_plan *p);

#endif
