/* fs_server_dir.c - FUSE operations on directories.
 *
 * Owns: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR and FSYNCDIR. A directory
 * handle reads the host directory with getdents64 into a one-page buffer
 * and hands out entries with their host d_off as the FUSE offset, so that a
 * READDIR continuing where the last one stopped is served from the buffer
 * and any other offset is an lseek (the host's cookies are stable). For
 * READDIRPLUS each entry but "." and ".." is looked up (the guest gains a
 * reference, as with LOOKUP); when the node table or the descriptor budget
 * is three quarters full, or a lookup fails, the entry goes out without a
 * node (nodeid 0), which the guest accepts and later looks up on its own. */
#include "fs_server_int.h"
#include "virtqueue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_HDR sizeof(struct fuse_out_header)

struct fs_dirbuf {
	uint64_t next_off; /* the offset at which the buffered entries continue */
	size_t pos, len;
	char buf[4096];
};

/* The host's getdents64 record (glibc declares the call, not the struct). */
struct host_dirent {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

void fs_dirbuf_free(struct fs_dirbuf *db)
{
	free(db);
}

int fs_op_opendir(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_open_out out = { 0 };
	int ret;

	if (s->cfg.cache == FS_CACHE_ALWAYS)
		out.open_flags = FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
	struct fs_node *n = fs_node_get(s, r->h.nodeid);
	if (!n)
		return -ESTALE;
	ret = n->type == S_IFDIR ? fs_fd_charge() : -ENOTDIR;
	if (ret == 0) {
		ret = openat(n->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (ret < 0) {
			ret = errno == ENFILE ? -EMFILE : -errno;
			fs_fd_uncharge();
		}
	}
	if (ret >= 0)
		ret = fs_handle_new(s, ret, n, true, &out.fh);
	fs_node_put(s, n);
	if (ret < 0)
		return ret;
	ret = fs_reply(r, &out, sizeof(out));
	if (ret < 0)
		(void)fs_handle_release(s, out.fh, true);
	return ret;
}

static bool is_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* Put one entry at payload offset *used; 0, or 1 when the entry is to be
 * skipped (it vanished), or -ENOSPC when it does not fit. */
static int put_entry(struct fs_req *r, struct fs_handle *h, const struct host_dirent *d,
		     size_t namelen, bool plus, size_t room, size_t *used)
{
	struct fs_server *s = r->s;
	union {
		struct fuse_direntplus p;
		uint8_t bytes[FUSE_NAME_OFFSET_DIRENTPLUS + NAME_MAX + 1 + 8];
	} e;
	size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	size_t size = FUSE_DIRENT_ALIGN(hdr + namelen);
	struct fuse_dirent *de = plus ? &e.p.dirent : (struct fuse_dirent *)e.bytes;

	if (*used + size > room)
		return -ENOSPC;
	memset(e.bytes, 0, size);
	*de = (struct fuse_dirent){
		.ino = d->d_ino,
		.off = (uint64_t)d->d_off,
		.namelen = (uint32_t)namelen,
		.type = d->d_type,
	};
	memcpy(e.bytes + hdr, d->d_name, namelen);
	if (plus && !is_dot(d->d_name) && fs_nodes_roomy(s)) {
		int ret = fs_do_lookup(s, h->fd, d->d_name, &e.p.entry_out);
		if (ret == -ENOENT)
			return 1;
		if (ret == 0)
			de->type = (e.p.entry_out.attr.mode & S_IFMT) >> 12;
		else
			memset(&e.p.entry_out, 0, sizeof(e.p.entry_out));
	}
	(void)iov_from_buf(r->rep, r->nrep, OUT_HDR + *used, e.bytes, size);
	*used += size;
	return 0;
}

static int do_readdir(struct fs_req *r, bool plus)
{
	struct fs_server *s = r->s;
	struct fuse_read_in in;
	size_t used = 0;
	int ret = 0;

	memcpy(&in, r->arg, sizeof(in));
	if (in.size > s->max_pages * 4096U || in.offset > INT64_MAX)
		return -EINVAL;
	size_t room = in.size < fs_reply_room(r) ? in.size : fs_reply_room(r);
	struct fs_handle *h = fs_handle_get(s, in.fh, true);
	if (!h)
		return -EBADF;
	pthread_mutex_lock(&h->dir_mu);
	if (!h->db) {
		h->db = malloc(sizeof(*h->db));
		if (!h->db) {
			ret = -ENOMEM;
			goto out;
		}
		h->db->next_off = 0;
		h->db->pos = h->db->len = 0;
	}
	struct fs_dirbuf *db = h->db;
	if (in.offset != db->next_off) {
		if (lseek(h->fd, (off_t)in.offset, SEEK_SET) < 0) {
			ret = -errno;
			goto out;
		}
		db->pos = db->len = 0;
		db->next_off = in.offset;
	}
	for (;;) {
		if (db->pos >= db->len) {
			ssize_t n = getdents64(h->fd, db->buf, sizeof(db->buf));
			if (n <= 0) {
				if (n < 0 && used == 0)
					ret = -errno;
				break;
			}
			db->pos = 0;
			db->len = (size_t)n;
		}
		const struct host_dirent *d = (const void *)(db->buf + db->pos);
		size_t fixed = offsetof(struct host_dirent, d_name);
		if (db->len - db->pos < fixed || d->d_reclen <= fixed ||
		    d->d_reclen > db->len - db->pos) {
			ret = used ? 0 : -EIO;
			db->pos = db->len;
			break;
		}
		size_t namelen = strnlen(d->d_name, d->d_reclen - fixed);
		int put = put_entry(r, h, d, namelen, plus, room, &used);
		if (put == -ENOSPC) {
			if (used == 0)
				ret = -EINVAL; /* the guest's buffer holds not one entry */
			break;
		}
		db->pos += d->d_reclen;
		db->next_off = (uint64_t)d->d_off;
	}
out:
	pthread_mutex_unlock(&h->dir_mu);
	fs_handle_put(s, h);
	return ret < 0 ? ret : fs_reply_len(r, used);
}

int fs_op_readdir(struct fs_req *r)
{
	return do_readdir(r, false);
}

int fs_op_readdirplus(struct fs_req *r)
{
	return do_readdir(r, true);
}

int fs_op_releasedir(struct fs_req *r)
{
	struct fuse_release_in in;

	memcpy(&in, r->arg, sizeof(in));
	int ret = fs_handle_release(r->s, in.fh, true);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_fsyncdir(struct fs_req *r)
{
	struct fuse_fsync_in in;

	memcpy(&in, r->arg, sizeof(in));
	struct fs_handle *h = fs_handle_get(r->s, in.fh, true);
	if (!h)
		return -EBADF;
	int ret = (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(h->fd) : fsync(h->fd);
	ret = ret < 0 ? -errno : 0;
	fs_handle_put(r->s, h);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}
