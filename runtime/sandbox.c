/* sandbox.c - see sandbox.h. */
#include "sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "util.h"

#define MiB_	(1ull << 20)
#define ALIGN2M (2 * MiB_)

static int ann_fail(struct kv_err *err, const char *key, const char *val, const char *what)
{
	return kv_errf(err, -EINVAL, "annotations[\"%s\"]: \"%s\" %s", key, val, what);
}

/* Number of CPUs in a list such as "0-3,6". */
static unsigned count_cpus(const char *list)
{
	unsigned n = 0;
	const char *p = list;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (end == p)
			return 0;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b < a)
				return 0;
		}
		n += (unsigned)(b - a + 1);
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return 0;
	}
	return n;
}

static int size_vm(const struct oci_config *cfg, const struct settings *s, struct sandbox *sb,
		   struct kv_err *err)
{
	const struct oci_resources *res = &cfg->linux_.resources;
	const char *a;
	uint64_t v;

	/* vCPUs */
	unsigned cpus = s->cpus;
	if ((a = oci_annotation(cfg, ANN_CPUS))) {
		if (parse_u64(a, LAYOUT_MAX_CPUS, &v) < 0 || v < 1 || v > s->max_cpus) {
			char what[64];
			snprintf(what, sizeof(what), "is not a number of vCPUs between 1 and %u",
				 s->max_cpus);
			return ann_fail(err, ANN_CPUS, a, what);
		}
		cpus = (unsigned)v;
	} else if (res->has_cpu_quota && res->cpu_quota > 0) {
		uint64_t period = res->has_cpu_period && res->cpu_period ? res->cpu_period : 100000;
		v = ((uint64_t)res->cpu_quota + period - 1) / period;
		cpus = v > s->max_cpus ? s->max_cpus : (unsigned)v;
	} else if (res->cpuset_cpus && count_cpus(res->cpuset_cpus)) {
		v = count_cpus(res->cpuset_cpus);
		cpus = v > s->max_cpus ? s->max_cpus : (unsigned)v;
	}
	sb->vm.cpus = cpus ? cpus : 1;

	/* memory */
	uint64_t mem = s->memory;
	if ((a = oci_annotation(cfg, ANN_MEMORY))) {
		if (parse_size(a, MiB_, &v) < 0 || v % ALIGN2M || v < s->min_memory ||
		    v > 1024ull * 1024 * MiB_) {
			char what[96];
			snprintf(what, sizeof(what),
				 "is not a size of at least %llu MiB and a multiple of 2 MiB",
				 (unsigned long long)(s->min_memory / MiB_));
			return ann_fail(err, ANN_MEMORY, a, what);
		}
		mem = v;
	} else if (res->has_mem_limit && res->mem_limit > 0) {
		v = (uint64_t)res->mem_limit;
		if (v > 1024ull * 1024 * MiB_)
			return kv_errf(err, -EINVAL,
				       "linux.resources.memory.limit: %llu bytes is more than a VM "
				       "can have",
				       (unsigned long long)v);
		mem = (v + s->memory_overhead + ALIGN2M - 1) / ALIGN2M * ALIGN2M;
		if (mem < s->min_memory)
			mem = s->min_memory;
	}
	sb->vm.mem_bytes = mem;

	/* The VMM's host cgroup: the guest's RAM plus the VMM's own, and the CPU
	 * the config grants (else the vCPUs plus one for the device threads). */
	sb->host.memory = mem + s->vmm_overhead;
	if (res->has_cpu_quota && res->cpu_quota > 0) {
		sb->host.cpu_quota = res->cpu_quota;
		sb->host.cpu_period = res->has_cpu_period ? res->cpu_period : 100000;
	} else {
		sb->host.cpu_quota = (int64_t)(sb->vm.cpus + 1) * 100000;
		sb->host.cpu_period = 100000;
	}
	if (res->has_cpu_shares)
		sb->host.cpu_shares = res->cpu_shares;
	sb->host.cpuset_cpus = res->cpuset_cpus;
	sb->host.cpuset_mems = res->cpuset_mems;
	return 0;
}

static int pick_file(const struct oci_config *cfg, const char *ann, const char *dflt,
		     const char *setting_name, const char *settings_path, char *out, size_t size,
		     struct kv_err *err)
{
	const char *a = oci_annotation(cfg, ann);
	const char *p = a ? a : dflt;
	struct stat st;

	if (strlen(p) >= size || p[0] != '/')
		return a ? ann_fail(err, ann, a, "is not an absolute path")
			 : kv_errf(err, -EINVAL, "%s \"%s\" is not an absolute path", setting_name,
				   p);
	errno = 0;
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (a)
			return kv_errf(err, -ENOENT, "annotations[\"%s\"]: %s: %s", ann, p,
				       errno ? strerror(errno) : "not a regular file");
		return kv_errf(err, -ENOENT,
			       "the guest %s %s is missing (%s; install the guest image with "
			       "`make install`, or set %s in %s or the annotation %s)",
			       setting_name, p, errno ? strerror(errno) : "not a regular file",
			       setting_name,
			       settings_path[0] ? settings_path : SETTINGS_DEFAULT_PATH, ann);
	}
	memcpy(out, p, strlen(p) + 1);
	return 0;
}

