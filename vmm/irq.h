/* irq.h - the VM's GSI routing table, irqfds and ioeventfds.
 *
 * Owns: the one copy of KVM's GSI routing table (KVM_SET_GSI_ROUTING replaces
 * the whole table, so every route lives here): the in-kernel IOAPIC and 8259
 * PIC pins as the ACPI MADT describes them (see irq_base_ioapic_pin), plus
 * one MSI route per allocated GSI from LAYOUT_MSI_GSI_BASE up. Also
 * owns binding eventfds to GSIs (KVM_IRQFD) and to guest addresses
 * (KVM_IOEVENTFD), and the bookkeeping of those bindings.
 *
 * Backends: with a VM fd the calls reach KVM. With vm_fd < 0 (unit tests
 * without /dev/kvm) the router keeps the same bookkeeping and enforces the
 * same uniqueness rules but makes no ioctl, so the register logic above it
 * can be tested anywhere.
 *
 * Threading: every function may be called from any thread (vCPU threads
 * reprogram MSI-X vectors); one mutex serialises the table and the ioctls. */
#ifndef KVRUN_VMM_IRQ_H
#define KVRUN_VMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct vmm;
struct irq_router;

/* ioeventfd match options. */
#define IRQ_IOEVENTFD_PIO	(1u << 0) /* port I/O address instead of MMIO */
#define IRQ_IOEVENTFD_DATAMATCH (1u << 1) /* fire only when the written value == data */

struct irq_ioeventfd {
	uint64_t addr;
	uint32_t len;	/* 1, 2, 4 or 8; 0 = any length (MMIO only, no datamatch) */
	uint32_t flags; /* IRQ_IOEVENTFD_* */
	uint64_t data;	/* with IRQ_IOEVENTFD_DATAMATCH */
};

/* The base table every commit starts with, as the ACPI MADT describes the
 * machine (docs/acpi.md): KVM GSI n drives IOAPIC pin n and, below 16, PIC
 * pin n, except that GSI 0 (ISA IRQ 0, the PIT's input in KVM) drives IOAPIC
 * pin 2, as the MADT's IRQ0 -> GSI 2 override says, and GSI 2 (the 8259
 * cascade) drives nothing. KVM's default table instead sends GSI 0 to
 * pin 0. The IOAPIC pin (or -1) and PIC pin (or -1) KVM GSI gsi reaches: */
int irq_base_ioapic_pin(unsigned gsi);
int irq_base_pic_pin(unsigned gsi);
#define IRQ_BASE_ENTRIES 38 /* 23 IOAPIC routes + 15 PIC routes */

/* Create a router for vm_fd (or a recording one when vm_fd < 0). Nothing is
 * sent to KVM until the first irq_commit(). */
int irq_router_create(int vm_fd, struct irq_router **out);
/* Free the router. Bindings still registered are forgotten, not undone:
 * closing the VM fd drops them in KVM. */
void irq_router_free(struct irq_router *r);

/* Builder entry points: create vm->irq for vm->vm_fd (after
 * KVM_CREATE_IRQCHIP) and install the base table; and free it again. */
int irq_init(struct vmm *vm, struct kv_err *err);
void irq_destroy(struct vmm *vm);

/* Allocate an MSI GSI (LAYOUT_MSI_GSI_BASE..LAYOUT_MAX_GSI-1) with no route
 * yet; -ENOSPC when all are taken. */
int irq_msi_alloc(struct irq_router *r, unsigned *gsi);
/* Release an MSI GSI; its route disappears at the next commit. */
void irq_msi_free(struct irq_router *r, unsigned gsi);
/* Stage the MSI route of an allocated gsi (address, data as the guest wrote
 * them in an MSI-X table entry). -EINVAL for a gsi that is not allocated. */
int irq_msi_set(struct irq_router *r, unsigned gsi, uint64_t addr, uint32_t data);
/* Send the whole table to KVM if anything changed since the last commit. */
int irq_commit(struct irq_router *r);

/* Bind eventfd fd to gsi: a write to fd injects the interrupt in the kernel.
 * KVM injects at once if fd is already signalled. -EBUSY when fd is bound. */
int irq_irqfd_assign(struct irq_router *r, int fd, unsigned gsi);
/* Unbind; KVM clears fd's counter. -ENOENT when not bound. */
int irq_irqfd_deassign(struct irq_router *r, int fd, unsigned gsi);

/* Bind eventfd fd to guest writes matching io. -EEXIST when an identical
 * match is already bound (any fd). */
int irq_ioeventfd_assign(struct irq_router *r, int fd, const struct irq_ioeventfd *io);
/* Unbind exactly what irq_ioeventfd_assign(fd, io) bound; -ENOENT if none. */
int irq_ioeventfd_deassign(struct irq_router *r, int fd, const struct irq_ioeventfd *io);

/* --- Introspection (tests and diagnostics) ------------------------------- */

/* The route gsi had at the last commit; false when it had none. */
bool irq_msi_committed(struct irq_router *r, unsigned gsi, uint64_t *addr, uint32_t *data);
/* Number of tables sent (or, when recording, that would have been sent). */
unsigned irq_commit_count(struct irq_router *r);
/* Entries in the table last committed (IRQ_BASE_ENTRIES plus MSI routes). */
unsigned irq_committed_entries(struct irq_router *r);
/* The gsi fd is bound to by an irqfd, or -1. */
int irq_irqfd_gsi(struct irq_router *r, int fd);
/* The fd of the ioeventfd bound at addr (MMIO, or port I/O when pio), or -1. */
int irq_ioeventfd_fd(struct irq_router *r, uint64_t addr, bool pio);
/* Number of ioeventfds bound. */
unsigned irq_ioeventfd_count(struct irq_router *r);

#endif
