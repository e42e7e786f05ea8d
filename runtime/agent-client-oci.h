/* agent-client-oci.h - the host's calls for KVAP 1.1's container requests.
 *
 * Owns: UPDATE, FREEZE, THAW, and PS and STATS of one container, on a
 * control connection from agent-client.h. Each is refused locally with
 * -EOPNOTSUPP when the agent did not advertise KVAP_FEAT_CONTAINER (a 1.0
 * agent), like the other optional requests. Library code: nothing prints;
 * failures are a negative errno and a message in struct kv_err (the
 * agent's, for an ERROR reply). docs/agent.md describes what the agent
 * does, docs/agent-protocol.md the messages. */
#ifndef KVRUN_AGENT_CLIENT_OCI_H
#define KVRUN_AGENT_CLIENT_OCI_H

#include <stdbool.h>

#include "agent-client.h"

/* Write the resources that are set (0 = leave alone) to the container's
 * cgroup in the guest: `runc update`. */
int agent_client_update(struct agent_client *c, const char *container_id,
			const struct kvap_resources *res, struct kv_err *err);

/* Freeze (true) or thaw (false) every process of the container through
 * its cgroup; a freeze returns once the guest reports it frozen. */
int agent_client_freeze(struct agent_client *c, const char *container_id, bool frozen,
			struct kv_err *err);

/* The container's processes (guest pids), from its cgroup. Free with
 * kvap_free_ps_reply(). */
int agent_client_ps_container(struct agent_client *c, const char *container_id, struct kvap_ps *ps,
			      struct kv_err *err);

/* The guest's figures plus the container's cgroup (st->cgroup), what
 * `runc events --stats` reports. Free with kvap_free_stats_reply(). */
int agent_client_stats_container(struct agent_client *c, const char *container_id,
				 struct kvap_stats *st, struct kv_err *err);

#endif
