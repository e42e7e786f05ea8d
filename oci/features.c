/* features.c - `kvrun features` and `kvrun spec`.
 *
 * Owns: the runtime-spec features document listing what kvrun really
 * applies (hooks, the mount options the guest agent understands, the
 * namespaces a VM boundary provides, capabilities, cgroup v1/v2 without
 * systemd, seccomp as the guest applies it), and the default
 * config.json `kvrun spec` writes. */
#include "jwrite.h"
#include "oci-state.h"

#include <string.h>

/* The options rootfs/agent/mountopt.c maps to mount flags. */
static const char *const mount_options[] = {
	"async",       "atime",	  "bind",    "defaults",    "dev",	  "diratime", "dirsync",
	"exec",	       "mand",	  "noatime", "nodev",	    "nodiratime", "noexec",   "nomand",
	"norelatime",  "nosuid",  "private", "rbind",	    "relatime",	  "remount",  "ro",
	"rprivate",    "rshared", "rslave",  "runbindable", "rw",	  "shared",   "slave",
	"strictatime", "suid",	  "sync",    "unbindable",
};

int oci_features_write(const struct oci_features_info *f, char **out, struct kv_err *err)
{
	struct jw w = { 0 };
	json_object *o = jw_obj(&w), *linux_ = jw_obj(&w);

	jw_add(&w, o, "ociVersionMin", jw_str(&w, OCI_VERSION_MIN));
	jw_add(&w, o, "ociVersionMax", jw_str(&w, OCI_VERSION));
	json_object *hooks = jw_arr(&w);
	for (int k = 0; k < OCI_HOOK__COUNT; k++)
		jw_push(&w, hooks, jw_str(&w, oci_hook_name(k)));
	jw_add(&w, o, "hooks", hooks);
	jw_add(&w, o, "mountOptions",
	       jw_strv(&w, mount_options, sizeof(mount_options) / sizeof(mount_options[0])));

	/* Every container has its own kernel: these are separate by construction. A
	 * user namespace with mappings is refused. */
	static const char *const ns[] = { "cgroup", "ipc", "mount", "network", "pid", "uts" };
	jw_add(&w, linux_, "namespaces", jw_strv(&w, ns, sizeof(ns) / sizeof(ns[0])));
	json_object *caps = jw_arr(&w);
	for (int c = 0; c <= OCI_CAP_LAST; c++)
		jw_push(&w, caps, jw_str(&w, oci_cap_name(c)));
	jw_add(&w, linux_, "capabilities", caps);
	json_object *cg = jw_obj(&w);
	jw_add(&w, cg, "v1", jw_bool(&w, true));
	jw_add(&w, cg, "v2", jw_bool(&w, true));
	jw_add(&w, cg, "systemd", jw_bool(&w, false));
	jw_add(&w, cg, "systemdUser", jw_bool(&w, false));
	jw_add(&w, linux_, "cgroup", cg);
	json_object *sc = jw_obj(&w);
	jw_add(&w, sc, "enabled", jw_bool(&w, f->seccomp));
	if (f->seccomp) {
		json_object *acts = jw_arr(&w), *ops = jw_arr(&w);
		/* SCMP_ACT_NOTIFY needs a listener on the host: refused by the guest. */
		for (int a = 0; a < OCI_SCMP_ACT__COUNT; a++)
			if (a != OCI_SCMP_ACT_NOTIFY)
				jw_push(&w, acts, jw_str(&w, oci_seccomp_action_name(a)));
		for (int c = 0; c < OCI_SCMP_CMP__COUNT; c++)
			jw_push(&w, ops, jw_str(&w, oci_seccomp_op_name(c)));
		jw_add(&w, sc, "actions", acts);
		jw_add(&w, sc, "operators", ops);
		jw_add(&w, sc, "archs",
		       jw_strv(&w, (const char *const[]){ "SCMP_ARCH_X86_64" }, 1));
	}
	jw_add(&w, linux_, "seccomp", sc);
	json_object *aa = jw_obj(&w), *se = jw_obj(&w);
	jw_add(&w, aa, "enabled", jw_bool(&w, false));
	jw_add(&w, se, "enabled", jw_bool(&w, false));
	jw_add(&w, linux_, "apparmor", aa);
	jw_add(&w, linux_, "selinux", se);
	jw_add(&w, o, "linux", linux_);

	json_object *ann = jw_obj(&w);
	jw_add(&w, ann, "io.kvrun.version", jw_str(&w, f->version));
	jw_add(&w, ann, "io.kvrun.guest-cgroups", jw_str(&w, f->guest_cgroups ? "true" : "false"));
	size_t len = 1;
	for (const char *const *a = f->annotations; a && *a; a++)
		len += strlen(*a) + 1;
	char list[len];
	list[0] = '\0';
	for (const char *const *a = f->annotations; a && *a; a++) {
		if (list[0])
			strcat(list, ",");
		strcat(list, *a);
	}
	jw_add(&w, ann, "io.kvrun.annotations", jw_str(&w, list));
	jw_add(&w, o, "annotations", ann);
	return jw_finish(&w, o, true, out, err);
}

