/* vm.c - `kvrun vm`: boot a kernel in a micro-VM from the command line.
 *
 * Owns: parsing and validating the verb's options into a struct vmm_config
 * (every message names the option and the bad value), mapping how the VM
 * stopped to the documented exit status, SIGTERM/SIGINT handling (stop
 * the VM cleanly; exit 128+N), and --exec's private socket directory. The
 * VMM library does all the work; vm-exec.c runs the --exec command. */
#include "kvap.h"
#include "layout.h"
#include "netsetup.h"
#include "tapdev.h"
#include "util.h"
#include "verbs.h"
#include "vm-exec.h"
#include "vmm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
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

#define DEFAULT_MEMORY (512 * MiB)
#define MAX_MEMORY     (1024 * GiB)

#define VSOCK_CID_MIN	      3u
#define VSOCK_CID_MAX	      0xfffffffeu
#define VSOCK_PATH_MAX	      96 /* docs/vsock.md: "<path>_4294967295" must fit sun_path */
#define DEFAULT_AGENT_TIMEOUT 60 /* seconds */

/* What parse_args gives besides the VMM config. */
struct vm_opts {
	char **exec_argv;			 /* --exec -- CMD...: NULL-terminated, or NULL */
	struct vm_exec_mount mounts[VMM_MAX_FS]; /* --fs ...,mount=DIR */
	unsigned nmounts;
	unsigned agent_timeout_s;
	bool serial_set;
	const char *netns; /* --net netns=PATH */
	bool jail;	   /* --jail (default on) */
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

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvrun vm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -EINVAL;
}

static int parse_chardev(const char *opt, const char *s, struct vmm_chardev *out)
{
	if (strcmp(s, "stdio") == 0)
		*out = (struct vmm_chardev){ .kind = VMM_CHR_STDIO };
	else if (strcmp(s, "pty") == 0)
		*out = (struct vmm_chardev){ .kind = VMM_CHR_PTY };
	else if (strcmp(s, "none") == 0)
		*out = (struct vmm_chardev){ .kind = VMM_CHR_NONE };
	else if (strncmp(s, "file:", 5) == 0 && s[5])
		*out = (struct vmm_chardev){ .kind = VMM_CHR_FILE, .path = s + 5 };
	else
		return usage_error("%s: \"%s\" is not stdio, file:PATH, pty or none", opt, s);
	return 0;
}

/* path=P[,readonly=on|off]; s is modified in place (commas become NULs). */
static int parse_disk(char *s, struct vmm_config *cfg)
{
	struct vmm_disk d = { 0 };
	char *orig = strdup(s);
	int r = 0;

	if (!orig)
		return -ENOMEM;
	if (cfg->ndisks == VMM_MAX_DISKS) {
		r = usage_error("--disk: at most %d disks", VMM_MAX_DISKS);
		goto out;
	}
	for (char *save = NULL, *kv = strtok_r(s, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		if (strncmp(kv, "path=", 5) == 0 && kv[5]) {
			d.path = kv + 5;
		} else if (strcmp(kv, "readonly=on") == 0) {
			d.readonly = true;
		} else if (strcmp(kv, "readonly=off") == 0) {
			d.readonly = false;
		} else {
			r = usage_error("--disk: \"%s\" in \"%s\" is not path=P or readonly=on|off",
					kv, orig);
			goto out;
		}
	}
	if (!d.path) {
		r = usage_error("--disk: \"%s\" has no path=P", orig);
		goto out;
	}
	cfg->disks[cfg->ndisks++] = d;
out:
	free(orig);
	return r;
}

/* A tag a guest can put on its mount command line. */
static bool fs_tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n < 1 || n > VMM_FS_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~')
			return false;
	return true;
}

/* tag=T,path=DIR[,cache=auto|always|never][,readonly=on|off][,mount=GDIR];
 * s is modified in place (commas become NULs). */
