/* agent-spec.c - see agent-spec.h. */
#include "agent-spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void note(struct agent_spec_notes *n, const char *what)
{
	if (n && n->n < AGENT_SPEC_MAX_UNAPPLIED)
		n->unapplied[n->n++] = what;
}

int agent_spec_process(const struct oci_process *p, uint64_t features, struct kvap_process *out,
		       struct kv_err *err)
{
	bool v11 = features & KVAP_FEAT_CONTAINER;

	memset(out, 0, sizeof(*out));
	if (p->n_args > KVAP_MAX_ARGS || p->n_env > KVAP_MAX_ENV)
		return kv_errf(err, -E2BIG, "process: more than %u args or env entries",
			       KVAP_MAX_ARGS);
	out->args = p->args;
	out->n_args = (uint32_t)p->n_args;
	out->env = p->env;
	out->n_env = (uint32_t)p->n_env;
	out->cwd = p->cwd;
	out->terminal = p->terminal;
	if (p->has_console_size)
		out->console = (struct kvap_winsize){ .rows = (uint16_t)p->console_height,
						      .cols = (uint16_t)p->console_width };
	out->uid = p->uid;
	out->gid = p->gid;
	out->gids = p->additional_gids;
	out->n_gids = (uint32_t)p->n_additional_gids;
	if (p->n_rlimits) {
		out->rlimits = calloc(p->n_rlimits, sizeof(*out->rlimits));
		if (!out->rlimits)
			return kv_errf(err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < p->n_rlimits; i++)
			out->rlimits[i] =
			    (struct kvap_rlimit){ .type = (uint32_t)p->rlimits[i].type,
						  .soft = p->rlimits[i].soft,
						  .hard = p->rlimits[i].hard };
		out->n_rlimits = (uint32_t)p->n_rlimits;
	}
	if (p->has_caps) {
		out->caps = (struct kvap_caps){ .bounding = p->caps.bounding,
						.effective = p->caps.effective,
						.inheritable = p->caps.inheritable,
						.permitted = p->caps.permitted,
						.ambient = p->caps.ambient };
		/* The kernel only raises an ambient capability that is permitted and
		 * inheritable; runc ignores the others (its default spec lists ambient
		 * capabilities without inheritable ones), so they are not sent. */
		out->caps.ambient &= out->caps.permitted & out->caps.inheritable;
		if (v11) {
			out->caps_set = true;
		} else if (!out->caps.bounding && !out->caps.effective && !out->caps.inheritable &&
			   !out->caps.permitted && !out->caps.ambient) {
			/* KVAP 1.0: all-zero masks mean "not specified"; an explicitly
			 * empty set is a bit above the last capability (docs/agent.md). */
			out->caps.bounding = 1ull << 63;
		}
	}
	out->no_new_privileges = p->no_new_privileges;
	if (v11) {
		out->umask = p->umask;
		out->umask_set = p->has_umask;
		out->oom_score_adj = p->oom_score_adj;
		out->oom_score_adj_set = p->has_oom_score_adj;
	}
	return 0;
}

