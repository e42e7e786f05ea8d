/* fs_server_mk.c - FUSE operations that create, link, remove and rename names.
 *
 * Owns: MKNOD, MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME, RENAME2 and
 * CREATE. Each works on one checked name relative to its parent's O_PATH
 * descriptor with the *at() system calls, which never follow a final
 * symlink. Inodes are created with the guest caller's fsuid, fsgid and
 * umask (fs_creds_enter), so ownership, setgid directories and default
 * ACLs come out as on a local file system. CREATE only ever opens a regular
 * file: an existing name is looked up with O_PATH and checked first, so a
 * guest cannot have the host open a device node or a FIFO it made. */
#include "fs_server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The directory node r->h.nodeid, referenced; NULL with *err set. */
static struct fs_node *get_dir(struct fs_req *r, uint64_t nodeid, int *err)
{
	struct fs_node *n = fs_node_get(r->s, nodeid);

	if (!n) {
		*err = -ESTALE;
		return NULL;
	}
	if (n->type != S_IFDIR) {
		fs_node_put(r->s, n);
		*err = -ENOTDIR;
		return NULL;
	}
	return n;
}

/* Reply with the entry for the name just made in p. */
static int reply_new_entry(struct fs_req *r, struct fs_node *p, const char *name)
{
	struct fuse_entry_out e;
	int ret = fs_do_lookup(r->s, p->fd, name, &e);

	if (ret < 0)
		return ret;
	ret = fs_reply(r, &e, sizeof(e));
	if (ret < 0)
		fs_node_forget(r->s, e.nodeid, 1);
	return ret;
}

int fs_op_mknod(struct fs_req *r)
{
	struct fuse_mknod_in in;
	struct fs_creds c;
	const char *name;
	int ret;

	memcpy(&in, r->arg, sizeof(in));
	ret = fs_arg_last_name(r, sizeof(in), &name);
	if (ret < 0)
		return ret;
	mode_t type = in.mode & S_IFMT;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && type != S_IFCHR &&
	    type != S_IFBLK)
		return -EINVAL;
	dev_t dev = (type == S_IFCHR || type == S_IFBLK) ? fs_decode_dev(in.rdev) : 0;
	struct fs_node *p = get_dir(r, r->h.nodeid, &ret);
	if (!p)
		return ret;
	ret = fs_creds_enter(r, in.umask, &c);
	if (ret == 0) {
		ret = mknodat(p->fd, name, type | (in.mode & 07777), dev) < 0 ? -errno : 0;
		fs_creds_leave(&c);
	}
	if (ret == 0)
		ret = reply_new_entry(r, p, name);
	fs_node_put(r->s, p);
	return ret;
}

int fs_op_mkdir(struct fs_req *r)
{
	struct fuse_mkdir_in in;
	struct fs_creds c;
	const char *name;
	int ret;

	memcpy(&in, r->arg, sizeof(in));
	ret = fs_arg_last_name(r, sizeof(in), &name);
	if (ret < 0)
		return ret;
	struct fs_node *p = get_dir(r, r->h.nodeid, &ret);
	if (!p)
		return ret;
	ret = fs_creds_enter(r, in.umask, &c);
	if (ret == 0) {
		ret = mkdirat(p->fd, name, in.mode & 07777) < 0 ? -errno : 0;
		fs_creds_leave(&c);
	}
	if (ret == 0)
		ret = reply_new_entry(r, p, name);
	fs_node_put(r->s, p);
	return ret;
}

int fs_op_symlink(struct fs_req *r)
{
	struct fs_creds c;
	const char *name;
	size_t next;
	int ret = fs_arg_name(r, 0, &name, &next);

	if (ret < 0)
		return ret;
	/* The target is data: any bytes but NUL, never resolved here. */
	const char *target = (const char *)r->arg + next;
	size_t left = r->arg_len - next;
	const char *nul = left ? memchr(target, 0, left) : NULL;
	if (!nul || (size_t)(nul - target) + 1 != left)
		return -EINVAL;
	if (left > PATH_MAX)
		return -ENAMETOOLONG;
	struct fs_node *p = get_dir(r, r->h.nodeid, &ret);
	if (!p)
		return ret;
	ret = fs_creds_enter(r, 0, &c);
	if (ret == 0) {
		ret = symlinkat(target, p->fd, name) < 0 ? -errno : 0;
		fs_creds_leave(&c);
	}
	if (ret == 0)
		ret = reply_new_entry(r, p, name);
	fs_node_put(r->s, p);
	return ret;
}

int fs_op_link(struct fs_req *r)
{
	struct fuse_link_in in;
	const char *name;
	int ret;

	memcpy(&in, r->arg, sizeof(in));
	ret = fs_arg_last_name(r, sizeof(in), &name);
	if (ret < 0)
		return ret;
	struct fs_node *old = fs_node_get(r->s, in.oldnodeid);
	if (!old)
		return -ESTALE;
	struct fs_node *p = old->type == S_IFDIR ? NULL : get_dir(r, r->h.nodeid, &ret);
	if (old->type == S_IFDIR)
		ret = -EPERM;
	if (p) {
		/* The inode itself, by descriptor: AT_EMPTY_PATH (CAP_DAC_READ_SEARCH),
		 * else the magic link of our own fd. */
		ret = linkat(old->fd, "", p->fd, name, AT_EMPTY_PATH) < 0 ? -errno : 0;
		if (ret == -ENOENT || ret == -EPERM) {
			char num[16];
			fs_proc_name(num, sizeof(num), old->fd);
			if (linkat(r->s->proc_fd, num, p->fd, name, AT_SYMLINK_FOLLOW) < 0)
				ret = -errno;
			else
				ret = 0;
		}
		if (ret == 0)
			ret = reply_new_entry(r, p, name);
		fs_node_put(r->s, p);
	}
	fs_node_put(r->s, old);
	return ret;
}

