/* fs_server_io.c - FUSE operations on open files.
 *
 * Owns: OPEN, READ, WRITE, RELEASE, FLUSH, FSYNC, FALLOCATE, LSEEK,
 * COPY_FILE_RANGE and SYNCFS. READ and WRITE move the data with one
 * preadv/pwritev straight between the file and the guest's buffers (the
 * descriptor chain's iovecs, sliced past the FUSE headers): no bounce copy.
 * They may block; the device runs them on its worker threads. */
#include "fs_server_int.h"
#include "virtqueue.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define OUT_HDR	  sizeof(struct fuse_out_header)
#define WRITE_HDR (sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in))
#define MAX_IOV	  1024 /* IOV_MAX, and the virtqueue's longest chain */

uint32_t fs_open_flags(const struct fs_server *s)
{
	switch (s->cfg.cache) {
	case FS_CACHE_ALWAYS:
		return FOPEN_KEEP_CACHE;
	case FS_CACHE_NEVER:
		return FOPEN_DIRECT_IO;
	default:
		return 0;
	}
}

/* The host open flags for the guest's: no creation here, no O_DIRECT
 * (the guest's buffers need not meet the host's alignment). */
int fs_host_flags(uint32_t guest)
{
	int keep = O_ACCMODE | O_APPEND | O_TRUNC | O_NONBLOCK | O_DSYNC | O_SYNC | O_NOATIME;
	return (int)guest & keep;
}