void agent_spec_process_free(struct kvap_process *p)
{
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

static struct kvap_throttle_device *blkio_list(const struct oci_blkio_device *d, size_t n)
{
	struct kvap_throttle_device *t = calloc(n ? n : 1, sizeof(*t));

	for (size_t i = 0; t && i < n; i++)
		t[i] = (struct kvap_throttle_device){ .major = (uint32_t)d[i].major,
						      .minor = (uint32_t)d[i].minor,
						      .rate = d[i].rate };
	return t;
}

int agent_spec_resources(const struct oci_resources *r, struct kvap_resources *out,
			 struct kv_err *err)
{
	memset(out, 0, sizeof(*out));
	if (r->has_mem_limit)
		out->memory_limit = r->mem_limit;
	if (r->has_mem_swap)
		out->memory_swap = r->mem_swap;
	if (r->has_mem_reservation)
		out->memory_reservation = r->mem_reservation;
	if (r->has_cpu_shares)
		out->cpu_shares = r->cpu_shares;
	if (r->has_cpu_quota)
		out->cpu_quota = r->cpu_quota;
	if (r->has_cpu_period)
		out->cpu_period = r->cpu_period;
	out->cpuset_cpus = r->cpuset_cpus && *r->cpuset_cpus ? r->cpuset_cpus : NULL;
	out->cpuset_mems = r->cpuset_mems && *r->cpuset_mems ? r->cpuset_mems : NULL;
	if (r->has_pids_limit && r->pids_limit != 0)
		out->pids_limit = r->pids_limit > 0 ? r->pids_limit : -1; /* 0: not set, as runc */
	if (r->has_blkio_weight)
		out->blkio_weight = (uint16_t)r->blkio_weight;
	if (r->n_blkio_weight_devices) {
		out->blkio_weight_device =
		    calloc(r->n_blkio_weight_devices, sizeof(*out->blkio_weight_device));
		if (!out->blkio_weight_device)
			goto nomem;
		for (size_t i = 0; i < r->n_blkio_weight_devices; i++)
			out->blkio_weight_device[i] = (struct kvap_weight_device){
				.major = (uint32_t)r->blkio_weight_devices[i].major,
				.minor = (uint32_t)r->blkio_weight_devices[i].minor,
				.weight = (uint16_t)r->blkio_weight_devices[i].rate
			};
		out->n_blkio_weight_device = (uint32_t)r->n_blkio_weight_devices;
	}
	struct kvap_throttle_device **lists[4] = { &out->throttle_read_bps,
						   &out->throttle_write_bps,
						   &out->throttle_read_iops,
						   &out->throttle_write_iops };
	uint32_t *counts[4] = { &out->n_throttle_read_bps, &out->n_throttle_write_bps,
				&out->n_throttle_read_iops, &out->n_throttle_write_iops };
	for (int i = 0; i < 4; i++) {
		if (!r->n_blkio_throttle[i])
			continue;
		if (!(*lists[i] = blkio_list(r->blkio_throttle[i], r->n_blkio_throttle[i])))
			goto nomem;
		*counts[i] = (uint32_t)r->n_blkio_throttle[i];
	}
	if (r->n_unified) {
		out->unified = calloc(r->n_unified, sizeof(*out->unified));
		if (!out->unified)
			goto nomem;
		for (size_t i = 0; i < r->n_unified; i++)
			out->unified[i] = (struct kvap_keyval){ .key = r->unified[i].key,
								.value = r->unified[i].value };
		out->n_unified = (uint32_t)r->n_unified;
	}
	return 0;
nomem:
	agent_spec_resources_free(out);
	return kv_errf(err, -ENOMEM, "out of memory");
}

void agent_spec_resources_free(struct kvap_resources *r)
{
	free(r->blkio_weight_device);
	free(r->throttle_read_bps);
	free(r->throttle_write_bps);
	free(r->throttle_read_iops);
	free(r->throttle_write_iops);
	free(r->unified);
	memset(r, 0, sizeof(*r));
}

/* Already mounted by a KVAP 1.0 agent in the VM's own root. */
static bool agent_provides(const char *dst)
{
	static const char *const given[] = { "/proc",	 "/sys",     "/sys/fs/cgroup", "/dev",
					     "/dev/pts", "/dev/shm", "/dev/mqueue" };
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		if (strcmp(dst, given[i]) == 0)
			return true;
	return false;
}

static const uint32_t ns_map[OCI_NS__COUNT] = {
	[OCI_NS_PID] = KVAP_NS_PID,	  [OCI_NS_NETWORK] = KVAP_NS_NET,
	[OCI_NS_MOUNT] = KVAP_NS_MOUNT,	  [OCI_NS_IPC] = KVAP_NS_IPC,
	[OCI_NS_UTS] = KVAP_NS_UTS,	  [OCI_NS_USER] = KVAP_NS_USER,
	[OCI_NS_CGROUP] = KVAP_NS_CGROUP, [OCI_NS_TIME] = KVAP_NS_TIME,
};

/* enum oci_seccomp_action -> enum kvap_seccomp_action (the same order, from 1). */
static uint32_t scmp_action(enum oci_seccomp_action a)
{
	static const uint32_t map[OCI_SCMP_ACT__COUNT] = {
		[OCI_SCMP_ACT_KILL] = KVAP_SCMP_KILL,
		[OCI_SCMP_ACT_KILL_PROCESS] = KVAP_SCMP_KILL_PROCESS,
		[OCI_SCMP_ACT_KILL_THREAD] = KVAP_SCMP_KILL_THREAD,
		[OCI_SCMP_ACT_TRAP] = KVAP_SCMP_TRAP,
		[OCI_SCMP_ACT_ERRNO] = KVAP_SCMP_ERRNO,
		[OCI_SCMP_ACT_TRACE] = KVAP_SCMP_TRACE,
		[OCI_SCMP_ACT_ALLOW] = KVAP_SCMP_ALLOW,
		[OCI_SCMP_ACT_LOG] = KVAP_SCMP_LOG,
		[OCI_SCMP_ACT_NOTIFY] = KVAP_SCMP_NOTIFY,
	};
	return (unsigned)a < OCI_SCMP_ACT__COUNT ? map[a] : 0;
}

static uint32_t scmp_op(enum oci_seccomp_op o)
{
	static const uint32_t map[OCI_SCMP_CMP__COUNT] = {
		[OCI_SCMP_CMP_NE] = KVAP_SCMP_CMP_NE,
		[OCI_SCMP_CMP_LT] = KVAP_SCMP_CMP_LT,
		[OCI_SCMP_CMP_LE] = KVAP_SCMP_CMP_LE,
		[OCI_SCMP_CMP_EQ] = KVAP_SCMP_CMP_EQ,
		[OCI_SCMP_CMP_GE] = KVAP_SCMP_CMP_GE,
		[OCI_SCMP_CMP_GT] = KVAP_SCMP_CMP_GT,
		[OCI_SCMP_CMP_MASKED_EQ] = KVAP_SCMP_CMP_MASKED_EQ,
	};
	return (unsigned)o < OCI_SCMP_CMP__COUNT ? map[o] : 0;
}

static int seccomp(const struct oci_seccomp *s, struct kvap_seccomp *out)
{
	out->default_action = scmp_action(s->default_action);
	out->default_errno = s->default_errno_ret;
	out->default_errno_set = s->has_default_errno_ret;
	out->architectures = s->architectures;
	out->n_architectures = (uint32_t)s->n_architectures;
	out->flags = s->flags;
	out->n_flags = (uint32_t)s->n_flags;
	if (!s->n_syscalls)
		return 0;
	out->syscalls = calloc(s->n_syscalls, sizeof(*out->syscalls));
	if (!out->syscalls)
		return -ENOMEM;
	out->n_syscalls = (uint32_t)s->n_syscalls;
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct oci_seccomp_rule *r = &s->syscalls[i];
		struct kvap_seccomp_rule *k = &out->syscalls[i];
		k->names = r->names;
		k->n_names = (uint32_t)r->n_names;
		k->action = scmp_action(r->action);
		k->errno_ret = r->errno_ret;
		k->errno_set = r->has_errno_ret;
		if (!r->n_args)
			continue;
		k->args = calloc(r->n_args, sizeof(*k->args));
		if (!k->args)
			return -ENOMEM;
		k->n_args = (uint32_t)r->n_args;
		for (size_t j = 0; j < r->n_args; j++)
			k->args[j] = (struct kvap_seccomp_arg){ .index = r->args[j].index,
								.value = r->args[j].value,
								.value_two = r->args[j].value_two,
								.op = scmp_op(r->args[j].op) };
	}
	return 0;
}

