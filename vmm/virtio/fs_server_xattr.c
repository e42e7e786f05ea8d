/* fs_server_xattr.c - FUSE extended-attribute operations.
 *
 * Owns: SETXATTR, GETXATTR, LISTXATTR and REMOVEXATTR. An O_PATH
 * descriptor has no f*xattr() form, and an inode may be a symlink or a
 * special file we must not open, so each call goes through the magic link
 * /proc/self/fd/N of the node's own descriptor: the walk lands on that
 * inode and stops there (a symlink's own attributes, never its target's).
 * (So /proc must be mounted in the VMM's root, as fs_server_create checks.)
 * Every namespace passes through as the host kernel allows it to root:
 * trusted.overlay.* for an overlayfs the guest builds on the share,
 * security.capability for file capabilities, system.posix_acl_*, user.*. */
#include "fs_server_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

/* A NUL-terminated attribute name at r->arg + off: 1..255 bytes. */
static int xattr_name(const struct fs_req *r, size_t off, const char **name, size_t *next)
{
	if (off >= r->arg_len)
		return -EINVAL;
	const char *p = (const char *)r->arg + off;
	const char *nul = memchr(p, 0, r->arg_len - off);
	if (!nul || nul == p)
		return -EINVAL;
	if (nul - p > XATTR_NAME_MAX)
		return -ERANGE;
	*name = p;
	*next = off + (size_t)(nul - p) + 1;
	return 0;
}

int fs_op_setxattr(struct fs_req *r)
{
	struct fuse_setxattr_in in;
	const char *name;
	size_t next;
	char path[32];
	int ret;

	memcpy(&in, r->arg, FUSE_COMPAT_SETXATTR_IN_SIZE);
	ret = xattr_name(r, FUSE_COMPAT_SETXATTR_IN_SIZE, &name, &next);
	if (ret < 0)
		return ret;
	if (in.size != r->arg_len - next || in.size > FS_XATTR_MAX)
		return -EINVAL;
	if (in.flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	struct fs_node *n = fs_node_get(r->s, r->h.nodeid);
	if (!n)
		return -ESTALE;
	fs_proc_path(path, sizeof(path), n->fd);
	ret = setxattr(path, name, r->arg + next, in.size, (int)in.flags) < 0 ? -errno : 0;
	fs_node_put(r->s, n);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}

/* GETXATTR and LISTXATTR share their shape: size 0 asks for the size. */
static int get_or_list(struct fs_req *r, const char *name)
{
	struct fuse_getxattr_in in;
	char path[32];
	ssize_t n;
	int ret = 0;

	memcpy(&in, r->arg, sizeof(in));
	struct fs_node *node = fs_node_get(r->s, r->h.nodeid);
	if (!node)
		return -ESTALE;
	fs_proc_path(path, sizeof(path), node->fd);
	if (in.size == 0) {
		n = name ? getxattr(path, name, NULL, 0) : listxattr(path, NULL, 0);
		fs_node_put(r->s, node);
		if (n < 0)
			return -errno;
		struct fuse_getxattr_out out = { .size = (uint32_t)n };
		return fs_reply(r, &out, sizeof(out));
	}
	size_t size = in.size < FS_XATTR_MAX ? in.size : FS_XATTR_MAX;
	if (size > fs_reply_room(r))
		size = fs_reply_room(r);
	char *buf = malloc(size ? size : 1);
	if (!buf) {
		fs_node_put(r->s, node);
		return -ENOMEM;
	}
	n = name ? getxattr(path, name, buf, size) : listxattr(path, buf, size);
	if (n < 0)
		ret = -errno;
	fs_node_put(r->s, node);
	if (ret == 0)
		ret = fs_reply(r, buf, (size_t)n);
	free(buf);
	return ret;
}

int fs_op_getxattr(struct fs_req *r)
{
	const char *name;
	size_t next;
	int ret = xattr_name(r, sizeof(struct fuse_getxattr_in), &name, &next);

	if (ret < 0)
		return ret;
	if (next != r->arg_len)
		return -EINVAL;
	return get_or_list(r, name);
}

int fs_op_listxattr(struct fs_req *r)
{
	if (r->arg_len != sizeof(struct fuse_getxattr_in))
		return -EINVAL;
	return get_or_list(r, NULL);
}

int fs_op_removexattr(struct fs_req *r)
{
	const char *name;
	size_t next;
	char path[32];
	int ret = xattr_name(r, 0, &name, &next);

	if (ret < 0)
		return ret;
	if (next != r->arg_len)
		return -EINVAL;
	struct fs_node *n = fs_node_get(r->s, r->h.nodeid);
	if (!n)
		return -ESTALE;
	fs_proc_path(path, sizeof(path), n->fd);
	ret = removexattr(path, name) < 0 ? -errno : 0;
	fs_node_put(r->s, n);
	return ret < 0 ? ret : fs_reply(r, NULL, 0);
}
