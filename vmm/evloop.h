/* evloop.h - the VMM's device event loop: one thread, epoll, deferred calls.
 *
 * Owns: fd readiness dispatch for device backends (ioeventfds, host sockets,
 * stdio, io_uring completion fds, timerfds) and the hand-off of work from
 * other threads (vCPUs, signal handlers) onto the loop thread.
 *
 * Threading rules: callbacks run on the loop thread. evloop_add/evloop_del
 * may be called from any thread; a handler removed while its event is being
 * dispatched is not called again and is freed after the current batch.
 * evloop_call_sync() is the way for a vCPU thread to change device state the
 * loop thread also touches (e.g. virtio reset): it runs fn on the loop thread
 * and waits, or runs it inline when already on the loop thread. */
#ifndef KVRUN_VMM_EVLOOP_H
#define KVRUN_VMM_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*evloop_fn)(void *opaque, uint32_t events);
typedef void (*evloop_call_fn)(void *opaque);

struct evloop_handler;
struct evloop_call;

struct evloop {
	int epfd;
	int wake_efd; /* eventfd: stop requests and queued calls */
	pthread_t thread;
	bool running;
	volatile int stop_requested;
	pthread_mutex_t lock; /* protects calls, dead, and handler->dead */
	pthread_cond_t done;
	struct evloop_call *calls;
	struct evloop_handler *dead;
	struct evloop_handler *handlers; /* all live handlers, for evloop_destroy */
};

int evloop_init(struct evloop *l);
/* Close the loop and free every handler; the loop must not be running. Does
 * not close the registered fds: their owners do. */
void evloop_destroy(struct evloop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT, ...); -EEXIST when fd is watched. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque);
/* Change the events watched on fd. */
int evloop_mod(struct evloop *l, int fd, uint32_t events);
/* Stop watching fd; -ENOENT when it was not watched. */
int evloop_del(struct evloop *l, int fd);

/* Queue fn(opaque) to run on the loop thread; async-signal-unsafe. */
int evloop_call(struct evloop *l, evloop_call_fn fn, void *opaque);
/* Run fn(opaque) on the loop thread and wait for it (inline when called on
 * the loop thread, or when the loop is not running). */
int evloop_call_sync(struct evloop *l, evloop_call_fn fn, void *opaque);

/* Dispatch until evloop_stop(). Returns 0, or a negative errno on failure. */
int evloop_run(struct evloop *l);
/* One round of dispatch without running the loop: wait up to timeout_ms (0:
 * not at all) for events, call the handlers of those that are ready and any
 * queued calls, and return the number of events or a negative errno. For
 * tests and fuzz targets that drive a device step by step on their own
 * thread; never while evloop_run runs elsewhere. */
int evloop_poll(struct evloop *l, int timeout_ms);
/* Ask evloop_run to return; async-signal-safe and callable from any thread. */
void evloop_stop(struct evloop *l);

#endif
