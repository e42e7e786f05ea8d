/* seccomp.c - one seccomp filter per VMM thread role, and the report of a
 * violation (see sandbox.h; the lists and their reasons are in
 * docs/security.md).
 *
 * Owns: the allow-lists (measured with tests/kvm/syscall-profile.sh on real
 * boots with every device), their argument checks (ioctl only with the
 * requests a role uses, on the descriptors it uses them on; no executable
 * mappings; AF_UNIX sockets only; signals only to this process), the
 * extra calls of sanitizer builds, and the SIGSYS handler. Anything not
 * allowed traps (SECCOMP_RET_TRAP): the handler writes one line naming
 * the thread role and the system call (from siginfo's si_syscall), then
 * makes a call every filter answers with SECCOMP_RET_KILL_PROCESS, so the
 * process dies by SIGSYS whatever the handler's state. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

/* The call the SIGSYS handler makes to die: refused with KILL_PROCESS by
 * every filter, and nothing else in the VMM makes it. */
#define DIE_SYSCALL SCMP_SYS(kexec_load)

/* ---- the lists --------------------------------------------------------- */

/* Every thread: memory, locks, time, its own signals, leaving. mmap and
 * mprotect come with an argument check (below). */
static const char *const common_calls[] = {
	"read",
	"write",
	"readv",
	"writev",
	"close",
	"futex",
	"sched_yield",
	"nanosleep",
	"clock_nanosleep",
	"clock_gettime",
	"gettimeofday",
	"getpid",
	"gettid",
	"rt_sigprocmask",
	"rt_sigreturn",
	"restart_syscall",
	"exit",
	"exit_group",
	"madvise",
	"munmap",
	"brk",
	"mremap",
	"rseq",
	"set_robust_list",
	"getrandom",
};

/* vCPUs: exits are handled on the vCPU thread (buses, UART output, MSI-X
 * table writes that reroute interrupts, queue enables that bind
 * ioeventfds); the device loop is reached through evloop_call(_sync). */
static const char *const vcpu_calls[] = {
	"poll",
	"ppoll",
};

/* The device loop: readiness, the backends (tap, Unix sockets, io_uring,
 * timerfd, getrandom), and the teardown after the loop ends (the vsock
 * socket file, --exec's private directory, the network guard process). */
static const char *const device_calls[] = {
	"epoll_wait",	   "epoll_pwait",     "epoll_ctl",	"poll",
	"ppoll",	   "recvfrom",	      "recvmsg",	"sendto",
	"sendmsg",	   "shutdown",	      "accept4",	"connect",
	"timerfd_settime", "timerfd_gettime", "io_uring_enter", "unlink",
	"unlinkat",	   "rmdir",	      "newfstatat",	"lstat",
	"fstat",	   "wait4",	      "getsockopt",
};

/* The caller's own threads next to the VMM (--exec's agent client; the
 * runtime's container thread and relay): sockets to the agent, stdio,
 * polling, the control socket (accept4), and the runtime's state directory,
 * written by descriptor and renamed into place (the exit status). */
static const char *const monitor_calls[] = {
	"poll",	    "ppoll",	"recvfrom",  "recvmsg",	   "sendto",   "sendmsg",
	"shutdown", "connect",	"accept4",   "newfstatat", "fstat",    "getsockopt",
	"openat",   "renameat", "renameat2", "fsync",	   "unlinkat",
};

/* virtio-fs workers: file operations on descriptors beneath the share (the
 * server never resolves a guest path outside it: docs/virtio-fs.md).
 * renameat too: glibc's renameat2() makes it when flags are 0. */
