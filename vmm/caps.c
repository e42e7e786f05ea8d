/* caps.c - the capabilities each VMM thread role keeps (see sandbox.h).
 *
 * Owns: the per-role capability sets and dropping to them with libcap-ng.
 * Capabilities are per thread in Linux, so each thread drops its own, to
 * its role's set, after set-up: the effective and permitted sets keep only
 * the role's capabilities, the inheritable and ambient sets are emptied,
 * and so is the bounding set (nothing the VMM could exec would gain one).
 *
 * vCPUs, the device loop and the monitor threads keep none: everything
 * they use was opened during set-up (/dev/kvm, taps, sockets, the
 * namespace), and the system calls they still make need none.
 *
 * virtio-fs workers act for a guest whose root may do anything to its own
 * files, on a host directory owned by others: CAP_CHOWN (chown),
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (the guest kernel checked the
 * permissions with groups the host never sees; linkat by descriptor needs
 * the latter), CAP_FOWNER (chmod, utimes and xattrs on files of other
 * owners), CAP_FSETID (set-id bits kept as the guest asked), CAP_MKNOD
 * (device nodes), CAP_SETUID and CAP_SETGID (setfsuid/setfsgid: files are
 * created as the guest caller), CAP_SETFCAP (security.capability xattrs)
 * and CAP_SYS_ADMIN (trusted.* xattrs, which overlayfs in the guest keeps
 * on the share). Their filter is what stops the rest of CAP_SYS_ADMIN:
 * no mount, no namespaces, no ioctl (docs/security.md). */
#include "sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

static const unsigned fs_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,  CAP_FSETID,
	CAP_MKNOD, CAP_SETUID,	     CAP_SETGID,	  CAP_SETFCAP, CAP_SYS_ADMIN,
};

/* libcap-ng keeps its working set in one static state. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int caps_drop_role(enum vmm_role role, struct kv_err *err)
{
	int r = 0;

	pthread_mutex_lock(&lock);
	/* Which thread: capget/capset with the process's pid would name the
	 * main thread (and capset refuses any thread but the caller). */
	capng_setpid((int)gettid());
	if (capng_get_caps_process() < 0) {
		r = kv_errf(err, -EIO, "capabilities: cannot read this thread's capabilities");
		goto out;
	}
	/* An unprivileged VMM has nothing to drop (and may not touch the
	 * bounding set). */
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
		goto out;
	capng_clear(CAPNG_SELECT_ALL);
	if (role == VMM_ROLE_FS_WORKER) {
		for (size_t i = 0; i < sizeof(fs_caps) / sizeof(fs_caps[0]); i++) {
			if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, fs_caps[i]) <
			    0) {
				r = kv_errf(err, -EINVAL, "capabilities: cannot keep capability %u",
					    fs_caps[i]);
				goto out;
			}
		}
	}
	/* Bounding set first (needs CAP_SETPCAP, still held), then the rest. */
	if (capng_apply(CAPNG_SELECT_ALL) < 0) {
		r = kv_errf(err, -EPERM, "capabilities: cannot drop to the %s set",
			    seccomp_role_name(role));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = kv_errno(err, -errno, "prctl(PR_SET_NO_NEW_PRIVS)");
out:
	pthread_mutex_unlock(&lock);
	return r;
}
