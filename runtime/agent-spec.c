/* agent-spec.c - see agent-spec.h. */
#include "agent-spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int agent_spec_process(const struct oci_process *p, struct kvap_process *out, struct kv_err *err)
{
	memset(out, 0, sizeof(*out));
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
	if (p->n_args > KVAP_MAX_ARGS || p->n_env > KVAP_MAX_ARGS)
		return kv_errf(err, -E2BIG, "process: more than %d args or env entries",
			       KVAP_MAX_ARGS);
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
		/* KVAP 1.0: all-zero masks mean "not specified"; an explicitly empty
		 * set is a bit above the last capability (docs/agent.md). */
		if (!out->caps.bounding && !out->caps.effective && !out->caps.inheritable &&
		    !out->caps.permitted && !out->caps.ambient)
			out->caps.bounding = 1ull << 63;
	}
	out->no_new_privileges = p->no_new_privileges;
	return 0;
}

void agent_spec_process_free(struct kvap_process *p)
{
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

/* Already mounted by the agent in its own root. */
static bool agent_provides(const char *dst)
{
	static const char *const given[] = { "/proc",	 "/sys",     "/sys/fs/cgroup", "/dev",
					     "/dev/pts", "/dev/shm", "/dev/mqueue" };
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++)
		if (strcmp(dst, given[i]) == 0)
			return true;
	return false;
}

int agent_spec_create(const struct oci_config *cfg, const char *id, bool initramfs_root,
		      struct kvap_create *out, struct kv_err *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->container_id = (char *)id;
	out->rootfs_type = KVAP_ROOTFS_INITRAMFS;
	out->readonly_rootfs = cfg->root_readonly;
	out->hostname = cfg->hostname;
	out->poweroff_on_exit = true;
	if ((r = agent_spec_process(&cfg->process, &out->process, err)) < 0)
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
		if (initramfs_root && agent_provides(m->destination))
			continue;
		out->mounts[out->n_mounts++] =
		    (struct kvap_mount){ .source = m->source,
					 .destination = m->destination,
					 .type = m->type,
					 .options = m->options,
					 .n_options = (uint32_t)m->n_options };
	}
	if (out->n_mounts > KVAP_MAX_MOUNTS) {
		agent_spec_create_free(out);
		return kv_errf(err, -E2BIG, "mounts: more than %d", KVAP_MAX_MOUNTS);
	}
	return 0;
}

void agent_spec_create_free(struct kvap_create *c)
{
	agent_spec_process_free(&c->process);
	free(c->mounts);
	memset(c, 0, sizeof(*c));
}

size_t agent_spec_unapplied(const struct oci_config *cfg, const char **names, size_t max)
{
	const struct oci_linux *l = &cfg->linux_;
	const struct oci_process *p = &cfg->process;
	const struct oci_resources *res = &l->resources;
	size_t n = 0;

#define NOTE(cond, name)                                                                           \
	do {                                                                                       \
		if ((cond) && n + 1 < max)                                                         \
			names[n++] = (name);                                                       \
	} while (0)
	NOTE(p->has_umask, "process.user.umask");
	NOTE(p->has_oom_score_adj, "process.oomScoreAdj");
	NOTE(p->n_unknown_caps, "process.capabilities (names this kvrun does not know)");
	NOTE(cfg->domainname, "domainname");
	NOTE(l->n_masked_paths, "linux.maskedPaths");
	NOTE(l->n_readonly_paths, "linux.readonlyPaths");
	NOTE(l->n_sysctl, "linux.sysctl");
	NOTE(l->n_devices, "linux.devices");
	NOTE(l->seccomp, "linux.seccomp");
	NOTE(res->has_mem_limit || res->has_pids_limit || res->has_cpu_quota ||
		 res->has_cpu_shares || res->n_unified || res->has_blkio_weight,
	     "linux.resources (in the guest's cgroup)");
	NOTE(res->n_devices > 1 || (res->n_devices == 1 && res->devices[0].allow),
	     "linux.resources.devices");
#undef NOTE
	names[n] = NULL;
	return n;
}
