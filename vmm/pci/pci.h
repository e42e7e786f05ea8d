/* pci.h - PCI bus 0: host bridge, configuration space, BARs, capabilities.
 *
 * Owns: the one PCI segment the guest sees (bus 0 only, up to 32 single-
 * function devices; 00:00.0 is the host bridge), guest access to config
 * space through ports 0xCF8/0xCFC-0xCFF and through ECAM at
 * LAYOUT_ECAM_GPA, the type-0 config header model (read-only / writable /
 * write-1-to-clear masks), BAR sizing and placement in the 32-bit PCI
 * window, and keeping each BAR's MMIO range registered on vm->mmio exactly
 * while the guest has memory decoding on, at the address it programmed.
 *
 * A device embeds struct pci_dev, fills it with pci_dev_init(), BARs and
 * capabilities, then pci_register() places it. pci_destroy() tears every
 * registered device down through its ops->destroy.
 *
 * Threading: config accesses arrive on vCPU threads; each device's config
 * space is guarded by its own mutex, held while the ops hooks run. A hook may
 * take the device's other locks (lock order: pci_dev.lock first), never the
 * reverse. Device registration happens before the vCPUs start. */
#ifndef KVRUN_VMM_PCI_H
#define KVRUN_VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "err.h"

struct vmm;

#define PCI_CFG_SIZE  256 /* conventional config space; ECAM offsets above read 0 */
#define PCI_NUM_SLOTS 32
#define PCI_NUM_BARS  6

/* Type-0 header offsets. */
#define PCI_REG_VENDOR	    0x00
#define PCI_REG_DEVICE	    0x02
#define PCI_REG_COMMAND	    0x04
#define PCI_REG_STATUS	    0x06
#define PCI_REG_REVISION    0x08
#define PCI_REG_CLASS	    0x09 /* 3 bytes: prog-if, subclass, base class */
#define PCI_REG_CACHE_LINE  0x0c
#define PCI_REG_LATENCY	    0x0d
#define PCI_REG_HEADER_TYPE 0x0e
#define PCI_REG_BAR0	    0x10
#define PCI_REG_SUBSYS_VEN  0x2c
#define PCI_REG_SUBSYS_ID   0x2e
#define PCI_REG_ROM	    0x30
#define PCI_REG_CAP_PTR	    0x34
#define PCI_REG_INT_LINE    0x3c
#define PCI_REG_INT_PIN	    0x3d
#define PCI_CAP_START	    0x40 /* first byte after the header */

#define PCI_COMMAND_IO		 (1u << 0)
#define PCI_COMMAND_MEMORY	 (1u << 1)
#define PCI_COMMAND_MASTER	 (1u << 2)
#define PCI_COMMAND_PARITY	 (1u << 6)
#define PCI_COMMAND_SERR	 (1u << 8)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST	 (1u << 4)

#define PCI_BAR_MEM_64	     0x4 /* type field 10b */
#define PCI_BAR_MEM_PREFETCH 0x8

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* Vendor/device of the host bridge at 00:00.0: Red Hat's generic "PCIe host
 * bridge" id (class 0x060000), chosen over an Intel chipset id so that no
 * guest chipset quirk keys on it. */
#define PCI_HOST_VENDOR 0x1b36
#define PCI_HOST_DEVICE 0x0008

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* uses this BAR and the next; placed below 4 GiB too */
};

struct pci_dev;

struct pci_dev_ops {
	/* Before a config read of [off, off+len): refresh cfg bytes computed on
	 * demand. Called with the device's lock held. */
	void (*cfg_read)(struct pci_dev *d, uint32_t off, unsigned len);
	/* After a config write to [off, off+len) was merged through the masks
	 * (BAR and command handling already done). Lock held. */
	void (*cfg_write)(struct pci_dev *d, uint32_t off, unsigned len);
	/* BAR bar started (mapped) or stopped decoding at addr. Lock held. */
	void (*bar_map)(struct pci_dev *d, unsigned bar, uint64_t addr, bool mapped);
	/* pci_destroy(): the BARs are unmapped; free the device. */
	void (*destroy)(struct pci_dev *d);
};

struct pci_bar {
	enum pci_bar_type type;
	uint64_t size; /* power of two >= 16; 0 = unused */
	const struct io_ops *ops;
	void *opaque;
	bool mapped;
	uint64_t mapped_addr;
};

