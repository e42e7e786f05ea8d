/* virtio-pci-priv.h - state shared by the virtio-pci transport's two files.
 *
 * Owns: struct virtio_pci and the register map. virtio/pci.c builds the
 * PCI function and dispatches BAR accesses, kicks and interrupts;
 * virtio/pci-common.c implements the common configuration registers,
 * feature negotiation, device status, reset and activation. */
#ifndef KVRUN_VMM_VIRTIO_PCI_PRIV_H
#define KVRUN_VMM_VIRTIO_PCI_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "irq.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio.h"

/* Capability cfg_type values (virtio 1.2, 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG	  3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG	  5

/* BAR 0 layout. */
#define VPCI_BAR	 0
#define VPCI_COMMON_OFF	 0x0000
#define VPCI_COMMON_LEN	 0x38
#define VPCI_ISR_OFF	 0x1000
#define VPCI_DEVCFG_OFF	 0x2000
#define VPCI_DEVCFG_MAX	 0x1000
#define VPCI_NOTIFY_OFF	 0x3000
#define VPCI_NOTIFY_MULT 4
#define VPCI_PAGE	 0x1000

/* Common configuration registers (struct virtio_pci_common_cfg). */
#define VPCI_DFSELECT 0x00
#define VPCI_DF	      0x04
#define VPCI_GFSELECT 0x08
#define VPCI_GF	      0x0c
#define VPCI_MSIX     0x10
#define VPCI_NUMQ     0x12
#define VPCI_STATUS   0x14
#define VPCI_CFGGEN   0x15
#define VPCI_QSELECT  0x16
#define VPCI_QSIZE    0x18
#define VPCI_QMSIX    0x1a
#define VPCI_QENABLE  0x1c
#define VPCI_QNOFF    0x1e
#define VPCI_QDESC    0x20
#define VPCI_QAVAIL   0x28
#define VPCI_QUSED    0x30

/* ISR bits. */
#define VPCI_ISR_QUEUE	1
#define VPCI_ISR_CONFIG 2

/* Transport features this transport does not implement: never offered even
 * if a device sets them (packed ring, SR-IOV, notification data, notify
 * config data, ring reset, admin virtqueues). */
#define VPCI_UNSUPPORTED_FEATURES                                                                  \
	((1ULL << 34) | (1ULL << 37) | (1ULL << 38) | (1ULL << 39) | (1ULL << 40) | (1ULL << 41))

struct virtio_pci;

struct vpci_queue {
	struct virtio_pci *vp;
	unsigned index;
	/* Driver-programmed state (under vp->lock), copied to the device's
	 * virtqueue on activation. */
	uint16_t size;
	bool enabled;
	uint16_t msix_vector; /* __atomic: read by signal_used on the loop */
	uint64_t desc, avail, used;
	/* Kick path. */
	int kick_fd;
	bool kick_watched;
	struct irq_ioeventfd io;
	bool io_bound;
};

struct virtio_pci {
	struct pci_dev pci; /* first: the pci_dev hooks cast back */
	struct msix msix;
	bool msix_ready;
	struct vmm *vm;
	struct virtio_dev *vdev;
	pthread_mutex_t lock; /* common cfg registers */

	uint64_t offered;	 /* device_features | VERSION_1, minus unsupported */
	uint64_t guest_features; /* driver's writes until FEATURES_OK */
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
	uint16_t msix_config; /* __atomic */
	uint8_t generation;   /* __atomic */
	uint8_t isr;	      /* __atomic */
	bool activated;	      /* loop thread only */

	unsigned nq;
	struct vpci_queue *q;
	uint64_t table_off, pba_off, bar_size;
	unsigned pcicfg_cap; /* config offset of the PCI_CFG capability */
};

/* pci-common.c */
void vpci_common_read(struct virtio_pci *vp, uint64_t off, void *data, unsigned len);
void vpci_common_write(struct virtio_pci *vp, uint64_t off, const void *data, unsigned len);
/* Put the registers and the device's queues in their reset state (no
 * device callback): at creation. */
void vpci_reset_state(struct virtio_pci *vp);
/* The full driver-visible reset: ops->reset on the loop thread, then queues
 * and registers. Caller holds vp->lock (or is the only user: teardown). */
void vpci_device_reset(struct virtio_pci *vp);

/* pci.c */
void vpci_signal_config(struct virtio_dev *d);

#endif
