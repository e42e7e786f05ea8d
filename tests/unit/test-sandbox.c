/* Unit tests for vmm/seccomp.c, caps.c and jail.c without KVM: each case
 * runs in a child process (a filter, a capability drop or a jail cannot be
 * undone) and the parent checks how it ended.
 *
 * seccomp: for every role, an allowed call works and a forbidden one kills
 * the child by SIGSYS after the report line naming role and call; the
 * argument checks hold (no PROT_EXEC mapping, AF_UNIX sockets only, ioctl
 * only with the role's requests on the role's descriptors, signals only to
 * this process). caps (as root): each role's sets, bounding set empty.
 * jail (as root): what set-up needs is visible at the same paths, relative
 * paths work, the host is not; after jail_trim the set-up files are gone and
 * the root is read-only. */
#include "sandbox.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#else
#define SANITIZER_BUILD 0
#endif

/* Child exit codes. */
#define C_OK	   0
#define C_SETUP	   10 /* the filter could not be loaded */
#define C_ALLOWED  11 /* an allowed call failed */
#define C_SURVIVED 12 /* a forbidden call returned */

struct outcome {
	int status;
	char report[256];
};

/* Run fn in a child with its report pipe; wait for it. */
static struct outcome in_child(int (*fn)(int report_fd, void *), void *arg)
{
	struct outcome o = { 0 };
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return o;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(fn(p[1], arg));
	}
	close(p[1]);
	ssize_t n = read(p[0], o.report, sizeof(o.report) - 1);
	o.report[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(pid, &o.status, 0);
	return o;
}

static bool killed_by_sigsys(const struct outcome *o)
{
	return WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGSYS;
}

static bool exited(const struct outcome *o, int code)
{
	return WIFEXITED(o->status) && WEXITSTATUS(o->status) == code;
}

struct probe {
	enum vmm_role role;
	int vm_fd, vcpu_fd;
	int (*allowed)(const struct probe *);
	void (*forbidden)(const struct probe *);
};

static int load(int report_fd, const struct probe *p)
{
	struct seccomp_ids ids = { .vm_fd = p->vm_fd, .vcpu_fd = p->vcpu_fd };

	if (seccomp_report_setup(report_fd, "test: ", "", NULL) < 0 ||
	    seccomp_load_role(p->role, &ids, NULL) < 0)
		return C_SETUP;
	return C_OK;
}

static int run_probe(int report_fd, void *arg)
{
	const struct probe *p = arg;
	int r = load(report_fd, p);

	if (r != C_OK)
		return r;
	if (p->allowed && p->allowed(p) < 0)
		return C_ALLOWED;
	if (p->forbidden)
		p->forbidden(p);
	return p->forbidden ? C_SURVIVED : C_OK;
}

/* ---- calls ---- */

static int a_basics(const struct probe *p)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (getpid() <= 0 || m == MAP_FAILED || mprotect(m, 4096, PROT_READ) < 0)
		return -1;
	return munmap(m, 4096);
}

static int a_unix_socket(const struct probe *p)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -1 : close(fd);
}

/* The request is allowed: the call reaches the kernel (and fails there,
 * since the fd is no KVM fd). */
static int a_kvm_irq_line_on_vm_fd(const struct probe *p)
{
	return ioctl(p->vm_fd, KVM_IRQ_LINE, NULL) < 0 && errno == ENOTTY ? 0 : -1;
}

static void f_mount(const struct probe *p)
{
	(void)syscall(SYS_mount, 0, 0, 0, 0, 0);
}

static void f_execve(const struct probe *p)
{
	(void)syscall(SYS_execve, 0, 0, 0);
}

static void f_mmap_exec(const struct probe *p)
{
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void f_mprotect_exec(const struct probe *p)
{
	void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)mprotect(m, 4096, PROT_READ | PROT_EXEC);
}

static void f_inet_socket(const struct probe *p)
{
	(void)socket(AF_INET, SOCK_STREAM, 0);
}

static void f_ioctl_other_request(const struct probe *p)
{
	(void)ioctl(p->vm_fd, KVM_CREATE_VCPU, 0);
}

static void f_ioctl_other_fd(const struct probe *p)
{
	(void)ioctl(p->vm_fd + 1, KVM_IRQ_LINE, NULL);
}