struct pci_dev {
	struct pci_bus *bus; /* set by pci_register() */
	unsigned slot;
	const struct pci_dev_ops *ops; /* may be NULL; so may each hook */
	pthread_mutex_t lock;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];   /* bits the guest may write */
	uint8_t w1cmask[PCI_CFG_SIZE]; /* bits a guest 1 clears */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t cap_last; /* offset of the last capability, 0 when none */
	uint8_t cap_end;  /* next free config byte for a capability */
};

struct pci_bus {
	struct vmm *vm;
	struct io_bus *pio, *mmio;
	_Atomic uint32_t cf8; /* CONFIG_ADDRESS latch */
	struct pci_dev *slots[PCI_NUM_SLOTS];
	struct pci_dev host;
	uint64_t mmio32_next, mmio32_end; /* BAR allocator */
	bool pio_registered, ecam_registered;
};

/* --- Builder entry points ------------------------------------------------ */

/* Create vm->pci: the host bridge at 00:00.0, the 0xCF8/0xCFC ports on
 * vm->pio and the ECAM window on vm->mmio. */
int pci_init(struct vmm *vm, struct kv_err *err);
/* Unmap and destroy every registered device (reverse order), remove the
 * config ports and ECAM, free vm->pci. vCPUs and the loop must be stopped;
 * call before irq_destroy() and evloop_destroy(). NULL-safe. */
void pci_destroy(struct vmm *vm);

/* --- Devices ------------------------------------------------------------- */

/* Initialise d's header: ids, class (0xCCSSPP), revision, subsystem ids. No
 * INTx pin (all devices use MSI-X). Command bits memory/master/parity/SERR/
 * INTx-disable are writable; decoding starts off. */
int pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		 uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/* Release what pci_dev_init() set up (for a device never registered). */
void pci_dev_fini(struct pci_dev *d);

/* Declare BAR bar of size bytes (a power of two >= 16); accesses go to
 * ops/opaque with offsets relative to the BAR. A 64-bit BAR also takes
 * bar+1. -EINVAL on a bad index, size or overlap. */
int pci_dev_add_bar(struct pci_dev *d, unsigned bar, enum pci_bar_type type, uint64_t size,
		    const struct io_ops *ops, void *opaque);

/* Append a capability of len bytes (>= 2) with the given id to d's list,
 * dword aligned; returns its config offset, or -ENOSPC. The caller fills
 * the body with pci_cfg_set*() and opens writable bits with pci_wmask_set*(). */
int pci_dev_add_cap(struct pci_dev *d, uint8_t id, unsigned len);

/* Place d in the first free slot and its BARs in the 32-bit window. */
int pci_register(struct pci_bus *bus, struct pci_dev *d, struct kv_err *err);

/* Turn memory decoding off, unmapping every BAR (pci_destroy uses it). */
void pci_dev_unmap_bars(struct pci_dev *d);

/* The address BAR bar currently holds (as programmed, whether decoding or not). */
uint64_t pci_bar_addr(struct pci_dev *d, unsigned bar);

/* Config space helpers (little-endian); setup code or hooks with the lock held. */
void pci_cfg_set8(struct pci_dev *d, uint32_t off, uint8_t v);
void pci_cfg_set16(struct pci_dev *d, uint32_t off, uint16_t v);
void pci_cfg_set32(struct pci_dev *d, uint32_t off, uint32_t v);
uint8_t pci_cfg_get8(const struct pci_dev *d, uint32_t off);
uint16_t pci_cfg_get16(const struct pci_dev *d, uint32_t off);
uint32_t pci_cfg_get32(const struct pci_dev *d, uint32_t off);
void pci_wmask_set8(struct pci_dev *d, uint32_t off, uint8_t m);
void pci_wmask_set16(struct pci_dev *d, uint32_t off, uint16_t m);
void pci_wmask_set32(struct pci_dev *d, uint32_t off, uint32_t m);

/* A guest config access to d at reg (< PCI_CFG_SIZE; len 1, 2 or 4 within
 * one dword). Used by the host bridge's decoders (and tests). */
void pci_dev_cfg_read(struct pci_dev *d, uint32_t reg, void *data, unsigned len);
void pci_dev_cfg_write(struct pci_dev *d, uint32_t reg, const void *data, unsigned len);

/* A guest config access by bus/slot/function/register, as both decoders see
 * it: absent functions read all-ones, offsets past PCI_CFG_SIZE read 0,
 * bad sizes or dword-crossing accesses read all-ones; writes to any of these
 * are dropped. */
void pci_bus_cfg_access(struct pci_bus *bus, unsigned busno, unsigned slot, unsigned fn,
			uint32_t reg, void *data, unsigned len, bool is_write);

#endif
