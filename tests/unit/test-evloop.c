/* Unit tests for vmm/evloop.c: fd dispatch, evloop_call_sync from another
 * thread, deleting a handler from inside a callback, stop. */
#include "evloop.h"
#include "tap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>

static struct evloop loop;
static int efd_a, efd_b;
static int a_calls, b_calls, sync_ran_on_loop;
static _Atomic int handled; /* a_calls + b_calls, for the other thread */

static void drain(int fd)
{
	uint64_t v;
	(void)!read(fd, &v, sizeof(v));
}

static void poke(int fd)
{
	uint64_t one = 1;
	(void)!write(fd, &one, sizeof(one));
}

/* Whichever runs first deletes both handlers, so the other (possibly
 * pending in the same epoll batch) must never be called. */
static void on_a(void *opaque, uint32_t ev)
{
	drain(efd_a);
	a_calls++;
	handled++;
	evloop_del(&loop, efd_b);
	evloop_del(&loop, efd_a);
}

static void on_b(void *opaque, uint32_t ev)
{
	drain(efd_b);
	b_calls++;
	handled++;
	evloop_del(&loop, efd_a);
	evloop_del(&loop, efd_b);
}

static void in_loop(void *opaque)
{
	sync_ran_on_loop = pthread_equal(pthread_self(), *(pthread_t *)opaque);
}

static void stop_fn(void *opaque)
{
	evloop_stop(&loop);
}

static void *other_thread(void *arg)
{
	pthread_t *loop_thread = arg;

	evloop_call_sync(&loop, in_loop, loop_thread);
	poke(efd_a);
	poke(efd_b);
	/* Stop only once a handler ran: a stop queued while the loop is still
	 * in run_calls() after in_loop() is taken in the same pass, and the loop
	 * then ends without another epoll_wait (seen as 3 failures in 20 runs
	 * on a loaded machine). The deletion happened if b never runs too. */
	for (int ms = 0; ms < 10000 && !handled; ms++)
		usleep(1000);
	evloop_call_sync(&loop, stop_fn, NULL);
	return NULL;
}

static pthread_t other;

/* Started from the loop thread, so the other thread's first evloop_call_sync
 * finds the loop running (before evloop_run, it would run fn inline). */
static void start_other(void *opaque)
{
	pthread_create(&other, NULL, other_thread, opaque);
}

int main(void)
{
	pthread_t self = pthread_self();

	tap_plan(8);
	ok(evloop_init(&loop) == 0, "init");
	efd_a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	efd_b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ok(evloop_add(&loop, efd_b, 0x001 /* EPOLLIN */, on_b, NULL) == 0 &&
	       evloop_add(&loop, efd_a, 0x001, on_a, NULL) == 0,
	   "add two fds");
	ok(evloop_add(&loop, efd_a, 0x001, on_a, NULL) == -17 /* EEXIST */, "double add rejected");
	evloop_call(&loop, start_other, &self);
	ok(evloop_run(&loop) == 0, "run returns 0 after stop");
	pthread_join(other, NULL);
	ok(sync_ran_on_loop, "evloop_call_sync ran fn on the loop thread");
	ok(a_calls + b_calls >= 1, "fd readiness dispatched to a handler");
	ok(a_calls + b_calls == 1, "a handler deleted from another's callback is not called");
	ok(evloop_del(&loop, efd_b) == -2 /* ENOENT */ && evloop_del(&loop, efd_a) == -2,
	   "both already deleted");
	evloop_destroy(&loop);
	close(efd_a);
	close(efd_b);
	return tap_done();
}