static json_object *mount(struct jw *w, const char *dst, const char *type, const char *src,
			  const char *const *opts, size_t n)
{
	json_object *m = jw_obj(w);

	jw_add(w, m, "destination", jw_str(w, dst));
	jw_add(w, m, "type", jw_str(w, type));
	jw_add(w, m, "source", jw_str(w, src));
	if (n)
		jw_add(w, m, "options", jw_strv(w, opts, n));
	return m;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

int oci_default_spec_write(char **out, struct kv_err *err)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"
	};
	static const char *const dev_o[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
	static const char *const pts_o[] = { "nosuid",	      "noexec",	   "newinstance",
					     "ptmxmode=0666", "mode=0620", "gid=5" };
	static const char *const shm_o[] = { "nosuid", "noexec", "nodev", "mode=1777",
					     "size=65536k" };
	static const char *const mq_o[] = { "nosuid", "noexec", "nodev" };
	static const char *const sys_o[] = { "nosuid", "noexec", "nodev", "ro" };
	static const char *const cg_o[] = { "nosuid", "noexec", "nodev", "relatime", "ro" };
	static const char *const masked[] = { "/proc/acpi",	     "/proc/asound",
					      "/proc/kcore",	     "/proc/keys",
					      "/proc/latency_stats", "/proc/timer_list",
					      "/proc/timer_stats",   "/proc/sched_debug",
					      "/sys/firmware",	     "/proc/scsi" };
	static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					  "/proc/sysrq-trigger" };
	static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount" };
	struct jw w = { 0 };
	json_object *o = jw_obj(&w);

	jw_add(&w, o, "ociVersion", jw_str(&w, OCI_VERSION));
	json_object *p = jw_obj(&w), *user = jw_obj(&w), *c = jw_obj(&w), *rl = jw_obj(&w);
	jw_add(&w, p, "terminal", jw_bool(&w, true));
	jw_add(&w, user, "uid", jw_u64(&w, 0));
	jw_add(&w, user, "gid", jw_u64(&w, 0));
	jw_add(&w, p, "user", user);
	jw_add(&w, p, "args", jw_strv(&w, (const char *const[]){ "sh" }, 1));
	jw_add(&w, p, "env", jw_strv(&w, env, N(env)));
	jw_add(&w, p, "cwd", jw_str(&w, "/"));
	static const char *const sets[] = { "bounding", "effective", "permitted", "ambient" };
	for (size_t i = 0; i < N(sets); i++)
		jw_add(&w, c, sets[i], jw_strv(&w, caps, N(caps)));
	jw_add(&w, p, "capabilities", c);
	jw_add(&w, rl, "type", jw_str(&w, "RLIMIT_NOFILE"));
	jw_add(&w, rl, "hard", jw_u64(&w, 1024));
	jw_add(&w, rl, "soft", jw_u64(&w, 1024));
	json_object *rls = jw_arr(&w);
	jw_push(&w, rls, rl);
	jw_add(&w, p, "rlimits", rls);
	jw_add(&w, p, "noNewPrivileges", jw_bool(&w, true));
	jw_add(&w, o, "process", p);

	json_object *root = jw_obj(&w);
	jw_add(&w, root, "path", jw_str(&w, "rootfs"));
	jw_add(&w, root, "readonly", jw_bool(&w, true));
	jw_add(&w, o, "root", root);
	jw_add(&w, o, "hostname", jw_str(&w, "kvrun"));

	json_object *m = jw_arr(&w);
	jw_push(&w, m, mount(&w, "/proc", "proc", "proc", NULL, 0));
	jw_push(&w, m, mount(&w, "/dev", "tmpfs", "tmpfs", dev_o, N(dev_o)));
	jw_push(&w, m, mount(&w, "/dev/pts", "devpts", "devpts", pts_o, N(pts_o)));
	jw_push(&w, m, mount(&w, "/dev/shm", "tmpfs", "shm", shm_o, N(shm_o)));
	jw_push(&w, m, mount(&w, "/dev/mqueue", "mqueue", "mqueue", mq_o, N(mq_o)));
	jw_push(&w, m, mount(&w, "/sys", "sysfs", "sysfs", sys_o, N(sys_o)));
	jw_push(&w, m, mount(&w, "/sys/fs/cgroup", "cgroup", "cgroup", cg_o, N(cg_o)));
	jw_add(&w, o, "mounts", m);

	json_object *l = jw_obj(&w), *res = jw_obj(&w), *devs = jw_arr(&w), *deny = jw_obj(&w);
	jw_add(&w, deny, "allow", jw_bool(&w, false));
	jw_add(&w, deny, "access", jw_str(&w, "rwm"));
	jw_push(&w, devs, deny);
	jw_add(&w, res, "devices", devs);
	jw_add(&w, l, "resources", res);
	json_object *nss = jw_arr(&w);
	for (size_t i = 0; i < N(ns); i++) {
		json_object *e = jw_obj(&w);
		jw_add(&w, e, "type", jw_str(&w, ns[i]));
		jw_push(&w, nss, e);
	}
	jw_add(&w, l, "namespaces", nss);
	jw_add(&w, l, "maskedPaths", jw_strv(&w, masked, N(masked)));
	jw_add(&w, l, "readonlyPaths", jw_strv(&w, ro, N(ro)));
	jw_add(&w, o, "linux", l);
	return jw_finish(&w, o, true, out, err);
}
