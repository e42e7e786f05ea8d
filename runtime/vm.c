/* vm.c - `kvrun vm`: boot a kernel in a micro-VM from the command line.
 *
 * Owns: the verb's help text, the checks of its inputs before any set-up,
 * mapping how the VM stopped to the documented exit status, SIGTERM/SIGINT
 * handling (stop the VM cleanly; exit 128+N), --net netns=, the jail, and
 * --exec's private socket directory. vm-opts.c parses the options; the VMM
 * library does all the work; vm-exec.c runs the --exec command. */
#include "kvap.h"
#include "layout.h"
#include "netsetup.h"
#include "tapdev.h"
#include "util.h"
#include "verbs.h"
#include "vm-exec.h"
#include "vm-opts.h"
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	EXIT_POWEROFF = 0,
	EXIT_VMM_ERROR = 1,
	EXIT_REBOOT = 3,
	EXIT_PANIC = 4,
	EXIT_TRIPLE_FAULT = 5,
};

void verb_vm_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: kvrun vm --kernel PATH [OPTIONS] [--exec -- CMD [ARG...]]\n"
	    "\n"
	    "Boot a Linux kernel (bzImage or ELF vmlinux) in a KVM micro-VM with the 64-bit\n"
	    "boot protocol: no firmware, ACPI-described machine, serial console on COM1.\n"
	    "\n"
	    "Options:\n"
	    "  --kernel PATH        kernel image (required)\n"
	    "  --initrd PATH        initial ramdisk (e.g. a newc cpio)\n"
	    "  --cmdline STR        kernel command line, passed as is (e.g. \"console=ttyS0\")\n"
	    "  --cpus N             vCPUs, 1..%d (default 1)\n"
	    "  --memory SIZE        guest RAM, a multiple of 2M: 512M, 1G, ... (default 512M;\n"
	    "                       a bare number means MiB)\n"
	    "  --disk path=P[,readonly=on]\n"
	    "                       a raw disk image as virtio-blk (repeatable, up to %d)\n"
	    "  --console KIND       virtio-console (hvc0): stdio, file:PATH, pty or none\n"
	    "                       (default none)\n"
	    "  --serial KIND        8250 UART on COM1 (ttyS0): stdio, file:PATH, pty or none\n"
	    "                       (default stdio)\n"
	    "  --rng on|off         virtio-rng fed from the host (default off)\n"
	    "  --hugepages          back guest RAM with 2 MiB huge pages\n"
	    "  --net tap=NAME[,mac=MAC][,mtu=N]\n"
	    "  --net fd=N[,mac=MAC][,mtu=N]\n"
	    "                       virtio-net on a tap (repeatable, up to %d): the tap NAME in\n"
	    "                       this network namespace, created when missing, or an open tap\n"
	    "                       fd N (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR); the guest NIC gets MAC\n"
	    "                       (default: a random local one) and MTU N (default: the tap's,\n"
	    "                       when named; 68..65535)\n"
	    "  --net netns=PATH     every veth/macvlan/ipvlan interface of the network namespace\n"
	    "                       PATH becomes a guest NIC with its MAC and MTU: a tap in PATH,\n"
	    "                       tc redirects both ways (docs/networking.md), removed when\n"
	    "                       kvrun vm ends however it ends. With --exec the guest agent\n"
	    "                       gives the guest the interfaces' names, addresses and routes\n"
	    "                       before CMD runs\n"
	    "  --fs tag=T,path=DIR[,cache=auto|always|never][,readonly=on][,mount=GDIR]\n"
	    "                       share the host directory DIR as virtio-fs: the guest mounts\n"
	    "                       it with `mount -t virtiofs T MNT` (tag T: 1 to %d printable\n"
	    "                       characters). cache: auto (default) lets the guest cache\n"
	    "                       for a second, always for long (a tree only this VM\n"
	    "                       changes), never not at all (a tree shared with others).\n"
	    "                       readonly=on: every change fails with EROFS. mount=GDIR\n"
	    "                       (with --exec): the agent mounts it on the absolute guest\n"
	    "                       path GDIR before CMD runs. Repeatable, up to %d\n"
	    "                       directories (docs/virtio-fs.md)\n"
	    "  --vsock cid=N,socket=PATH\n"
	    "                       virtio-vsock with guest CID N (3..4294967294); host programs\n"
	    "                       reach guest port P through the Unix socket PATH (at most %d\n"
	    "                       bytes) with \"CONNECT P\\n\", and a guest connecting to CID 2\n"
	    "                       port P reaches the Unix socket PATH_P (docs/vsock.md)\n"
	    "  --exec -- CMD [ARG...]\n"
	    "                       run CMD through the guest agent (kvrun-agent as /init, e.g.\n"
	    "                       the initramfs of `make guest`) with this process's stdin,\n"
	    "                       stdout and stderr; the VM powers off when CMD exits and\n"
	    "                       kvrun vm exits with CMD's status (128+N if killed by signal\n"
	    "                       N). Without --vsock, cid=3 on a private socket in a\n"
	    "                       temporary directory, removed afterwards. --serial defaults\n"
	    "                       to none here\n"
	    "  --agent-timeout S    with --exec: give up when the agent has not answered S\n"
	    "                       seconds after start (default %d)\n"
	    "  --seccomp on|off     a seccomp filter per VMM thread (default on; off is for\n"
	    "                       debugging only). A forbidden system call kills kvrun vm\n"
	    "                       with SIGSYS after one line naming it (docs/security.md)\n"
	    "  --jail on|off        as root: the VMM in a private mount namespace that sees\n"
	    "                       only what it needs, other descriptors closed, capabilities\n"
	    "                       dropped (default on; off is for debugging only)\n"
	    "  --test-seccomp-violation ROLE:SYSCALL\n"
	    "                       tests only: once confined, the first thread of ROLE (vcpu,\n"
	    "                       device, monitor) makes SYSCALL, to show its filter works\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "SIGTERM and SIGINT stop the VM cleanly. A guest started with --serial stdio on a\n"
	    "terminal gets the terminal in raw mode; power the guest off to leave.\n"
	    "\n"
	    "The default guest pair, built by `make guest` into $KVRUN_CACHE (else\n"
	    "build/cache): guest-kernel/vmlinuz and guest-initramfs.cpio.\n"
	    "\n"
	    "Exit status:\n"
	    "  0      the guest powered off (ACPI S5, e.g. `poweroff -f`)\n"
	    "  1      VMM error: bad input (missing kernel, not a kernel, too little memory,\n"
	    "         missing disk or shared directory, a tap that cannot be used), set-up\n"
	    "         failure (no /dev/kvm, ...) or a fatal error while running; one line on\n"
	    "         stderr says which\n"
	    "  2      usage error (unknown option, bad value)\n"
	    "  3      the guest rebooted (the VM is not restarted)\n"
	    "  4      the guest panicked\n"
	    "  5      triple fault (the vCPU shut down: unrecoverable guest CPU state)\n"
	    "  128+N  stopped by signal N (143 for SIGTERM, 130 for SIGINT)\n"
	    "With --exec: CMD's exit status once the guest powered off; 1 when the agent\n"
	    "was not ready in time or the connection to it broke; 3, 4, 5 as above when the\n"
	    "guest stopped otherwise.\n",
	    LAYOUT_MAX_CPUS, VMM_MAX_DISKS, VMM_MAX_NETS, VMM_FS_TAG_MAX, VMM_MAX_FS,
	    VSOCK_PATH_MAX, DEFAULT_AGENT_TIMEOUT);
}

