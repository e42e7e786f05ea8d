/* virtio.h - the transport-neutral virtio device model.
 *
 * Owns: the contract between a virtio device (rng, console, blk, later vsock,
 * fs, net) and its transport (virtio-pci modern today; MMIO could be added
 * without touching devices). A device fills struct virtio_dev and an ops
 * table; the transport negotiates features, configures queues from the
 * driver's writes, turns queue kicks (ioeventfd) into ops->queue_notify on
 * the event-loop thread, and provides signal_used/signal_config (irqfd).
 *
 * Threading: activate, reset and queue_notify run on the event-loop thread
 * (the transport uses evloop_call_sync from vCPU threads). config_read and
 * config_write run on a vCPU thread; a device whose config changes at run
 * time protects it with its own lock. */
#ifndef KVRUN_VMM_VIRTIO_H
#define KVRUN_VMM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virtqueue.h"

/* Device types (virtio 1.2, section 5). */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4
#define VIRTIO_ID_VSOCK	  19
#define VIRTIO_ID_FS	  26

/* Reserved feature bits (virtio 1.2, section 6). */
#define VIRTIO_F_INDIRECT_DESC	 28
#define VIRTIO_F_EVENT_IDX	 29
#define VIRTIO_F_VERSION_1	 32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER	  2
#define VIRTIO_STATUS_DRIVER_OK	  4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED	  128

struct vmm;
struct virtio_dev;

struct virtio_dev_ops {
	/* Device config space access; the transport guarantees off+len <=
	 * config_size. Reads fill all len bytes. */
	void (*config_read)(struct virtio_dev *d, uint32_t off, void *data, unsigned len);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const void *data, unsigned len);
	/* The driver set DRIVER_OK: queues are configured; start backends. A
	 * negative return marks the device NEEDS_RESET. */
	int (*activate)(struct virtio_dev *d);
	/* The driver reset the device (status 0) or the VM is shutting down:
	 * stop backends, drop in-flight work; queues are reset afterwards. */
	void (*reset)(struct virtio_dev *d);
	/* The driver kicked queue q. */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* Free everything the device owns (after reset). */
	void (*destroy)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv;
	struct vmm *vm;
	const char *name; /* for error messages and guest-compat hints */

	uint16_t device_id;	  /* VIRTIO_ID_* */
	uint64_t device_features; /* device-specific bits; the transport adds its own */
	size_t config_size;
	uint16_t num_queues;
	uint16_t queue_max_size; /* power of two, <= 32768 */
	struct virtqueue *vqs;	 /* num_queues entries, owned by the device */

	/* Negotiated state, maintained by the transport. */
	uint64_t driver_features;
	uint8_t status;

	/* Provided by the transport. */
	void *transport;
	void (*signal_used)(struct virtio_dev *d, unsigned q); /* interrupt for queue q */
	void (*signal_config)(struct virtio_dev *d);	       /* config-change interrupt */
};

static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return (d->driver_features >> bit) & 1;
}

/* A guest broke the device's rules (bad descriptor chain, ...): set
 * NEEDS_RESET and tell the driver. The device stops processing until reset.
 * Only the device breaks; the VMM carries on. */
void virtio_dev_set_broken(struct virtio_dev *d);

/* Start each of the device's first N queues that the driver enabled
 * (DRIVER_OK). Returns the first failure, negative errno. */
int virtio_start_queues(struct virtio_dev *d, struct virtqueue *vqs, unsigned n);

/* A driver's read of LEN bytes at OFF of a device's configuration space of
 * SIZE bytes: what lies beyond it reads as zeros. */
static inline void virtio_config_copy(const void *cfg, size_t size, uint32_t off, void *data,
				      unsigned len)
{
	memset(data, 0, len);
	if (off < size)
		memcpy(data, (const uint8_t *)cfg + off, len < size - off ? len : size - off);
}

#endif
