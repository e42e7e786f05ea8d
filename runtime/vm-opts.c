/* vm-opts.c - `kvrun vm`'s options: --kernel, --cpus, --memory, --disk,
 * --console/--serial, --vsock, --net, --fs, --exec and the rest, parsed and
 * validated into a struct vmm_config and struct vm_opts (vm-opts.h). Usage
 * errors are printed here, one line naming the option. */
#include "vm-opts.h"
#include "kvap.h"
#include "layout.h"
#include "util.h"
#include "verbs.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int vm_parse_args(int argc, char **argv, struct vmm_config *cfg, struct vm_opts *vo)
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
