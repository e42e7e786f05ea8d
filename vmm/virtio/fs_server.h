/* fs_server.h - the FUSE server behind virtio-fs, confined beneath one host directory.
 *
 * Owns: the contract between the virtio-fs device (fs.c: queues, worker
 * threads, used ring, interrupts) and the FUSE request handling (fs_server*.c:
 * decoding, the inode and handle tables, the host file operations). The device
 * pops a descriptor chain and hands its device-readable buffers (the FUSE
 * request: fuse_in_header plus arguments plus, for WRITE, the data) and its
 * device-writable buffers (fuse_out_header plus the reply, for READ the data)
 * to fs_server_handle(). The server reads and writes guest memory only through
 * those iovecs and never beyond them.
 *
 * Threading: fs_server_handle() may be called from several threads at once
 * (the device's workers) and may block on host I/O; it never runs on a vCPU
 * thread. fs_server_reset() and fs_server_destroy() are called with no
 * handle() in flight. The first fs_server_handle() on a thread gives that
 * thread a private fs_struct (unshare(CLONE_FS)), so that its umask can be
 * the guest caller's while it creates a file; the thread's cwd and root are
 * left alone.
 *
 * The guest is hostile: every length, nodeid, handle and name it sends is
 * checked, and nothing it sends can reach a host file outside cfg->path. */
#ifndef KVRUN_VMM_VIRTIO_FS_SERVER_H
#define KVRUN_VMM_VIRTIO_FS_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "err.h"

enum fs_cache_mode {
	FS_CACHE_AUTO = 0, /* default: short attribute and entry timeouts */
	FS_CACHE_ALWAYS,   /* long timeouts, keep the page cache: a root only this VM writes */
	FS_CACHE_NEVER,	   /* no timeouts, direct I/O: shared volumes */
};

struct fs_server_config {
	const char *path; /* the shared directory, opened once at create */
	enum fs_cache_mode cache;
	bool readonly;	      /* every mutating request fails with EROFS */
	uint32_t max_write;   /* largest WRITE/READ payload, offered in INIT; 0: a default */
	uint32_t max_inodes;  /* nodes the guest may hold at once; 0: a default */
	uint32_t max_handles; /* open files and directories at once; 0: a default */
	/* Serve file systems mounted inside the share too. Off (the default),
	 * a name that is a mount point fails with EXDEV: only the share's own
	 * mount is reachable. */
	bool cross_mounts;
	/* SETLKW requests that may wait for a lock at once (one more gets
	 * EDEADLK); keep it below the number of threads that call
	 * fs_server_handle(), or the unlock may find no thread. 0: 4. */
	uint32_t max_lock_waiters;
};

struct fs_server;

/* Open cfg->path and prepare the tables. Fails (message naming the path) when
 * the directory cannot be opened. */
int fs_server_create(const struct fs_server_config *cfg, struct fs_server **out,
		     struct kv_err *err);

/* Handle one request. req[0..nreq) are the chain's device-readable buffers,
 * rep[0..nrep) its device-writable ones. On return *reply_len holds the bytes
 * written into rep (0 for requests that take no reply: FORGET, BATCH_FORGET,
 * INTERRUPT). Returns 0 when the request was handled (an error reply to the
 * guest counts as handled), or a negative errno when the chain cannot carry a
 * request at all (shorter than fuse_in_header, a header length that disagrees
 * with the buffers, no room for fuse_out_header): the device then returns the
 * chain with *reply_len bytes and may mark itself broken. */
int fs_server_handle(struct fs_server *s, const struct iovec *req, unsigned nreq,
		     const struct iovec *rep, unsigned nrep, uint32_t *reply_len);

/* The guest reset the device: forget every node and handle but the root, and
 * expect INIT again. */
void fs_server_reset(struct fs_server *s);

/* Make requests that wait on the guest's behalf (SETLKW on a lock someone
 * holds) return EINTR within a few milliseconds. Callable from any thread at
 * any time, also while fs_server_handle() runs; the device calls it before it
 * waits for the requests in flight at reset and destroy, since a lock wait
 * may otherwise last until the guest unlocks. Waits that start afterwards are
 * not affected. */
void fs_server_cancel(struct fs_server *s);

void fs_server_destroy(struct fs_server *s);

/* Give the calling thread its own fs_struct (unshare(CLONE_FS)), so that
 * the umask it sets per request is its own. Done on first use anyway; a
 * worker calls it before its seccomp filter, which has no unshare. */
int fs_server_thread_init(void);

#endif
