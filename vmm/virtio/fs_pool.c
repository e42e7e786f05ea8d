/* fs_pool.c - virtio-fs's worker threads.
 *
 * Owns: the threads that run FUSE requests through fs_server_handle(), the
 * FIFO of requests handed to them by the loop thread, the list of handled
 * requests, and the eventfd on the event loop that brings those back to
 * fs.c (virtq_push and interrupts stay on the loop thread, per
 * virtqueue.h). A worker may block on the host's disk; nothing else here
 * blocks except fs_pool_drain(), which a device reset uses to wait for the
 * requests being handled (the guest must not get its buffers back while the
 * host still writes into them); a request that waits on the guest's behalf
 * (a blocked POSIX lock) is cancelled through fs_server_cancel() meanwhile,
 * again every FS_CANCEL_MS, since a wait that begins after a cancel is not
 * affected by it. Workers run with every signal blocked. */
#include "fs_int.h"
#include "sandbox.h"
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define FS_CANCEL_MS 10

/* Before the first request: the worker's own fs_struct (its umask), then
 * its confinement (docs/security.md: the virtio-fs worker role). Reported
 * to fs_pool_start(), which waits for every worker; a worker that failed
 * never takes a request. */
static int worker_setup(struct fs_dev *f)
{
	struct kv_err err = { 0 };
	int r = fs_server_thread_init();

	if (r < 0)
		kv_errno(&err, r, "unshare(CLONE_FS)");
	else
		r = sandbox_confine(f->dev.vm, VMM_ROLE_FS_WORKER, -1, &err);
	pthread_mutex_lock(&f->lock);
	f->started++;
	if (r < 0 && !f->start_err) {
		f->start_err = r;
		snprintf(f->start_msg, sizeof(f->start_msg), "%.150s", err.msg);
	}
	pthread_cond_broadcast(&f->idle_cv);
	pthread_mutex_unlock(&f->lock);
	return r;
}

static void *worker_main(void *opaque)
{
	struct fs_dev *f = opaque;

	if (worker_setup(f) < 0)
		return NULL;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->pending && !f->quit)
			pthread_cond_wait(&f->work_cv, &f->lock);
		if (f->quit)
			break;
		struct fs_req *r = f->pending;
		f->pending = r->next;
		if (!f->pending)
			f->pending_tail = &f->pending;
		f->busy++;
		pthread_mutex_unlock(&f->lock);

		r->reply_len = 0;
		r->ret = fs_server_handle(f->srv, r->iov, r->nout, r->iov + r->nout, r->nin,
					  &r->reply_len);

		pthread_mutex_lock(&f->lock);
		r->next = f->done;
		f->done = r;
		if (--f->busy == 0)
			pthread_cond_broadcast(&f->idle_cv);
		pthread_mutex_unlock(&f->lock);
		uint64_t one = 1;
		(void)!write(f->efd, &one, sizeof(one));
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Take the handled requests, oldest first. */
static struct fs_req *take_done(struct fs_dev *f)
{
	struct fs_req *lifo, *fifo = NULL;

	pthread_mutex_lock(&f->lock);
	lifo = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->lock);
	while (lifo) {
		struct fs_req *r = lifo;
		lifo = r->next;
		r->next = fifo;
		fifo = r;
	}
	return fifo;
}

static void on_done(void *opaque, uint32_t events)
{
	struct fs_dev *f = opaque;
	uint64_t v;

	(void)!read(f->efd, &v, sizeof(v));
	fs_complete(f, take_done(f));
}

void fs_pool_submit(struct fs_dev *f, struct fs_req *first, struct fs_req **last_next)
{
	unsigned n = 0;

	for (struct fs_req *r = first; r; r = r->next)
		n++;
	pthread_mutex_lock(&f->lock);
	*f->pending_tail = first;
	f->pending_tail = last_next;
	if (n == 1)
		pthread_cond_signal(&f->work_cv);
	else
		pthread_cond_broadcast(&f->work_cv);
	pthread_mutex_unlock(&f->lock);
}

static unsigned free_list(struct fs_req *r)
{
	unsigned n = 0;

	while (r) {
		struct fs_req *next = r->next;
		free(r);
		r = next;
		n++;
	}
	return n;
}

