/* evloop.c - see evloop.h. */
#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evloop_handler {
	int fd;
	bool dead;
	evloop_fn fn;
	void *opaque;
	struct evloop_handler *next; /* in handlers or dead list */
};

struct evloop_call {
	evloop_call_fn fn;
	void *opaque;
	bool sync, done;
	struct evloop_call *next;
};

#define WAKE_TAG ((void *)1)

int evloop_init(struct evloop *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = WAKE_TAG };

	memset(l, 0, sizeof(*l));
	l->wake_efd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->wake_efd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_efd, &ev) < 0) {
		int r = -errno;
		evloop_destroy(l);
		return r;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->done, NULL);
	return 0;
}

static void free_list(struct evloop_handler *h)
{
	while (h) {
		struct evloop_handler *next = h->next;
		free(h);
		h = next;
	}
}

void evloop_destroy(struct evloop *l)
{
	if (l->epfd >= 0)
		(void)close(l->epfd);
	if (l->wake_efd >= 0)
		(void)close(l->wake_efd);
	free_list(l->handlers);
	free_list(l->dead);
	while (l->calls) {
		struct evloop_call *c = l->calls;
		l->calls = c->next;
		if (!c->sync)
			free(c);
	}
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->done);
	l->epfd = l->wake_efd = -1;
}

static struct evloop_handler *find(struct evloop *l, int fd, struct evloop_handler ***link)
{
	for (struct evloop_handler **p = &l->handlers; *p; p = &(*p)->next) {
		if ((*p)->fd == fd) {
			if (link)
				*link = p;
			return *p;
		}
	}
	return NULL;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_handler *h;
	int r = 0;

	pthread_mutex_lock(&l->lock);
	if (find(l, fd, NULL)) {
		r = -EEXIST;
		goto out;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		r = -ENOMEM;
		goto out;
	}
	*h = (struct evloop_handler){ .fd = fd, .fn = fn, .opaque = opaque, .next = l->handlers };
	struct epoll_event ev = { .events = events, .data.ptr = h };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		r = -errno;
		free(h);
		goto out;
	}
	l->handlers = h;
out:
	pthread_mutex_unlock(&l->lock);
	return r;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	int r = 0;

	pthread_mutex_lock(&l->lock);
	struct evloop_handler *h = find(l, fd, NULL);
	if (!h) {
		r = -ENOENT;
	} else {
		struct epoll_event ev = { .events = events, .data.ptr = h };
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
			r = -errno;
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

int evloop_del(struct evloop *l, int fd)
{
	struct evloop_handler **link, *h;
	int r = 0;

	pthread_mutex_lock(&l->lock);
	h = find(l, fd, &link);
	if (!h) {
		r = -ENOENT;
		goto out;
	}
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = h->next;
	h->dead = true;
	h->next = l->dead; /* freed by the loop after its current batch */
	l->dead = h;
out:
	pthread_mutex_unlock(&l->lock);
	return r;
}

static int wake(struct evloop *l)
{
	uint64_t one = 1;

	if (write(l->wake_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static bool on_loop_thread(struct evloop *l)
{
	return l->running && pthread_equal(pthread_self(), l->thread);
}

int evloop_call(struct evloop *l, evloop_call_fn fn, void *opaque)
{
	struct evloop_call *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*c = (struct evloop_call){ .fn = fn, .opaque = opaque };
	pthread_mutex_lock(&l->lock);
	struct evloop_call **p = &l->calls;
	while (*p)
		p = &(*p)->next;
	*p = c;
	pthread_mutex_unlock(&l->lock);
	return wake(l);
}

int evloop_call_sync(struct evloop *l, evloop_call_fn fn, void *opaque)
{
	struct evloop_call c = { .fn = fn, .opaque = opaque, .sync = true };
	int r;

	pthread_mutex_lock(&l->lock);
	if (!l->running || on_loop_thread(l)) {
		pthread_mutex_unlock(&l->lock);
		fn(opaque);
		return 0;
	}
	struct evloop_call **p = &l->calls;
	while (*p)
		p = &(*p)->next;
	*p = &c;
	r = wake(l);
	while (r == 0 && !c.done && l->running)
		pthread_cond_wait(&l->done, &l->lock);
	if (!c.done) {
		/* The loop stopped before running it: run it here, unqueued. */
		for (p = &l->calls; *p; p = &(*p)->next) {
			if (*p == &c) {
				*p = c.next;
				break;
			}
		}
		pthread_mutex_unlock(&l->lock);
		fn(opaque);
		return r;
	}
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static void run_calls(struct evloop *l)
{
	for (;;) {
		pthread_mutex_lock(&l->lock);
		struct evloop_call *c = l->calls;
		if (c)
			l->calls = c->next;
		pthread_mutex_unlock(&l->lock);
		if (!c)
			return;
		c->fn(c->opaque);
		if (c->sync) {
			pthread_mutex_lock(&l->lock);
			c->done = true;
			pthread_cond_broadcast(&l->done);
			pthread_mutex_unlock(&l->lock);
		} else {
			free(c);
		}
	}
}

/* One epoll_wait of up to timeout_ms and the handlers it reports; then the
 * handlers removed meanwhile are freed. Returns the number of events, or a
 * negative errno (-EINTR included). */
static int dispatch(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(l->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout_ms);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == WAKE_TAG) {
			uint64_t v;
			(void)!read(l->wake_efd, &v, sizeof(v));
			run_calls(l);
			continue;
		}
		struct evloop_handler *h = evs[i].data.ptr;
		pthread_mutex_lock(&l->lock);
		bool dead = h->dead;
		pthread_mutex_unlock(&l->lock);
		if (!dead)
			h->fn(h->opaque, evs[i].events);
	}
	pthread_mutex_lock(&l->lock);
	struct evloop_handler *dead = l->dead;
	l->dead = NULL;
	pthread_mutex_unlock(&l->lock);
	free_list(dead);
	return n;
}

int evloop_run(struct evloop *l)
{
	int r = 0;

	pthread_mutex_lock(&l->lock);
	l->thread = pthread_self();
	l->running = true;
	pthread_mutex_unlock(&l->lock);

	while (!l->stop_requested) {
		int n = dispatch(l, -1);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			r = n;
			break;
		}
	}

	run_calls(l);
	pthread_mutex_lock(&l->lock);
	l->running = false;
	l->stop_requested = 0;
	pthread_cond_broadcast(&l->done);
	pthread_mutex_unlock(&l->lock);
	return r;
}

int evloop_poll(struct evloop *l, int timeout_ms)
{
	int n = dispatch(l, timeout_ms);

	run_calls(l);
	return n == -EINTR ? 0 : n;
}

void evloop_stop(struct evloop *l)
{
	uint64_t one = 1;

	l->stop_requested = 1;
	(void)!write(l->wake_efd, &one, sizeof(one));
}
