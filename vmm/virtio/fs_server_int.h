/* fs_server_int.h - the FUSE server's internals, shared by fs_server*.c.
 *
 * Owns: struct fs_server (the shared directory's descriptors, the node and
 * handle tables, the negotiated protocol state), the per-request context
 * (struct fs_req) with its argument and reply helpers, and the prototypes
 * each fs_server_*.c file exports to the others. The wire structures come
 * from the kernel's UAPI header <linux/fuse.h> (protocol 7.38 on Debian 12).
 *
 * Files:
 *   fs_server.c        create/destroy/reset, decoding, dispatch, INIT/DESTROY
 *   fs_server_node.c   the node table (nodeid -> O_PATH fd), fd accounting
 *   fs_server_handle.c the open-handle table (fh -> fd)
 *   fs_server_util.c   names, confined resolution, attributes, credentials
 *   fs_server_entry.c  LOOKUP, FORGET, GETATTR, SETATTR, READLINK, STATFS, ACCESS
 *   fs_server_mk.c     MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME(2), CREATE
 *   fs_server_io.c     OPEN, READ, WRITE, RELEASE, FLUSH, FSYNC, FALLOCATE, LSEEK,
 *                      COPY_FILE_RANGE, SYNCFS
 *   fs_server_dir.c    OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR
 *   fs_server_xattr.c  SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR
 *   fs_server_lock.c   GETLK, SETLK, SETLKW, INTERRUPT, lock owners
 *
 * Locking: s->mu guards both tables and every node's and handle's refs and
 * nlookup. Host system calls run outside it, on descriptors that a counted
 * reference keeps open. */
#ifndef KVRUN_VMM_VIRTIO_FS_SERVER_INT_H
#define KVRUN_VMM_VIRTIO_FS_SERVER_INT_H

#include <limits.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fs_server.h"

/* The oldest protocol minor we speak (Linux 5.4's first virtiofs was 7.31). */
#define FS_MIN_MINOR 31

#define FS_DEFAULT_MAX_WRITE   (1U << 20)
#define FS_MAX_MAX_WRITE       (16U << 20)
#define FS_DEFAULT_MAX_INODES  65536U
#define FS_DEFAULT_MAX_HANDLES 16384U
#define FS_MAX_TABLE	       (1U << 24) /* largest max_inodes / max_handles accepted */

/* Arguments after fuse_in_header that are copied out of guest memory: the
 * largest fixed struct plus two names plus a symlink target. WRITE data and
 * SETXATTR values are not copied here. */
#define FS_ARGS_MAX (128 + 2 * (NAME_MAX + 1) + PATH_MAX)
/* Largest xattr value and list (the kernel's XATTR_SIZE_MAX / XATTR_LIST_MAX). */
#define FS_XATTR_MAX 65536U

/* Blocking SETLKW requests waiting at once by default; one more gets
 * EDEADLK, so that waiters never occupy every worker thread (the unlock
 * could not run). */
#define FS_DEFAULT_LOCK_WAITERS 4

struct fs_lock_owner;

struct fs_node {
	uint64_t nodeid;
	dev_t dev;
	ino_t ino;
	int fd;	     /* O_PATH|O_NOFOLLOW, never a real open */
	mode_t type; /* S_IFMT bits, fixed for the inode's life */
	/* s->mu: */
	uint64_t nlookup;	      /* references the guest holds */
	uint32_t refs;		      /* the table's (while linked) + requests in flight */
	uint32_t slot;		      /* index in s->nodes */
	bool linked;		      /* in the tables, reachable by nodeid and key */
	struct fs_node *next_key;     /* hash chain by (dev, ino) */
	struct fs_lock_owner *owners; /* s->lock_mu: lock owners' open file descriptions */
};

struct fs_dirbuf;

struct fs_handle {
	int fd;
	bool dir;
	struct fs_node *node; /* a counted reference */
	/* s->mu: */
	uint32_t refs; /* the table's (while linked) + requests in flight */
	uint32_t slot;
	bool linked;
	/* Directories: the readdir position and buffered entries. */
	pthread_mutex_t dir_mu;
	struct fs_dirbuf *db;
};

/* A table of pointers indexed by slot, each slot with a generation that
 * changes whenever it is freed: ids handed to the guest are (generation,
 * slot), so a stale id never finds a newer object (fs_server_node.c). */
struct fs_slots {
	void **ptr;
	uint32_t *gen;
	uint32_t *free; /* stack of free slots */
	uint32_t cap, nfree, used, max;
};

struct fs_lock_waiter;

struct fs_server {
	struct fs_server_config cfg;
	int root_fd; /* O_PATH of the shared directory, opened once */
	int proc_fd; /* O_PATH of /proc/self/fd: reopening our own O_PATH fds */
	uint32_t max_write, max_pages;
	uint64_t entry_timeout, attr_timeout; /* seconds, from cfg->cache */

	atomic_bool initialized; /* INIT done and no DESTROY since */
	atomic_uint minor;	 /* negotiated protocol minor */
	atomic_uint cancel_gen;	 /* bumped by fs_server_cancel() */

