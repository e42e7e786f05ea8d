/* fs_int.h - virtio-fs device internals shared by fs.c and fs_pool.c.
 *
 * Owns: the device state (struct fs_dev), the in-flight request record and
 * the device's limits. fs.c is the device model (config space, queues,
 * popping chains, pushing replies, reset); fs_pool.c is the worker pool that
 * runs requests through the FUSE server (fs_server.h) off the loop thread
 * and hands completions back to it through an eventfd.
 *
 * Threading: fields marked "loop" are touched only on the event-loop thread;
 * fields marked "lock" are under fs_dev.lock, shared with the workers. */
#ifndef KVRUN_VMM_VIRTIO_FS_INT_H
#define KVRUN_VMM_VIRTIO_FS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fs_server.h"
#include "virtio.h"
#include "virtio_devs.h"

/* Queue 0 is the high-priority queue (FORGET, INTERRUPT), 1.. the request
 * queues (virtio 1.2, 5.11.2). */
#define FS_HIPRIO_QUEUE 0
#define FS_TAG_BYTES	36

/* The configuration layout (little-endian, packed; virtio 1.2, 5.11.4).
 * notify_buf_size follows only with VIRTIO_FS_F_NOTIFICATION, which is not
 * offered. */
struct fs_config {
	uint8_t tag[FS_TAG_BYTES]; /* UTF-8, NUL-padded, not NUL-terminated when full */
	uint32_t num_request_queues;
} __attribute__((packed));

struct fs_dev;

/* One popped chain, from virtq_pop to its used entry. */
struct fs_req {
	struct fs_req *next;
	uint16_t q, head;
	unsigned nout, nin; /* iov[0..nout) readable, iov[nout..nout+nin) writable */
	uint32_t reply_len; /* set by the worker */
	int ret;	    /* fs_server_handle's result */
	struct iovec iov[]; /* a copy of the chain's iovecs */
};

struct fs_dev {
	struct virtio_dev dev;
	struct virtqueue vqs[1 + VIRTIO_FS_MAX_REQUEST_QUEUES];
	struct fs_config config;
	char tag[FS_TAG_BYTES + 1]; /* for messages */
	struct fs_server *srv;
	unsigned max_inflight;

	/* loop */
	unsigned inflight;  /* popped and not yet returned to the guest */
	uint32_t stalled;   /* queues that stopped popping at max_inflight */
	uint32_t to_signal; /* queues with new used entries */
	struct iovec scratch[VIRTQ_MAX_CHAIN_DESCS];

	/* The worker pool (fs_pool.c). */
	pthread_mutex_t lock;
	pthread_cond_t work_cv;			/* lock: pending grew or quit was set */
	pthread_cond_t idle_cv;			/* lock: busy dropped to 0 */
	struct fs_req *pending, **pending_tail; /* lock: FIFO of requests not yet taken */
	struct fs_req *done;			/* lock: handled, not yet returned */
	unsigned busy;				/* lock: requests inside fs_server_handle */
	bool quit;				/* lock: workers exit */
	unsigned started;			/* lock: workers ready (or failed) */
	int start_err;				/* lock: the first worker's failure */
	char start_msg[160];			/* lock: its message */
	bool sync_ready;			/* lock, cvs initialized */
	pthread_t *workers;
	unsigned nworkers;
	int efd; /* workers -> loop: completions in done */
	bool efd_watched;
};

/* fs.c */
/* Pop from queue q while there is room; queue the requests for the workers. */
void fs_process_queue(struct fs_dev *f, unsigned q);
/* Return handled requests to the guest, resume stalled queues, interrupt. */
void fs_complete(struct fs_dev *f, struct fs_req *done);

/* fs_pool.c */
int fs_pool_start(struct fs_dev *f, unsigned nworkers, struct kv_err *err);
/* Hand a list of requests (linked by next, in order) to the workers. */
void fs_pool_submit(struct fs_dev *f, struct fs_req *first, struct fs_req **last_next);
/* Drop requests not yet taken, wait for the ones being handled - asking the
 * server to cancel their waits for the guest (fs_server_cancel) until they
 * are done - and free everything; returns how many requests were freed
 * (loop thread). */
unsigned fs_pool_drain(struct fs_dev *f);
/* Drain, stop and join the workers, close the eventfd. Idempotent. */
void fs_pool_stop(struct fs_dev *f);

#endif
