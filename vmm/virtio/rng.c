/* rng.c - virtio-rng: entropy for the guest from the host's getrandom(2).
 *
 * Owns: the entropy device (virtio 1.2, 5.4): one request queue whose
 * device-writable buffers are filled with random bytes, at most
 * RNG_MAX_PER_CHAIN bytes per buffer chain. No config space, no device
 * features. getrandom runs with GRND_NONBLOCK, so the loop thread never
 * waits for the host's entropy pool. */
#include "virtio_devs.h"
#include "vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RNG_MAX_PER_CHAIN (64U << 10)

struct rng {
	struct virtio_dev dev;
	struct virtqueue vq;
	struct iovec iov[VIRTQ_MAX_CHAIN_DESCS];
};

static void rng_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void rng_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
}

static int rng_activate(struct virtio_dev *d)
{
	struct rng *r = d->priv;

	if (!r->vq.enabled)
		return 0; /* the driver did not set the queue up: nothing to serve */
	return virtq_start(&r->vq, &d->vm->mem, d->queue_max_size, d->driver_features);
}

static void rng_reset(struct virtio_dev *d)
{
	struct rng *r = d->priv;

	virtq_reset(&r->vq);
}

/* Fill the writable buffers of c; returns the bytes written. */
static uint32_t rng_fill(const struct virtq_chain *c)
{
	uint32_t done = 0;

	for (unsigned i = c->nout; i < c->nout + c->nin && done < RNG_MAX_PER_CHAIN; i++) {
		size_t want = c->iov[i].iov_len;
		if (want > RNG_MAX_PER_CHAIN - done)
			want = RNG_MAX_PER_CHAIN - done;
		ssize_t got = getrandom(c->iov[i].iov_base, want, GRND_NONBLOCK);
		if (got <= 0)
			break;
		done += (uint32_t)got;
		if ((size_t)got < want)
			break;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct rng *r = d->priv;
	struct virtq_chain c;
	int n;

	if (q != 0)
		return;
	do {
		virtq_notify_disable(&r->vq);
		while ((n = virtq_pop(&r->vq, &c, r->iov, VIRTQ_MAX_CHAIN_DESCS)) > 0)
			(void)virtq_push(&r->vq, c.head, rng_fill(&c));
		if (n < 0) {
			virtio_dev_set_broken(d);
			return;
		}
	} while (virtq_notify_enable(&r->vq));
	virtq_signal(d, 0);
}

static void rng_destroy(struct virtio_dev *d)
{
	free(d->priv);
}

static const struct virtio_dev_ops rng_ops = {
	.config_read = rng_config_read,
	.config_write = rng_config_write,
	.activate = rng_activate,
	.reset = rng_reset,
	.queue_notify = rng_queue_notify,
	.destroy = rng_destroy,
};

int virtio_rng_create(struct vmm *vm, struct virtio_dev **out, struct kv_err *err)
{
	struct rng *r = calloc(1, sizeof(*r));

	if (!r)
		return kv_errf(err, -ENOMEM, "virtio-rng: out of memory");
	r->vq =
	    (struct virtqueue){ .kick_fd = -1, .call_fd = -1, .msix_vector = VIRTIO_MSI_NO_VECTOR };
	r->dev = (struct virtio_dev){
		.ops = &rng_ops,
		.priv = r,
		.vm = vm,
		.name = "virtio-rng",
		.device_id = VIRTIO_ID_RNG,
		.device_features = (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX),
		.config_size = 0,
		.num_queues = 1,
		.queue_max_size = VIRTIO_DEV_QUEUE_SIZE,
		.vqs = &r->vq,
	};
	*out = &r->dev;
	return 0;
}
