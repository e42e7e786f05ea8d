/* mount.c - mounting for MOUNT_FS and for a container's root.
 *
 * Owns: creating directories (mkdir_p), mounting a virtio-fs tag once under
 * <run dir>/fs/<tag> (the container's root and its bind sources come from
 * there), MOUNT_FS's mount at a guest path, and the path work inside a
 * container root the container's image controls: every destination and
 * every source inside a share is resolved with openat2(RESOLVE_IN_ROOT), so
 * a symlink in the image or the share cannot point a mount outside it, and
 * mounts go through /proc/self/fd of the resolved O_PATH descriptor. */
#include "agent.h"
#include "cleanup.h"
#include "inroot.h"
#include "mountopt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return true;
	return false;
}

/* A virtio-fs tag, mounted once at <run dir>/fs/<tag>; dir gets the path. */
int mount_fs_tag(struct agent *a, const char *tag, char *const *opts, uint32_t n_opts, char *dir,
		 size_t cap, struct kv_err *err)
{
	struct stat st, parent;
	int r;

	if (!*tag || strchr(tag, '/') || !strcmp(tag, ".") || !strcmp(tag, ".."))
		return kv_errf(err, -EINVAL, "virtio-fs tag '%s' cannot name a directory", tag);
	if (snprintf(dir, cap, "%s/fs/%s", a->run_dir, tag) >= (int)cap)
		return kv_errf(err, -ENAMETOOLONG, "virtio-fs tag too long");
	if ((r = mkdir_p(dir, 0755)) < 0)
		return kv_errno(err, r, "creating %s", dir);
	/* Mounted already (another mount of this container uses the tag)? */
	char up[PATH_MAX];
	snprintf(up, sizeof(up), "%s/..", dir);
	if (stat(dir, &st) == 0 && stat(up, &parent) == 0 && st.st_dev != parent.st_dev)
		return 0;
	struct kvap_mount m = { .source = (char *)tag,
				.destination = dir,
				.type = (char *)"virtiofs",
				.options = (char **)opts,
				.n_options = n_opts };
	return mount_one("/", &m, err);
}

/* Mount m at root + destination, both guest paths (MOUNT_FS). The
 * destination is created if missing (a directory; a file for a bind mount
 * of a file). */
int mount_one(const char *root, const struct kvap_mount *m, struct kv_err *err)
{
	char target[PATH_MAX];
	struct mountopt o;
	struct stat st;
	int r;

	if (!m->destination || m->destination[0] != '/')
		return kv_errf(err, -EINVAL, "mount destination '%s' is not absolute",
			       m->destination ? m->destination : "");
	if (has_dotdot(m->destination))
		return kv_errf(err, -EINVAL, "mount destination '%s' contains ..", m->destination);
	int n =
	    snprintf(target, sizeof(target), "%s%s", strcmp(root, "/") ? root : "", m->destination);
	if (n < 0 || (size_t)n >= sizeof(target))
		return kv_errf(err, -ENAMETOOLONG, "mount destination too long");
	if ((r = mountopt_parse(m->options, m->n_options, &o)) < 0)
		return kv_errf(err, r, "out of memory");
	cleanup_free char *data = o.data;
	bool file =
	    (o.flags & MS_BIND) && m->source && stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode);
	if (file) {
		char *slash = strrchr(target, '/');
		*slash = '\0';
		r = mkdir_p(*target ? target : "/", 0755);
		*slash = '/';
		FILE *f = fopen(target, "ae");
		if (f)
			fclose(f);
	} else {
		r = mkdir_p(target, 0755);
	}
	if (r < 0)
		return kv_errno(err, r, "creating mount point %s", target);
	unsigned long flags = o.flags & ~(o.flags & MS_BIND ? MS_RDONLY : 0);
	if (mount(m->source, target, m->type, flags, *data ? data : NULL) < 0)
		return kv_errno(err, -errno, "mount %s on %s (%s)", m->source ? m->source : "none",
				target, m->type ? m->type : "bind");
	/* A bind mount takes its flags only on a remount. */
	if ((o.flags & MS_BIND) && (o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) &&
	    mount(NULL, target, NULL, (o.flags & ~MS_REC) | MS_REMOUNT, NULL) < 0)
		return kv_errno(err, -errno, "remounting %s with its options", target);
	if (o.propagation && mount(NULL, target, NULL, o.propagation, NULL) < 0)
		return kv_errno(err, -errno, "setting propagation of %s", target);
	if (m->type && strcmp(m->type, "virtiofs") == 0)
		virtiofs_tune(target);
	return 0;
}

/* ---- inside a root the container controls (inroot.h) ---- */

int inroot_open(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	const char *rel = path;

	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

int inroot_mkpath(int rootfd, const char *path, bool file, mode_t mode)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	int parent;

	if (len >= sizeof(prefix))
		return -ENAMETOOLONG;
	if ((parent = inroot_open(rootfd, "/", 0)) < 0)
		return parent;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (i == 0 || path[i - 1] == '/')
			continue; /* leading or doubled slash */
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		bool last = i == len;
		int fd = inroot_open(rootfd, prefix, 0);
		if (fd == -ENOENT) {
			const char *name = strrchr(prefix, '/');
			name = name ? name + 1 : prefix;
			int r;
			if (last && file) {
				r = openat(parent, name,
					   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					   mode);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, name, last ? mode : 0755);
			}
			if (r < 0 && errno != EEXIST) {
				r = -errno;
				close(parent);
				return r;
			}
			fd = inroot_open(rootfd, prefix, 0);
		}
		close(parent);
		if (fd < 0)
			return fd;
		parent = fd;
	}
	return parent;
}

void fd_path(int fd, char *buf, size_t cap)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
}
