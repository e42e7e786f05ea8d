/* container.c - CREATE's VM-wide setup: hostname, root, mounts.
 *
 * Owns: what CREATE changes for the whole guest before the init is forked:
 * the hostname, the container root (the initramfs "/", or a virtio-fs tag
 * mounted at /run/kvrun/rootfs), the spec's mounts inside that root, and a
 * read-only root. Also mount_one() for MOUNT_FS. With --no-init these only
 * happen inside the agent's private namespaces (init.c); without them
 * (not root) such a CREATE is refused rather than changing the host. */
#include "agent.h"
#include "cleanup.h"
#include "mountopt.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define VIRTIOFS_ROOT "/run/kvrun/rootfs"

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

/* Mount m at root + destination. The destination is created if missing
 * (a directory; a file for a bind mount of a file). */
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

int container_setup(struct agent *a, const struct kvap_create *spec, char **root,
		    struct kv_err *err)
{
	bool vm_wide = spec->hostname || spec->n_mounts || spec->readonly_rootfs ||
		       spec->rootfs_type == KVAP_ROOTFS_VIRTIOFS;
	int r;

	if (vm_wide && !a->init_mode && !a->own_ns)
		return kv_errf(err, -EPERM,
			       "hostname, mounts and the root filesystem need the agent to run as "
			       "PID 1 or (with --no-init) as root in its own namespaces");
	if (spec->rootfs_type != KVAP_ROOTFS_INITRAMFS && spec->rootfs_type != KVAP_ROOTFS_VIRTIOFS)
		return kv_errf(err, -EINVAL, "unknown rootfs type %u", spec->rootfs_type);
	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return kv_errno(err, -errno, "sethostname %s", spec->hostname);

	const char *dir = "/";
	if (spec->rootfs_type == KVAP_ROOTFS_VIRTIOFS) {
		struct kvap_mount m = { .source = spec->rootfs_source,
					.destination = VIRTIOFS_ROOT,
					.type = (char *)"virtiofs",
					.options = spec->rootfs_options,
					.n_options = spec->n_rootfs_options };
		if (!spec->rootfs_source || !*spec->rootfs_source)
			return kv_errf(err, -EINVAL, "a virtio-fs root needs its tag");
		if ((r = mount_one("/", &m, err)) < 0)
			return r;
		dir = VIRTIOFS_ROOT;
	}
	for (uint32_t i = 0; i < spec->n_mounts; i++)
		if ((r = mount_one(dir, &spec->mounts[i], err)) < 0)
			return r;
	if (spec->readonly_rootfs &&
	    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return kv_errno(err, -errno, "making the root %s read-only", dir);
	*root = strdup(dir);
	return *root ? 0 : kv_errf(err, -ENOMEM, "out of memory");
}
