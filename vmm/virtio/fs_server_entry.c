/* fs_server_entry.c - FUSE operations on names and attributes.
 *
 * Owns: LOOKUP, FORGET, BATCH_FORGET, GETATTR, SETATTR, READLINK, STATFS
 * and ACCESS. Everything here works on a node's O_PATH descriptor: stat,
 * chown, utimensat and readlink take it with AT_EMPTY_PATH; chmod, which
 * has no such form before Linux 6.6, follows the magic link of our own
 * descriptor in /proc/self/fd; truncation opens the node again (regular files only). */
#include "fs_server_int.h"
#include "virtqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

int fs_op_lookup(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_entry_out e;
	const char *name;
	int ret = fs_arg_last_name(r, 0, &name);

	if (ret < 0)
		return ret;
	struct fs_node *p = fs_node_get(s, r->h.nodeid);
	if (!p)
		return -ESTALE;
	ret = p->type == S_IFDIR ? fs_do_lookup(s, p->fd, name, &e) : -ENOTDIR;
	fs_node_put(s, p);
	if (ret < 0)
		return ret;
	ret = fs_reply(r, &e, sizeof(e));
	if (ret < 0)
		fs_node_forget(s, e.nodeid, 1);
	return ret;
}

int fs_op_forget(struct fs_req *r)
{
	struct fuse_forget_in in;

	memcpy(&in, r->arg, sizeof(in));
	fs_node_forget(r->s, r->h.nodeid, in.nlookup);
	return FS_NO_REPLY;
}

int fs_op_batch_forget(struct fs_req *r)
{
	struct fuse_batch_forget_in in;
	struct fuse_forget_one one[64];
	size_t off = sizeof(struct fuse_in_header) + sizeof(in);

	memcpy(&in, r->arg, sizeof(in));
	/* Only the entries that are really there, however many count claims. */
	uint64_t avail = (r->h.len - off) / sizeof(one[0]);
	uint64_t n = in.count < avail ? in.count : avail;
	while (n) {
		unsigned k = n < 64 ? (unsigned)n : 64;
		size_t got = iov_to_buf(r->req, r->nreq, off, one, k * sizeof(one[0]));
		if (got != k * sizeof(one[0]))
			break;
		for (unsigned i = 0; i < k; i++)
			fs_node_forget(r->s, one[i].nodeid, one[i].nlookup);
		off += got;
		n -= k;
	}
	return FS_NO_REPLY;
}

static int reply_attr(struct fs_req *r, int fd)
{
	struct fuse_attr_out out = { .attr_valid = r->s->attr_timeout };
	struct stat st;
	int ret = fs_stat_fd(fd, &st);

	if (ret < 0)
		return ret;
	fs_fill_attr(&out.attr, &st);
	return fs_reply(r, &out, sizeof(out));
}

int fs_op_getattr(struct fs_req *r)
{
	struct fs_node *n = fs_node_get(r->s, r->h.nodeid);
	int ret;

	if (!n)
		return -ESTALE;
	ret = reply_attr(r, n->fd);
	fs_node_put(r->s, n);
	return ret;
}