unsigned fs_pool_drain(struct fs_dev *f)
{
	struct fs_req *pending, *done;

	if (!f->sync_ready)
		return 0;
	pthread_mutex_lock(&f->lock);
	pending = f->pending;
	f->pending = NULL;
	f->pending_tail = &f->pending;
	while (f->busy > 0) {
		pthread_mutex_unlock(&f->lock);
		if (f->srv)
			fs_server_cancel(f->srv);
		pthread_mutex_lock(&f->lock);
		if (f->busy == 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += FS_CANCEL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&f->idle_cv, &f->lock, &ts);
	}
	done = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->lock);
	return free_list(pending) + free_list(done);
}

int fs_pool_start(struct fs_dev *f, unsigned nworkers, struct kv_err *err)
{
	sigset_t all, old;
	int r;

	f->pending = NULL;
	f->pending_tail = &f->pending;
	if (pthread_mutex_init(&f->lock, NULL) != 0)
		return kv_errf(err, -ENOMEM, "virtio-fs: tag %s: mutex", f->tag);
	if (pthread_cond_init(&f->work_cv, NULL) != 0) {
		pthread_mutex_destroy(&f->lock);
		return kv_errf(err, -ENOMEM, "virtio-fs: tag %s: condition variable", f->tag);
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	r = pthread_cond_init(&f->idle_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0) {
		pthread_cond_destroy(&f->work_cv);
		pthread_mutex_destroy(&f->lock);
		return kv_errf(err, -ENOMEM, "virtio-fs: tag %s: condition variable", f->tag);
	}
	f->sync_ready = true;

	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->efd < 0)
		return kv_errno(err, -errno, "virtio-fs: tag %s: eventfd", f->tag);
	r = evloop_add(&f->dev.vm->loop, f->efd, EPOLLIN, on_done, f);
	if (r < 0)
		return kv_errno(err, r, "virtio-fs: tag %s: event loop", f->tag);
	f->efd_watched = true;

	f->workers = calloc(nworkers, sizeof(*f->workers));
	if (!f->workers)
		return kv_errf(err, -ENOMEM, "virtio-fs: out of memory");
	/* Process signals (SIGTERM, ...) are for the loop thread, not us. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (r = 0; f->nworkers < nworkers; f->nworkers++) {
		r = -pthread_create(&f->workers[f->nworkers], NULL, worker_main, f);
		if (r < 0)
			break;
		char name[16];
		snprintf(name, sizeof(name), "fs-%.6s-%u", f->tag, f->nworkers);
		(void)pthread_setname_np(f->workers[f->nworkers], name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return kv_errno(err, r, "virtio-fs: tag %s: cannot start worker thread %u", f->tag,
				f->nworkers);
	/* Every worker confined before the device can be activated. */
	pthread_mutex_lock(&f->lock);
	while (f->started < f->nworkers)
		pthread_cond_wait(&f->idle_cv, &f->lock);
	r = f->start_err;
	pthread_mutex_unlock(&f->lock);
	if (r < 0)
		return kv_errf(err, r, "virtio-fs: tag %s: worker: %s", f->tag, f->start_msg);
	return 0;
}

void fs_pool_stop(struct fs_dev *f)
{
	if (f->sync_ready) {
		(void)fs_pool_drain(f);
		pthread_mutex_lock(&f->lock);
		f->quit = true;
		pthread_cond_broadcast(&f->work_cv);
		pthread_mutex_unlock(&f->lock);
		for (unsigned i = 0; i < f->nworkers; i++)
			pthread_join(f->workers[i], NULL);
		f->nworkers = 0;
		pthread_cond_destroy(&f->idle_cv);
		pthread_cond_destroy(&f->work_cv);
		pthread_mutex_destroy(&f->lock);
		f->sync_ready = false;
	}
	free(f->workers);
	f->workers = NULL;
	if (f->efd_watched)
		(void)evloop_del(&f->dev.vm->loop, f->efd);
	f->efd_watched = false;
	if (f->efd >= 0)
		(void)close(f->efd);
	f->efd = -1;
}
