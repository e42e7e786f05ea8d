/* fs.c - virtio-fs: a host directory shared with the guest through FUSE.
 *
 * Owns: the device model (virtio 1.2, 5.11): the configuration space (tag,
 * num_request_queues), the hiprio queue and the request queues, popping
 * chains while fewer than max_inflight requests are outstanding, returning
 * the workers' replies to the guest, and device reset. The FUSE requests
 * themselves are the server's (fs_server.h); fs_pool.c runs them on worker
 * threads, so neither the vCPUs nor the event loop wait for the host's
 * disk. docs/virtio-fs.md describes the device. */
#include "fs_int.h"
#include "vm.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FS_DEFAULT_WORKERS  8
#define FS_MIN_WORKERS	    2
#define FS_MAX_WORKERS	    64
#define FS_DEFAULT_INFLIGHT 128
#define FS_MAX_INFLIGHT	    1024
/* Largest READ/WRITE payload offered in INIT: 256 pages, the most Linux 6.1
 * asks for in one request (FUSE_MAX_MAX_PAGES). One descriptor per page plus
 * the headers fits the queue (Linux caps max_pages at the queue size minus
 * 4): that is why the queues are longer than other devices'. */
#define FS_MAX_WRITE (256 * 4096U)
_Static_assert(FS_MAX_WRITE / 4096 <= VIRTIO_FS_QUEUE_SIZE - 4, "a max_write request fits a queue");

_Static_assert(sizeof(struct fs_config) == 40, "virtio-fs config layout");
_Static_assert(offsetof(struct fs_config, num_request_queues) == 36, "virtio-fs config layout");

static void fs_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	struct fs_dev *f = d->priv;

	virtio_config_copy(&f->config, sizeof(f->config), off, data, len);
}

static void fs_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
	/* The configuration is read-only (virtio 1.2, 5.11.4.1). */
}

static int fs_activate(struct virtio_dev *d)
{
	struct fs_dev *f = d->priv;

	return virtio_start_queues(d, f->vqs, d->num_queues);
}

/* The driver reset the device (or the VM is going away): no request may
 * still touch guest memory afterwards, and the server forgets the guest's
 * nodes and handles. */
static void fs_reset(struct virtio_dev *d)
{
	struct fs_dev *f = d->priv;

	/* Unstart the queues first: nothing is popped or pushed any more. */
	for (unsigned q = 0; q < d->num_queues; q++)
		virtq_reset(&f->vqs[q]);
	(void)fs_pool_drain(f);
	f->inflight = 0;
	f->stalled = 0;
	f->to_signal = 0;
	if (f->srv)
		fs_server_reset(f->srv);
}

static void flush_signals(struct fs_dev *f)
{
	uint32_t s = f->to_signal;

	f->to_signal = 0;
	for (unsigned q = 0; s; q++, s >>= 1)
		if (s & 1)
			virtq_signal(&f->dev, q);
}

/* Copy chain c into a request record; NULL when out of memory. */
static struct fs_req *req_new(unsigned q, const struct virtq_chain *c)
{
	unsigned n = c->nout + c->nin;
	struct fs_req *r = malloc(sizeof(*r) + n * sizeof(struct iovec));

	if (!r)
		return NULL;
	*r = (struct fs_req){ .q = (uint16_t)q, .head = c->head, .nout = c->nout, .nin = c->nin };
	memcpy(r->iov, c->iov, n * sizeof(struct iovec));
	return r;
}

void fs_process_queue(struct fs_dev *f, unsigned q)
{
	struct virtqueue *vq = &f->vqs[q];
	struct fs_req *first = NULL, **tail = &first;
	struct virtq_chain c;

	if (!vq->started || vq->broken)
		return;
	do {
		virtq_notify_disable(vq);
		for (;;) {
			if (f->inflight >= f->max_inflight) {
				/* fs_complete() resumes the queue. */
				f->stalled |= 1U << q;
				goto out;
			}
			int n = virtq_pop(vq, &c, f->scratch, VIRTQ_MAX_CHAIN_DESCS);
			if (n < 0) {
				virtio_dev_set_broken(&f->dev);
				goto out;
			}
			if (n == 0)
				break;
			struct fs_req *r = req_new(q, &c);
			if (!r) {
				/* Host memory is short: the request fails, the guest
				 * sees a reply without a FUSE header. */
				(void)virtq_push(vq, c.head, 0);
				f->to_signal |= 1U << q;
				continue;
			}
			f->inflight++;
			*tail = r;
			tail = &r->next;
		}
	} while (virtq_notify_enable(vq));
out:
	if (first)
		fs_pool_submit(f, first, tail);
}

void fs_complete(struct fs_dev *f, struct fs_req *done)
{
	while (done) {
		struct fs_req *r = done;
		struct virtqueue *vq = &f->vqs[r->q];

		done = r->next;
		f->inflight--;
		/* A chain that cannot carry a request (r->ret < 0) goes back
		 * with what the server wrote, usually nothing: the guest's
		 * request fails, the device goes on (fs_server.h). Dropped
		 * when the queue broke meanwhile. */
		if (vq->started && !vq->broken && virtq_push(vq, r->head, r->reply_len) == 0)
			f->to_signal |= 1U << r->q;
		free(r);
	}
	uint32_t s = f->stalled;
	f->stalled = 0;
	for (unsigned q = 0; s; q++, s >>= 1)
		if (s & 1)
			fs_process_queue(f, q);
	flush_signals(f);
}

