/* x86.c - see x86.h. */
#include "x86.h"
#include "layout.h"

#include <errno.h>
#include <string.h>

#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)

#define GDT_ENTRIES 6 /* null, null, code, data, 16-byte TSS */

/* A segment descriptor: base, limit (20 bits), access byte, flags nibble. */
static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf) << 52) |
	       ((uint64_t)(limit & 0xf0000) << 32) | ((uint64_t)access << 40) |
	       ((uint64_t)(base & 0x00ffffff) << 16) | (limit & 0xffff);
}

int x86_write_boot_tables(const struct guest_mem *m)
{
	uint64_t gdt[GDT_ENTRIES] = { 0 };
	uint64_t *pml4, *pdpt, *pd;

	/* access 0x9b: present, code, exec/read, accessed; flags 0xa: G, L.
	 * access 0x93: present, data, read/write, accessed; flags 0xc: G, D/B.
	 * access 0x8b: present, 64-bit busy TSS. */
	gdt[X86_BOOT_CS / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xa);
	gdt[X86_BOOT_DS / 8] = gdt_entry(0, 0xfffff, 0x93, 0xc);
	gdt[X86_BOOT_TR / 8] = gdt_entry(0, 0x67, 0x8b, 0x0);
	if (guest_mem_write(m, LAYOUT_GDT_GPA, gdt, sizeof(gdt)) < 0)
		return -EFAULT;

	pml4 = gpa_to_hva(m, LAYOUT_PML4_GPA, 4096);
	pdpt = gpa_to_hva(m, LAYOUT_PDPT_GPA, 4096);
	pd = gpa_to_hva(m, LAYOUT_PD_GPA, 4 * 4096);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = LAYOUT_PDPT_GPA | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD_GPA + i * 4096) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i * 2 * MiB) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

void x86_boot_sregs(struct kvm_sregs *s)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = X86_BOOT_CS,
		.type = 0xb,
		.present = 1,
		.dpl = 0,
		.db = 0,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = X86_BOOT_DS,
		.type = 0x3,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
	struct kvm_segment tss = {
		.base = 0,
		.limit = 0x67,
		.selector = X86_BOOT_TR,
		.type = 0xb,
		.present = 1,
	};

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	s->ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .limit = 0xffff, .unusable = 1 };
	s->gdt.base = LAYOUT_GDT_GPA;
	s->gdt.limit = GDT_ENTRIES * 8 - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	s->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	s->cr3 = LAYOUT_PML4_GPA;
	s->cr4 = X86_CR4_PAE;
	s->efer = X86_EFER_LME | X86_EFER_LMA;
}

void x86_boot_regs(struct kvm_regs *r, uint64_t entry, uint64_t zero_page)
{
	memset(r, 0, sizeof(*r));
	r->rflags = 0x2; /* reserved bit 1; IF clear */
	r->rip = entry;
	r->rsi = zero_page;
	/* The protocol asks for no stack; give one in free low memory anyway. */
	r->rsp = LAYOUT_PML4_GPA - 16;
}

void x86_boot_fpu(struct kvm_fpu *f)
{
	memset(f, 0, sizeof(*f));
	f->fcw = 0x37f;
	f->mxcsr = 0x1f80;
}

int x86_write_reset_stub(const struct guest_mem *m, uint16_t port, uint8_t value)
{
	const uint8_t stub[] = {
		0xb0, value,		      /* mov al, value */
		0xba, port & 0xff, port >> 8, /* mov dx, port */
		0xee,			      /* out dx, al */
		0xf4,			      /* hlt */
		0xeb, 0xfd,		      /* jmp back to hlt */
	};

	return guest_mem_write(m, LAYOUT_RESET_VECTOR_GPA, stub, sizeof(stub)) < 0 ? -EFAULT : 0;
}
