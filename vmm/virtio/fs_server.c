/* fs_server.c - the FUSE server behind virtio-fs: lifetime, decoding, dispatch.
 *
 * Owns: fs_server_create/handle/reset/cancel/destroy (fs_server.h), the
 * checks every request passes before an operation sees it (the header's
 * length against the buffers, the opcode, INIT first, the fixed argument
 * size, room for the fixed reply, EROFS for a read-only share), copying the
 * arguments out of guest memory (never WRITE data: that goes from the
 * guest's buffers to the file), writing replies into the guest's buffers,
 * and the INIT and DESTROY operations. */
#include "fs_server_int.h"
#include "cleanup.h"
#include "virtqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#define OUT_HDR sizeof(struct fuse_out_header)

/* ---- replies -------------------------------------------------------------- */

static void put_header(struct fs_req *r, int error, size_t len)
{
	struct fuse_out_header o = { .len = (uint32_t)len, .error = error, .unique = r->h.unique };

	(void)iov_from_buf(r->rep, r->nrep, 0, &o, sizeof(o));
	r->reply_len = (uint32_t)len;
}

size_t fs_reply_room(const struct fs_req *r)
{
	return r->rep_bytes > OUT_HDR ? r->rep_bytes - OUT_HDR : 0;
}

int fs_reply2(struct fs_req *r, const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen + blen > fs_reply_room(r))
		return -ERANGE;
	if (alen)
		(void)iov_from_buf(r->rep, r->nrep, OUT_HDR, a, alen);
	if (blen)
		(void)iov_from_buf(r->rep, r->nrep, OUT_HDR + alen, b, blen);
	put_header(r, 0, OUT_HDR + alen + blen);
	return 0;
}

int fs_reply(struct fs_req *r, const void *a, size_t alen)
{
	return fs_reply2(r, a, alen, NULL, 0);
}

int fs_reply_len(struct fs_req *r, size_t len)
{
	if (len > fs_reply_room(r))
		return -ERANGE;
	put_header(r, 0, OUT_HDR + len);
	return 0;
}

static void reply_error(struct fs_req *r, int err)
{
	if (err >= 0 || err <= -512)
		err = -EIO; /* only plain errnos reach the guest */
	put_header(r, err, OUT_HDR);
}

/* ---- INIT, DESTROY -------------------------------------------------------- */

static void forget_everything(struct fs_server *s)
{
	fs_handles_release_all(s);
	fs_nodes_forget_all(s);
}

static int op_init(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_init_in in = { 0 };
	struct fuse_init_out out = { .major = FUSE_KERNEL_VERSION };

	memcpy(&in, r->arg, r->arg_len < sizeof(in) ? r->arg_len : sizeof(in));
	if (in.major < FUSE_KERNEL_VERSION)
		return -EPROTO;
	if (in.major > FUSE_KERNEL_VERSION)
		return fs_reply(r, &out, 8); /* the kernel retries with ours */
	if (in.minor < FS_MIN_MINOR)
		return -EPROTO;
	if (atomic_load(&s->initialized))
		forget_everything(s); /* a new session without DESTROY */

	uint32_t want = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
			FUSE_DONT_MASK | FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES;
	if (s->cfg.cache != FS_CACHE_NEVER)
		want |= FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_CACHE_SYMLINKS;
	if (s->cfg.cache == FS_CACHE_AUTO)
		want |= FUSE_AUTO_INVAL_DATA;

	out.minor = in.minor < FUSE_KERNEL_MINOR_VERSION ? in.minor : FUSE_KERNEL_MINOR_VERSION;
	out.max_readahead = in.max_readahead;
	out.flags = in.flags & want;
	out.max_background = 64;
	out.congestion_threshold = 48;
	out.max_write = s->max_write;
	out.time_gran = 1;
	out.max_pages = (uint16_t)s->max_pages;
	atomic_store(&s->minor, out.minor);
	int ret = fs_reply(r, &out, sizeof(out));
	if (ret == 0)
		atomic_store(&s->initialized, true);
	return ret;
}

static int op_destroy(struct fs_req *r)
{
	atomic_store(&r->s->initialized, false);
	forget_everything(r->s);
	return fs_reply(r, NULL, 0);
}

static int op_enosys(struct fs_req *r)
{
	return -ENOSYS;
}

/* ---- the opcode table ----------------------------------------------------- */

enum {
	OP_MUT = 1,	    /* changes the share: EROFS when read-only */
	OP_NOREPLY = 2,	    /* the guest expects no reply */
	OP_FIXED_ONLY = 4,  /* copy only the fixed arguments (WRITE data, forget lists) */
	OP_BIG = 8,	    /* arguments may exceed FS_ARGS_MAX (xattr values) */
	OP_BEFORE_INIT = 16 /* allowed before INIT */
};

