/* vdev-harness.h - a fake transport for device-level unit tests.
 *
 * Owns: a struct vmm with synthetic guest RAM and a real event loop running
 * on its own thread, and the transport side of a virtio device: laying out
 * its queues (one vq-driver.h driver per queue), negotiating features,
 * activating it and kicking queues on the loop thread as virtio-pci would,
 * and counting used-buffer and config interrupts. Header-only. */
#ifndef KVRUN_TESTS_VDEV_HARNESS_H
#define KVRUN_TESTS_VDEV_HARNESS_H

#include <pthread.h>
#include <time.h>

#include "virtio.h"
#include "vm.h"
#include "vq-driver.h"

#define H_MAX_QUEUES 17
#define H_RINGS	     0x10000ULL	 /* rings: 64 KiB apart per queue */
#define H_DATA	     0x400000ULL /* data buffers from 4 MiB up */

struct harness {
	struct vmm vm;
	pthread_t thread;
	bool running;
	struct virtio_dev *d;
	struct vqd drv[H_MAX_QUEUES];
	uint64_t next_data;
	uint16_t next_desc[H_MAX_QUEUES]; /* h_chain's rotating descriptor slot */
	_Atomic unsigned used_irqs[H_MAX_QUEUES];
	_Atomic unsigned config_irqs;
};

static void *h_loop_main(void *opaque)
{
	struct harness *h = opaque;
	(void)evloop_run(&h->vm.loop);
	return NULL;
}

/* Guest RAM of mem_mib MiB and a running event loop. */
static inline int h_init(struct harness *h, unsigned mem_mib)
{
	memset(h, 0, sizeof(*h));
	h->next_data = H_DATA;
	if (guest_mem_init(&h->vm.mem, (uint64_t)mem_mib << 20, false) < 0)
		return -1;
	if (evloop_init(&h->vm.loop) < 0)
		return -1;
	if (pthread_create(&h->thread, NULL, h_loop_main, h) != 0)
		return -1;
	h->running = true;
	return 0;
}

static inline void h_fini(struct harness *h)
{
	if (h->running) {
		evloop_stop(&h->vm.loop);
		pthread_join(h->thread, NULL);
	}
	evloop_destroy(&h->vm.loop);
	guest_mem_destroy(&h->vm.mem);
}

/* A guest buffer of len bytes (4 KiB aligned), zeroed. */
static inline uint64_t h_alloc(struct harness *h, uint64_t len)
{
	uint64_t gpa = h->next_data;

	h->next_data = (gpa + len + 4095) & ~4095ULL;
	memset(gpa_to_hva(&h->vm.mem, gpa, len), 0, len);
	return gpa;
}

static inline void *h_hva(struct harness *h, uint64_t gpa, uint64_t len)
{
	return gpa_to_hva(&h->vm.mem, gpa, len);
}

static void h_signal_used(struct virtio_dev *d, unsigned q)
{
	struct harness *h = d->transport;
	if (q < H_MAX_QUEUES)
		h->used_irqs[q]++;
}

static void h_signal_config(struct virtio_dev *d)
{
	struct harness *h = d->transport;
	h->config_irqs++;
}

struct h_call {
	struct virtio_dev *d;
	int what; /* 0 activate, 1 reset, 2 notify */
	unsigned q;
	int ret;
};

static void h_call_fn(void *opaque)
{
	struct h_call *c = opaque;

	if (c->what == 0)
		c->ret = c->d->ops->activate(c->d);
	else if (c->what == 1)
		c->d->ops->reset(c->d);
	else
		c->d->ops->queue_notify(c->d, c->q);
}

static inline int h_run(struct harness *h, int what, unsigned q)
{
	struct h_call c = { .d = h->d, .what = what, .q = q };

	evloop_call_sync(&h->vm.loop, h_call_fn, &c);
	return c.ret;
}

/* Negotiate features (the device's ring features plus extra_features
 * masked by what it offers), lay out queue rings of size qsize, and
 * activate as the driver's DRIVER_OK would. Returns activate's result. */
static inline int h_attach(struct harness *h, struct virtio_dev *d, uint16_t qsize,
			   uint64_t features)
{
	h->d = d;
	d->transport = h;
	d->signal_used = h_signal_used;
	d->signal_config = h_signal_config;
	d->driver_features = features & d->device_features;
	for (unsigned q = 0; q < d->num_queues && q < H_MAX_QUEUES; q++) {
		vqd_init(&h->drv[q], &h->vm.mem, &d->vqs[q], qsize, H_RINGS + 0x10000ULL * q);
		h->next_desc[q] = 0;
	}
	d->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
	return h_run(h, 0, 0);
}

static inline void h_reset(struct harness *h)
{
	h_run(h, 1, 0);
	h->d->status = 0;
}

static inline void h_kick(struct harness *h, unsigned q)
{
	h_run(h, 2, q);
}

/* One buffer of a chain h_chain builds. */
struct h_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Write segs as a chain in queue q - direct descriptors from a rotating
 * slot, or one descriptor naming a fresh indirect table - and publish it.
 * Returns the head index. */
static inline uint16_t h_chain(struct harness *h, unsigned q, const struct h_seg *segs, unsigned n,
			       bool indirect)
{
	struct vqd *d = &h->drv[q];
	uint16_t head = h->next_desc[q];

	if (indirect) {
		uint64_t table = h_alloc(h, 16ULL * n);
		for (unsigned i = 0; i < n; i++)
			vqd_desc_at(d, table, i, segs[i].gpa, segs[i].len,
				    (uint16_t)((segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					       (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				    (uint16_t)(i + 1));
		vqd_desc(d, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
		h->next_desc[q] = (uint16_t)((head + 1) % d->size);
	} else {
		for (unsigned i = 0; i < n; i++) {
			uint16_t idx = (uint16_t)((head + i) % d->size);
			uint16_t next = (uint16_t)((head + i + 1) % d->size);
			vqd_desc(d, idx, segs[i].gpa, segs[i].len,
				 (uint16_t)((segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				 next);
		}
		h->next_desc[q] = (uint16_t)((head + n) % d->size);
	}
	vqd_publish(d, head);
	return head;
}

/* Wait (up to ms) until queue q's used idx reaches idx. */
static inline bool h_wait_used(struct harness *h, unsigned q, uint16_t idx, unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		if (vqd_used_idx(&h->drv[q]) == idx)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return vqd_used_idx(&h->drv[q]) == idx;
}

#endif
