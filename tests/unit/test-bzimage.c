/* Unit tests for vmm/boot/bzimage.c and elf.c: header parsing of good,
 * truncated, corrupt and non-kernel images. */
#include "boot/kernel.h"
#include "layout.h"
#include "tap.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SETUP_SECTS 4
#define PAYLOAD	    (64 * 1024)
#define IMG_SIZE    ((SETUP_SECTS + 1) * 512 + PAYLOAD)

static uint8_t img[IMG_SIZE];

static struct setup_header *hdr(void)
{
	return (struct setup_header *)(img + 0x1f1);
}

/* A minimal well-formed 64-bit bzImage header. */
static void make_bzimage(void)
{
	struct setup_header *h = hdr();

	memset(img, 0, sizeof(img));
	h->setup_sects = SETUP_SECTS;
	h->syssize = PAYLOAD / 16;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb; /* jmp +0x66: header ends at 0x202 + 0x66 = 0x268 */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h->cmdline_size = 2047;
	h->payload_offset = 0x100;
	h->payload_length = 0x1000;
	h->pref_address = 0x1000000;
	h->init_size = 0x2000000;
}

static int parse(size_t len, struct kv_err *e)
{
	struct kernel_image k;
	memset(e, 0, sizeof(*e));
	return bzimage_parse(img, len, &k, e);
}

static void test_bzimage(void)
{
	struct kernel_image k;
	struct kv_err e = { 0 };

	make_bzimage();
	ok(bzimage_parse(img, sizeof(img), &k, &e) == 0, "well-formed bzImage parses (%s)", e.msg);
	ok(k.format == KERNEL_BZIMAGE && k.nsegs == 1, "one segment");
	ok(k.segs[0].gpa == 0x1000000 && k.segs[0].off == 5 * 512 && k.segs[0].filesz == PAYLOAD,
	   "payload after the setup sectors loads at pref_address");
	ok(k.entry == 0x1000200, "64-bit entry at load + 0x200");
	ok(k.end_gpa == 0x1000000 + 0x2000000, "end covers init_size");
	ok(k.hdr.version == 0x020f && k.hdr.cmdline_size == 2047, "setup header copied");

	hdr()->pref_address = 0x1234567; /* not aligned: default address */
	ok(bzimage_parse(img, sizeof(img), &k, &e) == 0 && k.segs[0].gpa == LAYOUT_KERNEL_GPA,
	   "misaligned pref_address falls back to the default load address");

	make_bzimage();
	hdr()->setup_sects = 0;
	ok(bzimage_parse(img, sizeof(img), &k, &e) == 0 && k.segs[0].off == 5 * 512,
	   "setup_sects 0 means 4");

	make_bzimage();
	ok(parse(0x100, &e) == -ENOEXEC, "too short for a header: not a bzImage");
	ok(parse(0x210, &e) == -EINVAL && strstr(e.msg, "truncated"),
	   "cut inside the setup header: truncated (%s)", e.msg);
	ok(parse(4 * 512, &e) == -EINVAL && strstr(e.msg, "truncated"),
	   "cut inside the setup sectors: truncated (%s)", e.msg);
	ok(parse(sizeof(img) - 4096, &e) == -EINVAL && strstr(e.msg, "truncated"),
	   "cut inside the payload: truncated (%s)", e.msg);

	make_bzimage();
	hdr()->header = 0x12345678;
	ok(parse(sizeof(img), &e) == -ENOEXEC, "no HdrS magic: not a bzImage");
	make_bzimage();
	hdr()->boot_flag = 0;
	ok(parse(sizeof(img), &e) == -ENOEXEC, "no boot flag: not a bzImage");
	make_bzimage();
	hdr()->version = 0x020a;
	ok(parse(sizeof(img), &e) == -EINVAL && strstr(e.msg, "2.10"),
	   "protocol 2.10 is too old (%s)", e.msg);
	make_bzimage();
	hdr()->xloadflags = 0;
	ok(parse(sizeof(img), &e) == -EINVAL && strstr(e.msg, "64-bit"), "no XLF_KERNEL_64 (%s)",
	   e.msg);
	make_bzimage();
	hdr()->loadflags = 0;
	ok(parse(sizeof(img), &e) == -EINVAL, "not LOADED_HIGH");
	make_bzimage();
	hdr()->payload_offset = PAYLOAD - 0x10;
	ok(parse(sizeof(img), &e) == -EINVAL, "compressed payload past the end");
	make_bzimage();
	hdr()->syssize = 0;
	ok(parse(sizeof(img), &e) == -EINVAL, "syssize 0 is corrupt");
	make_bzimage();
	hdr()->kernel_alignment = 0x3000;
	ok(parse(sizeof(img), &e) == -EINVAL, "kernel_alignment not a power of two");
	make_bzimage();
	hdr()->init_size = 0xf0000000;
	ok(parse(sizeof(img), &e) == -EINVAL, "init_size beyond the 3 GiB of low RAM");
	make_bzimage();
	hdr()->relocatable_kernel = 0;
	hdr()->pref_address = 0x1000;
	ok(parse(sizeof(img), &e) == -EINVAL, "non-relocatable kernel below 1 MiB");
}

static void test_elf(void)
{
	static uint8_t elf[8192];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(elf + sizeof(*eh));
	struct kernel_image k;
	struct kv_err e = { 0 };

	memset(elf, 0, sizeof(elf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_entry = 0x1000000;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_offset = 4096;
	ph->p_paddr = 0x1000000;
	ph->p_filesz = 4096;
	ph->p_memsz = 0x10000;

	ok(kernel_parse(elf, sizeof(elf), &k, &e) == 0 && k.format == KERNEL_ELF,
	   "ELF vmlinux parses (%s)", e.msg);
	ok(k.entry == 0x1000000 && k.segs[0].memsz == 0x10000 && k.end_gpa == 0x1010000,
	   "entry and segment taken from the headers");
	ok(k.hdr.header == 0x53726448 && (k.hdr.xloadflags & XLF_KERNEL_64),
	   "a setup header is synthesized");
	ok(elf_parse(elf, sizeof(elf) - 100, &k, &e) == -EINVAL, "truncated segment");
	eh->e_entry = 0x2000000;
	ok(elf_parse(elf, sizeof(elf), &k, &e) == -EINVAL, "entry outside every segment");
	eh->e_entry = 0x1000000;
	eh->e_phnum = 2000;
	ok(elf_parse(elf, sizeof(elf), &k, &e) == -EINVAL, "program headers past the end");
	eh->e_phnum = 1;
	eh->e_machine = EM_AARCH64;
	ok(elf_parse(elf, sizeof(elf), &k, &e) == -EINVAL, "not x86-64");
	eh->e_machine = EM_X86_64;
	ph->p_paddr = 0x1000;
	ok(elf_parse(elf, sizeof(elf), &k, &e) == -EINVAL, "segment below 1 MiB");

	memset(elf, 'x', sizeof(elf));
	ok(kernel_parse(elf, sizeof(elf), &k, &e) == -ENOEXEC &&
	       strstr(e.msg, "not a Linux kernel"),
	   "text file: not a kernel (%s)", e.msg);
	ok(kernel_parse(elf, 0, &k, &e) == -ENOEXEC, "empty buffer: not a kernel");
}

int main(void)
{
	tap_plan(32);
	test_bzimage();
	test_elf();
	return tap_done();
}