struct fs_op {
	int (*fn)(struct fs_req *r);
	uint16_t in_size;  /* fixed argument bytes */
	uint16_t out_size; /* fixed reply payload bytes, checked before the op runs */
	uint8_t flags;
};

#define OP(code, f, in, out, fl) [code] = { .fn = f, .in_size = in, .out_size = out, .flags = fl }

static const struct fs_op ops[] = {
	OP(FUSE_LOOKUP, fs_op_lookup, 0, sizeof(struct fuse_entry_out), 0),
	OP(FUSE_FORGET, fs_op_forget, sizeof(struct fuse_forget_in), 0, OP_NOREPLY),
	OP(FUSE_GETATTR, fs_op_getattr, sizeof(struct fuse_getattr_in),
	   sizeof(struct fuse_attr_out), 0),
	OP(FUSE_SETATTR, fs_op_setattr, sizeof(struct fuse_setattr_in),
	   sizeof(struct fuse_attr_out), OP_MUT),
	OP(FUSE_READLINK, fs_op_readlink, 0, 0, 0),
	OP(FUSE_SYMLINK, fs_op_symlink, 0, sizeof(struct fuse_entry_out), OP_MUT),
	OP(FUSE_MKNOD, fs_op_mknod, sizeof(struct fuse_mknod_in), sizeof(struct fuse_entry_out),
	   OP_MUT),
	OP(FUSE_MKDIR, fs_op_mkdir, sizeof(struct fuse_mkdir_in), sizeof(struct fuse_entry_out),
	   OP_MUT),
	OP(FUSE_UNLINK, fs_op_unlink, 0, 0, OP_MUT),
	OP(FUSE_RMDIR, fs_op_rmdir, 0, 0, OP_MUT),
	OP(FUSE_RENAME, fs_op_rename, sizeof(struct fuse_rename_in), 0, OP_MUT),
	OP(FUSE_LINK, fs_op_link, sizeof(struct fuse_link_in), sizeof(struct fuse_entry_out),
	   OP_MUT),
	OP(FUSE_OPEN, fs_op_open, sizeof(struct fuse_open_in), sizeof(struct fuse_open_out), 0),
	OP(FUSE_READ, fs_op_read, sizeof(struct fuse_read_in), 0, 0),
	OP(FUSE_WRITE, fs_op_write, sizeof(struct fuse_write_in), sizeof(struct fuse_write_out),
	   OP_MUT | OP_FIXED_ONLY),
	OP(FUSE_STATFS, fs_op_statfs, 0, sizeof(struct fuse_statfs_out), 0),
	OP(FUSE_RELEASE, fs_op_release, sizeof(struct fuse_release_in), 0, 0),
	OP(FUSE_FSYNC, fs_op_fsync, sizeof(struct fuse_fsync_in), 0, 0),
	OP(FUSE_SETXATTR, fs_op_setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE, 0, OP_MUT | OP_BIG),
	OP(FUSE_GETXATTR, fs_op_getxattr, sizeof(struct fuse_getxattr_in), 0, 0),
	OP(FUSE_LISTXATTR, fs_op_listxattr, sizeof(struct fuse_getxattr_in), 0, 0),
	OP(FUSE_REMOVEXATTR, fs_op_removexattr, 0, 0, OP_MUT),
	OP(FUSE_FLUSH, fs_op_flush, sizeof(struct fuse_flush_in), 0, 0),
	OP(FUSE_INIT, op_init, 16, 0, OP_BEFORE_INIT),
	OP(FUSE_OPENDIR, fs_op_opendir, sizeof(struct fuse_open_in), sizeof(struct fuse_open_out),
	   0),
	OP(FUSE_READDIR, fs_op_readdir, sizeof(struct fuse_read_in), 0, 0),
	OP(FUSE_RELEASEDIR, fs_op_releasedir, sizeof(struct fuse_release_in), 0, 0),
	OP(FUSE_FSYNCDIR, fs_op_fsyncdir, sizeof(struct fuse_fsync_in), 0, 0),
	OP(FUSE_GETLK, fs_op_getlk, sizeof(struct fuse_lk_in), sizeof(struct fuse_lk_out), 0),
	OP(FUSE_SETLK, fs_op_setlk, sizeof(struct fuse_lk_in), 0, 0),
	OP(FUSE_SETLKW, fs_op_setlkw, sizeof(struct fuse_lk_in), 0, 0),
	OP(FUSE_ACCESS, fs_op_access, sizeof(struct fuse_access_in), 0, 0),
	OP(FUSE_CREATE, fs_op_create, sizeof(struct fuse_create_in),
	   sizeof(struct fuse_entry_out) + sizeof(struct fuse_open_out), OP_MUT),
	OP(FUSE_INTERRUPT, fs_op_interrupt, sizeof(struct fuse_interrupt_in), 0, OP_NOREPLY),
	OP(FUSE_DESTROY, op_destroy, 0, 0, 0),
	OP(FUSE_BATCH_FORGET, fs_op_batch_forget, sizeof(struct fuse_batch_forget_in), 0,
	   OP_NOREPLY | OP_FIXED_ONLY),
	OP(FUSE_FALLOCATE, fs_op_fallocate, sizeof(struct fuse_fallocate_in), 0, OP_MUT),
	OP(FUSE_READDIRPLUS, fs_op_readdirplus, sizeof(struct fuse_read_in), 0, 0),
	OP(FUSE_RENAME2, fs_op_rename2, sizeof(struct fuse_rename2_in), 0, OP_MUT),
	OP(FUSE_LSEEK, fs_op_lseek, sizeof(struct fuse_lseek_in), sizeof(struct fuse_lseek_out), 0),
	OP(FUSE_COPY_FILE_RANGE, fs_op_copy_file_range, sizeof(struct fuse_copy_file_range_in),
	   sizeof(struct fuse_write_out), OP_MUT),
	OP(FUSE_SYNCFS, fs_op_syncfs, sizeof(struct fuse_syncfs_in), 0, 0),
};