static const char *const fs_calls[] = {
	"openat",	"openat2",	   "newfstatat",   "fstat",	"statx",       "fstatfs",
	"readlinkat",	"fchmod",	   "fchmodat",	   "fchownat",	"fchown",      "utimensat",
	"mknodat",	"mkdirat",	   "symlinkat",	   "linkat",	"unlinkat",    "renameat",
	"renameat2",	"preadv",	   "pwritev",	   "preadv2",	"pwritev2",    "pread64",
	"pwrite64",	"fsync",	   "fdatasync",	   "syncfs",	"getdents64",  "lseek",
	"fallocate",	"copy_file_range", "ftruncate",	   "fgetxattr", "fsetxattr",   "flistxattr",
	"fremovexattr", "getxattr",	   "setxattr",	   "listxattr", "removexattr", "lgetxattr",
	"lsetxattr",	"llistxattr",	   "lremovexattr", "setfsuid",	"setfsgid",    "capget",
	"capset",	"umask",	   "dup",
};

/* Sanitizer builds only (make check): ASan's allocator and reports
 * (sigaltstack, its own mmaps and /proc reads) and LeakSanitizer's check
 * at exit, which runs on the main thread (the device loop's): a clone of
 * the process that ptrace-stops every thread to scan their stacks. */
static const char *const sanitizer_calls[] = {
	"sigaltstack", "open",	"openat",  "readlink",	 "readlinkat",	      "fstat",
	"newfstatat",  "lseek", "pread64", "getdents64", "sched_getaffinity", "prlimit64",
	"getrlimit",   "uname",
};
static const char *const sanitizer_exit_calls[] = {
	"clone",
	"clone3",
	"ptrace",
	"wait4",
	"prctl",
	"rt_sigaction",
	"kill",
	"tgkill",
	"tkill",
	"getppid",
	"sched_getaffinity",
	"getdents",
};

/* ---- building a filter -------------------------------------------------- */

static int add(scmp_filter_ctx f, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, cmp);
}

static int allow_list(scmp_filter_ctx f, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int r = add(f, nr, 0, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

#define ALLOW_LIST(f, a) allow_list((f), (a), sizeof(a) / sizeof((a)[0]))

/* ioctl(fd, req): fd < 0 allows any descriptor. The request is compared in
 * its low 32 bits, which is all the kernel looks at. */
static int allow_ioctl(scmp_filter_ctx f, int fd, unsigned long req)
{
	struct scmp_arg_cmp c[2] = {
		SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req & 0xffffffffu),
		SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd),
	};

	return add(f, SCMP_SYS(ioctl), fd < 0 ? 1 : 2, c);
}

/* fcntl with the commands in cmds only. */
static int allow_fcntl(scmp_filter_ctx f, const int *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]);
		int r = add(f, SCMP_SYS(fcntl), 1, &c);
		if (r < 0)
			return r;
	}
	return 0;
}

static int common_rules(scmp_filter_ctx f)
{
	/* No executable memory: mmap and mprotect without PROT_EXEC. */
	struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	/* Signals only to this process's threads (the vCPU kick). */
	struct scmp_arg_cmp self = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
	int r;

	if ((r = ALLOW_LIST(f, common_calls)) < 0 || (r = add(f, SCMP_SYS(mmap), 1, &noexec)) < 0 ||
	    (r = add(f, SCMP_SYS(mprotect), 1, &noexec)) < 0 ||
	    (r = add(f, SCMP_SYS(tgkill), 1, &self)) < 0)
		return r;
	/* The SIGSYS handler's way out. */
	return seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, DIE_SYSCALL, 0);
}

/* The interrupt plumbing on the VM fd that vCPUs (MSI-X, PCI, the UART) and
 * the device loop (queue activation) both drive. */
static int vm_irq_ioctls(scmp_filter_ctx f, int vm_fd)
{
	static const unsigned long reqs[] = { KVM_IRQ_LINE, KVM_SET_GSI_ROUTING, KVM_IRQFD,
					      KVM_IOEVENTFD, KVM_SIGNAL_MSI };
	int r = 0;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]) && r == 0; i++)
		r = allow_ioctl(f, vm_fd, reqs[i]);
	return r;
}

