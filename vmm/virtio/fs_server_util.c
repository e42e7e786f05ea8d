/* fs_server_util.c - the FUSE server's building blocks shared by the ops.
 *
 * Owns: checking the names the guest sends, the one way a name becomes a
 * host descriptor (openat2 beneath its parent, never through a symlink or
 * a magic link), reopening our own O_PATH descriptors through /proc/self/fd,
 * attribute and entry replies, and acting with the guest caller's
 * credentials for the operations that create inodes: per-thread fsuid and
 * fsgid set with the raw system calls (glibc would not broadcast them, and
 * they must stay per thread), and the caller's umask in a per-thread
 * fs_struct (unshare(CLONE_FS)) so that the host kernel applies it, or a
 * parent's default ACL instead, exactly as a local file system does. */
#include "fs_server_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int fs_arg_name(const struct fs_req *r, size_t off, const char **name, size_t *next)
{
	if (off >= r->arg_len)
		return -EINVAL;
	const char *p = (const char *)r->arg + off;
	const char *nul = memchr(p, 0, r->arg_len - off);
	if (!nul)
		return -EINVAL;
	size_t len = (size_t)(nul - p);
	if (len == 0 || memchr(p, '/', len))
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (p[0] == '.' && (len == 1 || (len == 2 && p[1] == '.')))
		return -EINVAL;
	*name = p;
	*next = off + len + 1;
	return 0;
}

int fs_arg_last_name(const struct fs_req *r, size_t off, const char **name)
{
	size_t next;
	int ret = fs_arg_name(r, off, name, &next);

	if (ret == 0 && next != r->arg_len)
		return -EINVAL; /* bytes after the name: a NUL inside it */
	return ret;
}

int fs_open_beneath(const struct fs_server *s, int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   (s->cfg.cross_mounts ? 0 : RESOLVE_NO_XDEV),
	};
	int ret = fs_fd_charge();

	if (ret < 0)
		return ret;
	ret = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (ret < 0) {
		ret = -errno;
		fs_fd_uncharge();
		/* RESOLVE_NO_SYMLINKS refuses a symlink where O_NOFOLLOW
		 * would: the same answer a local open gives. */
		return ret == -ENFILE ? -EMFILE : ret;
	}
	return ret;
}

/* 1: this thread has its own fs_struct (its umask), -1: unshare failed. */
static __thread int thread_fs_own;

static bool own_fs_struct(void)
{
	if (thread_fs_own == 0)
		thread_fs_own = unshare(CLONE_FS) == 0 ? 1 : -1;
	return thread_fs_own > 0;
}

int fs_server_thread_init(void)
{
	return own_fs_struct() ? 0 : -errno;
}

void fs_proc_name(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "%d", fd);
}

void fs_proc_path(char *buf, size_t len, int fd)
{
	/* Absolute: the calling thread's cwd is its own business. */
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

int fs_reopen(struct fs_server *s, const struct fs_node *n, int flags)
{
	char name[16];
	int ret;

	if (n->type != S_IFREG && n->type != S_IFDIR)
		return n->type == S_IFLNK ? -ELOOP : -EINVAL;
	ret = fs_fd_charge();
	if (ret < 0)
		return ret;
	fs_proc_name(name, sizeof(name), n->fd);
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW | O_TMPFILE);
	/* The magic link is our own fd, to an inode already beneath the share. */
	ret = openat(s->proc_fd, name, flags | O_CLOEXEC);
	if (ret < 0) {
		ret = -errno;
		fs_fd_uncharge();
		return ret == -ENFILE ? -EMFILE : ret;
	}
	return ret;
}

int fs_opath_of(struct fs_server *s, int fd)
{
	char name[16];
	int ret = fs_fd_charge();

	if (ret < 0)
		return ret;
	fs_proc_name(name, sizeof(name), fd);
	ret = openat(s->proc_fd, name, O_PATH | O_CLOEXEC);
	if (ret < 0) {
		ret = errno == ENFILE ? -EMFILE : -errno;
		fs_fd_uncharge();
	}
	return ret;
}

int fs_stat_fd(int fd, struct stat *st)
{
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

uint32_t fs_encode_dev(dev_t d)
{
	uint32_t ma = major(d), mi = minor(d);
	return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffU) << 12);
}

