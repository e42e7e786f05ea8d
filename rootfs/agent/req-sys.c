/* req-sys.c - the guest-wide requests: PS, STATS, MOUNT_FS, SHUTDOWN.
 *
 * Owns: answering them (the /proc reading is procfs.c, mounting is
 * container.c) and starting a shutdown: the reply goes out first, then
 * power.c waits for the host to read it before acting. */
#include "agent.h"
#include "mountopt.h"

#include <errno.h>
#include <string.h>

int procfs_ps(struct kvap_ps *ps);
int procfs_stats(struct kvap_stats *s);

int req_ps(struct agent *a, struct conn *c, uint32_t id, struct kv_err *err)
{
	struct kvap_ps ps;
	int r = procfs_ps(&ps);

	if (r < 0)
		return kv_errno(err, r, "reading /proc");
	conn_send_reply(a, c, KVAP_MSG_PS_REPLY, id, &ps);
	kvap_free_ps_reply(&ps);
	return 0;
}

int req_stats(struct agent *a, struct conn *c, uint32_t id, struct kv_err *err)
{
	struct kvap_stats s;
	int r = procfs_stats(&s);

	if (r < 0)
		return kv_errno(err, r, "reading /proc");
	conn_send_reply(a, c, KVAP_MSG_STATS_REPLY, id, &s);
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