	pthread_mutex_t mu;
	struct fs_node *root;
	struct fs_slots nodes;	 /* slot -> struct fs_node */
	struct fs_node **by_key; /* hash buckets by (dev, ino) */
	uint32_t nbuckets;	 /* a power of two */
	struct fs_slots handles; /* slot -> struct fs_handle */

	pthread_mutex_t lock_mu; /* lock owners and waiters (fs_server_lock.c) */
	uint32_t lock_owners;	 /* open lock-owner descriptors */
	unsigned lock_waiters;
	struct fs_lock_waiter *waiters;
};

/* One request while it is handled. */
struct fs_req {
	struct fs_server *s;
	struct fuse_in_header h;
	const struct iovec *req; /* the device-readable buffers */
	unsigned nreq;
	const struct iovec *rep; /* the device-writable buffers */
	unsigned nrep;
	size_t rep_bytes;
	const uint8_t *arg; /* the arguments after the header, copied */
	uint32_t arg_len;
	uint32_t reply_len; /* bytes written into rep */
};

/* A handler returns 0 once it has replied, a negative errno for an error
 * reply, or FS_NO_REPLY for requests that take none. */
#define FS_NO_REPLY 1

/* fs_server.c: replies. */
int fs_reply(struct fs_req *r, const void *a, size_t alen);
int fs_reply2(struct fs_req *r, const void *a, size_t alen, const void *b, size_t blen);
/* The header for a reply whose payload of len bytes the handler wrote
 * itself at offset sizeof(struct fuse_out_header) of r->rep. */
int fs_reply_len(struct fs_req *r, size_t len);
size_t fs_reply_room(const struct fs_req *r); /* payload bytes that fit */

/* fs_server_node.c */
int fs_slots_init(struct fs_slots *t, uint32_t max);
void fs_slots_fini(struct fs_slots *t);
/* Store p in a free slot; *id = (generation << 32) | (slot + base). */
int fs_slots_add(struct fs_slots *t, void *p, uint32_t base, uint64_t *id);
void *fs_slots_find(const struct fs_slots *t, uint64_t id, uint32_t base);
void fs_slots_remove(struct fs_slots *t, uint32_t slot);

int fs_nodes_init(struct fs_server *s, int root_fd, const struct stat *st);
void fs_nodes_fini(struct fs_server *s);
/* The node for nodeid with a reference taken, or NULL. */
struct fs_node *fs_node_get(struct fs_server *s, uint64_t nodeid);
void fs_node_put(struct fs_server *s, struct fs_node *n);
/* Register a lookup of the inode behind O_PATH *fd (stat in st): an existing
 * node gains a lookup and *fd is closed, or a new node takes *fd over
 * (*fd = -1 either way). Returns the nodeid, or a negative errno (-ENFILE:
 * the table is full; *fd is closed). */
int64_t fs_node_lookup_fd(struct fs_server *s, int *fd, const struct stat *st);
/* The guest dropped nlookup references; unknown nodeids are ignored. */
void fs_node_forget(struct fs_server *s, uint64_t nodeid, uint64_t nlookup);
/* Forget every node but the root (reset, DESTROY). */
void fs_nodes_forget_all(struct fs_server *s);
/* Whether a READDIRPLUS may still add nodes (below 3/4 of the limits). */
bool fs_nodes_roomy(struct fs_server *s);

/* Descriptors held by every server in the process, against a cap below
 * RLIMIT_NOFILE so that the rest of the VMM keeps some. fs_fd_charge()
 * returns -EMFILE over the cap; each fd opened for the guest is charged
 * before and uncharged by fs_fd_close(). */
int fs_fd_charge(void);
void fs_fd_uncharge(void);
void fs_fd_close(int fd);
void fs_fd_set_cap(void);
unsigned fs_fd_count(void);

/* fs_server_handle.c */
int fs_handles_init(struct fs_server *s);
void fs_handles_fini(struct fs_server *s);
/* Take fd (and a new reference to node) into a new handle; *fh its id.
 * On failure fd is closed. */
int fs_handle_new(struct fs_server *s, int fd, struct fs_node *n, bool dir, uint64_t *fh);
/* The handle fh (dir or not, as asked) with a reference, or NULL. */
struct fs_handle *fs_handle_get(struct fs_server *s, uint64_t fh, bool dir);
void fs_handle_put(struct fs_server *s, struct fs_handle *h);
/* Remove fh from the table; -EBADF when unknown. */
int fs_handle_release(struct fs_server *s, uint64_t fh, bool dir);
void fs_handles_release_all(struct fs_server *s);

/* fs_server_util.c */
/* The NUL-terminated name at r->arg + off: *next is the offset after its
 * NUL. -EINVAL for an empty name, '/', "." or "..", no NUL before the end;
 * -ENAMETOOLONG beyond NAME_MAX. */
