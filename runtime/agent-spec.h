/* agent-spec.h - OCI config and process as the guest agent's requests.
 *
 * Owns: turning struct oci_process into struct kvap_process, struct
 * oci_config into struct kvap_create (root, hostname, domainname, mounts,
 * namespaces, devices, masked and read-only paths, sysctls, resources,
 * seccomp, propagation, the init process) and struct oci_resources into
 * struct kvap_resources (create and `kvrun update`), for an agent with the
 * given KVAP_FEAT_* features. What the agent cannot apply (a KVAP 1.0 agent
 * lacks the container fields) is listed for the caller to report, never
 * dropped silently. The kvap structs borrow the oci strings: keep the
 * config alive; free with agent_spec_*_free. */
#ifndef KVRUN_RUNTIME_AGENT_SPEC_H
#define KVRUN_RUNTIME_AGENT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kvap.h"
#include "oci.h"

/* What a verb needs to say about members that do not reach the guest. */
#define AGENT_SPEC_MAX_UNAPPLIED 24

struct agent_spec_notes {
	const char *unapplied[AGENT_SPEC_MAX_UNAPPLIED]; /* JSON paths */
	size_t n;
};

int agent_spec_process(const struct oci_process *p, uint64_t features, struct kvap_process *out,
		       struct kv_err *err);
void agent_spec_process_free(struct kvap_process *p);

/* linux.resources -> kvap_resources (0 = not set). */
int agent_spec_resources(const struct oci_resources *r, struct kvap_resources *out,
			 struct kv_err *err);
void agent_spec_resources_free(struct kvap_resources *r);

/* initramfs_root: the container's root is the guest image's "/". With a
 * KVAP 1.0 agent (no KVAP_FEAT_CONTAINER) the container lives in the VM's
 * own namespaces: mounts where the agent already mounted proc, sys, dev,
 * dev/pts, dev/shm, dev/mqueue and sys/fs/cgroup are skipped then. */
int agent_spec_create(const struct oci_config *cfg, const char *id, uint64_t features,
		      bool initramfs_root, bool no_pivot, struct kvap_create *out,
		      struct agent_spec_notes *notes, struct kv_err *err);
void agent_spec_create_free(struct kvap_create *c);

#endif
