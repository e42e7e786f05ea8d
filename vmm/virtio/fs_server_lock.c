/* fs_server_lock.c - POSIX record locks for the FUSE server.
 *
 * Owns: GETLK, SETLK, SETLKW and INTERRUPT, and the lock owners behind
 * them. A guest process's POSIX locks on a file belong to its lock owner:
 * each (node, owner) pair gets its own open file description on the host,
 * and the locks are taken on it as OFD locks (F_OFD_SETLK). So one owner's
 * locks never conflict with each other and merge and split as POSIX says,
 * different owners conflict with each other and with locks that host
 * processes hold, and when the guest process closes the file (FLUSH with
 * its lock owner) closing that description drops exactly its locks.
 *
 * SETLKW polls F_OFD_SETLK with a short backoff instead of blocking in the
 * kernel, so that INTERRUPT for its unique, fs_server_cancel() (device
 * reset) and destroy end it; at most cfg.max_lock_waiters wait at once and
 * one more gets EDEADLK, so waiters cannot take every worker thread from
 * the request that would unlock. The lock owners are bounded by
 * max_handles (ENOLCK beyond). */
#include "fs_server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fs_lock_owner {
	uint64_t owner;
	int fd;
	struct fs_lock_owner *next;
};

struct fs_lock_waiter {
	uint64_t unique;
	bool interrupted;
	struct fs_lock_waiter *next;
};

int fs_locks_init(struct fs_server *s)
{
	pthread_mutex_init(&s->lock_mu, NULL);
	return 0;
}

void fs_locks_fini(struct fs_server *s)
{
	pthread_mutex_destroy(&s->lock_mu);
}

/* s->lock_mu held. */
static struct fs_lock_owner **owner_slot(struct fs_node *n, uint64_t owner)
{
	struct fs_lock_owner **pp = &n->owners;

	while (*pp && (*pp)->owner != owner)
		pp = &(*pp)->next;
	return pp;
}

void fs_lock_owner_drop(struct fs_server *s, struct fs_node *n, uint64_t owner)
{
	struct fs_lock_owner *o;

	pthread_mutex_lock(&s->lock_mu);
	struct fs_lock_owner **pp = owner_slot(n, owner);
	o = *pp;
	if (o) {
		*pp = o->next;
		s->lock_owners--;
	}
	pthread_mutex_unlock(&s->lock_mu);
	if (o) {
		fs_fd_close(o->fd); /* releases every lock of that owner */
		free(o);
	}
}

void fs_lock_owners_free(struct fs_server *s, struct fs_node *n)
{
	pthread_mutex_lock(&s->lock_mu);
	struct fs_lock_owner *o = n->owners;
	n->owners = NULL;
	while (o) {
		struct fs_lock_owner *next = o->next;
		fs_fd_close(o->fd);
		free(o);
		s->lock_owners--;
		o = next;
	}
	pthread_mutex_unlock(&s->lock_mu);
}

/* The guest's lock as a struct flock; -EINVAL when it makes no sense. */
static int to_flock(const struct fuse_file_lock *lk, struct flock *fl)
{
	if ((lk->type != F_RDLCK && lk->type != F_WRLCK && lk->type != F_UNLCK) ||
	    lk->start > INT64_MAX || lk->end > INT64_MAX || lk->end < lk->start)
		return -EINVAL;
	*fl = (struct flock){
		.l_type = (short)lk->type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)lk->start,
		.l_len = lk->end == INT64_MAX ? 0 : (off_t)(lk->end - lk->start + 1),
	};
	return 0;
}

struct lock_req {
	struct fuse_lk_in in;
	struct flock fl;
	struct fs_handle *h;
	int accmode; /* the guest's file was opened so; the owner's description too */
};

static int lock_begin(struct fs_req *r, struct lock_req *lr)
{
	memcpy(&lr->in, r->arg, sizeof(lr->in));
	if (lr->in.lk_flags & FUSE_LK_FLOCK)
		return -EINVAL; /* FUSE_FLOCK_LOCKS is not offered: the guest keeps flock() */
	int ret = to_flock(&lr->in.lk, &lr->fl);
	if (ret < 0)
		return ret;
	lr->h = fs_handle_get(r->s, lr->in.fh, false);
	if (!lr->h || lr->h->node->nodeid != r->h.nodeid) {
		fs_handle_put(r->s, lr->h);
		return -EBADF;
	}
	int fl = fcntl(lr->h->fd, F_GETFL);
	lr->accmode = fl < 0 ? O_RDONLY : fl & O_ACCMODE;
	return 0;
}

