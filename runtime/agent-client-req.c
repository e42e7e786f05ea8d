/* agent-client-req.c - one helper per KVAP request (except WAIT, in
 * agent-client.c, and EXEC/CREATE with streams, in agent-client-proc.c).
 *
 * Owns: filling each request body from plain arguments and handing back
 * the reply's useful part, which is zeroed first so that a failure never
 * leaves anything in it. Optional requests (PS, STATS, NET_CONFIG, MOUNT_FS)
 * are refused locally with -EOPNOTSUPP when the agent did not advertise them. */
#include "agent-client.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

int agent_client_create(struct agent_client *c, const struct kvap_create *spec, uint32_t *pid,
			struct kv_err *err)
{
	union kvap_body reply;

	if (pid)
		*pid = 0;
	int r = agent_client_call(c, KVAP_MSG_CREATE, spec, &reply, err);

	if (r == 0 && pid)
		*pid = reply.create_reply.pid;
	return r;
}

int agent_client_start(struct agent_client *c, const char *container_id, uint32_t *pid,
		       struct kv_err *err)
{
	struct kvap_start s = { .container_id = (char *)container_id };
	union kvap_body reply;

	if (pid)
		*pid = 0;
	int r = agent_client_call(c, KVAP_MSG_START, &s, &reply, err);

	if (r == 0 && pid)
		*pid = reply.start_reply.pid;
	return r;
}

int agent_client_signal(struct agent_client *c, const char *exec_id, int sig, bool all,
			struct kv_err *err)
{
	if (sig < 0 || sig >= NSIG)
		return kv_errf(err, -EINVAL, "signal %d out of range", sig);
	struct kvap_signal s = { .exec_id = (char *)exec_id, .signal = (uint32_t)sig, .all = all };
	union kvap_body reply;
	return agent_client_call(c, KVAP_MSG_SIGNAL, &s, &reply, err);
}

int agent_client_resize(struct agent_client *c, const char *exec_id, uint16_t rows, uint16_t cols,
			struct kv_err *err)
{
	struct kvap_resize s = { .exec_id = (char *)exec_id, .size = { rows, cols } };
	union kvap_body reply;
	return agent_client_call(c, KVAP_MSG_RESIZE, &s, &reply, err);
}

int agent_client_shutdown(struct agent_client *c, enum kvap_shutdown_action action,
			  struct kv_err *err)
{
	struct kvap_shutdown s = { .action = action };
	union kvap_body reply;
	return agent_client_call(c, KVAP_MSG_SHUTDOWN, &s, &reply, err);
}

int agent_client_ps(struct agent_client *c, struct kvap_ps *ps, struct kv_err *err)
{
	struct kvap_container_ref e = { 0 };
	union kvap_body reply;

	memset(ps, 0, sizeof(*ps));
	if (!(agent_client_features(c) & KVAP_FEAT_PS))
		return kv_errf(err, -EOPNOTSUPP, "the agent does not implement PS");
	int r = agent_client_call(c, KVAP_MSG_PS, &e, &reply, err);
	if (r == 0)
		*ps = reply.ps_reply;
	return r;
}

int agent_client_stats(struct agent_client *c, struct kvap_stats *st, struct kv_err *err)
{
	struct kvap_container_ref e = { 0 };
	union kvap_body reply;

	memset(st, 0, sizeof(*st));
	if (!(agent_client_features(c) & KVAP_FEAT_STATS))
		return kv_errf(err, -EOPNOTSUPP, "the agent does not implement STATS");
	int r = agent_client_call(c, KVAP_MSG_STATS, &e, &reply, err);
	if (r == 0)
		*st = reply.stats_reply;
	return r;
}

int agent_client_net_config(struct agent_client *c, const struct kvap_net_config *net,
			    struct kv_err *err)
{
	union kvap_body reply;

	if (!(agent_client_features(c) & KVAP_FEAT_NET))
		return kv_errf(err, -EOPNOTSUPP, "the agent does not implement NET_CONFIG");
	int r = agent_client_call(c, KVAP_MSG_NET_CONFIG, net, &reply, err);
	if (r == 0)
		kvap_msg_free(KVAP_MSG_NET_CONFIG_REPLY, &reply);
	return r;
}

int agent_client_mount_fs(struct agent_client *c, const char *tag, const char *mount_point,
			  char *const *options, uint32_t n_options, struct kv_err *err)
{
	struct kvap_mount_fs m = { .tag = (char *)tag,
				   .mount_point = (char *)mount_point,
				   .options = (char **)options,
				   .n_options = n_options };
	union kvap_body reply;

	if (!(agent_client_features(c) & KVAP_FEAT_MOUNT_FS))
		return kv_errf(err, -EOPNOTSUPP, "the agent does not implement MOUNT_FS");
	int r = agent_client_call(c, KVAP_MSG_MOUNT_FS, &m, &reply, err);
	if (r == 0)
		kvap_msg_free(KVAP_MSG_MOUNT_FS_REPLY, &reply);
	return r;
}
