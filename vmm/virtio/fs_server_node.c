/* fs_server_node.c - the FUSE server's node table and descriptor accounting.
 *
 * Owns: the generation-tagged slot tables (nodes and handles both use
 * them), the nodes the guest holds (nodeid -> O_PATH fd, plus a hash by
 * (st_dev, st_ino) so that every name of an inode maps to one nodeid), the
 * guest's lookup counts (LOOKUP adds, FORGET subtracts; a node goes when
 * its count reaches zero and no request still uses it), and the process-wide
 * count of descriptors the servers hold.
 *
 * Nodeids are (generation << 32) | (slot + 2): FUSE_ROOT_ID (1) is the
 * shared directory, 0 is never valid, and a forgotten nodeid does not find
 * the node that reuses its slot. */
#include "fs_server_int.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define NODE_BASE 2

/* ---- descriptor accounting ------------------------------------------------ */

static atomic_uint fds_held;
static atomic_uint fds_cap = 1024;

void fs_fd_set_cap(void)
{
	struct rlimit rl;
	unsigned cap = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		/* Leave an eighth (at least 32) to the rest of the VMM. */
		rlim_t keep = rl.rlim_cur / 8 < 32 ? 32 : rl.rlim_cur / 8;
		cap = rl.rlim_cur > keep ? (unsigned)(rl.rlim_cur - keep) : 0;
		if (rl.rlim_cur > (1U << 30))
			cap = 1U << 30;
	}
	atomic_store(&fds_cap, cap);
}

int fs_fd_charge(void)
{
	if (atomic_fetch_add(&fds_held, 1) >= atomic_load(&fds_cap)) {
		atomic_fetch_sub(&fds_held, 1);
		return -EMFILE;
	}
	return 0;
}

void fs_fd_uncharge(void)
{
	atomic_fetch_sub(&fds_held, 1);
}

void fs_fd_close(int fd)
{
	if (fd >= 0) {
		(void)close(fd);
		fs_fd_uncharge();
	}
}

unsigned fs_fd_count(void)
{
	return atomic_load(&fds_held);
}

/* ---- slot tables ---------------------------------------------------------- */

int fs_slots_init(struct fs_slots *t, uint32_t max)
{
	*t = (struct fs_slots){ .max = max };
	return 0;
}

void fs_slots_fini(struct fs_slots *t)
{
	free(t->ptr);
	free(t->gen);
	free(t->free);
	*t = (struct fs_slots){ 0 };
}

