/* elf.c - parse an x86-64 ELF vmlinux into a load plan.
 *
 * Owns: the validation of an uncompressed kernel's ELF and program headers.
 * Every PT_LOAD segment is loaded at its physical address (p_paddr) and the
 * kernel is entered at e_entry, which for x86-64 vmlinux is the physical
 * address of startup_64 (the 64-bit boot protocol entry). A setup header is
 * synthesized for the zero page, since vmlinux carries none. */
#include "kernel.h"
#include "layout.h"

#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>

#define ELF_INITRD_ADDR_MAX 0x7fffffffU /* what every 64-bit kernel accepts */

static void synth_header(struct setup_header *h)
{
	memset(h, 0, sizeof(*h));
	h->boot_flag = 0xaa55;
	h->header = 0x53726448; /* "HdrS" */
	h->version = BZIMAGE_MIN_VERSION;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = XLF_KERNEL_64;
	h->initrd_addr_max = ELF_INITRD_ADDR_MAX;
	h->kernel_alignment = (uint32_t)(2 * MiB);
	h->cmdline_size = (uint32_t)(LAYOUT_CMDLINE_MAX - 1);
}

int elf_parse(const void *buf, size_t len, struct kernel_image *out, struct kv_err *err)
{
	const uint8_t *b = buf;
	Elf64_Ehdr eh;
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_ok = false;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(eh) || memcmp(b, ELFMAG, SELFMAG) != 0)
		return kv_errf(err, -ENOEXEC, "not an ELF file");
	memcpy(&eh, b, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return kv_errf(err, -EINVAL, "ELF kernel is not x86-64 (64-bit little-endian)");
	if (eh.e_type != ET_EXEC)
		return kv_errf(err, -EINVAL, "ELF kernel is not an executable (e_type %u)",
			       eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phoff > len ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return kv_errf(err, -EINVAL,
			       "truncated or corrupt ELF kernel: bad program header table");

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, b + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return kv_errf(err, -EINVAL,
				       "truncated ELF kernel: segment %u runs past the end", i);
		if (ph.p_filesz > ph.p_memsz)
			return kv_errf(err, -EINVAL,
				       "corrupt ELF kernel: segment %u filesz > memsz", i);
		if (ph.p_paddr < LAYOUT_HIGH_RAM_GPA || ph.p_paddr > LAYOUT_MMIO_HOLE_GPA ||
		    ph.p_memsz > LAYOUT_MMIO_HOLE_GPA - ph.p_paddr)
			return kv_errf(
			    err, -EINVAL,
			    "ELF kernel segment %u at 0x%llx+0x%llx is outside 1 MiB..3 GiB", i,
			    (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
		if (out->nsegs == KERNEL_MAX_SEGMENTS)
			return kv_errf(err, -EINVAL,
				       "ELF kernel has more than %d loadable segments",
				       KERNEL_MAX_SEGMENTS);
		out->segs[out->nsegs++] = (struct kernel_segment){ .gpa = ph.p_paddr,
								   .off = ph.p_offset,
								   .filesz = ph.p_filesz,
								   .memsz = ph.p_memsz };
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
		if (eh.e_entry >= ph.p_paddr && eh.e_entry < ph.p_paddr + ph.p_memsz)
			entry_ok = true;
	}
	if (out->nsegs == 0)
		return kv_errf(err, -EINVAL, "ELF kernel has no loadable segment");
	if (!entry_ok)
		return kv_errf(
		    err, -EINVAL,
		    "ELF kernel entry 0x%llx is not inside a loaded segment (not a vmlinux?)",
		    (unsigned long long)eh.e_entry);

	out->format = KERNEL_ELF;
	out->entry = eh.e_entry;
	out->load_gpa = lo;
	out->end_gpa = hi;
	synth_header(&out->hdr);
	return 0;
}