static int check_config(const struct oci_config *cfg, struct sandbox *sb, struct kv_err *err)
{
	const struct oci_linux *l = &cfg->linux_;
	const char *a = oci_annotation(cfg, ANN_ROOTFS);

	if (l->n_uid_mappings || l->n_gid_mappings || oci_namespace(cfg, OCI_NS_USER))
		return kv_errf(
		    err, -EOPNOTSUPP,
		    "linux.namespaces: user namespaces (and uidMappings/gidMappings) are "
		    "not supported: each container runs in its own VM instead");
	if (a && strcmp(a, "initramfs") != 0)
		return ann_fail(err, ANN_ROOTFS, a, "is not \"initramfs\"");
	sb->initramfs_root = a != NULL;
	return 0;
}

int sandbox_plan(const struct oci_config *cfg, const char *bundle, const struct settings *s,
		 bool debug, struct sandbox *sb, struct kv_err *err)
{
	int r;

	memset(sb, 0, sizeof(*sb));
	if (cfg->root_path[0] == '/')
		snprintf(sb->rootfs, sizeof(sb->rootfs), "%s", cfg->root_path);
	else
		snprintf(sb->rootfs, sizeof(sb->rootfs), "%s/%s", bundle, cfg->root_path);
	struct stat st;
	if (stat(sb->rootfs, &st) < 0)
		return kv_errno(err, -errno, "root.path: %s", sb->rootfs);
	if (!S_ISDIR(st.st_mode))
		return kv_errf(err, -ENOTDIR, "root.path: %s: not a directory", sb->rootfs);
	if ((r = check_config(cfg, sb, err)) < 0 || (r = size_vm(cfg, s, sb, err)) < 0)
		return r;
	if ((r = share_plan(cfg, bundle, sb->initramfs_root ? NULL : sb->rootfs, &sb->share, err)) <
	    0)
		return r;
	if ((r = pick_file(cfg, ANN_KERNEL, s->kernel, "kernel", s->path, sb->kernel,
			   sizeof(sb->kernel), err)) < 0 ||
	    (r = pick_file(cfg, ANN_INITRAMFS, s->initramfs, "initramfs", s->path, sb->initrd,
			   sizeof(sb->initrd), err)) < 0)
		goto fail;
	snprintf(sb->cmdline, sizeof(sb->cmdline), "%s%s", s->cmdline,
		 debug ? " KVRUN_AGENT_VERBOSE=1" : "");
	sb->boot_timeout_s = s->boot_timeout;
	sb->vm.kernel = sb->kernel;
	sb->vm.initrd = sb->initrd;
	sb->vm.cmdline = sb->cmdline;
	sb->vm.hugepages = s->hugepages;
	sb->vm.serial = (struct vmm_chardev){ .kind = VMM_CHR_NONE };
	sb->vm.console = (struct vmm_chardev){ .kind = VMM_CHR_NONE };
	sb->vm.rng = true;
	/* docs/security.md: a filter per VMM thread, capabilities dropped, the
	 * jail; the configuration file can turn them off for debugging. */
	sb->vm.sandbox = (struct vmm_sandbox){ .seccomp = s->vmm_seccomp,
					       .drop_caps = s->vmm_jail,
					       .report_fd = STDERR_FILENO };
	sb->jail = s->vmm_jail;
	return 0;
fail:
	share_free(&sb->share);
	return r;
}

void sandbox_free(struct sandbox *sb)
{
	share_free(&sb->share);
}

void sandbox_bind_state_dir(struct sandbox *sb, int dir_fd, const char *dir, bool console_log)
{
	snprintf(sb->vsock_path, sizeof(sb->vsock_path), "/proc/self/fd/%d/vsock.sock", dir_fd);
	sb->vm.vsock = (struct vmm_vsock){ .guest_cid = 3, .uds_path = sb->vsock_path };
	if (console_log) {
		snprintf(sb->console_path, sizeof(sb->console_path), "/proc/self/fd/%d/console.log",
			 dir_fd);
		sb->vm.serial =
		    (struct vmm_chardev){ .kind = VMM_CHR_FILE, .path = sb->console_path };
	}
	if (share_needed(&sb->share)) {
		snprintf(sb->share_dir, sizeof(sb->share_dir), "%s/" SHARE_DIR, dir);
		sb->vm.fs[0] = (struct vmm_fs){ .tag = SHARE_TAG,
						.path = sb->share_dir,
						.cache = VMM_FS_CACHE_AUTO,
						.cross_mounts = true };
		sb->vm.nfs = 1;
	}
}
