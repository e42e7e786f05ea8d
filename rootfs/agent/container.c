/* container.c - CREATE's checks and its preparation in the agent.
 *
 * Owns: the container record's life: checking CREATE's fields before
 * anything is touched (root type and path, mount destinations, namespaces
 * and sysctls through ns.c), a name safe for directories and cgroups, the
 * VM-wide part of the setup (virtio-fs tags mounted once under
 * <run dir>/fs/, the container's own directory, its cgroup with the spec's
 * resources, its seccomp filter), the init's namespaces once it is set up
 * (for EXEC), and undoing all of it. The mount namespace work happens in
 * the init's child (rootfs.c). With --no-init as a non-root user there are
 * no namespaces: such a CREATE may only run a process in "/", and anything
 * that would need more is refused instead of changing the host. */
#include "agent.h"
#include "cleanup.h"
#include "inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool resources_set(const struct kvap_resources *r)
{
	static const struct kvap_resources zero;
	return memcmp(r, &zero, sizeof(zero)) != 0;
}

/* What only a container with its own namespaces can have. */
static bool needs_isolation(const struct kvap_create *s)
{
	return s->hostname || s->domainname || s->n_mounts || s->readonly_rootfs ||
	       s->rootfs_type != KVAP_ROOTFS_INITRAMFS || s->n_namespaces || s->n_devices ||
	       s->n_masked_paths || s->n_readonly_paths || s->n_sysctls ||
	       resources_set(&s->resources) || s->seccomp.default_action || s->no_pivot ||
	       s->rootfs_propagation;
}

/* The id itself when it is a tame file name, else a hash of it. */
static char *safe_name(const char *id)
{
	size_t n = strlen(id);
	bool tame = n > 0 && n <= 64 && id[0] != '.';
	unsigned long long h = 1469598103934665603ull;
	char *out;

	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		tame &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '+';
		h = (h ^ (unsigned char)c) * 1099511628211ull;
	}
	if (tame)
		return strdup(id);
	return asprintf(&out, "ctr-%016llx", h) < 0 ? NULL : out;
}

/* The container root: where it comes from (ct->root) and the directory it
 * is bound on (ct->mnt). */
static int prepare_root(struct agent *a, struct container *ct, struct kv_err *err)
{
	const struct kvap_create *s = &ct->spec;
	char dir[PATH_MAX], real[PATH_MAX];
	int r;

	switch (s->rootfs_type) {
	case KVAP_ROOTFS_INITRAMFS:
		snprintf(dir, sizeof(dir), "%s/c/%s/rootfs", a->run_dir, ct->name);
		if ((r = mkdir_p(dir, 0755)) < 0)
			return kv_errno(err, r, "creating %s", dir);
		ct->root = strdup("/");
		ct->mnt = strdup(dir);
		break;
	case KVAP_ROOTFS_VIRTIOFS: {
		if (!s->rootfs_source || !*s->rootfs_source)
			return kv_errf(err, -EINVAL, "a virtio-fs root needs its tag");
		if ((r = mount_fs_tag(a, s->rootfs_source, s->rootfs_options, s->n_rootfs_options,
				      dir, sizeof(dir), err)) < 0)
			return r;
		cleanup_close int tag = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		int fd = tag < 0
			     ? -errno
			     : inroot_open(tag, s->rootfs_path ? s->rootfs_path : "/", O_DIRECTORY);
		if (fd < 0)
			return kv_errno(err, fd, "the root %s in virtio-fs share %s",
					s->rootfs_path ? s->rootfs_path : "/", s->rootfs_source);
		char link[64];
		fd_path(fd, link, sizeof(link));
		ssize_t n = readlink(link, real, sizeof(real) - 1);
		close(fd);
		if (n < 0 || n >= (ssize_t)sizeof(real) - 1)
			return kv_errf(err, -ENAMETOOLONG, "the root's path is too long");
		real[n] = '\0';
		ct->root = strdup(real);
		ct->mnt = strdup(real);
		break;
	}
	case KVAP_ROOTFS_DIR: {
		struct stat st;
		if (!s->rootfs_path || s->rootfs_path[0] != '/')
			return kv_errf(err, -EINVAL, "rootfs type 3 needs an absolute rootfs_path");
		if (!realpath(s->rootfs_path, real))
			return kv_errno(err, -errno, "the root %s", s->rootfs_path);
		if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
			return kv_errf(err, -ENOTDIR, "the root %s is not a directory", real);
		if (!strcmp(real, "/"))
			return kv_errf(err, -EINVAL, "use rootfs type 1 for the VM's own root");
		ct->root = strdup(real);
		ct->mnt = strdup(real);
		break;
	}
	default:
		return kv_errf(err, -EINVAL, "unknown rootfs type %u", s->rootfs_type);
	}
	return ct->root && ct->mnt ? 0 : kv_errf(err, -ENOMEM, "out of memory");
}

