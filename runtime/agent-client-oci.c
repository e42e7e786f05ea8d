/* agent-client-oci.c - see agent-client-oci.h. */
#include "agent-client-oci.h"

#include <errno.h>

static int need_container(struct agent_client *c, const char *what, const char *id,
			  struct kv_err *err)
{
	if (!(agent_client_features(c) & KVAP_FEAT_CONTAINER))
		return kv_errf(err, -EOPNOTSUPP,
			       "the agent (%s) does not implement %s: it predates KVAP 1.1",
			       agent_client_software(c) ? agent_client_software(c) : "?", what);
	if (!id || !*id)
		return kv_errf(err, -EINVAL, "%s needs a container id", what);
	return 0;
}

int agent_client_update(struct agent_client *c, const char *container_id,
			const struct kvap_resources *res, struct kv_err *err)
{
	struct kvap_update u = { .container_id = (char *)container_id, .resources = *res };
	union kvap_body reply;
	int r = need_container(c, "UPDATE", container_id, err);

	return r < 0 ? r : agent_client_call(c, KVAP_MSG_UPDATE, &u, &reply, err);
}

int agent_client_freeze(struct agent_client *c, const char *container_id, bool frozen,
			struct kv_err *err)
{
	struct kvap_container_ref ref = { .container_id = (char *)container_id };
	union kvap_body reply;
	int r = need_container(c, frozen ? "FREEZE" : "THAW", container_id, err);

	return r < 0 ? r
		     : agent_client_call(c, frozen ? KVAP_MSG_FREEZE : KVAP_MSG_THAW, &ref, &reply,
					 err);
}

int agent_client_ps_container(struct agent_client *c, const char *container_id, struct kvap_ps *ps,
			      struct kv_err *err)
{
	struct kvap_container_ref ref = { .container_id = (char *)container_id };
	union kvap_body reply;
	int r = need_container(c, "PS of a container", container_id, err);

	if (r == 0 && (r = agent_client_call(c, KVAP_MSG_PS, &ref, &reply, err)) == 0)
		*ps = reply.ps_reply;
	return r;
}

int agent_client_stats_container(struct agent_client *c, const char *container_id,
				 struct kvap_stats *st, struct kv_err *err)
{
	struct kvap_container_ref ref = { .container_id = (char *)container_id };
	union kvap_body reply;
	int r = need_container(c, "STATS of a container", container_id, err);

	if (r == 0 && (r = agent_client_call(c, KVAP_MSG_STATS, &ref, &reply, err)) == 0)
		*st = reply.stats_reply;
	return r;
}