static int parse_fs(char *s, struct vmm_config *cfg, struct vm_opts *vo)
{
	struct vmm_fs f = { .cache = VMM_FS_CACHE_AUTO };
	const char *mnt = NULL;
	char *orig = strdup(s);
	int r = 0;

	if (!orig)
		return -ENOMEM;
	if (cfg->nfs == VMM_MAX_FS) {
		r = usage_error("--fs: at most %d shared directories", VMM_MAX_FS);
		goto out;
	}
	for (char *save = NULL, *kv = strtok_r(s, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		if (strncmp(kv, "tag=", 4) == 0) {
			f.tag = kv + 4;
		} else if (strncmp(kv, "path=", 5) == 0 && kv[5]) {
			f.path = kv + 5;
		} else if (strcmp(kv, "cache=auto") == 0) {
			f.cache = VMM_FS_CACHE_AUTO;
		} else if (strcmp(kv, "cache=always") == 0) {
			f.cache = VMM_FS_CACHE_ALWAYS;
		} else if (strcmp(kv, "cache=never") == 0) {
			f.cache = VMM_FS_CACHE_NEVER;
		} else if (strcmp(kv, "readonly=on") == 0) {
			f.readonly = true;
		} else if (strcmp(kv, "readonly=off") == 0) {
			f.readonly = false;
		} else if (strncmp(kv, "mount=", 6) == 0) {
			mnt = kv + 6;
		} else if (strncmp(kv, "cache=", 6) == 0) {
			r = usage_error("--fs: cache \"%s\" in \"%s\" is not auto, always or never",
					kv + 6, orig);
			goto out;
		} else {
			r = usage_error("--fs: \"%s\" in \"%s\" is not tag=T, path=DIR, "
					"cache=auto|always|never, readonly=on|off or mount=GDIR",
					kv, orig);
			goto out;
		}
	}
	if (!f.tag || !f.path) {
		r = usage_error("--fs: \"%s\" needs both tag=T and path=DIR", orig);
		goto out;
	}
	if (!fs_tag_valid(f.tag)) {
		r = usage_error("--fs: tag \"%s\" is not 1 to %d printable characters without "
				"blanks",
				f.tag, VMM_FS_TAG_MAX);
		goto out;
	}
	for (unsigned i = 0; i < cfg->nfs; i++)
		if (strcmp(cfg->fs[i].tag, f.tag) == 0) {
			r = usage_error("--fs: tag \"%s\" is given twice", f.tag);
			goto out;
		}
	if (mnt && (mnt[0] != '/' || strlen(mnt) > 4095)) {
		r = usage_error("--fs: mount \"%s\" is not an absolute guest path", mnt);
		goto out;
	}
	if (mnt)
		vo->mounts[vo->nmounts++] =
		    (struct vm_exec_mount){ .tag = f.tag, .mount_point = mnt };
	cfg->fs[cfg->nfs++] = f;
out:
	free(orig);
	return r;
}

/* cid=N,socket=PATH; s is modified in place (commas become NULs). */
static int parse_vsock(char *s, struct vmm_config *cfg)
{
	char *orig = strdup(s);
	const char *cid = NULL, *path = NULL;
	uint64_t v;
	int r = 0;

	if (!orig)
		return -ENOMEM;
	for (char *save = NULL, *kv = strtok_r(s, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		if (strncmp(kv, "cid=", 4) == 0) {
			cid = kv + 4;
		} else if (strncmp(kv, "socket=", 7) == 0) {
			path = kv + 7;
		} else {
			r = usage_error("--vsock: \"%s\" in \"%s\" is not cid=N or socket=PATH", kv,
					orig);
			goto out;
		}
	}
	if (!cid || !path) {
		r = usage_error("--vsock: \"%s\" needs both cid=N and socket=PATH", orig);
		goto out;
	}
	if (parse_u64(cid, VSOCK_CID_MAX, &v) < 0 || v < VSOCK_CID_MIN) {
		r = usage_error("--vsock: cid \"%s\" is not between %u and %u", cid, VSOCK_CID_MIN,
				VSOCK_CID_MAX);
		goto out;
	}
	if (!*path || strlen(path) > VSOCK_PATH_MAX) {
		r = usage_error("--vsock: socket \"%s\" is empty or longer than %d bytes", path,
				VSOCK_PATH_MAX);
		goto out;
	}
	cfg->vsock = (struct vmm_vsock){ .guest_cid = v, .uds_path = path };
out:
	free(orig);
	return r;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* tap=NAME|fd=N|netns=PATH[,mac=MAC][,mtu=N]; s is modified in place. */
static int parse_net(char *s, struct vmm_config *cfg, struct vm_opts *vo)
{
	struct vmm_net n = { .fd = -1 };
	char *orig = strdup(s);
	const char *netns = NULL, *fd = NULL;
	bool mac = false, mtu = false;
	uint64_t v;
	int r = 0;

	if (!orig)
		return -ENOMEM;
	for (char *save = NULL, *kv = strtok_r(s, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		if (strncmp(kv, "tap=", 4) == 0) {
			n.tap = kv + 4;
		} else if (strncmp(kv, "fd=", 3) == 0) {
			fd = kv + 3;
		} else if (strncmp(kv, "netns=", 6) == 0) {
			netns = kv + 6;
		} else if (strncmp(kv, "mac=", 4) == 0) {
			if (parse_mac(kv + 4, n.mac) < 0 || (n.mac[0] & 1) ||
			    !memcmp(n.mac, "\0\0\0\0\0\0", 6)) {
				r = usage_error("--net: mac \"%s\" is not a unicast MAC address "
						"(xx:xx:xx:xx:xx:xx)",
						kv + 4);
				goto out;
			}
			n.mac_set = mac = true;
		} else if (strncmp(kv, "mtu=", 4) == 0) {
			if (parse_u64(kv + 4, 65535, &v) < 0 || v < 68) {
				r = usage_error("--net: mtu \"%s\" is not between 68 and 65535",
						kv + 4);
				goto out;
			}
			n.mtu = (uint32_t)v;
			mtu = true;
		} else {
			r = usage_error(
			    "--net: \"%s\" in \"%s\" is not tap=NAME, fd=N, netns=PATH, "
			    "mac=MAC or mtu=N",
			    kv, orig);
			goto out;
		}
	}
	if ((n.tap != NULL) + (fd != NULL) + (netns != NULL) != 1) {
		r = usage_error("--net: \"%s\" needs exactly one of tap=NAME, fd=N or netns=PATH",
				orig);
		goto out;
	}
	if (netns) {
		if (mac || mtu) {
			r = usage_error("--net: \"%s\": with netns=PATH the MAC and MTU come from "
					"the namespace's interfaces",
					orig);
		} else if (!*netns || vo->netns) {
			r = usage_error("--net: \"%s\": %s", orig,
					*netns ? "only one netns=PATH" : "netns= needs a path");
		} else {
			vo->netns = netns;
		}
		goto out;
	}
	if (n.tap && (!*n.tap || strlen(n.tap) >= IFNAMSIZ)) {
		r = usage_error("--net: tap \"%s\" is empty or longer than %d bytes", n.tap,
				IFNAMSIZ - 1);
		goto out;
	}
	if (fd) {
		if (parse_u64(fd, INT32_MAX, &v) < 0) {
			r = usage_error("--net: fd \"%s\" is not a file descriptor number", fd);
			goto out;
		}
		n.fd = (int)v;
	}
	if (cfg->nnets == VMM_MAX_NETS) {
		r = usage_error("--net: at most %d NICs", VMM_MAX_NETS);
		goto out;
	}
	cfg->nets[cfg->nnets++] = n;
out:
	free(orig);
	return r;
}

static int parse_args(int argc, char **argv, struct vmm_config *cfg, struct vm_opts *vo)
{
	enum {
		O_KERNEL = 1,
		O_INITRD,
		O_CMDLINE,
		O_CPUS,
		O_MEMORY,
		O_DISK,
		O_CONSOLE,
		O_SERIAL,
		O_RNG,
		O_HUGEPAGES,
		O_VSOCK,
		O_NET,
		O_FS,
		O_EXEC,
		O_AGENT_TIMEOUT,
		O_SECCOMP,
		O_JAIL,
		O_TEST_VIOLATION,
		O_HELP
	};
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "disk", required_argument, NULL, O_DISK },
		{ "console", required_argument, NULL, O_CONSOLE },
		{ "serial", required_argument, NULL, O_SERIAL },
		{ "rng", required_argument, NULL, O_RNG },
		{ "hugepages", no_argument, NULL, O_HUGEPAGES },
		{ "vsock", required_argument, NULL, O_VSOCK },
		{ "net", required_argument, NULL, O_NET },
		{ "fs", required_argument, NULL, O_FS },
		{ "exec", no_argument, NULL, O_EXEC },
		{ "agent-timeout", required_argument, NULL, O_AGENT_TIMEOUT },
		{ "seccomp", required_argument, NULL, O_SECCOMP },
		{ "jail", required_argument, NULL, O_JAIL },
		{ "test-seccomp-violation", required_argument, NULL, O_TEST_VIOLATION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool exec = false;
	uint64_t v;
	int c, r;

	*vo = (struct vm_opts){ .agent_timeout_s = DEFAULT_AGENT_TIMEOUT, .jail = true };
	*cfg = (struct vmm_config){ .cpus = 1,
				    .mem_bytes = DEFAULT_MEMORY,
				    .serial = { .kind = VMM_CHR_STDIO },
				    .console = { .kind = VMM_CHR_NONE },
				    .sandbox = { .seccomp = true,
						 .drop_caps = true,
						 .report_fd = STDERR_FILENO,
						 .report_prefix = "kvrun vm: " } };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case O_KERNEL:
			cfg->kernel = optarg;
			break;
		case O_INITRD:
			cfg->initrd = optarg;
			break;
		case O_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case O_CPUS:
			if (parse_u64(optarg, LAYOUT_MAX_CPUS, &v) < 0 || v < 1)
				return usage_error("--cpus: \"%s\" is not between 1 and %d", optarg,
						   LAYOUT_MAX_CPUS);
			cfg->cpus = (unsigned)v;
			break;
		case O_MEMORY:
			if (parse_size(optarg, MiB, &v) < 0)
				return usage_error("--memory: \"%s\" is not a size (e.g. 512M, 2G)",
						   optarg);
			if (v < 2 * MiB || v > MAX_MEMORY)
				return usage_error("--memory: \"%s\" is not between 2M and 1T",
						   optarg);
			if (v % (2 * MiB))
				return usage_error("--memory: \"%s\" is not a multiple of 2M",
						   optarg);
			cfg->mem_bytes = v;
			break;
		case O_DISK:
			if ((r = parse_disk(optarg, cfg)) < 0)
				return r;
			break;
		case O_CONSOLE:
			if ((r = parse_chardev("--console", optarg, &cfg->console)) < 0)
				return r;
			break;
		case O_SERIAL:
			if ((r = parse_chardev("--serial", optarg, &cfg->serial)) < 0)
				return r;
			vo->serial_set = true;
			break;
		case O_RNG:
			if (strcmp(optarg, "on") == 0)
				cfg->rng = true;
			else if (strcmp(optarg, "off") == 0)
				cfg->rng = false;
			else
				return usage_error("--rng: \"%s\" is not on or off", optarg);
			break;
		case O_HUGEPAGES:
			cfg->hugepages = true;
			break;
		case O_VSOCK:
			if ((r = parse_vsock(optarg, cfg)) < 0)
				return r;
			break;
		case O_NET:
			if ((r = parse_net(optarg, cfg, vo)) < 0)
				return r;
			break;
		case O_FS:
			if ((r = parse_fs(optarg, cfg, vo)) < 0)
				return r;
			break;
		case O_EXEC:
			exec = true;
			break;
		case O_AGENT_TIMEOUT:
			if (parse_u64(optarg, 24 * 3600, &v) < 0 || v < 1)
				return usage_error("--agent-timeout: \"%s\" is not between 1 and "
						   "86400 seconds",
						   optarg);
			vo->agent_timeout_s = (unsigned)v;
			break;
		case O_SECCOMP:
		case O_JAIL: {
			bool on = strcmp(optarg, "on") == 0;
			if (!on && strcmp(optarg, "off") != 0)
				return usage_error("--%s: \"%s\" is not on or off",
						   c == O_SECCOMP ? "seccomp" : "jail", optarg);
			if (c == O_SECCOMP)
				cfg->sandbox.seccomp = on;
			else
				vo->jail = cfg->sandbox.drop_caps = on;
			break;
		}
		case O_TEST_VIOLATION:
			if (!strchr(optarg, ':'))
				return usage_error(
				    "--test-seccomp-violation: \"%s\" is not ROLE:SYSCALL", optarg);
			cfg->sandbox.test_violation = optarg;
			break;
		case 'h':
		case O_HELP:
			return 1;
		case ':':
			return usage_error("%s needs a value (see kvrun vm --help)",
					   argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("%s needs a value (see kvrun vm --help)",
						   argv[optind - 1]);
			return usage_error("unknown option \"%s\" (see kvrun vm --help)",
					   argv[optind - 1]);
		}
	}
	if (exec) {
		/* getopt stopped at "--" (consumed) or at the first non-option. */
		if (optind >= argc)
			return usage_error("--exec needs a command: --exec -- CMD [ARG...]");
		vo->exec_argv = &argv[optind];
		if (!vo->serial_set)
			cfg->serial = (struct vmm_chardev){ .kind = VMM_CHR_NONE };
		if (cfg->serial.kind == VMM_CHR_STDIO || cfg->console.kind == VMM_CHR_STDIO)
			return usage_error("--exec gives the command this process's stdio: "
					   "--serial and --console cannot be stdio");
	} else if (optind < argc) {
		return usage_error("unexpected argument \"%s\" (see kvrun vm --help)",
				   argv[optind]);
	} else if (vo->nmounts) {
		return usage_error("--fs: mount=%s needs --exec (the agent mounts it for CMD)",
				   vo->mounts[0].mount_point);
	}
	if (!cfg->kernel)
		return usage_error("--kernel is required (see kvrun vm --help)");
	if (cfg->console.kind == VMM_CHR_STDIO && cfg->serial.kind == VMM_CHR_STDIO)
		return usage_error("--console and --serial cannot both be stdio");
	return 0;
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

	r = parse_args(argc, argv, &cfg, &vo);
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