static int set_size(struct fs_server *s, struct fs_node *n, struct fs_handle *h, uint64_t size)
{
	if (size > INT64_MAX)
		return -EFBIG;
	if (h && ftruncate(h->fd, (off_t)size) == 0)
		return 0;
	if (n->type == S_IFDIR)
		return -EISDIR;
	if (n->type != S_IFREG)
		return -EINVAL;
	int fd = fs_reopen(s, n, O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	int ret = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	fs_fd_close(fd);
	return ret;
}

static int set_times(struct fs_node *n, const struct fuse_setattr_in *in)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

	if (in->valid & FATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (in->valid & FATTR_ATIME)
		ts[0] = (struct timespec){ .tv_sec = (time_t)in->atime, .tv_nsec = in->atimensec };
	if (in->valid & FATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (in->valid & FATTR_MTIME)
		ts[1] = (struct timespec){ .tv_sec = (time_t)in->mtime, .tv_nsec = in->mtimensec };
	for (int i = 0; i < 2; i++)
		if (ts[i].tv_nsec != UTIME_NOW && ts[i].tv_nsec != UTIME_OMIT &&
		    (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000L))
			return -EINVAL;
	if (utimensat(n->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int do_setattr(struct fs_server *s, struct fs_node *n, struct fs_handle *h,
		      const struct fuse_setattr_in *in)
{
	int ret;

	if (in->valid & FATTR_MODE) {
		char name[16];
		if (n->type == S_IFLNK)
			return -EOPNOTSUPP;
		fs_proc_name(name, sizeof(name), n->fd);
		if (fchmodat(s->proc_fd, name, in->mode & 07777, 0) < 0)
			return -errno;
	}
	if (in->valid & (FATTR_UID | FATTR_GID)) {
		uid_t uid = (in->valid & FATTR_UID) ? in->uid : (uid_t)-1;
		gid_t gid = (in->valid & FATTR_GID) ? in->gid : (gid_t)-1;
		if (fchownat(n->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (in->valid & FATTR_SIZE) {
		ret = set_size(s, n, h, in->size);
		if (ret < 0)
			return ret;
	}
	if (in->valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) {
		ret = set_times(n, in);
		if (ret < 0)
			return ret;
	}
	/* FATTR_CTIME cannot be set; FATTR_LOCKOWNER needs nothing. */
	return 0;
}

int fs_op_setattr(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_setattr_in in;
	struct fs_handle *h = NULL;
	int ret;

	memcpy(&in, r->arg, sizeof(in));
	struct fs_node *n = fs_node_get(s, r->h.nodeid);
	if (!n)
		return -ESTALE;
	if (in.valid & FATTR_FH) {
		h = fs_handle_get(s, in.fh, false);
		if (!h || h->node != n) {
			ret = -EBADF;
			goto out;
		}
	}
	ret = do_setattr(s, n, h, &in);
	if (ret == 0)
		ret = reply_attr(r, n->fd);
out:
	fs_handle_put(s, h);
	fs_node_put(s, n);
	return ret;
}

int fs_op_readlink(struct fs_req *r)
{
	char buf[PATH_MAX];
	struct fs_node *n = fs_node_get(r->s, r->h.nodeid);
	ssize_t len;

	if (!n)
		return -ESTALE;
	len = n->type == S_IFLNK ? readlinkat(n->fd, "", buf, sizeof(buf)) : -1;
	int ret = n->type != S_IFLNK ? -EINVAL : len < 0 ? -errno : 0;
	fs_node_put(r->s, n);
	if (ret < 0)
		return ret;
	if ((size_t)len >= sizeof(buf))
		return -ENAMETOOLONG;
	return fs_reply(r, buf, (size_t)len);
}

int fs_op_statfs(struct fs_req *r)
{
	struct fuse_statfs_out out = { 0 };
	struct statfs sf;
	struct fs_node *n = fs_node_get(r->s, r->h.nodeid);
	int ret;

	if (!n)
		return -ESTALE;
	ret = fstatfs(n->fd, &sf) < 0 ? -errno : 0;
	fs_node_put(r->s, n);
	if (ret < 0)
		return ret;
	out.st = (struct fuse_kstatfs){
		.blocks = sf.f_blocks,
		.bfree = sf.f_bfree,
		.bavail = sf.f_bavail,
		.files = sf.f_files,
		.ffree = sf.f_ffree,
		.bsize = (uint32_t)sf.f_bsize,
		.namelen = (uint32_t)sf.f_namelen,
		.frsize = (uint32_t)sf.f_frsize,
	};
	return fs_reply(r, &out, sizeof(out));
}

/* The guest kernel checks permissions itself (virtiofs mounts with
 * default_permissions), so ACCESS only arrives from other clients: answer
 * it from the mode bits and the caller's uid/gid, as the guest would. */
int fs_op_access(struct fs_req *r)
{
	struct fuse_access_in in;
	struct stat st;
	struct fs_node *n = fs_node_get(r->s, r->h.nodeid);
	int ret;

	memcpy(&in, r->arg, sizeof(in));
	if (!n)
		return -ESTALE;
	ret = fs_stat_fd(n->fd, &st);
	fs_node_put(r->s, n);
	if (ret < 0)
		return ret;
	unsigned mask = in.mask & (R_OK | W_OK | X_OK);
	if ((mask & W_OK) && r->s->cfg.readonly)
		return -EROFS;
	if (r->h.uid == 0) {
		if ((mask & X_OK) && !S_ISDIR(st.st_mode) && !(st.st_mode & 0111))
			return -EACCES;
		return fs_reply(r, NULL, 0);
	}
	unsigned bits = r->h.uid == st.st_uid	? (st.st_mode >> 6) & 7
			: r->h.gid == st.st_gid ? (st.st_mode >> 3) & 7
						: st.st_mode & 7;
	return (mask & ~bits) ? -EACCES : fs_reply(r, NULL, 0);
}