static void fs_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct fs_dev *f = d->priv;

	if (q >= d->num_queues)
		return;
	fs_process_queue(f, q);
	flush_signals(f);
}

static void fs_destroy(struct virtio_dev *d)
{
	struct fs_dev *f = d->priv;

	fs_pool_stop(f);
	if (f->srv)
		fs_server_destroy(f->srv);
	free(f);
}

static const struct virtio_dev_ops fs_ops = {
	.config_read = fs_config_read,
	.config_write = fs_config_write,
	.activate = fs_activate,
	.reset = fs_reset,
	.queue_notify = fs_queue_notify,
	.destroy = fs_destroy,
};

/* A tag the guest can name on a mount command line: 1..36 printable ASCII
 * bytes, no blanks. */
static bool tag_valid(const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;

	if (n < 1 || n > FS_TAG_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tag[i] <= ' ' || tag[i] > '~')
			return false;
	return true;
}

static enum fs_cache_mode cache_mode(enum vmm_fs_cache c)
{
	switch (c) {
	case VMM_FS_CACHE_ALWAYS:
		return FS_CACHE_ALWAYS;
	case VMM_FS_CACHE_NEVER:
		return FS_CACHE_NEVER;
	default:
		return FS_CACHE_AUTO;
	}
}

int virtio_fs_create(struct vmm *vm, const struct vmm_fs *fs, const struct virtio_fs_opts *opts,
		     struct virtio_dev **out, struct kv_err *err)
{
	struct virtio_fs_opts o = opts ? *opts : (struct virtio_fs_opts){ 0 };
	struct fs_dev *f;
	int r;

	if (!tag_valid(fs->tag))
		return kv_errf(err, -EINVAL,
			       "virtio-fs: tag \"%s\" is not 1 to %d printable characters without "
			       "blanks",
			       fs->tag ? fs->tag : "", FS_TAG_BYTES);
	if (!fs->path || !*fs->path)
		return kv_errf(err, -EINVAL, "virtio-fs: tag %s has no directory", fs->tag);
	if (fs->cache != VMM_FS_CACHE_AUTO && fs->cache != VMM_FS_CACHE_ALWAYS &&
	    fs->cache != VMM_FS_CACHE_NEVER)
		return kv_errf(err, -EINVAL, "virtio-fs: tag %s: unknown cache mode %d", fs->tag,
			       (int)fs->cache);
	if (o.request_queues == 0)
		o.request_queues = 1;
	if (o.request_queues > VIRTIO_FS_MAX_REQUEST_QUEUES)
		return kv_errf(err, -EINVAL, "virtio-fs: tag %s: %u request queues (at most %d)",
			       fs->tag, o.request_queues, VIRTIO_FS_MAX_REQUEST_QUEUES);
	if (o.workers == 0)
		o.workers = FS_DEFAULT_WORKERS;
	if (o.max_inflight == 0)
		o.max_inflight = FS_DEFAULT_INFLIGHT;
	if (o.workers < FS_MIN_WORKERS || o.workers > FS_MAX_WORKERS ||
	    o.max_inflight > FS_MAX_INFLIGHT)
		return kv_errf(
		    err, -EINVAL,
		    "virtio-fs: tag %s: %u workers, %u requests in flight (at most %d, %d)",
		    fs->tag, o.workers, o.max_inflight, FS_MAX_WORKERS, FS_MAX_INFLIGHT);

	f = calloc(1, sizeof(*f));
	if (!f)
		return kv_errf(err, -ENOMEM, "virtio-fs: out of memory");
	f->efd = -1;
	f->max_inflight = o.max_inflight;
	snprintf(f->tag, sizeof(f->tag), "%s", fs->tag);
	memcpy(f->config.tag, fs->tag, strlen(fs->tag)); /* NUL-padded by calloc */
	f->config.num_request_queues = htole32(o.request_queues);
	for (unsigned q = 0; q <= VIRTIO_FS_MAX_REQUEST_QUEUES; q++)
		f->vqs[q] = (struct virtqueue){ .kick_fd = -1,
						.call_fd = -1,
						.msix_vector = VIRTIO_MSI_NO_VECTOR };
	f->dev = (struct virtio_dev){
		.ops = &fs_ops,
		.priv = f,
		.vm = vm,
		.name = "virtio-fs",
		.device_id = VIRTIO_ID_FS,
		.device_features = (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX),
		.config_size = sizeof(struct fs_config),
		.num_queues = (uint16_t)(1 + o.request_queues),
		.queue_max_size = VIRTIO_FS_QUEUE_SIZE,
		.vqs = f->vqs,
	};

	struct fs_server_config sc = {
		.path = fs->path,
		.cache = cache_mode(fs->cache),
		.readonly = fs->readonly,
		.cross_mounts = fs->cross_mounts,
		.max_write = FS_MAX_WRITE,
		/* Blocked SETLKW requests never hold more than half the
		 * workers: the request that unlocks finds one. */
		.max_lock_waiters = o.workers / 2,
	};
	r = fs_server_create(&sc, &f->srv, err);
	if (r < 0) {
		f->srv = NULL;
		if (err) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			kv_errf(err, r, "virtio-fs: tag %s: %s", fs->tag, msg);
		}
		goto fail;
	}
	r = fs_pool_start(f, o.workers, err);
	if (r < 0)
		goto fail;
	*out = &f->dev;
	return 0;
fail:
	fs_destroy(&f->dev);
	return r;
}