static int role_rules(scmp_filter_ctx f, enum vmm_role role, const struct seccomp_ids *ids)
{
	static const int fl_cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };
	static const int fs_fcntl[] = { F_GETFL,     F_SETFL,	  F_GETFD,	  F_SETFD,
					F_OFD_GETLK, F_OFD_SETLK, F_DUPFD_CLOEXEC };
	struct scmp_arg_cmp unix_only = SCMP_A0(SCMP_CMP_EQ, AF_UNIX);
	int r = 0;

	switch (role) {
	case VMM_ROLE_VCPU:
		if ((r = ALLOW_LIST(f, vcpu_calls)) < 0 ||
		    (r = allow_ioctl(f, ids->vcpu_fd, KVM_RUN)) < 0 ||
		    (r = allow_ioctl(f, ids->vcpu_fd, KVM_GET_REGS)) < 0 ||
		    (r = allow_ioctl(f, ids->vcpu_fd, KVM_KVMCLOCK_CTRL)) < 0 ||
		    (r = vm_irq_ioctls(f, ids->vm_fd)) < 0)
			return r;
		break;
	case VMM_ROLE_DEVICE:
		if ((r = ALLOW_LIST(f, device_calls)) < 0 ||
		    (r = vm_irq_ioctls(f, ids->vm_fd)) < 0 ||
		    (r = allow_ioctl(f, -1, TUNSETOFFLOAD)) < 0 ||
		    (r = add(f, SCMP_SYS(socket), 1, &unix_only)) < 0 ||
		    (r = allow_fcntl(f, fl_cmds, sizeof(fl_cmds) / sizeof(fl_cmds[0]))) < 0)
			return r;
		/* blk_io_fini: the ring lets go of the image (and its lock). */
		struct scmp_arg_cmp unreg = SCMP_A1(SCMP_CMP_EQ, IORING_UNREGISTER_FILES);
		if ((r = add(f, SCMP_SYS(io_uring_register), 1, &unreg)) < 0)
			return r;
		/* A terminal on stdin gets its settings back at teardown. */
		if ((r = allow_ioctl(f, STDIN_FILENO, TCGETS)) < 0 ||
		    (r = allow_ioctl(f, STDIN_FILENO, TCSETS)) < 0 ||
		    (r = allow_ioctl(f, STDIN_FILENO, TCSETSW)) < 0 ||
		    (r = allow_ioctl(f, STDIN_FILENO, TCSETSF)) < 0)
			return r;
		break;
	case VMM_ROLE_MONITOR:
		if ((r = ALLOW_LIST(f, monitor_calls)) < 0 ||
		    (r = add(f, SCMP_SYS(socket), 1, &unix_only)) < 0 ||
		    (r = allow_fcntl(f, fl_cmds, sizeof(fl_cmds) / sizeof(fl_cmds[0]))) < 0 ||
		    (r = allow_ioctl(f, -1, TIOCGWINSZ)) < 0)
			return r;
		break;
	case VMM_ROLE_FS_WORKER:
		if ((r = ALLOW_LIST(f, fs_calls)) < 0 ||
		    (r = allow_fcntl(f, fs_fcntl, sizeof(fs_fcntl) / sizeof(fs_fcntl[0]))) < 0)
			return r;
		break;
	}
	if (SANITIZER_BUILD) {
		/* A sanitizer report asks whether stderr is a terminal (isatty:
		 * TCGETS) before it prints; without this the report of a leak
		 * found at exit would be a SIGSYS instead. */
		if ((r = ALLOW_LIST(f, sanitizer_calls)) < 0 ||
		    (r = allow_ioctl(f, STDERR_FILENO, TCGETS)) < 0)
			return r;
		if (role == VMM_ROLE_DEVICE && (r = ALLOW_LIST(f, sanitizer_exit_calls)) < 0)
			return r;
	}
	return 0;
}

