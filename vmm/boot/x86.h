/* x86.h - CPU state for the Linux 64-bit boot protocol.
 *
 * Owns: the boot GDT (flat __BOOT_CS 0x10 / __BOOT_DS 0x18 as the protocol
 * requires), the identity page tables mapping 0-4 GiB with 2 MiB pages, and
 * the BSP's initial registers: long mode with paging, interrupts off, rip at
 * the kernel's 64-bit entry, rsi pointing at the zero page. */
#ifndef KVRUN_VMM_BOOT_X86_H
#define KVRUN_VMM_BOOT_X86_H

#include <linux/kvm.h>
#include <stdint.h>

#include "memory.h"

#define X86_BOOT_CS 0x10
#define X86_BOOT_DS 0x18
#define X86_BOOT_TR 0x20

#define X86_CR0_PE   (1ULL << 0)
#define X86_CR0_ET   (1ULL << 4)
#define X86_CR0_PG   (1ULL << 31)
#define X86_CR4_PAE  (1ULL << 5)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)

/* Write the GDT and the page tables into guest RAM (layout.h addresses). */
int x86_write_boot_tables(const struct guest_mem *m);

/* The real-mode reset vector (LAYOUT_RESET_VECTOR_GPA): a few bytes that
 * write value to I/O port and halt. There is no firmware; Linux jumps here
 * when it reboots "through the BIOS" (its default with a hardware-reduced
 * FADT and no EFI), and this turns that into the ACPI reset. */
int x86_write_reset_stub(const struct guest_mem *m, uint16_t port, uint8_t value);

/* Turn sregs (as read from KVM_GET_SREGS) into the 64-bit entry state. */
void x86_boot_sregs(struct kvm_sregs *s);

/* General registers for the entry: rip = entry, rsi = zero_page. */
void x86_boot_regs(struct kvm_regs *r, uint64_t entry, uint64_t zero_page);

/* FPU state after reset (x87 control word, MXCSR). */
void x86_boot_fpu(struct kvm_fpu *f);

#endif