static const struct fs_op enosys = { .fn = op_enosys };

static const struct fs_op *op_for(uint32_t opcode)
{
	if (opcode < sizeof(ops) / sizeof(ops[0]) && ops[opcode].fn)
		return &ops[opcode];
	return &enosys;
}

/* ---- fs_server_handle ----------------------------------------------------- */

static bool iov_total(const struct iovec *iov, unsigned n, size_t *total)
{
	size_t t = 0;

	for (unsigned i = 0; i < n; i++) {
		if (iov[i].iov_len > SIZE_MAX - t)
			return false;
		t += iov[i].iov_len;
	}
	*total = t;
	return true;
}

/* Run op on r with its arguments copied (or not, per op->flags). */
static int run(struct fs_req *r, const struct fs_op *op)
{
	struct fs_server *s = r->s;
	uint32_t arg_len = r->h.len - (uint32_t)sizeof(struct fuse_in_header);
	uint8_t buf[FS_ARGS_MAX];
	cleanup_free uint8_t *heap = NULL;
	uint32_t copy = arg_len;

	if (!(op->flags & OP_BEFORE_INIT) && !atomic_load(&s->initialized))
		return -EIO;
	if (arg_len < op->in_size)
		return -EINVAL;
	if ((op->flags & OP_MUT) && s->cfg.readonly)
		return -EROFS;
	if (op->out_size > fs_reply_room(r))
		return -EINVAL;
	if (op->flags & OP_FIXED_ONLY)
		copy = op->in_size;
	if (copy > sizeof(buf)) {
		if (!(op->flags & OP_BIG) || copy > FS_ARGS_MAX + FS_XATTR_MAX)
			return -E2BIG;
		heap = malloc(copy);
		if (!heap)
			return -ENOMEM;
	}
	uint8_t *arg = heap ? heap : buf;
	if (iov_to_buf(r->req, r->nreq, sizeof(struct fuse_in_header), arg, copy) != copy)
		return -EINVAL;
	r->arg = arg;
	r->arg_len = copy;
	return op->fn(r);
}

int fs_server_handle(struct fs_server *s, const struct iovec *req, unsigned nreq,
		     const struct iovec *rep, unsigned nrep, uint32_t *reply_len)
{
	size_t in_bytes, rep_bytes;
	struct fs_req r = { .s = s, .req = req, .nreq = nreq, .rep = rep, .nrep = nrep };

	*reply_len = 0;
	if (!iov_total(req, nreq, &in_bytes) || !iov_total(rep, nrep, &rep_bytes))
		return -EINVAL;
	if (in_bytes < sizeof(r.h))
		return -EINVAL;
	(void)iov_to_buf(req, nreq, 0, &r.h, sizeof(r.h));
	r.rep_bytes = rep_bytes;

	const struct fs_op *op = op_for(r.h.opcode);
	bool noreply = op->flags & OP_NOREPLY;
	if (!noreply && rep_bytes < OUT_HDR)
		return -ENOBUFS;
	if (r.h.len != in_bytes) {
		if (!noreply)
			reply_error(&r, -EINVAL);
		*reply_len = r.reply_len;
		return -EINVAL;
	}

	int ret = run(&r, op);
	if (noreply)
		return 0;
	if (ret == FS_NO_REPLY || (ret == 0 && r.reply_len == 0))
		ret = -EIO; /* a handler for a request that wants a reply must give one */
	if (ret < 0)
		reply_error(&r, ret);
	*reply_len = r.reply_len;
	return 0;
}