/* The KVAP 1.1 members: namespaces, devices, paths, sysctls, resources, seccomp. */
static int container_fields(const struct oci_config *cfg, uint64_t features, bool no_pivot,
			    struct kvap_create *out, struct agent_spec_notes *notes)
{
	const struct oci_linux *l = &cfg->linux_;
	int r;

	out->domainname = cfg->domainname;
	out->no_pivot = no_pivot;
	out->rootfs_propagation = l->rootfs_propagation;
	out->masked_paths = l->masked_paths;
	out->n_masked_paths = (uint32_t)l->n_masked_paths;
	out->readonly_paths = l->readonly_paths;
	out->n_readonly_paths = (uint32_t)l->n_readonly_paths;
	if (l->n_namespaces) {
		out->namespaces = calloc(l->n_namespaces, sizeof(*out->namespaces));
		if (!out->namespaces)
			return -ENOMEM;
		/* A namespace given by path is another process's on the host (a pod's
		 * infra container): in a VM of its own the container keeps the VM's. */
		for (size_t i = 0; i < l->n_namespaces; i++)
			if (!l->namespaces[i].path)
				out->namespaces[out->n_namespaces++] =
				    (struct kvap_namespace){ .type =
								 ns_map[l->namespaces[i].type] };
	}
	if (l->n_devices) {
		out->devices = calloc(l->n_devices, sizeof(*out->devices));
		if (!out->devices)
			return -ENOMEM;
		out->n_devices = (uint32_t)l->n_devices;
		for (size_t i = 0; i < l->n_devices; i++) {
			const struct oci_device *d = &l->devices[i];
			out->devices[i] = (struct kvap_device){
				.path = d->path,
				.type = (uint8_t)d->type,
				.major = (uint32_t)(d->major > 0 ? d->major : 0),
				.minor = (uint32_t)(d->minor > 0 ? d->minor : 0),
				.file_mode = d->has_file_mode ? d->file_mode : 0,
				.uid = d->has_uid ? d->uid : 0,
				.gid = d->has_gid ? d->gid : 0,
			};
		}
	}
	if (l->n_sysctl) {
		out->sysctls = calloc(l->n_sysctl, sizeof(*out->sysctls));
		if (!out->sysctls)
			return -ENOMEM;
		out->n_sysctls = (uint32_t)l->n_sysctl;
		for (size_t i = 0; i < l->n_sysctl; i++)
			out->sysctls[i] = (struct kvap_keyval){ .key = l->sysctl[i].key,
								.value = l->sysctl[i].value };
	}
	if (l->has_resources &&
	    (r = agent_spec_resources(&l->resources, &out->resources, NULL)) < 0)
		return r;
	if (l->resources.n_hugepage_limits)
		note(notes, "linux.resources.hugepageLimits");
	if (l->seccomp) {
		if (!(features & KVAP_FEAT_SECCOMP))
			note(notes, "linux.seccomp (the guest agent has no seccomp support)");
		else if ((r = seccomp(l->seccomp, &out->seccomp)) < 0)
			return r;
	}
	return 0;
}