static void f_kvm_run_on_other_fd(const struct probe *p)
{
	(void)ioctl(p->vcpu_fd + 1, KVM_RUN, 0);
}

static void f_tgkill_other(const struct probe *p)
{
	(void)syscall(SYS_tgkill, 1, 1, 0);
}

static void f_openat(const struct probe *p)
{
	(void)open("/etc/hostname", O_RDONLY);
}

static void f_unshare(const struct probe *p)
{
	(void)syscall(SYS_unshare, 0);
}

static void f_ptrace(const struct probe *p)
{
	(void)syscall(SYS_ptrace, 0, 0, 0, 0);
}

static void check_forbidden(const char *what, struct probe p, const char *call, const char *role)
{
	struct outcome o = in_child(run_probe, &p);
	char want[160];

	snprintf(want, sizeof(want),
		 "test: VMM error: seccomp: the %s thread made a forbidden "
		 "system call: %s (",
		 role, call);
	if (!ok(killed_by_sigsys(&o) && strstr(o.report, want) == o.report, "%s: %s", role, what))
		diag("status 0x%x, report \"%s\"", o.status, o.report);
}

static void check_allowed(const char *what, struct probe p, const char *role)
{
	struct outcome o = in_child(run_probe, &p);

	if (!ok(exited(&o, C_OK), "%s: %s", role, what))
		diag("status 0x%x, report \"%s\"", o.status, o.report);
}

static void seccomp_tests(void)
{
	struct probe vcpu = { .role = VMM_ROLE_VCPU, .vm_fd = 40, .vcpu_fd = 41 };
	struct probe dev = { .role = VMM_ROLE_DEVICE, .vm_fd = 40, .vcpu_fd = -1 };
	struct probe mon = { .role = VMM_ROLE_MONITOR, .vm_fd = -1, .vcpu_fd = -1 };
	struct probe fsw = { .role = VMM_ROLE_FS_WORKER, .vm_fd = -1, .vcpu_fd = -1 };
	struct probe p;

	/* fds 40 and 41 exist (as /dev/null) so the ioctl reaches the kernel. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(null, 40);
	dup2(null, 41);

	p = vcpu, p.allowed = a_basics;
	check_allowed("getpid, mmap and mprotect without PROT_EXEC", p, "vCPU");
	p = vcpu, p.allowed = a_kvm_irq_line_on_vm_fd;
	check_allowed("KVM_IRQ_LINE on the VM fd reaches the kernel", p, "vCPU");
	p = vcpu, p.forbidden = f_mount;
	check_forbidden("mount", p, "mount", "vCPU");
	p = vcpu, p.forbidden = f_mmap_exec;
	check_forbidden("mmap with PROT_EXEC", p, "mmap", "vCPU");
	p = vcpu, p.forbidden = f_ioctl_other_request;
	check_forbidden("KVM_CREATE_VCPU (a request it does not use)", p, "ioctl", "vCPU");
	p = vcpu, p.forbidden = f_ioctl_other_fd;
	check_forbidden("KVM_IRQ_LINE on another fd", p, "ioctl", "vCPU");
	p = vcpu, p.forbidden = f_kvm_run_on_other_fd;
	check_forbidden("KVM_RUN on another vCPU's fd", p, "ioctl", "vCPU");
	p = vcpu, p.forbidden = f_tgkill_other;
	check_forbidden("a signal to another process", p, "tgkill", "vCPU");
	/* Sanitizer builds let every thread open files (ASan's reports read
	 * /proc/self/maps): docs/security.md. */
	p = vcpu, p.forbidden = f_openat;
	if (SANITIZER_BUILD)
		ok(1, "# SKIP vCPU: open (allowed in sanitizer builds)");
	else
		check_forbidden("open", p, "openat", "vCPU");

	p = dev, p.allowed = a_unix_socket;
	check_allowed("an AF_UNIX socket", p, "device loop");
	p = dev, p.forbidden = f_inet_socket;
	check_forbidden("an AF_INET socket", p, "socket", "device loop");
	p = dev, p.forbidden = f_execve;
	check_forbidden("execve", p, "execve", "device loop");
	p = dev, p.forbidden = f_mprotect_exec;
	check_forbidden("mprotect to PROT_EXEC", p, "mprotect", "device loop");
	p = dev, p.forbidden = f_openat;
	if (SANITIZER_BUILD)
		ok(1, "# SKIP device loop: open (allowed in sanitizer builds)");
	else
		check_forbidden("open", p, "openat", "device loop");
	p = dev, p.forbidden = f_unshare;
	check_forbidden("unshare", p, "unshare", "device loop");

	p = mon, p.allowed = a_unix_socket;
	check_allowed("an AF_UNIX socket", p, "monitor");
	p = mon, p.forbidden = f_ptrace;
	check_forbidden("ptrace", p, "ptrace", "monitor");
	p = mon, p.forbidden = f_ioctl_other_request;
	check_forbidden("an ioctl it does not use", p, "ioctl", "monitor");

	p = fsw, p.forbidden = f_mount;
	check_forbidden("mount", p, "mount", "virtio-fs worker");
	p = fsw, p.forbidden = f_inet_socket;
	check_forbidden("any socket", p, "socket", "virtio-fs worker");
	p = fsw, p.forbidden = f_execve;
	check_forbidden("execve", p, "execve", "virtio-fs worker");
	close(40);
	close(41);
	close(null);
}

