/* virtio.c - transport-neutral virtio device helpers: see virtio.h.
 *
 * Owns: putting a device into NEEDS_RESET when the guest broke the rules. */
#include "virtio.h"
#include "vm.h"

void virtio_dev_set_broken(struct virtio_dev *d)
{
	uint8_t old = __atomic_fetch_or(&d->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_SEQ_CST);

	for (unsigned q = 0; q < d->num_queues; q++)
		d->vqs[q].broken = true;
	/* Tell the driver once; virtio 1.2, 2.1.2: only after DRIVER_OK. */
	if (!(old & VIRTIO_STATUS_NEEDS_RESET) && (old & VIRTIO_STATUS_DRIVER_OK) &&
	    d->signal_config)
		d->signal_config(d);
}

int virtio_start_queues(struct virtio_dev *d, struct virtqueue *vqs, unsigned n)
{
	for (unsigned q = 0; q < n; q++) {
		if (!vqs[q].enabled)
			continue;
		int r = virtq_start(&vqs[q], &d->vm->mem, d->queue_max_size, d->driver_features);
		if (r < 0)
			return r;
	}
	return 0;
}