dev_t fs_decode_dev(uint32_t d)
{
	return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

void fs_fill_attr(struct fuse_attr *a, const struct stat *st)
{
	*a = (struct fuse_attr){
		.ino = st->st_ino,
		.size = (uint64_t)st->st_size,
		.blocks = (uint64_t)st->st_blocks,
		.atime = (uint64_t)st->st_atim.tv_sec,
		.mtime = (uint64_t)st->st_mtim.tv_sec,
		.ctime = (uint64_t)st->st_ctim.tv_sec,
		.atimensec = (uint32_t)st->st_atim.tv_nsec,
		.mtimensec = (uint32_t)st->st_mtim.tv_nsec,
		.ctimensec = (uint32_t)st->st_ctim.tv_nsec,
		.mode = st->st_mode,
		.nlink = (uint32_t)st->st_nlink,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.rdev = fs_encode_dev(st->st_rdev),
		.blksize = (uint32_t)st->st_blksize,
	};
}

void fs_fill_entry(struct fs_server *s, struct fuse_entry_out *e, uint64_t nodeid,
		   const struct stat *st)
{
	*e = (struct fuse_entry_out){
		.nodeid = nodeid,
		.entry_valid = s->entry_timeout,
		.attr_valid = s->attr_timeout,
	};
	fs_fill_attr(&e->attr, st);
}

int fs_do_lookup(struct fs_server *s, int dirfd, const char *name, struct fuse_entry_out *e)
{
	struct stat st;
	int fd = fs_open_beneath(s, dirfd, name, O_PATH, 0);
	int ret;

	if (fd < 0)
		return fd;
	ret = fs_stat_fd(fd, &st);
	if (ret < 0) {
		fs_fd_close(fd);
		return ret;
	}
	int64_t id = fs_node_lookup_fd(s, &fd, &st);
	if (id < 0)
		return (int)id;
	fs_fill_entry(s, e, (uint64_t)id, &st);
	return 0;
}

/* ---- credentials ---------------------------------------------------------- */

static uint32_t fsuid_now(void)
{
	return (uint32_t)syscall(SYS_setfsuid, -1);
}

static uint32_t fsgid_now(void)
{
	return (uint32_t)syscall(SYS_setfsgid, -1);
}

/* Switching fsuid away from 0 drops the file-system capabilities from the
 * effective set. Keep CAP_DAC_OVERRIDE (the guest kernel already checked
 * permissions, with supplementary groups the host does not know) and
 * CAP_MKNOD (the guest kernel checked that too); CAP_FSETID and CAP_FOWNER
 * stay dropped so setgid inheritance follows the caller as locally. */
static void raise_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return;
	uint32_t want = (1U << CAP_DAC_OVERRIDE) | (1U << CAP_MKNOD);
	data[0].effective |= want & data[0].permitted;
	(void)syscall(SYS_capset, &hdr, data);
}

int fs_creds_enter(const struct fs_req *r, mode_t umask_bits, struct fs_creds *c)
{
	*c = (struct fs_creds){ 0 };
	if (own_fs_struct()) {
		c->old_umask = umask(umask_bits & 0777);
		c->umask_set = true;
	}

	uint32_t uid = fsuid_now(), gid = fsgid_now();
	if (r->h.uid == uid && r->h.gid == gid)
		return 0;
	if (uid != 0)
		return 0; /* unprivileged VMM: files belong to it, as they must */
	if (r->h.uid == UINT32_MAX || r->h.gid == UINT32_MAX) {
		fs_creds_leave(c);
		return -EINVAL;
	}
	(void)syscall(SYS_setfsgid, r->h.gid);
	(void)syscall(SYS_setfsuid, r->h.uid);
	c->switched = true;
	if (fsuid_now() != r->h.uid || fsgid_now() != r->h.gid) {
		fs_creds_leave(c);
		return -EPERM;
	}
	if (r->h.uid != 0)
		raise_caps();
	return 0;
}

void fs_creds_leave(struct fs_creds *c)
{
	if (c->switched) {
		/* Back to fsuid 0 restores the capabilities from the permitted set. */
		(void)syscall(SYS_setfsuid, 0);
		(void)syscall(SYS_setfsgid, 0);
		c->switched = false;
	}
	if (c->umask_set) {
		umask(c->old_umask);
		c->umask_set = false;
	}
}