int agent_spec_create(const struct oci_config *cfg, const char *id, uint64_t features,
		      bool initramfs_root, bool no_pivot, struct kvap_create *out,
		      struct agent_spec_notes *notes, struct kv_err *err)
{
	bool v11 = features & KVAP_FEAT_CONTAINER;
	int r;

	memset(out, 0, sizeof(*out));
	out->container_id = (char *)id;
	out->rootfs_type = KVAP_ROOTFS_INITRAMFS;
	out->readonly_rootfs = cfg->root_readonly;
	out->hostname = cfg->hostname;
	out->poweroff_on_exit = true;
	if ((r = agent_spec_process(&cfg->process, features, &out->process, err)) < 0)
		return r;
	if (cfg->n_mounts) {
		out->mounts = calloc(cfg->n_mounts, sizeof(*out->mounts));
		if (!out->mounts) {
			agent_spec_create_free(out);
			return kv_errf(err, -ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		if (!v11 && initramfs_root && agent_provides(m->destination))
			continue;
		out->mounts[out->n_mounts++] =
		    (struct kvap_mount){ .source = m->source,
					 .destination = m->destination,
					 .type = m->type,
					 .options = m->options,
					 .n_options = (uint32_t)m->n_options };
	}
	if (v11) {
		if ((r = container_fields(cfg, features, no_pivot, out, notes)) < 0) {
			agent_spec_create_free(out);
			return kv_errno(err, r, "preparing the container's request");
		}
		return 0;
	}
	/* A KVAP 1.0 agent: what only 1.1 carries is reported. */
	const struct oci_linux *l = &cfg->linux_;
	const struct oci_process *p = &cfg->process;
	if (p->has_umask)
		note(notes, "process.user.umask");
	if (p->has_oom_score_adj)
		note(notes, "process.oomScoreAdj");
	if (cfg->domainname)
		note(notes, "domainname");
	if (l->n_masked_paths)
		note(notes, "linux.maskedPaths");
	if (l->n_readonly_paths)
		note(notes, "linux.readonlyPaths");
	if (l->n_sysctl)
		note(notes, "linux.sysctl");
	if (l->n_devices)
		note(notes, "linux.devices");
	if (l->seccomp)
		note(notes, "linux.seccomp");
	if (l->has_resources)
		note(notes, "linux.resources (in the guest's cgroup)");
	if (l->n_namespaces)
		note(notes, "linux.namespaces (in the guest)");
	return 0;
}

void agent_spec_create_free(struct kvap_create *c)
{
	agent_spec_process_free(&c->process);
	free(c->mounts);
	free(c->namespaces);
	free(c->devices);
	free(c->sysctls);
	agent_spec_resources_free(&c->resources);
	for (uint32_t i = 0; c->seccomp.syscalls && i < c->seccomp.n_syscalls; i++)
		free(c->seccomp.syscalls[i].args);
	free(c->seccomp.syscalls);
	memset(c, 0, sizeof(*c));
}
