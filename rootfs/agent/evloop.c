/* evloop.c - the agent's epoll registrations and deferred frees.
 *
 * Owns: adding, changing and removing one fd's interest (struct watch), and
 * freeing objects only after the current batch of epoll events has been
 * handled, so an event later in the batch never reaches freed memory (its
 * owner is marked dead instead). The loop itself is in main.c. */
#include "agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

int watch_set(struct agent *a, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };
	int op;

	if (w->fd < 0 || events == w->events)
		return 0;
	if (events == 0)
		op = EPOLL_CTL_DEL;
	else
		op = w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(a->epfd, op, w->fd, &ev) < 0) {
		int e = errno;
		alog("epoll_ctl fd %d: %s", w->fd, strerror(e));
		return -e;
	}
	w->events = events;
	return 0;
}

void watch_close(struct agent *a, struct watch *w)
{
	if (w->fd < 0)
		return;
	if (w->events)
		(void)epoll_ctl(a->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->events = 0;
	(void)close(w->fd);
	w->fd = -1;
}

void agent_defer_free(struct agent *a, void (*fn)(void *), void *p)
{
	if (a->n_defer == a->cap_defer) {
		size_t cap = a->cap_defer ? a->cap_defer * 2 : 16;
		void (**nf)(void *) = realloc(a->defer_fn, cap * sizeof(*nf));
		if (nf)
			a->defer_fn = nf;
		void **np = realloc(a->defer_ptr, cap * sizeof(*np));
		if (np)
			a->defer_ptr = np;
		if (!nf || !np)
			agent_fatal(a, "out of memory");
		a->cap_defer = cap;
	}
	a->defer_fn[a->n_defer] = fn;
	a->defer_ptr[a->n_defer++] = p;
}

void agent_run_deferred(struct agent *a)
{
	for (size_t i = 0; i < a->n_defer; i++)
		a->defer_fn[i](a->defer_ptr[i]);
	a->n_defer = 0;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
