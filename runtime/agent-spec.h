/* agent-spec.h - OCI config and process as the guest agent's requests.
 *
 * Owns: turning struct oci_process into struct kvap_process (args, env,
 * cwd, terminal and size, uid/gid/groups, rlimits, the five capability
 * sets, noNewPrivileges) and struct oci_config into struct kvap_create
 * (hostname, mounts, read-only root, the init process). What the agent
 * protocol cannot carry yet is listed for the caller to warn about, never
 * dropped silently. The kvap structs borrow the oci strings: keep the
 * config alive, free with agent_spec_*_free. */
#ifndef KVRUN_RUNTIME_AGENT_SPEC_H
#define KVRUN_RUNTIME_AGENT_SPEC_H

#include "err.h"
#include "kvap.h"
#include "oci.h"

int agent_spec_process(const struct oci_process *p, struct kvap_process *out, struct kv_err *err);
void agent_spec_process_free(struct kvap_process *p);

/* initramfs_root: the container runs on the guest image's "/", whose proc,
 * sys, dev, dev/pts, dev/shm and sys/fs/cgroup the agent mounted already:
 * the spec's mounts there are skipped. */
int agent_spec_create(const struct oci_config *cfg, const char *id, bool initramfs_root,
		      struct kvap_create *out, struct kv_err *err);
void agent_spec_create_free(struct kvap_create *c);

/* The members of cfg the guest does not apply yet ("linux.seccomp", ...),
 * NULL-terminated, into names (at most max). Returns the count. */
size_t agent_spec_unapplied(const struct oci_config *cfg, const char **names, size_t max);

#endif
