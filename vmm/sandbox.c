/* sandbox.c - confining one VMM thread (see sandbox.h).
 *
 * Owns: the order in which a thread gives up what it no longer needs -
 * SIGSYS unblocked (so a violation is reported, not silently fatal), its
 * capabilities dropped to its role's set, the process made non-dumpable
 * (once, by the device loop), its seccomp filter loaded - and the test
 * hook: with vmm_sandbox.test_violation "ROLE:SYSCALL", the first thread of
 * ROLE to be confined makes SYSCALL with zero arguments, so a test can see
 * the filter of every role kill the process. Nothing from the guest can
 * reach the hook: it runs once, at confinement, from the host's config. */
#include "sandbox.h"
#include "vm.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum vmm_role role;
} hook_roles[] = {
	{ "vcpu", VMM_ROLE_VCPU },
	{ "device", VMM_ROLE_DEVICE },
	{ "fs", VMM_ROLE_FS_WORKER },
	{ "monitor", VMM_ROLE_MONITOR },
};

static _Atomic bool hook_fired;

static void test_hook(const char *spec, enum vmm_role role)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;

	if (!colon)
		return;
	for (size_t i = 0; i < sizeof(hook_roles) / sizeof(hook_roles[0]); i++) {
		size_t n = strlen(hook_roles[i].name);
		if (hook_roles[i].role != role || (size_t)(colon - spec) != n ||
		    strncmp(spec, hook_roles[i].name, n) != 0)
			continue;
		int nr = seccomp_syscall_resolve_name(colon + 1);
		if (nr != __NR_SCMP_ERROR && !atomic_exchange(&hook_fired, true))
			(void)syscall(nr, 0, 0, 0, 0, 0, 0);
	}
}

int sandbox_confine(struct vmm *vm, enum vmm_role role, int vcpu_fd, struct kv_err *err)
{
	static const struct vmm_sandbox none;
	const struct vmm_sandbox *sb = vm->cfg ? &vm->cfg->sandbox : &none;
	sigset_t sys;
	int r;

	if (!vm->cfg || (!sb->seccomp && !sb->drop_caps))
		return 0;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (sb->drop_caps && (r = caps_drop_role(role, err)) < 0)
		return r;
	/* No core dumps of guest memory, and no ptrace or /proc access to
	 * this process by other processes of the same uid without
	 * CAP_SYS_PTRACE. Process-wide: the device loop sets it, last. */
	if (role == VMM_ROLE_DEVICE && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return kv_errno(err, -errno, "prctl(PR_SET_DUMPABLE)");
	if (sb->seccomp) {
		struct seccomp_ids ids = { .vm_fd = vm->vm_fd, .vcpu_fd = vcpu_fd };
		if ((r = seccomp_report_setup(sb->report_fd, sb->report_prefix, sb->report_suffix,
					      err)) < 0 ||
		    (r = seccomp_load_role(role, &ids, err)) < 0)
			return r;
	}
	test_hook(sb->test_violation, role);
	return 0;
}

int vmm_confine_thread(struct vmm *vm, enum vmm_role role, struct kv_err *err)
{
	return sandbox_confine(vm, role, -1, err);
}