int fs_arg_name(const struct fs_req *r, size_t off, const char **name, size_t *next);
/* Like fs_arg_name() for a name that must end the arguments exactly. */
int fs_arg_last_name(const struct fs_req *r, size_t off, const char **name);
/* Open name beneath directory dirfd: openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (and RESOLVE_NO_XDEV unless
 * cfg.cross_mounts) and O_NOFOLLOW (a final symlink is opened as itself
 * with O_PATH). The fd is charged. */
int fs_open_beneath(const struct fs_server *s, int dirfd, const char *name, int flags, mode_t mode);
/* Open our own O_PATH fd again with flags, through /proc/self/fd (never for
 * a symlink). The fd is charged. */
int fs_reopen(struct fs_server *s, const struct fs_node *n, int flags);
/* An O_PATH descriptor of the inode open as fd (ours), charged. */
int fs_opath_of(struct fs_server *s, int fd);
int fs_stat_fd(int fd, struct stat *st);
void fs_fill_attr(struct fuse_attr *a, const struct stat *st);
void fs_fill_entry(struct fs_server *s, struct fuse_entry_out *e, uint64_t nodeid,
		   const struct stat *st);
/* Look name up beneath parent: fill e with a new guest reference. */
int fs_do_lookup(struct fs_server *s, int dirfd, const char *name, struct fuse_entry_out *e);
/* Act as the guest's caller for a creating operation: fsuid/fsgid from the
 * request header, the given umask on this thread (unshared fs_struct). */
struct fs_creds {
	bool switched;
	bool umask_set;
	mode_t old_umask;
};
int fs_creds_enter(const struct fs_req *r, mode_t umask, struct fs_creds *c);
void fs_creds_leave(struct fs_creds *c);
/* "N" for our own fd N: the name of its magic link in s->proc_fd, for the
 * calls that have no form taking an O_PATH descriptor (chmod, link). */
void fs_proc_name(char *buf, size_t len, int fd);
/* "/proc/self/fd/N", our own fd N's magic link, for the *xattr calls,
 * which take no directory fd. */
void fs_proc_path(char *buf, size_t len, int fd);
uint32_t fs_encode_dev(dev_t d);
dev_t fs_decode_dev(uint32_t d);

/* The handlers. */
int fs_op_lookup(struct fs_req *r);
int fs_op_forget(struct fs_req *r);
int fs_op_batch_forget(struct fs_req *r);
int fs_op_getattr(struct fs_req *r);
int fs_op_setattr(struct fs_req *r);
int fs_op_readlink(struct fs_req *r);
int fs_op_statfs(struct fs_req *r);
int fs_op_access(struct fs_req *r);
int fs_op_mknod(struct fs_req *r);
int fs_op_mkdir(struct fs_req *r);
int fs_op_symlink(struct fs_req *r);
int fs_op_link(struct fs_req *r);
int fs_op_unlink(struct fs_req *r);
int fs_op_rmdir(struct fs_req *r);
int fs_op_rename(struct fs_req *r);
int fs_op_rename2(struct fs_req *r);
int fs_op_create(struct fs_req *r);
int fs_op_open(struct fs_req *r);
int fs_op_read(struct fs_req *r);
int fs_op_write(struct fs_req *r);
int fs_op_release(struct fs_req *r);
int fs_op_flush(struct fs_req *r);
int fs_op_fsync(struct fs_req *r);
int fs_op_fallocate(struct fs_req *r);
int fs_op_lseek(struct fs_req *r);
int fs_op_copy_file_range(struct fs_req *r);
int fs_op_syncfs(struct fs_req *r);
int fs_op_opendir(struct fs_req *r);
int fs_op_readdir(struct fs_req *r);
int fs_op_readdirplus(struct fs_req *r);
int fs_op_releasedir(struct fs_req *r);
int fs_op_fsyncdir(struct fs_req *r);
int fs_op_setxattr(struct fs_req *r);
int fs_op_getxattr(struct fs_req *r);
int fs_op_listxattr(struct fs_req *r);
int fs_op_removexattr(struct fs_req *r);
int fs_op_getlk(struct fs_req *r);
int fs_op_setlk(struct fs_req *r);
int fs_op_setlkw(struct fs_req *r);
int fs_op_interrupt(struct fs_req *r);

/* fs_server_io.c */
/* The host open(2) flags for the guest's OPEN/CREATE flags. */
int fs_host_flags(uint32_t guest);
/* FOPEN_* flags for files, per cache mode. */
uint32_t fs_open_flags(const struct fs_server *s);

/* fs_server_dir.c */
void fs_dirbuf_free(struct fs_dirbuf *db);
/* fs_server_lock.c */
int fs_locks_init(struct fs_server *s);
void fs_locks_fini(struct fs_server *s);
/* Close the lock descriptors of owner on n (FLUSH/RELEASE: POSIX drops a
 * process's locks on a file when it closes any descriptor of it). */
void fs_lock_owner_drop(struct fs_server *s, struct fs_node *n, uint64_t owner);
/* Close every lock descriptor of n (the node is going away). */
void fs_lock_owners_free(struct fs_server *s, struct fs_node *n);

#endif
