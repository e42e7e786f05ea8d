/* share.c - see share.h. */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"

bool share_is_bind(const struct oci_mount *m)
{
	if (m->type && strcmp(m->type, "bind") == 0)
		return true;
	for (size_t k = 0; k < m->n_options; k++)
		if (!strcmp(m->options[k], "bind") || !strcmp(m->options[k], "rbind"))
			return true;
	return false;
}

/* The flags a bind keeps on the host too; rbind. */
static void bind_options(const struct oci_mount *m, struct share_bind *b)
{
	static const struct {
		const char *name;
		unsigned long set, clear;
	} t[] = {
		{ "ro", MS_RDONLY, 0 },	    { "rw", 0, MS_RDONLY },   { "nosuid", MS_NOSUID, 0 },
		{ "suid", 0, MS_NOSUID },   { "nodev", MS_NODEV, 0 }, { "dev", 0, MS_NODEV },
		{ "noexec", MS_NOEXEC, 0 }, { "exec", 0, MS_NOEXEC },
	};

	for (size_t k = 0; k < m->n_options; k++) {
		const char *o = m->options[k];
		if (!strcmp(o, "rbind"))
			b->rec = true;
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
			if (!strcmp(o, t[i].name))
				b->flags = (b->flags | t[i].set) & ~t[i].clear;
	}
}

int share_plan(const struct oci_config *cfg, const char *bundle, const char *rootfs,
	       struct share *sh, struct kv_err *err)
{
	size_t n = 0;

	memset(sh, 0, sizeof(*sh));
	sh->rootfs = rootfs;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		n += share_is_bind(&cfg->mounts[i]);
	if (!n)
		return 0;
	if (!(sh->binds = calloc(n, sizeof(*sh->binds))))
		return kv_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		struct share_bind *b = &sh->binds[sh->n_binds];
		struct stat st;
		int r;

		if (!share_is_bind(m))
			continue;
		if (!m->source || !*m->source) {
			share_free(sh);
			return kv_errf(err, -EINVAL, "mounts[%zu].source: a bind mount needs one",
				       i);
		}
		r = m->source[0] == '/' ? asprintf(&b->source, "%s", m->source)
					: asprintf(&b->source, "%s/%s", bundle, m->source);
		if (r < 0) {
			b->source = NULL;
			share_free(sh);
			return kv_errf(err, -ENOMEM, "out of memory");
		}
		sh->n_binds++;
		if (stat(b->source, &st) < 0) {
			r = -errno;
			kv_errno(err, r, "mounts[%zu].source: %s", i, b->source);
			share_free(sh);
			return r;
		}
		b->index = i;
		b->dir = S_ISDIR(st.st_mode);
		bind_options(m, b);
	}
	return 0;
}

void share_free(struct share *sh)
{
	for (size_t i = 0; i < sh->n_binds; i++)
		free(sh->binds[i].source);
	free(sh->binds);
	sh->binds = NULL;
	sh->n_binds = 0;
}

/* Bind src on target (which exists), then remount it with flags. */
static int bind_entry(const char *src, const char *target, bool rec, unsigned long flags,
		      struct kv_err *err)
{
	struct statvfs sv;

	if (mount(src, target, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		return kv_errno(err, -errno, "binding %s into the share", src);
	if (!flags)
		return 0;
	/* A bind remount must repeat the locked flags it has (nosuid, nodev,
	 * noexec and the atime ones of the source's mount), or EPERM. */
	unsigned long keep = statvfs(target, &sv) == 0
				 ? sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
						MS_NODIRATIME | MS_RELATIME)
				 : 0;
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | keep, NULL) < 0)
		return kv_errno(err, -errno, "remounting the bind of %s with its options", src);
	return 0;
}

int share_build(const struct share *sh, const char *dir, struct kv_err *err)
{
	char path[PATH_MAX];
	int r;

	if (unshare(CLONE_NEWNS) < 0)
		return kv_errno(err, -errno, "a mount namespace for the VMM");
	/* Host mounts reach this namespace (an unmount on the host is not held
	 * up here); nothing mounted here reaches the host. */
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return kv_errno(err, -errno, "making the VMM's mounts slaves");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return kv_errno(err, -errno, "creating %s", dir);
	if (mount("kvrun-share", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0700,size=64k,nr_inodes=4096") < 0)
		return kv_errno(err, -errno, "mounting a tmpfs on %s", dir);
	if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0)
		return kv_errno(err, -errno, "making %s private", dir);
	if (sh->rootfs) {
		snprintf(path, sizeof(path), "%s%s", dir, SHARE_ROOTFS);
		if (mkdir(path, 0755) < 0)
			return kv_errno(err, -errno, "creating %s", path);
		if ((r = bind_entry(sh->rootfs, path, true, 0, err)) < 0)
			return r;
	}
	if (sh->n_binds) {
		snprintf(path, sizeof(path), "%s/m", dir);
		if (mkdir(path, 0755) < 0)
			return kv_errno(err, -errno, "creating %s", path);
	}
	for (size_t i = 0; i < sh->n_binds; i++) {
		const struct share_bind *b = &sh->binds[i];
		int n = snprintf(path, sizeof(path), "%s" SHARE_BIND_FMT, dir, b->index);
		if (n < 0 || (size_t)n >= sizeof(path))
			return kv_errf(err, -ENAMETOOLONG, "%s: path too long", dir);
		if (b->dir) {
			if (mkdir(path, 0755) < 0)
				return kv_errno(err, -errno, "creating %s", path);
		} else {
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (fd < 0)
				return kv_errno(err, -errno, "creating %s", path);
			close(fd);
		}
		if ((r = bind_entry(b->source, path, b->rec, b->flags, err)) < 0) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			return kv_errf(err, r, "mounts[%zu]: %s", b->index, msg);
		}
	}
	/* The guest changes nothing at the share's top. */
	if (mount(NULL, dir, NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return kv_errno(err, -errno, "making the top of %s read-only", dir);
	return 0;
}
