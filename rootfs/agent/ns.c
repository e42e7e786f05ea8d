/* ns.c - a container's namespaces.
 *
 * Owns: checking CREATE's namespace list (user and time namespaces are
 * refused; joining another container's namespace names a container of this
 * VM, and there is one container per VM for now), which namespaces the init
 * unshares, the pid namespace around fork() (a new one for the init, the
 * init's for an EXEC: the agent switches the namespace its children get,
 * forks, and switches back), keeping the init's namespaces open for EXEC,
 * an EXEC joining them in the child, and which sysctls a container may set
 * (runc's list of namespaced ones; with --no-init only in a namespace of
 * the container's own, so the host's are never changed). */
#include "agent.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name; /* /proc/PID/ns/<name> */
	const char *oci;  /* linux.namespaces type */
	int flag;
} ns_info[NS_TYPES] = {
	[KVAP_NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[KVAP_NS_NET] = { "net", "network", CLONE_NEWNET },
	[KVAP_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[KVAP_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
	[KVAP_NS_MOUNT] = { "mnt", "mount", CLONE_NEWNS },
	[KVAP_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[KVAP_NS_USER] = { "user", "user", CLONE_NEWUSER },
	[KVAP_NS_TIME] = { "time", "time", 0 },
};

/* The order an EXEC joins them in: the mount namespace last, since it
 * changes the root the others' files would be found in. */
static const int join_order[] = { KVAP_NS_IPC, KVAP_NS_UTS, KVAP_NS_NET, KVAP_NS_CGROUP,
				  KVAP_NS_MOUNT };

int ns_plan(struct agent *a, struct container *ct, struct kv_err *err)
{
	const struct kvap_create *s = &ct->spec;
	bool seen[NS_TYPES] = { false };

	ct->unshare = CLONE_NEWNS;
	ct->new_pidns = false;
	for (uint32_t i = 0; i < s->n_namespaces; i++) {
		const struct kvap_namespace *n = &s->namespaces[i];
		if (n->type < KVAP_NS_PID || n->type > KVAP_NS_TIME)
			return kv_errf(err, -EINVAL, "namespaces[%u]: unknown type %u", i, n->type);
		if (seen[n->type])
			return kv_errf(err, -EINVAL, "namespaces: %s is listed twice",
				       ns_info[n->type].oci);
		seen[n->type] = true;
		if (n->type == KVAP_NS_USER)
			return kv_errf(
			    err, -EOPNOTSUPP,
			    "user namespaces (linux.namespaces type user, uidMappings, "
			    "gidMappings) are not supported in the kvrun guest: the VM is "
			    "the container's isolation boundary; leave the user namespace "
			    "out");
		if (n->type == KVAP_NS_TIME)
			return kv_errf(err, -EOPNOTSUPP,
				       "time namespaces are not supported in the kvrun guest");
		if (n->container_id) {
			if (a->ct && !strcmp(a->ct->spec.container_id, n->container_id))
				return kv_errf(err, -EINVAL,
					       "namespaces: container '%s' joins itself",
					       n->container_id);
			return kv_errf(err, -ENOENT,
				       "cannot join the %s namespace of container '%s': no such "
				       "container in this VM (one container per VM for now)",
				       ns_info[n->type].oci, n->container_id);
		}
		if (n->type == KVAP_NS_PID)
			ct->new_pidns = true;
		else
			ct->unshare |= ns_info[n->type].flag;
	}
	return 0;
}

/* Which namespace a sysctl belongs to (runc's list), or 0: not namespaced. */
static int sysctl_ns(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb",
					   "kernel.msgmni", "kernel.sem",
					   "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };

	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (!strcmp(key, ipc[i]))
			return KVAP_NS_IPC;
	if (!strncmp(key, "fs.mqueue.", 10))
		return KVAP_NS_IPC;
	if (!strncmp(key, "net.", 4))
		return KVAP_NS_NET;
	if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
		return KVAP_NS_UTS;
	return 0;
}

static bool sysctl_key_ok(const char *key)
{
	if (!*key || *key == '.' || *key == '/' || strstr(key, "..") || strstr(key, "//") ||
	    strstr(key, "./") || strstr(key, "/."))
		return false;
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.' || *c == '/'))
			return false;
	return key[strlen(key) - 1] != '.' && key[strlen(key) - 1] != '/';
}

int ns_check_sysctls(struct agent *a, const struct container *ct, struct kv_err *err)
{
	const struct kvap_create *s = &ct->spec;

	for (uint32_t i = 0; i < s->n_sysctls; i++) {
		const char *key = s->sysctls[i].key;
		if (!sysctl_key_ok(key))
			return kv_errf(err, -EINVAL, "sysctl '%s': not a sysctl name", key);
		int type = sysctl_ns(key);
		if (!type)
			return kv_errf(err, -EPERM,
				       "sysctl %s is not namespaced: it would change the whole "
				       "guest, not the container",
				       key);
		if (!a->init_mode && !(ct->unshare & ns_info[type].flag))
			return kv_errf(err, -EPERM,
				       "sysctl %s needs the container's own %s namespace here "
				       "(--no-init: it would change the host's)",
				       key, ns_info[type].oci);
	}
	return 0;
}

pid_t ns_fork(struct agent *a, const struct container *ct, bool init)
{
	int target = -1;
	bool fresh = false;

	if (ct && ct->isolated) {
		fresh = init && ct->new_pidns;
		target = init ? -1 : ct->ns_fd[KVAP_NS_PID];
	}
	if (!fresh && target < 0)
		return fork();
	if (a->own_pidns_fd < 0)
		a->own_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (a->own_pidns_fd < 0)
		return -1;
	if (fresh ? unshare(CLONE_NEWPID) : setns(target, CLONE_NEWPID))
		return -1;
	pid_t pid = fork();
	int e = errno;
	if (pid != 0 && setns(a->own_pidns_fd, CLONE_NEWPID) < 0)
		agent_fatal(a, "returning to the agent's pid namespace: %s", strerror(errno));
	errno = e;
	return pid;
}

void ns_open(struct container *ct, pid_t pid)
{
	char path[64];

	for (int t = KVAP_NS_PID; t < NS_TYPES; t++) {
		bool own = t == KVAP_NS_PID ? ct->new_pidns : (ct->unshare & ns_info[t].flag) != 0;
		if (!own || ct->ns_fd[t] >= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_info[t].name);
		ct->ns_fd[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (ct->ns_fd[t] < 0)
			alog("opening %s: %s", path, strerror(errno));
	}
}

void ns_close(struct container *ct)
{
	for (int t = 0; t < NS_TYPES; t++)
		if (ct->ns_fd[t] >= 0) {
			close(ct->ns_fd[t]);
			ct->ns_fd[t] = -1;
		}
}

int ns_enter(const struct child_cfg *cfg, char *msg, size_t cap)
{
	const struct container *ct = cfg->ct;

	if (cfg->init) {
		if (unshare(ct->unshare) < 0) {
			snprintf(msg, cap, "unshare (namespaces 0x%x): %s", ct->unshare,
				 strerror(errno));
			return -errno;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(join_order) / sizeof(join_order[0]); i++) {
		int t = join_order[i];
		if (ct->ns_fd[t] < 0)
			continue;
		if (setns(ct->ns_fd[t], ns_info[t].flag) < 0) {
			int e = errno;
			snprintf(msg, cap, "joining the container's %s namespace: %s",
				 ns_info[t].oci, strerror(e));
			return -e;
		}
	}
	if (ct->ns_fd[KVAP_NS_MOUNT] < 0) {
		snprintf(msg, cap, "the container's mount namespace is gone");
		return -ESRCH;
	}
	return 0;
}
