/* fs_server_lock.c - POSIX record locks for the FUSE server.
 *
 * Owns: the per-node lock owners. (The lock operations themselves follow.) */
#include "fs_server_int.h"

int fs_locks_init(struct fs_server *s)
{
	pthread_mutex_init(&s->lock_mu, NULL);
	return 0;
}

void fs_locks_fini(struct fs_server *s)
{
	pthread_mutex_destroy(&s->lock_mu);
}

void fs_lock_owner_drop(struct fs_server *s, struct fs_node *n, uint64_t owner)
{
}

void fs_lock_owners_free(struct fs_server *s, struct fs_node *n)
{
}
