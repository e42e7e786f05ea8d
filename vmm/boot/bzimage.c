/* bzimage.c - parse a Linux bzImage's setup header into a load plan.
 *
 * Owns: the validation of the x86 boot protocol header (boot flag, "HdrS",
 * version >= 2.12 with XLF_KERNEL_64, setup_sects, syssize and payload
 * bounds, alignment, pref_address, init_size) and the choice of load address.
 * The protected-mode payload (everything after the setup sectors) is loaded
 * at the load address and entered at load + 0x200 in 64-bit mode. */
#include "kernel.h"
#include "layout.h"

#include <errno.h>
#include <string.h>

#define HDR_OFFSET	    0x1f1
#define BOOT_FLAG_OFFSET    0x1fe
#define JUMP_OFFSET	    0x200
#define MAGIC_OFFSET	    0x202
#define HDR_MAGIC	    0x53726448 /* "HdrS", little-endian */
#define BOOT_FLAG	    0xaa55
#define SECTOR		    512
#define DEFAULT_SETUP_SECTS 4
#define ENTRY_64_OFFSET	    0x200

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the kernel goes: its preferred address when that is usable, else the
 * layout's default (which a relocatable kernel accepts). */
static int choose_load_address(const struct setup_header *h, uint64_t *out, struct kv_err *err)
{
	uint64_t align = h->kernel_alignment;
	uint64_t pref = h->pref_address;

	if (!h->relocatable_kernel) {
		if (pref < LAYOUT_HIGH_RAM_GPA)
			return kv_errf(err, -EINVAL,
				       "kernel is not relocatable and its preferred address 0x%llx "
				       "is below 1 MiB",
				       (unsigned long long)pref);
		*out = pref;
		return 0;
	}
	if (align == 0 || (align & (align - 1)) != 0)
		return kv_errf(err, -EINVAL,
			       "corrupt kernel: kernel_alignment 0x%llx is not a power of two",
			       (unsigned long long)align);
	if (pref >= LAYOUT_HIGH_RAM_GPA && pref % align == 0)
		*out = pref;
	else
		*out = (LAYOUT_KERNEL_GPA + align - 1) & ~(align - 1);
	return 0;
}

int bzimage_parse(const void *buf, size_t len, struct kernel_image *out, struct kv_err *err)
{
	const uint8_t *b = buf;
	struct setup_header h;
	uint64_t setup_size, payload_size, load = 0, need;
	size_t hdr_end;
	int r;

	memset(out, 0, sizeof(*out));
	if (len < MAGIC_OFFSET + 4 || get16(b + BOOT_FLAG_OFFSET) != BOOT_FLAG ||
	    get32(b + MAGIC_OFFSET) != HDR_MAGIC)
		return kv_errf(err, -ENOEXEC, "not a bzImage (no boot flag and \"HdrS\" header)");

	/* The header runs from 0x1f1 to 0x202 + the byte at 0x201. */
	hdr_end = MAGIC_OFFSET + b[JUMP_OFFSET + 1];
	if (hdr_end > len)
		return kv_errf(err, -EINVAL,
			       "truncated bzImage: setup header ends at 0x%zx, file is %zu bytes",
			       hdr_end, len);
	memset(&h, 0, sizeof(h));
	size_t n = hdr_end - HDR_OFFSET;
	if (n > sizeof(h))
		n = sizeof(h);
	memcpy(&h, b + HDR_OFFSET, n);

	if (h.version < BZIMAGE_MIN_VERSION)
		return kv_errf(
		    err, -EINVAL,
		    "kernel boot protocol %u.%02u is too old: 2.12 or newer is needed for "
		    "64-bit entry",
		    h.version >> 8, h.version & 0xff);
	if (n < offsetof(struct setup_header, handover_offset))
		return kv_errf(err, -EINVAL,
			       "corrupt bzImage: setup header too short (%zu bytes) for "
			       "protocol %u.%02u",
			       n, h.version >> 8, h.version & 0xff);
	if (!(h.xloadflags & XLF_KERNEL_64))
		return kv_errf(err, -EINVAL,
			       "kernel has no 64-bit entry point (XLF_KERNEL_64 not set): "
			       "a 32-bit kernel?");
	if (!(h.loadflags & LOADED_HIGH))
		return kv_errf(err, -EINVAL, "kernel does not load high (LOADED_HIGH not set)");

	setup_size = (uint64_t)(h.setup_sects ? h.setup_sects : DEFAULT_SETUP_SECTS) + 1;
	setup_size *= SECTOR;
	if (setup_size >= len)
		return kv_errf(err, -EINVAL,
			       "truncated bzImage: %llu setup bytes but the file is %zu bytes",
			       (unsigned long long)setup_size, len);
	payload_size = len - setup_size;
	if (h.syssize == 0 || (uint64_t)h.syssize * 16 > payload_size + 15)
		return kv_errf(
		    err, -EINVAL,
		    "truncated or corrupt bzImage: header says %llu bytes of kernel, file has %llu",
		    (unsigned long long)h.syssize * 16, (unsigned long long)payload_size);
	if ((uint64_t)h.payload_offset + h.payload_length > payload_size)
		return kv_errf(
		    err, -EINVAL,
		    "truncated or corrupt bzImage: compressed payload at 0x%x+0x%x runs past "
		    "the end of the kernel",
		    h.payload_offset, h.payload_length);

	r = choose_load_address(&h, &load, err);
	if (r < 0)
		return r;
	need = h.init_size > payload_size ? h.init_size : payload_size;
	if (load + need > LAYOUT_MMIO_HOLE_GPA)
		return kv_errf(
		    err, -EINVAL,
		    "kernel needs 0x%llx bytes at 0x%llx: beyond the 0x%llx limit of low RAM",
		    (unsigned long long)need, (unsigned long long)load,
		    (unsigned long long)LAYOUT_MMIO_HOLE_GPA);

	out->format = KERNEL_BZIMAGE;
	out->nsegs = 1;
	out->segs[0] = (struct kernel_segment){
		.gpa = load, .off = setup_size, .filesz = payload_size, .memsz = payload_size
	};
	out->entry = load + ENTRY_64_OFFSET;
	out->load_gpa = load;
	out->end_gpa = load + need;
	out->hdr = h;
	return 0;
}

int kernel_parse(const void *buf, size_t len, struct kernel_image *out, struct kv_err *err)
{
	const uint8_t *b = buf;

	int r;

	if (len >= 4 && memcmp(b, "\177ELF", 4) == 0)
		return elf_parse(buf, len, out, err);
	r = bzimage_parse(buf, len, out, err);
	if (r == -ENOEXEC)
		kv_errf(err, r, "not a Linux kernel: neither a bzImage nor an ELF vmlinux");
	return r;
}
