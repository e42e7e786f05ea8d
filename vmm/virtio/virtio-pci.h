/* virtio-pci.h - the virtio-pci modern (virtio 1.x, non-transitional) transport.
 *
 * Owns: presenting one struct virtio_dev as a PCI function on bus 0:
 * vendor 0x1af4, device 0x1040 + device_id, revision 1, subsystem ids equal
 * to the vendor/device ids, a class code per device type, and the
 * VIRTIO_PCI_CAP_COMMON_CFG / NOTIFY_CFG / ISR_CFG / DEVICE_CFG / PCI_CFG
 * capabilities plus MSI-X, all in one 64-bit memory BAR (BAR 0). There is
 * no INTx: the ACPI tables declare no _PRT, so drivers use MSI-X.
 *
 * BAR 0 layout (each region on its own 4 KiB page):
 *   0x0000 common cfg (0x38 bytes)     0x1000 ISR (1 byte, read clears)
 *   0x2000 device cfg (config_size)    0x3000 notify: queue q at 0x3000 + 4*q
 *   then the MSI-X table (num_queues + 1 vectors) and the PBA.
 * The notify_off_multiplier is 4 and queue_notify_off is the queue index, so
 * each queue has its own address with its own ioeventfd (registered with KVM
 * while the BAR decodes, following BAR moves): kicks never exit to
 * userspace. A write KVM does not match (another address or size) reaches
 * the BAR handler, which signals the same eventfd.
 *
 * Threading: register accesses arrive on vCPU threads and are serialised by
 * the transport's lock; reset and activation run on the event-loop thread
 * through evloop_call_sync(); kicks are dispatched there too. */
#ifndef KVRUN_VMM_VIRTIO_PCI_H
#define KVRUN_VMM_VIRTIO_PCI_H

#include "err.h"

struct vmm;
struct virtio_dev;

#define VIRTIO_PCI_VENDOR      0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_MAX_QUEUES  1024 /* notify region of one page */

/* Expose dev as a modern virtio-pci device in the next free slot of bus 0.
 * dev must have ops (activate, reset, queue_notify, destroy; config_read/
 * config_write when config_size > 0), 1..VIRTIO_PCI_MAX_QUEUES queues
 * in dev->vqs, a power-of-two queue_max_size <= 32768 and config_size <=
 * 4096. Needs vm->pci, vm->irq, vm->loop and vm->mem; call before the
 * vCPUs start.
 *
 * On success the transport owns dev: pci_destroy() unmaps it, resets it
 * (ops->reset) and frees it (ops->destroy). On failure nothing of dev is
 * kept and the caller still owns it. */
int virtio_pci_add(struct vmm *vm, struct virtio_dev *dev, struct kv_err *err);

#endif