static int slots_grow(struct fs_slots *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : 64;

	if (t->cap >= t->max)
		return -ENFILE;
	if (ncap > t->max)
		ncap = t->max;
	void **p = realloc(t->ptr, ncap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	t->ptr = p;
	uint32_t *g = realloc(t->gen, ncap * sizeof(*g));
	if (!g)
		return -ENOMEM;
	t->gen = g;
	uint32_t *f = realloc(t->free, ncap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	t->free = f;
	for (uint32_t i = t->cap; i < ncap; i++) {
		t->ptr[i] = NULL;
		t->gen[i] = 0;
	}
	/* Lowest slots on top of the stack. */
	for (uint32_t i = ncap; i > t->cap; i--)
		t->free[t->nfree++] = i - 1;
	t->cap = ncap;
	return 0;
}

int fs_slots_add(struct fs_slots *t, void *p, uint32_t base, uint64_t *id)
{
	if (t->used >= t->max)
		return -ENFILE;
	if (!t->nfree) {
		int r = slots_grow(t);
		if (r < 0)
			return r;
	}
	uint32_t slot = t->free[--t->nfree];
	t->ptr[slot] = p;
	t->used++;
	*id = ((uint64_t)t->gen[slot] << 32) | (slot + base);
	return (int)slot;
}

void *fs_slots_find(const struct fs_slots *t, uint64_t id, uint32_t base)
{
	uint32_t low = (uint32_t)id, gen = (uint32_t)(id >> 32);

	if (low < base || low - base >= t->cap)
		return NULL;
	if (t->gen[low - base] != gen)
		return NULL;
	return t->ptr[low - base];
}

void fs_slots_remove(struct fs_slots *t, uint32_t slot)
{
	t->ptr[slot] = NULL;
	t->gen[slot]++;
	t->free[t->nfree++] = slot;
	t->used--;
}

/* ---- nodes ---------------------------------------------------------------- */

static uint32_t key_hash(const struct fs_server *s, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;
	return (uint32_t)(h >> 32) & (s->nbuckets - 1);
}

static void key_insert(struct fs_server *s, struct fs_node *n)
{
	uint32_t b = key_hash(s, n->dev, n->ino);
	n->next_key = s->by_key[b];
	s->by_key[b] = n;
}

static void key_remove(struct fs_server *s, struct fs_node *n)
{
	for (struct fs_node **pp = &s->by_key[key_hash(s, n->dev, n->ino)]; *pp;
	     pp = &(*pp)->next_key)
		if (*pp == n) {
			*pp = n->next_key;
			return;
		}
}

static struct fs_node *key_find(const struct fs_server *s, dev_t dev, ino_t ino)
{
	for (struct fs_node *n = s->by_key[key_hash(s, dev, ino)]; n; n = n->next_key)
		if (n->dev == dev && n->ino == ino)
			return n;
	return NULL;
}

/* Keep about one bucket per node. */
static int rehash(struct fs_server *s, uint32_t want)
{
	uint32_t nb = s->nbuckets;

	while (nb < want && nb < (1U << 24))
		nb *= 2;
	if (nb == s->nbuckets)
		return 0;
	struct fs_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return 0; /* longer chains, still correct */
	struct fs_node **old = s->by_key;
	uint32_t oldn = s->nbuckets;
	s->by_key = b;
	s->nbuckets = nb;
	for (uint32_t i = 0; i < oldn; i++)
		for (struct fs_node *n = old[i], *next; n; n = next) {
			next = n->next_key;
			key_insert(s, n);
		}
	free(old);
	return 0;
}

static void node_free(struct fs_server *s, struct fs_node *n)
{
	fs_lock_owners_free(s, n);
	fs_fd_close(n->fd);
	free(n);
}

int fs_nodes_init(struct fs_server *s, int root_fd, const struct stat *st)
{
	struct fs_node *n = calloc(1, sizeof(*n));

	s->nbuckets = 64;
	s->by_key = calloc(s->nbuckets, sizeof(*s->by_key));
	if (!n || !s->by_key) {
		free(n);
		return -ENOMEM;
	}
	*n = (struct fs_node){ .nodeid = FUSE_ROOT_ID,
			       .dev = st->st_dev,
			       .ino = st->st_ino,
			       .fd = root_fd,
			       .type = st->st_mode & S_IFMT,
			       .nlookup = 1,
			       .refs = 1,
			       .slot = UINT32_MAX,
			       .linked = true };
	key_insert(s, n);
	s->root = n;
	return 0;
}

void fs_nodes_fini(struct fs_server *s)
{
	fs_nodes_forget_all(s);
	if (s->root) {
		key_remove(s, s->root);
		fs_lock_owners_free(s, s->root);
		free(s->root); /* root_fd is the server's */
		s->root = NULL;
	}
	free(s->by_key);
	s->by_key = NULL;
	fs_slots_fini(&s->nodes);
}

struct fs_node *fs_node_get(struct fs_server *s, uint64_t nodeid)
{
	struct fs_node *n;

	pthread_mutex_lock(&s->mu);
	n = nodeid == FUSE_ROOT_ID ? s->root : fs_slots_find(&s->nodes, nodeid, NODE_BASE);
	if (n)
		n->refs++;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void fs_node_put(struct fs_server *s, struct fs_node *n)
{
	bool last;

	if (!n)
		return;
	pthread_mutex_lock(&s->mu);
	last = --n->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (last)
		node_free(s, n);
}

int64_t fs_node_lookup_fd(struct fs_server *s, int *fd, const struct stat *st)
{
	struct fs_node *n = calloc(1, sizeof(*n)), *old;
	int64_t ret;

	if (!n) {
		fs_fd_close(steal_fd(fd));
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->mu);
	old = key_find(s, st->st_dev, st->st_ino);
	if (old) {
		old->nlookup++;
		ret = (int64_t)old->nodeid;
		pthread_mutex_unlock(&s->mu);
		free(n);
		fs_fd_close(steal_fd(fd));
		return ret;
	}
	uint64_t id;
	int slot = fs_slots_add(&s->nodes, n, NODE_BASE, &id);
	if (slot < 0) {
		pthread_mutex_unlock(&s->mu);
		free(n);
		fs_fd_close(steal_fd(fd));
		return slot;
	}
	*n = (struct fs_node){ .nodeid = id,
			       .dev = st->st_dev,
			       .ino = st->st_ino,
			       .fd = steal_fd(fd),
			       .type = st->st_mode & S_IFMT,
			       .nlookup = 1,
			       .refs = 1,
			       .slot = (uint32_t)slot,
			       .linked = true };
	(void)rehash(s, s->nodes.used);
	key_insert(s, n);
	pthread_mutex_unlock(&s->mu);
	return (int64_t)id;
}

/* Unlink n from the tables (s->mu held); true when the caller must free it. */
static bool node_unlink(struct fs_server *s, struct fs_node *n)
{
	key_remove(s, n);
	fs_slots_remove(&s->nodes, n->slot);
	n->linked = false;
	n->nlookup = 0;
	return --n->refs == 0;
}

void fs_node_forget(struct fs_server *s, uint64_t nodeid, uint64_t nlookup)
{
	struct fs_node *n, *dead = NULL;

	if (nodeid == FUSE_ROOT_ID)
		return; /* the root lives as long as the server */
	pthread_mutex_lock(&s->mu);
	n = fs_slots_find(&s->nodes, nodeid, NODE_BASE);
	if (n) {
		n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
		if (n->nlookup == 0 && node_unlink(s, n))
			dead = n;
	}
	pthread_mutex_unlock(&s->mu);
	if (dead)
		node_free(s, dead);
}

void fs_nodes_forget_all(struct fs_server *s)
{
	struct fs_node *dead = NULL;

	pthread_mutex_lock(&s->mu);
	for (uint32_t i = 0; i < s->nodes.cap; i++) {
		struct fs_node *n = s->nodes.ptr[i];
		if (n && node_unlink(s, n)) {
			n->next_key = dead; /* reuse the chain link for the free list */
			dead = n;
		}
	}
	pthread_mutex_unlock(&s->mu);
	while (dead) {
		struct fs_node *next = dead->next_key;
		node_free(s, dead);
		dead = next;
	}
}

bool fs_nodes_roomy(struct fs_server *s)
{
	bool ok;

	pthread_mutex_lock(&s->mu);
	ok = s->nodes.used < s->nodes.max / 4 * 3;
	pthread_mutex_unlock(&s->mu);
	return ok && fs_fd_count() < atomic_load(&fds_cap) / 4 * 3;
}