/* Bad input the VMM would only find later, reported before any set-up. */
static int check_inputs(const struct vmm_config *cfg)
{
	struct stat st;

	for (unsigned i = 0; i < cfg->ndisks; i++) {
		if (stat(cfg->disks[i].path, &st) < 0) {
			fprintf(stderr, "kvrun vm: --disk: %s: %s\n", cfg->disks[i].path,
				strerror(errno));
			return -errno;
		}
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			fprintf(stderr,
				"kvrun vm: --disk: %s: not a regular file or block device\n",
				cfg->disks[i].path);
			return -EINVAL;
		}
	}
	for (unsigned i = 0; i < cfg->nfs; i++) {
		if (stat(cfg->fs[i].path, &st) < 0) {
			int e = errno;
			fprintf(stderr, "kvrun vm: --fs: tag %s: %s: %s\n", cfg->fs[i].tag,
				cfg->fs[i].path, strerror(e));
			return -e;
		}
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "kvrun vm: --fs: tag %s: %s is not a directory\n",
				cfg->fs[i].tag, cfg->fs[i].path);
			return -ENOTDIR;
		}
	}
	for (unsigned i = 0; i < cfg->nnets; i++) {
		char name[IFNAMSIZ];
		int fd = cfg->nets[i].fd, r;
		if (cfg->nets[i].tap)
			continue;
		if (fcntl(fd, F_GETFD) < 0) {
			fprintf(stderr, "kvrun vm: --net: fd %d: %s\n", fd, strerror(errno));
			return -EBADF;
		}
		if ((r = tap_check_fd(fd, name)) < 0) {
			fprintf(stderr,
				"kvrun vm: --net: fd %d is not a tap with IFF_TAP|IFF_NO_PI|"
				"IFF_VNET_HDR: %s\n",
				fd, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* --net netns=PATH: hand the namespace's interfaces to the VM as extra
 * NICs, with a guard that undoes it however this process ends. */
static int attach_netns(const char *path, struct vmm_config *cfg, struct netsetup **out,
			struct kvap_net_config *net, struct kv_err *err)
{
	struct netsetup *ns = NULL;
	int r = netsetup_attach(path, &ns, err);

	if (r < 0)
		return r;
	if (cfg->nnets + ns->nnics > VMM_MAX_NETS) {
		netsetup_detach(ns);
		return kv_errf(err, -E2BIG,
			       "--net: %s has %u interfaces; with the other NICs that is "
			       "more than %d",
			       path, ns->nnics, VMM_MAX_NETS);
	}
	if ((r = netsetup_guard(ns, err)) < 0 || (r = netsetup_to_kvap(ns, net, err)) < 0) {
		netsetup_detach(ns);
		return r;
	}
	for (unsigned k = 0; k < ns->nnics; k++)
		cfg->nets[cfg->nnets++] = (struct vmm_net){ .fd = ns->nics[k].tap_fd,
							    .mac_set = true,
							    .mtu = ns->nics[k].mtu };
	for (unsigned k = 0; k < ns->nnics; k++)
		memcpy(cfg->nets[cfg->nnets - ns->nnics + k].mac, ns->nics[k].mac, 6);
	*out = ns;
	return 0;
}

/* The handler's view of the VM: set once before the signals are unblocked. */
static struct vmm *volatile running_vm;
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	if (!stop_signal)
		stop_signal = sig;
	vmm_request_stop(running_vm);
}

static int install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int exit_status(enum vmm_exit_reason why)
{
	switch (why) {
	case VMM_EXIT_POWEROFF:
		return EXIT_POWEROFF;
	case VMM_EXIT_REBOOT:
		return EXIT_REBOOT;
	case VMM_EXIT_PANIC:
		return EXIT_PANIC;
	case VMM_EXIT_TRIPLE_FAULT:
		return EXIT_TRIPLE_FAULT;
	case VMM_EXIT_STOPPED:
		return 128 + (stop_signal ? stop_signal : SIGTERM);
	default:
		return EXIT_VMM_ERROR;
	}
}

/* --exec without --vsock: a private directory for the hybrid socket. In
 * the jail it is made in the jail's own root, so it is never on the host
 * and vanishes with the VMM's mount namespace. */
struct exec_sock {
	char dir[64];
	char path[VSOCK_PATH_MAX + 1];
	bool in_jail;
};

static int make_private_socket(struct exec_sock *es, struct vmm_config *cfg, bool in_jail)
{
	const char *tmp = in_jail ? "" : getenv("TMPDIR");

	/* "<dir>/vsock.sock_<port>" must fit the device's path limit. */
	if (!in_jail && (!tmp || !*tmp || strlen(tmp) > 40))
		tmp = "/tmp";
	es->in_jail = in_jail;
	snprintf(es->dir, sizeof(es->dir), "%s/kvrun-vm.XXXXXX", tmp);
	if (!mkdtemp(es->dir)) {
		fprintf(stderr, "kvrun vm: cannot create a directory for the vsock socket: %s\n",
			strerror(errno));
		es->dir[0] = 0;
		return -errno;
	}
	snprintf(es->path, sizeof(es->path), "%s/vsock.sock", es->dir);
	cfg->vsock = (struct vmm_vsock){ .guest_cid = VSOCK_CID_MIN, .uds_path = es->path };
	return 0;
}

static void remove_private_socket(struct exec_sock *es)
{
	if (!es->dir[0] || es->in_jail)
		return;
	(void)unlink(es->path); /* the device removes it; not when it never bound */
	if (rmdir(es->dir) < 0)
		fprintf(stderr, "kvrun vm: cannot remove %s: %s\n", es->dir, strerror(errno));
	es->dir[0] = 0;
}

/* The jail (docs/security.md): only what the VM needs stays visible, and
 * only the descriptors it needs stay open: stdio, tap fds given with --net
 * fd=N or made for --net netns=, and the network guard's pipe. */
static int enter_jail(const struct vmm_config *cfg, const struct netsetup *ns, struct kv_err *err)
{
	int keep[VMM_MAX_NETS + 1];
	unsigned n = 0;
	struct kv_err inner = { 0 };

	for (unsigned i = 0; i < cfg->nnets; i++)
		if (!cfg->nets[i].tap)
			keep[n++] = cfg->nets[i].fd;
	if (ns && ns->guard > 0)
		keep[n++] = ns->guard_fd;
	int r = vmm_jail(cfg, NULL, keep, n, &inner);
	if (r < 0)
		return kv_errf(err, r, "%s (--jail off runs without it)", inner.msg);
	return 0;
}

/* An error message on stderr as one line of printable text: it may carry
 * what the guest said (the agent client escapes that already; this keeps
 * every other message honest too). */
static void print_err(const char *prefix, const char *msg)
{
	char buf[4 * sizeof(((struct kv_err *)0)->msg)];

	fprintf(stderr, "kvrun vm: %s%s\n", prefix, kv_escape(buf, sizeof(buf), msg, sizeof(buf)));
}

/* The status of `kvrun vm --exec`: the command's, once the guest powered
 * off (or was stopped by us after it did not); otherwise why the VM
 * stopped. */
static int exec_status(int cmd, const struct kv_err *cmd_err, enum vmm_exit_reason why)
{
	if (why == VMM_EXIT_STOPPED && stop_signal)
		return 128 + stop_signal;
	if (cmd > 255) { /* the agent client never returns one; an exit status cannot be one */
		fprintf(stderr, "kvrun vm: --exec: exit status %d out of range\n", cmd);
		return EXIT_VMM_ERROR;
	}
	if (cmd >= 0 && (why == VMM_EXIT_POWEROFF || why == VMM_EXIT_STOPPED))
		return cmd;
	if (cmd < 0)
		print_err("--exec: ", cmd_err->msg);
	if (why == VMM_EXIT_POWEROFF || why == VMM_EXIT_STOPPED)
		return EXIT_VMM_ERROR;
	return exit_status(why);
}

int verb_vm(int argc, char **argv)
{
	enum vmm_exit_reason why = VMM_EXIT_NONE;
	struct kv_err err = { 0 }, cmd_err = { 0 };
	struct exec_sock es = { 0 };
	struct vm_exec *x = NULL;
	struct netsetup *ns = NULL;
	struct kvap_net_config net = { 0 };
	struct vmm_config cfg;
	struct vm_opts vo;
	struct vmm *vm = NULL;
	sigset_t stop, old;
	int r, cmd;

	r = vm_parse_args(argc, argv, &cfg, &vo);
	if (r == 1) {
		verb_vm_usage(stdout);
		return 0;
	}
	if (r < 0)
		return KVRUN_EXIT_USAGE;
	if (check_inputs(&cfg) < 0)
		return EXIT_VMM_ERROR;
	/* The jail needs root (CAP_SYS_ADMIN); an unprivileged VMM has no
	 * capabilities to drop and keeps the host's view. */
	bool jail = vo.jail && geteuid() == 0;
	bool private_socket = vo.exec_argv && !cfg.vsock.guest_cid;
	if (private_socket && !jail && make_private_socket(&es, &cfg, false) < 0)
		return EXIT_VMM_ERROR;

	/* Hold SIGTERM/SIGINT while building; a signal that came meanwhile is
	 * delivered on unblocking and stops the VM before it runs. The --exec
	 * thread inherits the blocked mask: the handler runs on this thread. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	r = install_signals();
	if (r < 0)
		kv_errno(&err, r, "cannot install signal handlers");
	if (r == 0 && vo.netns && (r = attach_netns(vo.netns, &cfg, &ns, &net, &err)) < 0) {
		struct kv_err inner = err;
		kv_errf(&err, r, "--net netns=%.128s: %.300s", vo.netns, inner.msg);
	}
	/* A sandboxed VMM keeps no socket into the namespace: the guard
	 * process (outside any filter) removes the redirects at the end. */
	if (r == 0 && ns && (jail || cfg.sandbox.seccomp))
		r = netsetup_release_netlink(ns, &err);
	if (r == 0 && jail)
		r = enter_jail(&cfg, ns, &err);
	if (r == 0 && private_socket && jail && make_private_socket(&es, &cfg, true) < 0)
		r = kv_errf(&err, -EIO, "cannot create the vsock socket's directory");
	if (r == 0)
		r = vmm_create(&cfg, &vm, &err);
	if (r == 0 && vo.exec_argv) {
		r = vm_exec_start(vm, cfg.vsock.uds_path, vo.exec_argv, vo.mounts, vo.nmounts,
				  (int)vo.agent_timeout_s * 1000, &net, &x, &err);
		if (r < 0) {
			vmm_destroy(vm);
			vm = NULL;
		}
	}
	if (r < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		print_err("", err.msg);
		remove_private_socket(&es);
		netsetup_detach(ns);
		kvap_free_net_config(&net);
		return EXIT_VMM_ERROR;
	}
	if (cfg.serial.kind == VMM_CHR_PTY)
		fprintf(stderr, "kvrun vm: serial console on %s\n", vmm_pty_path(vm, true));
	if (cfg.console.kind == VMM_CHR_PTY)
		fprintf(stderr, "kvrun vm: virtio console on %s\n", vmm_pty_path(vm, false));
	running_vm = vm;
	sigprocmask(SIG_SETMASK, &old, NULL);

	r = vmm_run(vm, &why, &err);

	sigprocmask(SIG_BLOCK, &stop, NULL);
	running_vm = NULL;
	if (x)
		vm_exec_vm_gone(x);
	vmm_destroy(vm); /* closes the host ends of every vsock stream */
	cmd = x ? vm_exec_finish(x, &cmd_err) : 0;
	remove_private_socket(&es);
	netsetup_detach(ns); /* after the VMM's tap fds are closed */
	kvap_free_net_config(&net);
	if (r < 0) {
		print_err("", err.msg);
		return EXIT_VMM_ERROR;
	}
	return x ? exec_status(cmd, &cmd_err, why) : exit_status(why);
}
