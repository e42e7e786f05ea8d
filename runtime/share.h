/* share.h - the container's files as one virtio-fs share.
 *
 * Owns: the staging directory the VMM exports with virtio-fs. The bundle's
 * rootfs and every bind-mount source of config.json are bind-mounted into
 * it, each at an entry of its own, inside a private mount namespace of the
 * VMM process, so nothing is mounted on the host: the mounts vanish with
 * the VMM, however it ends (SIGKILL included). Layout of the share:
 *
 *   /rootfs   the bundle's root.path (absent with the initramfs root)
 *   /m/N      the source of mounts[N] (a bind): a directory, or a single
 *             file bound onto an empty file of its own (a file's parent
 *             directory is never shared); ro, nosuid, nodev and noexec
 *             binds are remounted so on the host as well
 *
 * The share's top is a small tmpfs, read-only once built. The plan
 * (share_plan) has no side effects and runs in create before any state
 * exists; share_build runs in the VMM process before the VM is created. */
#ifndef KVRUN_RUNTIME_SHARE_H
#define KVRUN_RUNTIME_SHARE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "oci.h"

#define SHARE_TAG      "kvrun"	 /* the virtio-fs tag */
#define SHARE_ROOTFS   "/rootfs" /* the container root, in the share */
#define SHARE_BIND_FMT "/m/%zu"	 /* mounts[N]'s source, in the share */
#define SHARE_DIR      "share"	 /* the staging directory, in the state directory */

struct share_bind {
	size_t index;	     /* in cfg->mounts */
	char *source;	     /* absolute host path */
	bool dir;	     /* else bound onto an empty file */
	bool rec;	     /* rbind */
	unsigned long flags; /* MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC to remount with */
};

struct share {
	const char *rootfs; /* absolute; NULL: no rootfs entry */
	struct share_bind *binds;
	size_t n_binds;
};

/* Whether mounts[i] is a bind mount (type "bind", or option bind/rbind). */
bool share_is_bind(const struct oci_mount *m);

/* From cfg: rootfs (NULL: the container runs on the guest image's root) and
 * each bind mount's source (relative sources are taken from the bundle, as
 * runc does), which must exist. Errors name the JSON path. */
int share_plan(const struct oci_config *cfg, const char *bundle, const char *rootfs,
	       struct share *sh, struct kv_err *err);

/* Whether the plan needs a share at all. */
static inline bool share_needed(const struct share *sh)
{
	return sh->rootfs || sh->n_binds;
}

/* In the VMM process, before the VM is created: enter a new mount namespace
 * (the host's mounts become slaves: nothing made here reaches the host) and
 * build the share at dir (created if missing, mode 0700). */
int share_build(const struct share *sh, const char *dir, struct kv_err *err);

void share_free(struct share *sh);

#endif