/* ---- capabilities ---- */

static uint64_t status_caps(const char *field)
{
	char path[64], line[256];
	uint64_t v = ~0ull;
	size_t n = strlen(field);

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)gettid());
	FILE *f = fopen(path, "re");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

static int drop_and_report(int report_fd, void *arg)
{
	enum vmm_role role = *(enum vmm_role *)arg;
	uint64_t v[5];

	if (caps_drop_role(role, NULL) < 0)
		return C_SETUP;
	v[0] = status_caps("CapEff");
	v[1] = status_caps("CapPrm");
	v[2] = status_caps("CapInh");
	v[3] = status_caps("CapBnd");
	v[4] = status_caps("CapAmb");
	return write(report_fd, v, sizeof(v)) == sizeof(v) ? C_OK : C_SETUP;
}

static void caps_tests(void)
{
	const uint64_t fs = 1ull << 0 /* CHOWN */ | 1ull << 1 /* DAC_OVERRIDE */ |
			    1ull << 2 /* DAC_READ_SEARCH */ | 1ull << 3 /* FOWNER */ |
			    1ull << 4 /* FSETID */ | 1ull << 27 /* MKNOD */ |
			    1ull << 7 /* SETUID */ | 1ull << 6 /* SETGID */ |
			    1ull << 31 /* SETFCAP */ | 1ull << 21 /* SYS_ADMIN */;
	const struct {
		enum vmm_role role;
		const char *name;
		uint64_t want;
	} cases[] = {
		{ VMM_ROLE_VCPU, "vCPU", 0 },
		{ VMM_ROLE_DEVICE, "device loop", 0 },
		{ VMM_ROLE_MONITOR, "monitor", 0 },
		{ VMM_ROLE_FS_WORKER, "virtio-fs worker", fs },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum vmm_role role = cases[i].role;
		if (geteuid() != 0) {
			ok(1, "# SKIP capabilities of the %s role: not root", cases[i].name);
			continue;
		}
		struct outcome o = in_child(drop_and_report, &role);
		uint64_t v[5];
		memcpy(v, o.report, sizeof(v));
		if (!ok(exited(&o, C_OK) && v[0] == cases[i].want && v[1] == cases[i].want &&
			    v[2] == 0 && v[3] == 0 && v[4] == 0,
			"capabilities of the %s role: effective = permitted = 0x%llx, no "
			"inheritable, bounding or ambient",
			cases[i].name, (unsigned long long)cases[i].want))
			diag("status 0x%x: eff %llx prm %llx inh %llx bnd %llx amb %llx", o.status,
			     (unsigned long long)v[0], (unsigned long long)v[1],
			     (unsigned long long)v[2], (unsigned long long)v[3],
			     (unsigned long long)v[4]);
	}
}

/* ---- the jail ---- */

struct jail_case {
	char dir[256];	   /* scratch directory with the files below */
	char kernel[300];  /* absolute */
	char disk_rel[64]; /* relative to dir, the working directory */
	char sock[300];	   /* a socket path in dir/s */
};

/* Bits of what the child saw, reported back. */
#define J_KERNEL       1
#define J_DISK_REL     2
#define J_HOST_HIDDEN  4
#define J_PROC	       8
#define J_SOCKDIR      16
#define J_TRIM_KERNEL  32
#define J_TRIM_RO      64
#define J_TRIM_SOCKDIR 128
#define J_FD_CLOSED    256

