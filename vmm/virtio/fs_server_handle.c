/* fs_server_handle.c - the FUSE server's open-handle table.
 *
 * Owns: the files and directories the guest has open (OPEN, CREATE,
 * OPENDIR), each a real host descriptor plus a reference to its node, named
 * to the guest by fh = (generation << 32) | (slot + 1). A handle that a
 * request is using stays open until that request ends, even when RELEASE
 * for it arrives meanwhile: a descriptor is never closed under a request
 * (its number could be reused for another file). */
#include "fs_server_int.h"

#include <errno.h>
#include <stdlib.h>

#define HANDLE_BASE 1

int fs_handles_init(struct fs_server *s)
{
	return fs_slots_init(&s->handles, s->cfg.max_handles);
}

static void handle_free(struct fs_server *s, struct fs_handle *h)
{
	fs_fd_close(h->fd);
	fs_dirbuf_free(h->db);
	pthread_mutex_destroy(&h->dir_mu);
	fs_node_put(s, h->node);
	free(h);
}

int fs_handle_new(struct fs_server *s, int fd, struct fs_node *n, bool dir, uint64_t *fh)
{
	struct fs_handle *h = calloc(1, sizeof(*h));
	int slot;

	if (!h) {
		fs_fd_close(fd);
		return -ENOMEM;
	}
	*h = (struct fs_handle){ .fd = fd, .dir = dir, .node = n, .refs = 1, .linked = true };
	pthread_mutex_init(&h->dir_mu, NULL);
	pthread_mutex_lock(&s->mu);
	slot = fs_slots_add(&s->handles, h, HANDLE_BASE, fh);
	if (slot >= 0) {
		h->slot = (uint32_t)slot;
		n->refs++;
	}
	pthread_mutex_unlock(&s->mu);
	if (slot < 0) {
		h->node = NULL;
		handle_free(s, h);
		return slot;
	}
	return 0;
}

struct fs_handle *fs_handle_get(struct fs_server *s, uint64_t fh, bool dir)
{
	struct fs_handle *h;

	pthread_mutex_lock(&s->mu);
	h = fs_slots_find(&s->handles, fh, HANDLE_BASE);
	if (h && h->dir == dir)
		h->refs++;
	else
		h = NULL;
	pthread_mutex_unlock(&s->mu);
	return h;
}

void fs_handle_put(struct fs_server *s, struct fs_handle *h)
{
	bool last;

	if (!h)
		return;
	pthread_mutex_lock(&s->mu);
	last = --h->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (last)
		handle_free(s, h);
}

/* s->mu held; true when the caller must free h. */
static bool handle_unlink(struct fs_server *s, struct fs_handle *h)
{
	fs_slots_remove(&s->handles, h->slot);
	h->linked = false;
	return --h->refs == 0;
}

int fs_handle_release(struct fs_server *s, uint64_t fh, bool dir)
{
	struct fs_handle *h;
	bool last = false;

	pthread_mutex_lock(&s->mu);
	h = fs_slots_find(&s->handles, fh, HANDLE_BASE);
	if (h && h->dir == dir)
		last = handle_unlink(s, h);
	else
		h = NULL;
	pthread_mutex_unlock(&s->mu);
	if (!h)
		return -EBADF;
	if (last)
		handle_free(s, h);
	return 0;
}

void fs_handles_release_all(struct fs_server *s)
{
	for (;;) {
		struct fs_handle *dead[64];
		unsigned n = 0;

		pthread_mutex_lock(&s->mu);
		for (uint32_t i = 0; i < s->handles.cap && n < 64; i++) {
			struct fs_handle *h = s->handles.ptr[i];
			if (h && handle_unlink(s, h))
				dead[n++] = h;
		}
		bool more = s->handles.used > 0;
		pthread_mutex_unlock(&s->mu);
		for (unsigned i = 0; i < n; i++)
			handle_free(s, dead[i]);
		if (!more)
			return;
	}
}

void fs_handles_fini(struct fs_server *s)
{
	fs_handles_release_all(s);
	fs_slots_fini(&s->handles);
}
