/* sandbox.h - confining the VMM process: seccomp per thread role,
 * capabilities, the jail (docs/security.md).
 *
 * Owns: the internal calls behind vmm_confine_thread(), vmm_jail() and the
 * confinement vmm_run() performs. seccomp.c builds and loads one filter per
 * thread role and reports a violation; caps.c drops capabilities per role;
 * jail.c builds the private mount namespace; sandbox.c puts them in order
 * for one thread. Library code: nothing prints, except the SIGSYS handler,
 * which writes its one line to the report fd because the process dies
 * right after. */
#ifndef KVRUN_VMM_SANDBOX_H
#define KVRUN_VMM_SANDBOX_H

#include <stdbool.h>

#include "err.h"
#include "vmm.h"

struct vmm;

/* The descriptors a role's ioctl rules name. -1 where not used. */
struct seccomp_ids {
	int vm_fd;
	int vcpu_fd;
};

/* seccomp.c */

/* Install the SIGSYS handler that reports a violation on fd (prefix
 * first, suffix before the newline) and then kills the process with
 * SIGSYS; resolve syscall names now, so that the handler only looks them
 * up. Idempotent; the last fd wins. */
int seccomp_report_setup(int fd, const char *prefix, const char *suffix, struct kv_err *err);
/* Load role's filter on the calling thread (no_new_privs is set first). */
int seccomp_load_role(enum vmm_role role, const struct seccomp_ids *ids, struct kv_err *err);
/* The role's name in messages ("vCPU", "device loop", ...). */
const char *seccomp_role_name(enum vmm_role role);

/* caps.c */

/* Keep only role's capabilities in the calling thread (effective and
 * permitted), empty its bounding and ambient sets. A thread with no
 * capabilities to begin with (an unprivileged VMM) is left alone. */
int caps_drop_role(enum vmm_role role, struct kv_err *err);

/* jail.c */

/* Unmount what only set-up needed (kernel, initrd, disks, /dev nodes, ...)
 * and make the jail's root read-only. No-op without a jail. */
int jail_trim(struct kv_err *err);
/* Whether this process is in a jail made by vmm_jail(). */
bool jail_active(void);

/* sandbox.c */

/* Confine the calling thread to role with the VM's sandbox settings: SIGSYS
 * unblocked, capabilities dropped, the filter loaded; then the test hook. */
int sandbox_confine(struct vmm *vm, enum vmm_role role, int vcpu_fd, struct kv_err *err);

#endif
