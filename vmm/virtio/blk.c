/* blk.c - virtio-blk: a raw image file or block device as a guest disk.
 *
 * Owns: opening and sizing the backing file (and locking it against a
 * second writer), the features and configuration the device offers, the
 * device ops (activate, reset, queue kicks), and draining queues into
 * requests while the io_uring backend has room. Request parsing is in
 * blk_req.c, I/O in blk_io.c. docs/virtio-devices.md lists the features. */
#include "blk_int.h"
#include "cleanup.h"
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(offsetof(struct blk_config, num_queues) == 34, "virtio-blk config layout");
_Static_assert(offsetof(struct blk_config, max_discard_sectors) == 36, "virtio-blk config layout");
_Static_assert(sizeof(struct blk_config) == 60, "virtio-blk config layout");

static void blk_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	struct blk *b = d->priv;

	virtio_config_copy(&b->config, sizeof(b->config), off, data, len);
}

static void blk_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
	/* Nothing in the config is writable without VIRTIO_BLK_F_CONFIG_WCE. */
}

static int blk_activate(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	return virtio_start_queues(d, b->vqs, d->num_queues);
}

static void blk_reset(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	/* Unstart the queues first so completions that arrive while draining
	 * are dropped instead of touching the rings. */
	for (unsigned q = 0; q < d->num_queues; q++)
		virtq_reset(&b->vqs[q]);
	blk_io_drain(b);
	b->stalled = 0;
	b->to_signal = 0;
}

void blk_flush_signals(struct blk *b)
{
	uint32_t s = b->to_signal;

	b->to_signal = 0;
	for (unsigned q = 0; s; q++, s >>= 1)
		if (s & 1)
			virtq_signal(&b->dev, q);
}

void blk_process_queue(struct blk *b, unsigned q)
{
	struct virtqueue *vq = &b->vqs[q];
	struct virtq_chain c;

	if (!vq->started || vq->broken)
		return;
	do {
		virtq_notify_disable(vq);
		for (;;) {
			if (blk_io_full(b)) {
				/* Resumed by blk_io.c when operations complete. */
				b->stalled |= 1U << q;
				goto out;
			}
			int n = virtq_pop(vq, &c, b->scratch, VIRTQ_MAX_CHAIN_DESCS);
			if (n < 0) {
				virtio_dev_set_broken(&b->dev);
				goto out;
			}
			if (n == 0)
				break;
			blk_handle(b, q, &c);
		}
	} while (virtq_notify_enable(vq));
out:
	blk_io_submit(b);
}

static void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct blk *b = d->priv;

	if (q >= d->num_queues)
		return;
	blk_process_queue(b, q);
	blk_flush_signals(b);
}

static void blk_destroy(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	blk_io_fini(b);
	if (b->fd >= 0)
		(void)close(b->fd);
	free(b->path);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.activate = blk_activate,
	.reset = blk_reset,
	.queue_notify = blk_queue_notify,
	.destroy = blk_destroy,
};