static int do_unlink(struct fs_req *r, int flags)
{
	const char *name;
	int ret = fs_arg_last_name(r, 0, &name);

	if (ret < 0)
		return ret;
	struct fs_node *p = get_dir(r, r->h.nodeid, &ret);
	if (!p)
		return ret;
	ret = unlinkat(p->fd, name, flags) < 0 ? -errno : 0;
	fs_node_put(r->s, p);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_unlink(struct fs_req *r)
{
	return do_unlink(r, 0);
}

int fs_op_rmdir(struct fs_req *r)
{
	return do_unlink(r, AT_REMOVEDIR);
}

static int do_rename(struct fs_req *r, uint64_t newdir, uint32_t flags, size_t fixed)
{
	const char *oldname, *newname;
	size_t next;
	struct fs_creds c;
	int ret;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	ret = fs_arg_name(r, fixed, &oldname, &next);
	if (ret == 0)
		ret = fs_arg_last_name(r, next, &newname);
	if (ret < 0)
		return ret;
	struct fs_node *op = get_dir(r, r->h.nodeid, &ret);
	if (!op)
		return ret;
	struct fs_node *np = get_dir(r, newdir, &ret);
	if (np) {
		/* A whiteout is a new inode: the caller's. */
		ret = (flags & RENAME_WHITEOUT) ? fs_creds_enter(r, 0, &c) : 0;
		if (ret == 0) {
			ret = renameat2(op->fd, oldname, np->fd, newname, flags) < 0 ? -errno : 0;
			if (flags & RENAME_WHITEOUT)
				fs_creds_leave(&c);
		}
		fs_node_put(r->s, np);
	}
	fs_node_put(r->s, op);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

int fs_op_rename(struct fs_req *r)
{
	struct fuse_rename_in in;

	memcpy(&in, r->arg, sizeof(in));
	return do_rename(r, in.newdir, 0, sizeof(in));
}

int fs_op_rename2(struct fs_req *r)
{
	struct fuse_rename2_in in;

	memcpy(&in, r->arg, sizeof(in));
	return do_rename(r, in.newdir, in.flags, sizeof(in));
}

/* Open name in p for CREATE: create it (O_EXCL) as the caller, or, when
 * it exists and the guest allows that, open it only if it is a regular
 * file. Returns the open fd; *opath gets an O_PATH fd of the same inode. */
static int create_open(struct fs_req *r, struct fs_node *p, const char *name,
		       const struct fuse_create_in *in, int *opath)
{
	struct fs_server *s = r->s;
	int flags = fs_host_flags(in->flags);
	struct fs_creds c;
	struct stat st;
	int fd, ret;

	ret = fs_creds_enter(r, in->umask, &c);
	if (ret < 0)
		return ret;
	fd = fs_open_beneath(s, p->fd, name, flags | O_CREAT | O_EXCL, in->mode & 07777);
	fs_creds_leave(&c);
	if (fd >= 0 || fd != -EEXIST || (in->flags & O_EXCL)) {
		if (fd >= 0) {
			*opath = fs_opath_of(s, fd);
			if (*opath < 0) {
				ret = *opath;
				fs_fd_close(fd);
				return ret;
			}
		}
		return fd;
	}
	/* It exists: the inode behind the name, then only a regular file. */
	*opath = fs_open_beneath(s, p->fd, name, O_PATH, 0);
	if (*opath < 0)
		return *opath;
	ret = fs_stat_fd(*opath, &st);
	if (ret == 0 && !S_ISREG(st.st_mode))
		ret = S_ISDIR(st.st_mode) ? -EISDIR : S_ISLNK(st.st_mode) ? -ELOOP : -EACCES;
	if (ret == 0) {
		struct fs_node tmp = { .fd = *opath, .type = S_IFREG };
		ret = fs_reopen(s, &tmp, flags);
	}
	if (ret < 0) {
		fs_fd_close(*opath);
		*opath = -1;
	}
	return ret;
}

int fs_op_create(struct fs_req *r)
{
	struct fs_server *s = r->s;
	struct fuse_create_in in;
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out = { 0 };
	const char *name;
	struct stat st;
	int ret, opath = -1;

	memcpy(&in, r->arg, sizeof(in));
	ret = fs_arg_last_name(r, sizeof(in), &name);
	if (ret < 0)
		return ret;
	struct fs_node *p = get_dir(r, r->h.nodeid, &ret);
	if (!p)
		return ret;
	int fd = create_open(r, p, name, &in, &opath);
	fs_node_put(s, p);
	if (fd < 0)
		return fd;
	ret = fs_stat_fd(opath, &st);
	if (ret < 0) {
		fs_fd_close(opath);
		fs_fd_close(fd);
		return ret;
	}
	int64_t id = fs_node_lookup_fd(s, &opath, &st);
	if (id < 0) {
		fs_fd_close(fd);
		return (int)id;
	}
	fs_fill_entry(s, &out.e, (uint64_t)id, &st);
	struct fs_node *n = fs_node_get(s, (uint64_t)id);
	ret = n ? fs_handle_new(s, fd, n, false, &out.o.fh) : -ESTALE;
	if (!n)
		fs_fd_close(fd);
	fs_node_put(s, n);
	if (ret == 0) {
		out.o.open_flags = fs_open_flags(s);
		ret = fs_reply(r, &out, sizeof(out));
		if (ret < 0)
			(void)fs_handle_release(s, out.o.fh, false);
	}
	if (ret < 0)
		fs_node_forget(s, (uint64_t)id, 1);
	return ret;
}
