/* state.h - the state directory of each container: ROOT/ID/.
 *
 * Owns: container id validation (runc's rule), creating a container's
 * directory (refusing duplicates), opening it with an exclusive flock held
 * for the whole verb (so concurrent verbs on one id take turns), atomic
 * writes (temp file + fsync + rename), reading state.json, listing ids,
 * and removing everything. Files in ROOT/ID:
 *
 *   state.json   struct oci_state with kvrun's private members
 *   config.json  the bundle's config as create saw it (exec, hooks, update)
 *   vsock.sock   the VMM's hybrid vsock socket (the guest agent)
 *   ctl.sock     the VMM process's control socket (pause, resume)
 *   exit         the container's exit status, once its init has exited
 *   console.log  the guest's serial console
 *
 * Paths under the directory are reached through its fd, as
 * /proc/self/fd/N/NAME where a path is needed (Unix sockets), so a long
 * --root never overflows sun_path. */
#ifndef KVRUN_RUNTIME_STATE_H
#define KVRUN_RUNTIME_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "oci-state.h"

#define STATE_ID_MAX 1024

struct ctr {
	char *id;
	char *dir; /* ROOT/ID, for messages */
	int dir_fd;
	struct oci_state st; /* read by state_open; written by state_save */
	bool incomplete;     /* state_open: the directory exists but has no state.json */
};

/* runc's rule: [A-Za-z0-9_+,.-]+, not "." or "..", at most 1024 bytes. */
int state_validate_id(const char *id, struct kv_err *err);

/* Make ROOT/ID (ROOT created 0700 if missing) and lock it. "container with
 * given ID already exists" when it does. */
int state_create(const char *root, const char *id, struct ctr *c, struct kv_err *err);

/* Open and lock ROOT/ID and read state.json. "container does not exist"
 * (-ENOENT) when there is no such directory or no state.json in it (a
 * create that never finished: then *c is still opened and locked, with
 * c->st empty, for delete to clean up). */
int state_open(const char *root, const char *id, struct ctr *c, struct kv_err *err);

/* The same without the lock, for the verbs that only read (state, list,
 * ps, events): state.json is replaced atomically, so a read sees an old or
 * a new version, never half of one. */
int state_open_unlocked(const char *root, const char *id, struct ctr *c, struct kv_err *err);

/* Write c->st to state.json atomically. */
int state_save(struct ctr *c, struct kv_err *err);

/* Write buf as NAME in the directory atomically. */
int state_write_file(struct ctr *c, const char *name, const void *buf, size_t len,
		     struct kv_err *err);
/* Read NAME (at most max bytes, NUL-terminated). -ENOENT when missing. */
int state_read_file(struct ctr *c, const char *name, size_t max, char **buf, size_t *len,
		    struct kv_err *err);

/* "/proc/self/fd/N/NAME" for the directory fd N, in buf. */
void state_path(const struct ctr *c, const char *name, char *buf, size_t size);

/* Remove every file in the directory and the directory; c stays open
 * (and locked) until state_close. */
int state_remove(struct ctr *c, struct kv_err *err);

/* Unlock and free. */
void state_close(struct ctr *c);

/* The ids under ROOT (sorted); a missing ROOT is an empty list. */
int state_list(const char *root, char ***ids, size_t *n, struct kv_err *err);

/* Write a pid file the way runc does: the pid, no newline, through a
 * temporary file in the same directory and a rename. */
int write_pid_file(const char *path, int pid, struct kv_err *err);

#endif
