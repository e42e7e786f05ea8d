/* req-sys.c - the status, cgroup and guest-wide requests: PS, STATS,
 * UPDATE, FREEZE, THAW, MOUNT_FS, SHUTDOWN.
 *
 * Owns: answering them (the /proc reading is procfs.c, the cgroup files
 * cgroup.c, mounting mount.c) and starting a shutdown: the reply goes out
 * first, then power.c waits for the host to read it before acting. PS and
 * STATS naming a container report its cgroup's processes and figures. */
#include "agent.h"
#include "mountopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int req_ps(struct agent *a, struct conn *c, uint32_t id, struct kvap_container_ref *b,
	   struct kv_err *err)
{
	struct kvap_ps ps;
	struct container *ct = NULL;
	pid_t *pids = NULL;
	size_t n = 0;
	int r;

	if (b->container_id && !(ct = container_find(a, b->container_id, err, &r)))
		return r;
	/* Without a cgroup of its own the container is the whole VM. */
	if (ct && ct->cg && (r = cgroup_pids(ct->cg, &pids, &n)) < 0)
		return kv_errno(err, r, "reading the container's cgroup");
	r = procfs_ps(ct && ct->cg, pids, n, &ps);
	free(pids);
	if (r < 0)
		return kv_errno(err, r, "reading /proc");
	conn_send_reply(a, c, KVAP_MSG_PS_REPLY, id, &ps);
	kvap_free_ps_reply(&ps);
	return 0;
}

int req_stats(struct agent *a, struct conn *c, uint32_t id, struct kvap_container_ref *b,
	      struct kv_err *err)
{
	struct kvap_stats s;
	struct container *ct = NULL;
	int r;

	if (b->container_id && !(ct = container_find(a, b->container_id, err, &r)))
		return r;
	if ((r = procfs_stats(&s)) < 0)
		return kv_errno(err, r, "reading /proc");
	if (ct && ct->cg)
		cgroup_stats(ct->cg, &s.cgroup);
	conn_send_reply(a, c, KVAP_MSG_STATS_REPLY, id, &s);
	kvap_free_stats_reply(&s);
	return 0;
}

int req_update(struct agent *a, struct conn *c, uint32_t id, struct kvap_update *b,
	       struct kv_err *err)
{
	int r;
	struct container *ct = container_find(a, b->container_id, err, &r);

	if (!ct)
		return r;
	if (!ct->cg)
		return kv_errf(err, -EOPNOTSUPP, "container '%s' has no cgroup of its own",
			       b->container_id);
	if ((r = cgroup_apply(ct->cg, &b->resources, err)) < 0)
		return r;
	struct kvap_empty reply = { 0 };
	conn_send_reply(a, c, KVAP_MSG_UPDATE_REPLY, id, &reply);
	return 0;
}

int req_freeze(struct agent *a, struct conn *c, uint32_t id, struct kvap_container_ref *b,
	       bool frozen, struct kv_err *err)
{
	int r;
	struct container *ct = container_find(a, b->container_id, err, &r);

	if (!ct)
		return r;
	if (!ct->cg)
		return kv_errf(err, -EOPNOTSUPP, "container '%s' has no cgroup of its own",
			       b->container_id);
	if ((r = cgroup_freeze(ct->cg, frozen, 2000, err)) < 0)
		return r;
	struct kvap_empty reply = { 0 };
	conn_send_reply(a, c, frozen ? KVAP_MSG_FREEZE_REPLY : KVAP_MSG_THAW_REPLY, id, &reply);
	return 0;
}

int req_mount_fs(struct agent *a, struct conn *c, uint32_t id, struct kvap_mount_fs *b,
		 struct kv_err *err)
{
	struct kvap_mount m = { .source = b->tag,
				.destination = b->mount_point,
				.type = (char *)"virtiofs",
				.options = b->options,
				.n_options = b->n_options };
	int r;

	if (!a->init_mode && !a->own_ns)
		return kv_errf(err, -EPERM, "mounting needs PID 1 or --no-init as root");
	if ((r = mount_one("/", &m, err)) < 0)
		return r;
	struct kvap_empty reply = { 0 };
	conn_send_reply(a, c, KVAP_MSG_MOUNT_FS_REPLY, id, &reply);
	return 0;
}

int req_shutdown(struct agent *a, struct conn *c, uint32_t id, struct kvap_shutdown *b,
		 struct kv_err *err)
{
	if (b->action != KVAP_SHUTDOWN_POWEROFF && b->action != KVAP_SHUTDOWN_REBOOT)
		return kv_errf(err, -EINVAL, "unknown shutdown action %u", b->action);
	struct kvap_empty reply = { 0 };
	conn_send_reply(a, c, KVAP_MSG_SHUTDOWN_REPLY, id, &reply);
	alog("%s requested by the host",
	     b->action == KVAP_SHUTDOWN_REBOOT ? "reboot" : "power off");
	power_schedule(a, b->action, 0);
	return 0;
}
