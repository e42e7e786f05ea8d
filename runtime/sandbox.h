/* sandbox.h - a container's VM, planned from its OCI config.
 *
 * Owns: the one place where OCI data becomes a struct vmm_config: the VM's
 * size (vCPUs from the CPU quota and period rounded up, or the cpuset, or
 * the default; memory from the memory limit plus the documented overhead,
 * or the default; both overridable by the io.kvrun.vm.* annotations), the
 * guest kernel and initramfs (annotations, else the configuration file,
 * else the installed image), its command line, console and vsock, the
 * container's root filesystem, and the limits of the VMM's host cgroup
 * derived from that size. Everything that makes a config impossible to run
 * is found here, before any state exists, and named by its JSON path. */
#ifndef KVRUN_RUNTIME_SANDBOX_H
#define KVRUN_RUNTIME_SANDBOX_H

#include <stdbool.h>

#include "cgroup.h"
#include "err.h"
#include "oci.h"
#include "settings.h"
#include "share.h"
#include "vmm.h"

/* Annotations kvrun reads. */
#define ANN_CPUS      "io.kvrun.vm.cpus"
#define ANN_MEMORY    "io.kvrun.vm.memory"
#define ANN_KERNEL    "io.kvrun.vm.kernel"
#define ANN_INITRAMFS "io.kvrun.vm.initramfs"
#define ANN_ROOTFS    "io.kvrun.rootfs" /* "initramfs": the guest image's own root */

struct sandbox {
	struct vmm_config vm; /* its strings point into this struct */
	char kernel[4096], initrd[4096], cmdline[1100];
	char vsock_path[64], console_path[64];
	char share_dir[4200]; /* <state dir>/share: a path, since the VMM mounts there */
	char rootfs[4096];    /* root.path, absolute */
	bool initramfs_root;  /* the container runs on the guest image's root */
	struct share share;   /* rootfs and bind sources, for virtio-fs */
	struct cgroup_limits host;
	unsigned boot_timeout_s;
	bool jail;		 /* vmm_jail() the VMM process (settings vmm_jail) */
	char report_prefix[160]; /* a seccomp violation's log line: before ... */
	char report_suffix[8];	 /* ... and after the message */
};

/* Plan the VM for cfg (bundle: the absolute bundle directory). */
int sandbox_plan(const struct oci_config *cfg, const char *bundle, const struct settings *s,
		 bool debug, struct sandbox *sb, struct kv_err *err);

/* What sandbox_plan allocated. */
void sandbox_free(struct sandbox *sb);

/* Point the vsock socket and the console log into the state directory open
 * as dir_fd in the calling process (the VMM process), and the share's
 * staging directory to dir/share (a path, not the fd: the VMM mounts there
 * from a new mount namespace, where the fd's mount is not its own); the
 * share (when one is needed) becomes virtio-fs device 0. */
void sandbox_bind_state_dir(struct sandbox *sb, int dir_fd, const char *dir, bool console_log);

#endif