int fs_op_open(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_open_in in;
	struct fuse_open_out out = { .open_flags = fs_open_flags(s) };
	int ret;

	memcpy(&in, r->arg, sizeof(in));
	int flags = fs_host_flags(in.flags);
	if (s->cfg.readonly && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	struct fs_node *n = fs_node_get(s, r->h.nodeid);
	if (!n)
		return -ESTALE;
	if (n->type == S_IFDIR)
		ret = -EISDIR;
	else
		ret = fs_reopen(s, n, flags);
	if (ret >= 0)
		ret = fs_handle_new(s, ret, n, false, &out.fh);
	fs_node_put(s, n);
	if (ret < 0)
		return ret;
	ret = fs_reply(r, &out, sizeof(out));
	if (ret < 0)
		(void)fs_handle_release(s, out.fh, false);
	return ret;
}

int fs_op_read(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_read_in in;
	struct iovec v[MAX_IOV];
	size_t done = 0;
	int ret = 0;

	memcpy(&in, r->arg, sizeof(in));
	if (in.size > s->max_pages * 4096U || in.offset > INT64_MAX)
		return -EINVAL;
	size_t want = in.size < fs_reply_room(r) ? in.size : fs_reply_room(r);
	struct fs_handle *h = fs_handle_get(s, in.fh, false);
	if (!h)
		return -EBADF;
	while (done < want) {
		int nv = iov_slice(r->rep, r->nrep, OUT_HDR + done, want - done, v, MAX_IOV);
		if (nv < 0) {
			ret = -EINVAL;
			break;
		}
		ssize_t got = preadv(h->fd, v, nv, (off_t)(in.offset + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			break;
		}
		if (got == 0)
			break;
		done += (size_t)got;
	}
	fs_handle_put(s, h);
	if (ret < 0 && done == 0)
		return ret;
	return fs_reply_len(r, done);
}

int fs_op_write(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_write_in in;
	struct fuse_write_out out = { 0 };
	struct iovec v[MAX_IOV];
	size_t done = 0;
	int ret = 0;

	memcpy(&in, r->arg, sizeof(in));
	if (in.size != r->h.len - WRITE_HDR || in.size > s->max_write || in.offset > INT64_MAX)
		return -EINVAL;
	struct fs_handle *h = fs_handle_get(s, in.fh, false);
	if (!h)
		return -EBADF;
	while (done < in.size) {
		int nv = iov_slice(r->req, r->nreq, WRITE_HDR + done, in.size - done, v, MAX_IOV);
		if (nv < 0) {
			ret = -EINVAL;
			break;
		}
		ssize_t put = pwritev(h->fd, v, nv, (off_t)(in.offset + done));
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0) {
			ret = put < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)put;
	}
	fs_handle_put(s, h);
	if (ret < 0 && done == 0)
		return ret;
	out.size = (uint32_t)done;
	return fs_reply(r, &out, sizeof(out));
}

int fs_op_release(struct fs_req *r)
{
	struct fuse_release_in in;

	memcpy(&in, r->arg, sizeof(in));
	if (in.release_flags & FUSE_RELEASE_FLUSH) {
		struct fs_handle *h = fs_handle_get(r->s, in.fh, false);
		if (h)
			fs_lock_owner_drop(r->s, h->node, in.lock_owner);
		fs_handle_put(r->s, h);
	}
	int ret = fs_handle_release(r->s, in.fh, false);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_flush(struct fs_req *r)
{
	struct fuse_flush_in in;

	memcpy(&in, r->arg, sizeof(in));
	struct fs_handle *h = fs_handle_get(r->s, in.fh, false);
	if (!h)
		return -EBADF;
	/* close(2) in the guest: that process's POSIX locks on the file go. */
	fs_lock_owner_drop(r->s, h->node, in.lock_owner);
	fs_handle_put(r->s, h);
	return fs_reply(r, NULL, 0);
}

int fs_op_fsync(struct fs_req *r)
{
	struct fuse_fsync_in in;

	memcpy(&in, r->arg, sizeof(in));
	struct fs_handle *h = fs_handle_get(r->s, in.fh, false);
	if (!h)
		return -EBADF;
	int ret = (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(h->fd) : fsync(h->fd);
	ret = ret < 0 ? -errno : 0;
	fs_handle_put(r->s, h);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_fallocate(struct fs_req *r)
{
	struct fuse_fallocate_in in;

	memcpy(&in, r->arg, sizeof(in));
	if (in.offset > INT64_MAX || in.length > INT64_MAX)
		return -EINVAL;
	struct fs_handle *h = fs_handle_get(r->s, in.fh, false);
	if (!h)
		return -EBADF;
	int ret =
	    fallocate(h->fd, (int)in.mode, (off_t)in.offset, (off_t)in.length) < 0 ? -errno : 0;
	fs_handle_put(r->s, h);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_lseek(struct fs_req *r)
{
	struct fuse_lseek_in in;
	struct fuse_lseek_out out;

	memcpy(&in, r->arg, sizeof(in));
	if (in.offset > INT64_MAX || (in.whence != SEEK_DATA && in.whence != SEEK_HOLE &&
				      in.whence != SEEK_SET && in.whence != SEEK_END))
		return -EINVAL;
	struct fs_handle *h = fs_handle_get(r->s, in.fh, false);
	if (!h)
		return -EBADF;
	/* The descriptor's position is nobody's: READ and WRITE use offsets. */
	off_t pos = lseek(h->fd, (off_t)in.offset, (int)in.whence);
	int ret = pos < 0 ? -errno : 0;
	fs_handle_put(r->s, h);
	if (ret < 0)
		return ret;
	out.offset = (uint64_t)pos;
	return fs_reply(r, &out, sizeof(out));
}

int fs_op_copy_file_range(struct fs_req *r)
{
	struct fuse_copy_file_range_in in;
	struct fuse_write_out out = { 0 };

	memcpy(&in, r->arg, sizeof(in));
	if (in.flags || in.off_in > INT64_MAX || in.off_out > INT64_MAX)
		return -EINVAL;
	struct fs_handle *hi = fs_handle_get(r->s, in.fh_in, false);
	struct fs_handle *ho = fs_handle_get(r->s, in.fh_out, false);
	int ret = 0;
	if (!hi || !ho || ho->node->nodeid != in.nodeid_out) {
		ret = -EBADF;
		goto out;
	}
	/* The reply counts bytes in 32 bits. */
	size_t len = in.len < (1U << 30) ? (size_t)in.len : (1U << 30);
	loff_t oi = (loff_t)in.off_in, oo = (loff_t)in.off_out;
	ssize_t n = copy_file_range(hi->fd, &oi, ho->fd, &oo, len, 0);
	if (n < 0)
		ret = -errno;
	else
		out.size = (uint32_t)n;
out:
	fs_handle_put(r->s, hi);
	fs_handle_put(r->s, ho);
	return ret < 0 ? ret : fs_reply(r, &out, sizeof(out));
}

int fs_op_syncfs(struct fs_req *r)
{
	int ret = fs_fd_charge();

	if (ret < 0)
		return ret;
	int fd = openat(r->s->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fs_fd_uncharge();
		return ret;
	}
	ret = syncfs(fd) < 0 ? -errno : 0;
	fs_fd_close(fd);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}
