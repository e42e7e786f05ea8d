/* virtio_devs.h - constructors of the virtio devices the builder attaches.
 *
 * Owns: the entry points vm.c calls to create each device model (rng,
 * console, blk, vsock, net, fs). A constructor returns a struct virtio_dev ready for a
 * transport: ops, features, config size and queues are filled; the transport
 * then sets signal_used/signal_config and drives ops on the event-loop
 * thread. Destroy with d->ops->reset(d) then d->ops->destroy(d).
 *
 * Every device offers VIRTIO_F_INDIRECT_DESC and VIRTIO_F_EVENT_IDX in
 * device_features (virtqueue.c implements both); the transport adds
 * VIRTIO_F_VERSION_1. docs/virtio-devices.md lists features and limits. */
#ifndef KVRUN_VMM_VIRTIO_DEVS_H
#define KVRUN_VMM_VIRTIO_DEVS_H

#include "err.h"
#include "virtio.h"
#include "vmm.h"

/* Queue size every device offers (queue_max_size). */
#define VIRTIO_DEV_QUEUE_SIZE 256

/* Upper bound on virtio-blk request queues (VIRTIO_BLK_F_MQ). */
#define VIRTIO_BLK_MAX_QUEUES 16

/* virtio-rng: one request queue filled from getrandom(2). */
int virtio_rng_create(struct vmm *vm, struct virtio_dev **out, struct kv_err *err);

/* virtio-console: one port (hvc0) on the chardev cfg describes. */
int virtio_console_create(struct vmm *vm, const struct vmm_chardev *cfg, struct virtio_dev **out,
			  struct kv_err *err);

/* The pty slave path of a console created on a VMM_CHR_PTY chardev, else NULL. */
const char *virtio_console_pty_path(const struct virtio_dev *d);

/* virtio-blk on a raw image file or block device; nqueues request queues
 * (clamped to 1..VIRTIO_BLK_MAX_QUEUES; the builder passes the vCPU count).
 * A missing or unusable disk fails with a message naming disk->path. */
int virtio_blk_create(struct vmm *vm, const struct vmm_disk *disk, unsigned nqueues,
		      struct virtio_dev **out, struct kv_err *err);

/* virtio-vsock (hybrid host side, docs/vsock.md): listens on cfg->uds_path
 * at once, so a path in use by a live socket fails here with -EADDRINUSE (a
 * stale socket file is replaced). destroy closes every relay and removes
 * the socket file. */
int virtio_vsock_create(struct vmm *vm, const struct vmm_vsock *cfg, struct virtio_dev **out,
			struct kv_err *err);

/* virtio-net on a tap (docs/networking.md): opens cfg->tap by name in the
 * calling thread's network namespace, or duplicates cfg->fd and checks it
 * is a tap with a vnet header. index names the device in messages
 * ("net[0]: ..."). destroy closes the tap fd: a tap nobody else holds and
 * nobody made persistent then disappears. */
int virtio_net_create(struct vmm *vm, const struct vmm_net *cfg, unsigned index,
		      struct virtio_dev **out, struct kv_err *err);
/* Upper bound on virtio-fs request queues (besides the hiprio queue). */
#define VIRTIO_FS_MAX_REQUEST_QUEUES 16
/* virtio-fs queues are longer than VIRTIO_DEV_QUEUE_SIZE: Linux sizes its
 * largest FUSE request by the queue (docs/virtio-fs.md). */
#define VIRTIO_FS_QUEUE_SIZE 1024

/* Tuning of one virtio-fs device; zeroes mean the defaults (docs/virtio-fs.md). */
struct virtio_fs_opts {
	unsigned request_queues; /* 1..VIRTIO_FS_MAX_REQUEST_QUEUES; default 1 */
	unsigned workers;	 /* threads running FUSE requests, 2..64; default 8 */
	unsigned max_inflight;	 /* requests popped and not yet answered; default 128 */
};

/* virtio-fs (device id 26) sharing fs->path under fs->tag, served by the
 * in-process FUSE server (fs_server.h) on worker threads. opts may be NULL.
 * A bad tag or a directory that cannot be shared fails with a message
 * naming them. */
int virtio_fs_create(struct vmm *vm, const struct vmm_fs *fs, const struct virtio_fs_opts *opts,
		     struct virtio_dev **out, struct kv_err *err);

#endif