/* ---- lifetime ------------------------------------------------------------- */

static int check_config(const struct fs_server_config *cfg, struct kv_err *err)
{
	if (!cfg->path || !cfg->path[0])
		return kv_errf(err, -EINVAL, "virtio-fs: no shared directory given");
	if (cfg->cache != FS_CACHE_AUTO && cfg->cache != FS_CACHE_ALWAYS &&
	    cfg->cache != FS_CACHE_NEVER)
		return kv_errf(err, -EINVAL, "virtio-fs: %s: unknown cache mode %d", cfg->path,
			       (int)cfg->cache);
	if (cfg->max_write && (cfg->max_write < 4096 || cfg->max_write > FS_MAX_MAX_WRITE))
		return kv_errf(err, -EINVAL, "virtio-fs: %s: max_write %u outside 4096..%u bytes",
			       cfg->path, cfg->max_write, FS_MAX_MAX_WRITE);
	if (cfg->max_inodes > FS_MAX_TABLE || cfg->max_handles > FS_MAX_TABLE)
		return kv_errf(err, -EINVAL, "virtio-fs: %s: max_inodes/max_handles above %u",
			       cfg->path, FS_MAX_TABLE);
	return 0;
}

/* Serving files takes descriptors: use the whole soft limit the hard one allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	fs_fd_set_cap();
}

int fs_server_create(const struct fs_server_config *cfg, struct fs_server **out, struct kv_err *err)
{
	cleanup_close int root = -1, proc = -1;
	struct stat st;
	struct statfs sf;
	int ret = check_config(cfg, err);

	*out = NULL;
	if (ret < 0)
		return ret;
	root = open(cfg->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return kv_errno(err, -errno, "virtio-fs: shared directory %s", cfg->path);
	if (fstat(root, &st) < 0)
		return kv_errno(err, -errno, "virtio-fs: shared directory %s", cfg->path);
	proc = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return kv_errno(err, -errno, "virtio-fs: %s: /proc/self/fd", cfg->path);
	if (fstatfs(proc, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		return kv_errf(err, -ENOTSUP, "virtio-fs: %s: /proc is not procfs", cfg->path);

	struct fs_server *s = calloc(1, sizeof(*s));
	if (!s)
		return kv_errno(err, -ENOMEM, "virtio-fs: %s", cfg->path);
	s->root_fd = s->proc_fd = -1;
	s->cfg = *cfg;
	s->cfg.path = NULL; /* the caller's string: not ours to keep */
	s->max_write = cfg->max_write ? cfg->max_write : FS_DEFAULT_MAX_WRITE;
	s->max_pages = (s->max_write + 4095) / 4096;
	if (!s->cfg.max_inodes)
		s->cfg.max_inodes = FS_DEFAULT_MAX_INODES;
	if (!s->cfg.max_handles)
		s->cfg.max_handles = FS_DEFAULT_MAX_HANDLES;
	if (!s->cfg.max_lock_waiters)
		s->cfg.max_lock_waiters = FS_DEFAULT_LOCK_WAITERS;
	s->entry_timeout = s->attr_timeout = cfg->cache == FS_CACHE_ALWAYS ? 86400
					     : cfg->cache == FS_CACHE_AUTO ? 1
									   : 0;
	pthread_mutex_init(&s->mu, NULL);
	(void)fs_slots_init(&s->nodes, s->cfg.max_inodes);
	ret = fs_handles_init(s);
	if (ret == 0)
		ret = fs_locks_init(s);
	if (ret == 0)
		ret = fs_nodes_init(s, root, &st);
	if (ret < 0) {
		fs_server_destroy(s);
		return kv_errno(err, ret, "virtio-fs: %s", cfg->path);
	}
	s->root_fd = steal_fd(&root);
	s->proc_fd = steal_fd(&proc);
	raise_nofile();
	*out = s;
	return 0;
}

void fs_server_reset(struct fs_server *s)
{
	atomic_store(&s->initialized, false);
	forget_everything(s);
}

void fs_server_cancel(struct fs_server *s)
{
	atomic_fetch_add(&s->cancel_gen, 1);
}

void fs_server_destroy(struct fs_server *s)
{
	if (!s)
		return;
	fs_handles_fini(s);
	fs_nodes_fini(s);
	fs_locks_fini(s);
	pthread_mutex_destroy(&s->mu);
	if (s->root_fd >= 0)
		close(s->root_fd);
	if (s->proc_fd >= 0)
		close(s->proc_fd);
	free(s);
}