static int build(enum vmm_role role, const struct seccomp_ids *ids, scmp_filter_ctx *out)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_TRAP);
	int r;

	if (!f)
		return -ENOMEM;
	if ((r = common_rules(f)) < 0 || (r = role_rules(f, role, ids)) < 0) {
		seccomp_release(f);
		return r;
	}
	*out = f;
	return 0;
}

/* ---- the report ---------------------------------------------------------- */

#define MAX_NR 512

static char *names[MAX_NR];
static int report_fd = STDERR_FILENO;
static char prefix[160], suffix[16];
static __thread const char *thread_role;
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
static bool names_ready;

const char *seccomp_role_name(enum vmm_role role)
{
	switch (role) {
	case VMM_ROLE_VCPU:
		return "vCPU";
	case VMM_ROLE_DEVICE:
		return "device loop";
	case VMM_ROLE_FS_WORKER:
		return "virtio-fs worker";
	case VMM_ROLE_MONITOR:
		return "monitor";
	}
	return "unknown";
}

static size_t put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < (int)sizeof(tmp));
	if (v < 0 && at + 1 < cap)
		buf[at++] = '-';
	while (n > 0 && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

/* Async-signal-safe: formats into a stack buffer, one write, then dies. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char buf[384];
	size_t n = 0;
	int nr = si->si_syscall;

	(void)sig;
	(void)ctx;
	n = put(buf, n, sizeof(buf), prefix);
	n = put(buf, n, sizeof(buf), "VMM error: seccomp: the ");
	n = put(buf, n, sizeof(buf), thread_role ? thread_role : "unconfined");
	n = put(buf, n, sizeof(buf), " thread made a forbidden system call: ");
	n = put(buf, n, sizeof(buf), nr >= 0 && nr < MAX_NR && names[nr] ? names[nr] : "?");
	n = put(buf, n, sizeof(buf), " (");
	n = put_num(buf, n, sizeof(buf), nr);
	n = put(buf, n, sizeof(buf), "); the VMM process is killed with SIGSYS");
	n = put(buf, n, sizeof(buf), suffix);
	n = put(buf, n, sizeof(buf), "\n");
	(void)!write(report_fd, buf, n);
	syscall(DIE_SYSCALL, 0, 0, 0, 0);
	/* Not reached while a filter is loaded; without one, still die. */
	signal(SIGSYS, SIG_DFL);
	raise(SIGSYS);
	_exit(128 + SIGSYS);
}

int seccomp_report_setup(int fd, const char *pfx, const char *sfx, struct kv_err *err)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };

	pthread_mutex_lock(&setup_lock);
	report_fd = fd > 0 ? fd : STDERR_FILENO;
	snprintf(prefix, sizeof(prefix), "%s", pfx ? pfx : "");
	snprintf(suffix, sizeof(suffix), "%s", sfx ? sfx : "");
	if (!names_ready) {
		for (int nr = 0; nr < MAX_NR; nr++)
			names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		names_ready = true;
	}
	pthread_mutex_unlock(&setup_lock);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return kv_errno(err, -errno, "seccomp: cannot install the SIGSYS handler");
	return 0;
}

int seccomp_load_role(enum vmm_role role, const struct seccomp_ids *ids, struct kv_err *err)
{
	scmp_filter_ctx f;
	int r = build(role, ids, &f);

	if (r < 0)
		return kv_errno(err, r, "seccomp: building the %s filter", seccomp_role_name(role));
	thread_role = seccomp_role_name(role);
	/* no_new_privs first (libseccomp's default attribute): the filter
	 * cannot be dropped by an exec, and an unprivileged VMM may load it. */
	r = seccomp_load(f);
	seccomp_release(f);
	if (r < 0) {
		thread_role = NULL;
		return kv_errno(err, r, "seccomp: loading the %s filter", seccomp_role_name(role));
	}
	return 0;
}