/* One non-blocking attempt (F_OFD_SETLK) for the request's owner. */
static int try_lock(struct fs_server *s, struct lock_req *lr)
{
	struct fs_node *n = lr->h->node;
	int ret = 0;

	pthread_mutex_lock(&s->lock_mu);
	struct fs_lock_owner **pp = owner_slot(n, lr->in.owner);
	if (!*pp && lr->fl.l_type == F_UNLCK)
		goto out; /* nothing held, nothing to unlock */
	if (!*pp) {
		struct fs_lock_owner *o = calloc(1, sizeof(*o));
		if (!o || s->lock_owners >= s->cfg.max_handles) {
			free(o);
			ret = o ? -ENOLCK : -ENOMEM;
			goto out;
		}
		o->owner = lr->in.owner;
		o->fd = fs_reopen(s, n, lr->accmode);
		if (o->fd < 0) {
			ret = o->fd;
			free(o);
			goto out;
		}
		*pp = o;
		s->lock_owners++;
	}
	struct flock fl = lr->fl;
	if (fcntl((*pp)->fd, F_OFD_SETLK, &fl) < 0)
		ret = -errno;
out:
	pthread_mutex_unlock(&s->lock_mu);
	return ret;
}

int fs_op_getlk(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct lock_req lr;
	struct fuse_lk_out out = { 0 };
	int ret = lock_begin(r, &lr);

	if (ret < 0)
		return ret;
	struct flock fl = lr.fl;
	pthread_mutex_lock(&s->lock_mu);
	struct fs_lock_owner *o = *owner_slot(lr.h->node, lr.in.owner);
	int fd = o ? o->fd : fs_reopen(s, lr.h->node, lr.accmode);
	if (fd < 0)
		ret = fd;
	else if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		ret = -errno;
	if (!o && fd >= 0)
		fs_fd_close(fd);
	pthread_mutex_unlock(&s->lock_mu);
	fs_handle_put(s, lr.h);
	if (ret < 0)
		return ret;
	out.lk.type = (uint32_t)fl.l_type;
	if (fl.l_type != F_UNLCK) {
		out.lk.start = (uint64_t)fl.l_start;
		out.lk.end = fl.l_len == 0 ? INT64_MAX : (uint64_t)(fl.l_start + fl.l_len - 1);
		out.lk.pid = 0; /* OFD locks have no pid; the guest shows 0 */
	}
	return fs_reply(r, &out, sizeof(out));
}

int fs_op_setlk(struct fs_req *r)
{
	struct lock_req lr;
	int ret = lock_begin(r, &lr);

	if (ret < 0)
		return ret;
	ret = try_lock(r->s, &lr);
	fs_handle_put(r->s, lr.h);
	if (ret == -EACCES)
		ret = -EAGAIN;
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_setlkw(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fs_lock_waiter w = { .unique = r->h.unique };
	struct lock_req lr;
	int ret = lock_begin(r, &lr);

	if (ret < 0)
		return ret;
	unsigned gen = atomic_load(&s->cancel_gen);
	pthread_mutex_lock(&s->lock_mu);
	if (s->lock_waiters >= s->cfg.max_lock_waiters) {
		pthread_mutex_unlock(&s->lock_mu);
		fs_handle_put(s, lr.h);
		return -EDEADLK;
	}
	s->lock_waiters++;
	w.next = s->waiters;
	s->waiters = &w;
	pthread_mutex_unlock(&s->lock_mu);

	long delay_us = 500;
	for (;;) {
		ret = try_lock(s, &lr);
		if (ret != -EAGAIN && ret != -EACCES)
			break;
		pthread_mutex_lock(&s->lock_mu);
		bool stop = w.interrupted;
		pthread_mutex_unlock(&s->lock_mu);
		if (stop || atomic_load(&s->cancel_gen) != gen) {
			ret = -EINTR;
			break;
		}
		struct timespec ts = { 0, delay_us * 1000 };
		nanosleep(&ts, NULL);
		if (delay_us < 20000)
			delay_us *= 2;
	}

	pthread_mutex_lock(&s->lock_mu);
	for (struct fs_lock_waiter **pp = &s->waiters; *pp; pp = &(*pp)->next)
		if (*pp == &w) {
			*pp = w.next;
			break;
		}
	s->lock_waiters--;
	pthread_mutex_unlock(&s->lock_mu);
	fs_handle_put(s, lr.h);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_interrupt(struct fs_req *r)
{
	struct fuse_interrupt_in in;

	memcpy(&in, r->arg, sizeof(in));
	pthread_mutex_lock(&r->s->lock_mu);
	for (struct fs_lock_waiter *w = r->s->waiters; w; w = w->next)
		if (w->unique == in.unique)
			w->interrupted = true;
	pthread_mutex_unlock(&r->s->lock_mu);
	return FS_NO_REPLY;
}