static int check_mounts(struct container *ct, struct kv_err *err)
{
	const struct kvap_create *s = &ct->spec;

	/* runc's rule: the devices are made unless /dev is a bind mount. The
	 * VM's own root brings the VM's /dev along, which counts as one. */
	ct->setup_dev = s->rootfs_type != KVAP_ROOTFS_INITRAMFS;
	for (uint32_t i = 0; i < s->n_mounts; i++) {
		const struct kvap_mount *m = &s->mounts[i];
		const char *d = m->destination;
		if (!d || d[0] != '/')
			return kv_errf(err, -EINVAL, "mounts[%u]: destination '%s' is not absolute",
				       i, d ? d : "");
		size_t n = strlen(d);
		while (n > 1 && d[n - 1] == '/')
			n--;
		bool bind = (m->type && !strcmp(m->type, "bind"));
		for (uint32_t k = 0; k < m->n_options; k++)
			bind |= !strcmp(m->options[k], "bind") || !strcmp(m->options[k], "rbind");
		if (n == 4 && !strncmp(d, "/dev", 4))
			ct->setup_dev = !bind;
		if (m->source_tag && !bind)
			return kv_errf(
			    err, -EINVAL,
			    "mounts[%u] (%s): a source in a virtio-fs share needs a bind "
			    "mount",
			    i, d);
	}
	return 0;
}

static int prepare_tags(struct agent *a, struct container *ct, struct kv_err *err)
{
	char dir[PATH_MAX];
	int r;

	for (uint32_t i = 0; i < ct->spec.n_mounts; i++) {
		const char *tag = ct->spec.mounts[i].source_tag;
		if (tag && (r = mount_fs_tag(a, tag, NULL, 0, dir, sizeof(dir), err)) < 0)
			return r;
	}
	return 0;
}

static int prepare_cgroup(struct agent *a, struct container *ct, struct kv_err *err)
{
	bool wanted = resources_set(&ct->spec.resources);
	int r = cgroup_create(a, ct->name, &ct->cg, err);

	if (r < 0) {
		if (wanted || a->init_mode)
			return r;
		alog("container '%s' runs without a cgroup of its own: %s", ct->spec.container_id,
		     err->msg);
		*err = (struct kv_err){ 0 };
		return 0;
	}
	return wanted ? cgroup_apply(ct->cg, &ct->spec.resources, err) : 0;
}

int container_prepare(struct agent *a, struct container *ct, struct kv_err *err)
{
	const struct kvap_create *s = &ct->spec;
	int r;

	for (int t = 0; t < NS_TYPES; t++)
		ct->ns_fd[t] = -1;
	ct->isolated = a->init_mode || a->own_ns;
	if (!ct->isolated) {
		if (needs_isolation(s))
			return kv_errf(err, -EPERM,
				       "a container root, mounts, namespaces, names, cgroups and "
				       "seccomp need the agent to run as PID 1 or (with --no-init) "
				       "as root in its own namespaces");
		ct->root = strdup("/");
		return ct->root ? 0 : kv_errf(err, -ENOMEM, "out of memory");
	}
	if (!(ct->name = safe_name(s->container_id)))
		return kv_errf(err, -ENOMEM, "out of memory");
	if ((r = ns_plan(a, ct, err)) < 0 || (r = ns_check_sysctls(a, ct, err)) < 0 ||
	    (r = check_mounts(ct, err)) < 0)
		return r;
	if (s->seccomp.default_action && (r = seccomp_build(&s->seccomp, &ct->seccomp, err)) < 0)
		return r;
	if ((r = prepare_root(a, ct, err)) < 0 || (r = prepare_tags(a, ct, err)) < 0)
		return r;
	return prepare_cgroup(a, ct, err);
}

void container_init_ready(struct agent *a, struct container *ct, pid_t pid)
{
	if (ct->isolated)
		ns_open(ct, pid);
}

void container_free(struct agent *a, struct container *ct)
{
	char dir[PATH_MAX];

	if (!ct)
		return;
	seccomp_free(ct->seccomp);
	ns_close(ct);
	if (ct->cg) {
		cgroup_remove(ct->cg);
		free(ct->cg);
	}
	if (ct->name && !a->init_mode) {
		/* Only the empty mount point directories; never a mount. */
		snprintf(dir, sizeof(dir), "%s/c/%s/rootfs", a->run_dir, ct->name);
		(void)rmdir(dir);
		snprintf(dir, sizeof(dir), "%s/c/%s", a->run_dir, ct->name);
		(void)rmdir(dir);
	}
	kvap_free_create(&ct->spec);
	free(ct->name);
	free(ct->root);
	free(ct->mnt);
	free(ct);
}

struct container *container_find(struct agent *a, const char *id, struct kv_err *err, int *r)
{
	if (!id || !*id) {
		*r = kv_errf(err, -EINVAL, "no container id");
		return NULL;
	}
	if (!a->ct || strcmp(a->ct->spec.container_id, id) != 0) {
		*r = kv_errf(err, -ENOENT, "no container '%s' in this VM", id);
		return NULL;
	}
	return a->ct;
}
