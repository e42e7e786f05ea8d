/* Unit tests for vmm/virtio/rng.c: buffers filled from getrandom, the
 * per-chain cap, interrupts, and a hostile chain breaking only the device. */
#include "tap.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <errno.h>

#define F_ALL ((1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX))

static bool nonzero(const uint8_t *p, size_t n)
{
	size_t zeros = 0;
	for (size_t i = 0; i < n; i++)
		zeros += p[i] == 0;
	return zeros < n / 8 + 4;
}

int main(void)
{
	struct harness h;
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	uint32_t id, len;

	tap_plan(12);
	if (!ok(h_init(&h, 16) == 0, "harness"))
		return tap_done();
	ok(virtio_rng_create(&h.vm, &d, &err) == 0 && d->device_id == VIRTIO_ID_RNG &&
	       d->num_queues == 1 && d->config_size == 0,
	   "virtio_rng_create");
	ok(h_attach(&h, d, 16, F_ALL) == 0 && d->vqs[0].event_idx && d->vqs[0].indirect,
	   "activate with event idx and indirect");

	struct vqd *q = &h.drv[0];
	uint64_t a = h_alloc(&h, 64), b = h_alloc(&h, 8192), hdr = h_alloc(&h, 16);
	vqd_desc(q, 0, a, 64, VIRTQ_DESC_F_WRITE, 0);
	vqd_desc(q, 1, hdr, 16, VIRTQ_DESC_F_NEXT, 2); /* readable part is ignored */
	vqd_desc(q, 2, b, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	vqd_desc(q, 3, b + 4096, 4096, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(q, 0);
	vqd_publish(q, 1);
	h_kick(&h, 0);
	ok(vqd_take_used(q, &id, &len) && id == 0 && len == 64 && nonzero(h_hva(&h, a, 64), 64),
	   "64-byte buffer filled");
	ok(vqd_take_used(q, &id, &len) && id == 1 && len == 8192 &&
	       nonzero(h_hva(&h, b, 8192), 8192),
	   "two-segment buffer filled, readable segment ignored");
	ok(h.used_irqs[0] == 1, "one interrupt for the batch");

	uint64_t big = h_alloc(&h, 1 << 20);
	vqd_desc(q, 4, big, 1 << 20, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(q, 4);
	h_kick(&h, 0);
	ok(vqd_take_used(q, &id, &len) && id == 4 && len == 64 << 10,
	   "1 MiB buffer gets the 64 KiB per-chain cap");

	vqd_desc(q, 5, h.vm.mem.size - 8, 64, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(q, 5);
	h_kick(&h, 0);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1 && d->vqs[0].broken,
	   "buffer past guest RAM: NEEDS_RESET and a config interrupt");
	vqd_desc(q, 6, a, 64, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(q, 6);
	h_kick(&h, 0);
	ok(vqd_used_idx(q) == 3, "a broken device serves nothing");

	h_reset(&h);
	ok(!d->vqs[0].started && !d->vqs[0].broken, "reset clears the queue");
	ok(h_attach(&h, d, 16, F_ALL) == 0, "re-activate after reset");
	vqd_desc(q, 0, a, 32, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(q, 0);
	h_kick(&h, 0);
	ok(vqd_take_used(q, &id, &len) && id == 0 && len == 32, "serves again after reset");

	h_reset(&h);
	d->ops->destroy(d);
	h_fini(&h);
	return tap_done();
}