/* Open, lock and size the backing file; decide whether holes can be punched. */
static int blk_open(struct blk *b, const struct vmm_disk *disk, struct kv_err *err)
{
	struct stat st;
	uint64_t bytes;

	b->fd = open(disk->path, (disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0)
		return kv_errno(err, -errno, "virtio-blk: cannot open disk %s", disk->path);
	if (fstat(b->fd, &st) < 0)
		return kv_errno(err, -errno, "virtio-blk: disk %s", disk->path);
	if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes) < 0)
			return kv_errno(err, -errno, "virtio-blk: disk %s: BLKGETSIZE64",
					disk->path);
	} else {
		return kv_errf(err, -EINVAL,
			       "virtio-blk: disk %s is not a regular file or a block device",
			       disk->path);
	}
	/* One writer per image; readers may share it. */
	if (flock(b->fd, (disk->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		return kv_errno(err, errno == EWOULDBLOCK ? -EBUSY : -errno,
				"virtio-blk: disk %s is in use by another VM or process",
				disk->path);
	b->capacity = bytes >> BLK_SECTOR_SHIFT;
	if (b->capacity == 0)
		return kv_errf(err, -EINVAL,
			       "virtio-blk: disk %s is smaller than one 512-byte sector",
			       disk->path);

	/* Hole punching past the end of a file changes nothing and tells
	 * whether the file system supports it; block devices always do. */
	if (!disk->readonly)
		b->discard = S_ISBLK(st.st_mode) ||
			     fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       (off_t)((bytes + 4095) & ~4095ULL), 4096) == 0;

	/* A stable serial: 64-bit FNV-1a of the file's identity. */
	uint64_t h = 0xcbf29ce484222325ULL, id[2] = { st.st_dev, st.st_ino };
	const uint8_t *p = (const uint8_t *)id;
	for (size_t i = 0; i < sizeof(id); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	char serial[VIRTIO_BLK_ID_BYTES + 1];
	snprintf(serial, sizeof(serial), "kvrun-%014" PRIx64, (uint64_t)(h & ((1ULL << 56) - 1)));
	memcpy(b->serial, serial, sizeof(b->serial));
	return 0;
}

static void blk_fill_config(struct blk *b, unsigned nqueues)
{
	struct blk_config *c = &b->config;

	c->capacity = htole64(b->capacity);
	c->size_max = htole32(BLK_SIZE_MAX);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(BLK_SECTOR_SIZE);
	c->num_queues = htole16((uint16_t)nqueues);
	if (b->discard) {
		c->max_discard_sectors = htole32(BLK_DWZ_MAX_SECTORS);
		c->max_discard_seg = htole32(BLK_DWZ_MAX_SEG);
		c->discard_sector_alignment = htole32(BLK_DISCARD_ALIGN);
		c->max_write_zeroes_sectors = htole32(BLK_DWZ_MAX_SECTORS);
		c->max_write_zeroes_seg = htole32(BLK_DWZ_MAX_SEG);
		c->write_zeroes_may_unmap = 1;
	}
}

int virtio_blk_create(struct vmm *vm, const struct vmm_disk *disk, unsigned nqueues,
		      struct virtio_dev **out, struct kv_err *err)
{
	struct blk *b;
	int r;

	if (!disk->path || !*disk->path)
		return kv_errf(err, -EINVAL, "virtio-blk: disk without a path");
	if (nqueues < 1)
		nqueues = 1;
	if (nqueues > VIRTIO_BLK_MAX_QUEUES)
		nqueues = VIRTIO_BLK_MAX_QUEUES;
	b = calloc(1, sizeof(*b));
	if (!b)
		return kv_errf(err, -ENOMEM, "virtio-blk: out of memory");
	b->fd = b->efd = -1;
	b->readonly = disk->readonly;
	b->path = strdup(disk->path);
	for (unsigned q = 0; q < VIRTIO_BLK_MAX_QUEUES; q++)
		b->vqs[q] = (struct virtqueue){ .kick_fd = -1,
						.call_fd = -1,
						.msix_vector = VIRTIO_MSI_NO_VECTOR };
	uint64_t features = (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX) |
			    (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
			    (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH);
	b->dev = (struct virtio_dev){
		.ops = &blk_ops,
		.priv = b,
		.vm = vm,
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.config_size = sizeof(struct blk_config),
		.num_queues = (uint16_t)nqueues,
		.queue_max_size = VIRTIO_DEV_QUEUE_SIZE,
		.vqs = b->vqs,
	};
	if (!b->path) {
		r = kv_errf(err, -ENOMEM, "virtio-blk: out of memory");
		goto fail;
	}
	r = blk_open(b, disk, err);
	if (r < 0)
		goto fail;
	r = blk_io_init(b, err);
	if (r < 0)
		goto fail;
	if (disk->readonly)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	if (nqueues > 1)
		features |= 1ULL << VIRTIO_BLK_F_MQ;
	if (b->discard)
		features |= (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	b->dev.device_features = features;
	blk_fill_config(b, nqueues);
	*out = &b->dev;
	return 0;
fail:
	blk_destroy(&b->dev);
	return r;
}