static int jail_child(int report_fd, void *arg)
{
	struct jail_case *c = arg;
	struct vmm_config cfg = { .kernel = c->kernel,
				  .ndisks = 1,
				  .disks = { { .path = c->disk_rel } },
				  .vsock = { .guest_cid = 3, .uds_path = c->sock } };
	int bits = 0, stray = open("/etc/hostname", O_RDONLY); /* not kept */
	struct kv_err e = { 0 };

	if (chdir(c->dir) < 0 || vmm_jail(&cfg, NULL, &report_fd, 1, &e) < 0) {
		(void)!write(report_fd, e.msg, strlen(e.msg) + 1);
		return C_SETUP;
	}
	if (access(c->kernel, R_OK) == 0)
		bits |= J_KERNEL;
	if (access(c->disk_rel, R_OK | W_OK) == 0)
		bits |= J_DISK_REL;
	if (access("/etc", F_OK) < 0 && access("/usr", F_OK) < 0 && access("/dev/null", F_OK) < 0)
		bits |= J_HOST_HIDDEN;
	if (access("/proc/self/fd", F_OK) == 0)
		bits |= J_PROC;
	char sockdir[300];
	snprintf(sockdir, sizeof(sockdir), "%s/s/probe", c->dir);
	int fd = open(sockdir, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		bits |= J_SOCKDIR;
		close(fd);
	}
	if (stray < 0 || fcntl(stray, F_GETFD) < 0)
		bits |= J_FD_CLOSED;
	if (jail_trim(&e) == 0) {
		if (access(c->kernel, F_OK) < 0)
			bits |= J_TRIM_KERNEL;
		if (mkdir("/newdir", 0700) < 0 && errno == EROFS)
			bits |= J_TRIM_RO;
		if (unlink(sockdir) == 0)
			bits |= J_TRIM_SOCKDIR;
	}
	return write(report_fd, &bits, sizeof(bits)) == sizeof(bits) ? C_OK : C_SETUP;
}

static void jail_tests(void)
{
	const char *base = getenv("FS_TEST_DIR");
	struct jail_case c;
	const char *names[] = { "the kernel is visible at its absolute path",
				"a disk given by a relative path is, read-write",
				"the host's /etc, /usr and /dev/null are not",
				"a fresh /proc is there",
				"the socket's directory is writable",
				"jail_trim: the kernel is gone",
				"jail_trim: the root is read-only",
				"jail_trim: the socket's directory stays writable",
				"a descriptor not kept is closed" };
	const int bits[] = { J_KERNEL,	    J_DISK_REL, J_HOST_HIDDEN,	J_PROC,	    J_SOCKDIR,
			     J_TRIM_KERNEL, J_TRIM_RO,	J_TRIM_SOCKDIR, J_FD_CLOSED };

	if (geteuid() != 0) {
		for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
			ok(1, "# SKIP jail: %s: not root", names[i]);
		return;
	}
	snprintf(c.dir, sizeof(c.dir), "%s/jail-test.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(c.dir)) {
		ok(0, "scratch directory %s", c.dir);
		return;
	}
	snprintf(c.kernel, sizeof(c.kernel), "%s/vmlinux", c.dir);
	snprintf(c.disk_rel, sizeof(c.disk_rel), "sub/../disk.img");
	snprintf(c.sock, sizeof(c.sock), "%s/s/v.sock", c.dir);
	char p[400];
	snprintf(p, sizeof(p), "%s/s", c.dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/sub", c.dir);
	mkdir(p, 0700);
	close(open(c.kernel, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/disk.img", c.dir);
	close(open(p, O_CREAT | O_WRONLY, 0600));

	struct outcome o = in_child(jail_child, &c);
	int got = 0;
	memcpy(&got, o.report, sizeof(got));
	if (!exited(&o, C_OK))
		diag("jail child: status 0x%x: %s", o.status, o.report);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		ok(exited(&o, C_OK) && (got & bits[i]), "jail: %s", names[i]);

	snprintf(p, sizeof(p), "rm -rf '%s'", c.dir);
	(void)!system(p);
}

int main(void)
{
	seccomp_tests();
	caps_tests();
	jail_tests();
	tap_plan(tap_n_);
	return tap_done();
}
