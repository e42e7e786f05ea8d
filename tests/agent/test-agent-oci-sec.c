/* test-agent-oci-sec.c - a container's seccomp filter, capabilities,
 * namespaces and sysctls, and the CREATEs the agent must refuse.
 *
 * Against kvrun-agent-test (argv[1]) with --no-init, as root, in a private
 * mount namespace, on the busybox root of oci-spec.h: a denied syscall
 * returns the configured errno (a rule by name, one on an argument value,
 * an unknown syscall name ignored), for the init and for an EXEC;
 * capability sets; namespaces listed are new and the others the VM's;
 * namespaced sysctls change the container, never the host; and clear
 * errors for what is refused: SCMP_ACT_NOTIFY, an unknown architecture or
 * flag, a user namespace, joining another container's namespace, a
 * sysctl that is not namespaced or whose namespace is the host's, a bad
 * sysctl name, a bad cgroup value, an unknown root propagation, a share
 * source on a mount that is not a bind, and a relative root path. */
#include "oci-spec.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *agent;

static void finish(struct agent_h *h, const char *what)
{
	int st = agent_h_stop(h);
	ok(st == 0, "%s: the agent exits cleanly afterwards (0x%x)", what, st);
}

static void test_seccomp(void)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p, *e;
	struct kv_err err = { 0 };
	char *deny[] = { "mkdir", "mkdirat", "kvrun_no_such_syscall" }, *killn[] = { "kill" };
	struct kvap_seccomp_arg usr1[] = { { 1, SIGUSR1, 0, KVAP_SCMP_CMP_EQ } };
	struct kvap_seccomp_rule rules[] = {
		{ deny, 3, KVAP_SCMP_ERRNO, 15 /* ENOTBLK */, true, NULL, 0 },
		{ killn, 1, KVAP_SCMP_ERRNO, 38 /* ENOSYS */, true, usr1, 1 },
	};
	char *argv[4] = { NULL, NULL,
			  "mkdir /tmp/x 2>&1; echo rc=$?; kill -USR1 $$ 2>&1; kill -0 $$ && "
			  "echo alive; grep ^Seccomp: /proc/self/status",
			  NULL };
	struct kvap_create spec = oci_spec("seccomp", argv);
	char *out = NULL;

	spec.seccomp = (struct kvap_seccomp){ .default_action = KVAP_SCMP_ALLOW,
					      .syscalls = rules,
					      .n_syscalls = 2 };
	if (agent_h_start(&h, agent) < 0) {
		ok(0, "seccomp: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	ok(r == 0 && out && strstr(out, "/tmp/x': Block device required\nrc=1\n") &&
	       strstr(out, "Function not implemented") && strstr(out, "alive\nSeccomp:\t2\n"),
	   "seccomp (no_new_privs off): mkdir fails with the rule's errno ENOTBLK, kill with "
	   "SIGUSR1 with ENOSYS while kill -0 works, an unknown syscall name is ignored (%d "
	   "%s; %s)",
	   r, show(out), err.msg);
	if (out && !strstr(out, "Block device required"))
		diag("got: %s", out);
	free(out);
	finish(&h, "seccomp");

	/* no_new_privs on (the filter loads last), and an EXEC into it. */
	char *argv2[4] = { NULL, NULL, "exec sleep 100", NULL };
	spec = oci_spec("seccomp-nnp", argv2);
	spec.seccomp = (struct kvap_seccomp){ .default_action = KVAP_SCMP_ALLOW,
					      .syscalls = rules,
					      .n_syscalls = 1 };
	spec.process.no_new_privileges = true;
	char *ex_argv[] = { "sh", "-c", "mkdir /tmp/y 2>&1; grep ^NoNewPrivs: /proc/self/status",
			    NULL };
	struct kvap_process ex = {
		.args = ex_argv, .n_args = 3, .env = oci_env, .n_env = 2, .cwd = "/"
	};
	struct kvap_exit st;
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "seccomp exec: agent (%s)", err.msg);
		return;
	}
	r = agent_proc_create_start(c, &spec, 0, &p, &err);
	if (r == 0)
		r = agent_proc_exec(c, "seccomp-nnp", "e", &ex, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT),
				    &e, &err);
	if (r == 0) {
		int o = memfd_with(NULL, 0);
		size_t n;
		r = agent_proc_forward(e, -1, o, -1, &st, &err);
		out = memfd_read(o, &n);
		close(o);
		agent_proc_free(e);
	}
	ok(r == 0 && out && strstr(out, "Block device required") && strstr(out, "NoNewPrivs:\t0"),
	   "an EXEC gets the container's filter too (its own no_new_privs off) (%d %s; %s)", r,
	   show(out), err.msg);
	free(out);
	out = NULL;
	if (r == 0 || p) {
		agent_client_signal(c, NULL, SIGKILL, true, &err);
		agent_client_wait(c, "", &st, &err);
		agent_proc_free(p);
	}
	agent_client_free(c);
	finish(&h, "seccomp exec");
}

static void test_caps_and_namespaces(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char *argv[4] = { NULL, NULL,
			  "grep -E '^Cap(Eff|Bnd|Amb)' /proc/self/status; for n in pid net ipc uts "
			  "cgroup mnt; do readlink /proc/self/ns/$n; done",
			  NULL };
	struct kvap_create spec = oci_spec("caps", argv);
	char *out = NULL, want[1024], self[6][64];
	static const char *names[] = { "pid", "net", "ipc", "uts", "cgroup", "mnt" };

	for (int i = 0; i < 6; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/ns/%s", names[i]);
		ssize_t n = readlink(p, self[i], sizeof(self[i]) - 1);
		self[i][n > 0 ? n : 0] = '\0';
	}
	/* CAP_CHOWN and CAP_NET_BIND_SERVICE; ambient needs inheritable too. */
	spec.process.caps = (struct kvap_caps){ .bounding = 0x401,
						.effective = 0x401,
						.permitted = 0x401,
						.inheritable = 0x400,
						.ambient = 0x400 };
	/* Only pid and uts namespaces of its own (mount is always new). */
	struct kvap_namespace ns[] = { { KVAP_NS_PID, NULL }, { KVAP_NS_UTS, NULL } };
	spec.namespaces = ns;
	spec.n_namespaces = 2;
	spec.mounts = oci_base_mounts;
	spec.n_mounts = 2; /* proc and /dev: no sysfs without a network namespace */
	if (agent_h_start(&h, agent) < 0) {
		ok(0, "caps: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	char got_ns[6][64] = { "" };
	const char *line = out;
	for (int i = 0; line && i < 3; i++)
		line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
	for (int i = 0; line && i < 6; i++) {
		sscanf(line, "%63s", got_ns[i]);
		line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
	}
	snprintf(want, sizeof(want),
		 "CapEff:\t0000000000000401\nCapBnd:\t0000000000000401\n"
		 "CapAmb:\t0000000000000400\n");
	bool caps_ok = out && !strncmp(out, want, strlen(want));
	bool ns_ok = strcmp(got_ns[0], self[0]) && !strcmp(got_ns[1], self[1]) &&
		     !strcmp(got_ns[2], self[2]) && strcmp(got_ns[3], self[3]) &&
		     !strcmp(got_ns[4], self[4]) && strcmp(got_ns[5], self[5]);
	ok(r == 0 && caps_ok, "capabilities: bounding, effective, permitted, ambient (%d %s; %s)",
	   r, show(out), err.msg);
	ok(r == 0 && ns_ok,
	   "namespaces: pid, uts and mount are the container's, net, ipc and cgroup the VM's "
	   "(%s %s %s %s %s %s)",
	   got_ns[0], got_ns[1], got_ns[2], got_ns[3], got_ns[4], got_ns[5]);
	free(out);
	finish(&h, "caps");
}

static void test_sysctls(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	struct kvap_keyval kv[] = { { "kernel.msgmax", "12345" },
				    { "net.ipv4.ip_forward", "1" },
				    { "fs.mqueue.msg_max", "77" } };
	char *argv[4] = { NULL, NULL,
			  "cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_forward "
			  "/proc/sys/fs/mqueue/msg_max",
			  NULL };
	struct kvap_create spec = oci_spec("sysctl", argv);
	char *out = NULL, before[3][32], after[3][32];
	static const char *files[] = { "/proc/sys/kernel/msgmax", "/proc/sys/net/ipv4/ip_forward",
				       "/proc/sys/fs/mqueue/msg_max" };

	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "re");
		before[i][0] = '\0';
		if (f && !fgets(before[i], sizeof(before[i]), f))
			before[i][0] = '\0';
		if (f)
			fclose(f);
	}
	spec.sysctls = kv;
	spec.n_sysctls = 3;
	if (agent_h_start(&h, agent) < 0) {
		ok(0, "sysctl: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	bool same = true;
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(files[i], "re");
		after[i][0] = '\0';
		if (f && !fgets(after[i], sizeof(after[i]), f))
			after[i][0] = '\0';
		if (f)
			fclose(f);
		same &= !strcmp(before[i], after[i]);
	}
	ok(r == 0 && out && !strcmp(out, "12345\n1\n77\n") && same,
	   "sysctls in the container's ipc and network namespaces; the host's are unchanged "
	   "(%d %s; %s)",
	   r, show(out), err.msg);
	free(out);
	finish(&h, "sysctl");
}

struct refusal {
	const char *what;
	int want;
	const char *text;
};

/* Each refused CREATE, then a good one on the same agent. */
static void test_refusals(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char *argv[4] = { NULL, NULL, "echo fine", NULL };
	char *vax[] = { "SCMP_ARCH_VAX" }, *flag[] = { "SECCOMP_FILTER_FLAG_BOGUS" };
	struct kvap_namespace user[] = { { KVAP_NS_USER, NULL } },
			      join[] = { { KVAP_NS_NET, "other-ctr" } };
	struct kvap_mount tagged[] = { { "x", "/x", "tmpfs", NULL, 0, "share" } };
	struct kvap_keyval vm[] = { { "vm.swappiness", "10" } },
			   bad_key[] = { { "net/../../../etc/x", "1" } };
	static const struct refusal cases[] = {
		{ "SCMP_ACT_NOTIFY", -EOPNOTSUPP, "SCMP_ACT_NOTIFY" },
		{ "an unknown seccomp architecture", -EINVAL, "SCMP_ARCH_VAX" },
		{ "an unknown seccomp flag", -EINVAL, "SECCOMP_FILTER_FLAG_BOGUS" },
		{ "a user namespace", -EOPNOTSUPP, "user namespaces" },
		{ "joining another container's namespace", -ENOENT, "other-ctr" },
		{ "a sysctl that is not namespaced", -EPERM, "vm.swappiness is not namespaced" },
		{ "an ipc sysctl in the host's ipc namespace (--no-init)", -EPERM,
		  "own ipc namespace" },
		{ "a sysctl name with ..", -EINVAL, "not a sysctl name" },
		{ "cpu shares of 1", -EINVAL, "cpu_shares 1" },
		{ "an unknown root propagation", -EINVAL, "propagation 'bogus'" },
		{ "a virtio-fs share source on a tmpfs mount", -EINVAL, "needs a bind mount" },
		{ "a relative root path", -EINVAL, "absolute rootfs_path" },
	};

	if (agent_h_start(&h, agent) < 0) {
		ok(0, "refusals: agent");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kvap_create s = oci_spec("refused", argv);
		struct kvap_namespace no_ipc[] = { { KVAP_NS_PID, NULL } };
		struct kvap_keyval ipc[] = { { "kernel.msgmax", "1" } };
		switch (i) {
		case 0:
			s.seccomp.default_action = KVAP_SCMP_NOTIFY;
			break;
		case 1:
			s.seccomp = (struct kvap_seccomp){ .default_action = KVAP_SCMP_ALLOW,
							   .architectures = vax,
							   .n_architectures = 1 };
			break;
		case 2:
			s.seccomp = (struct kvap_seccomp){ .default_action = KVAP_SCMP_ALLOW,
							   .flags = flag,
							   .n_flags = 1 };
			break;
		case 3:
			s.namespaces = user;
			s.n_namespaces = 1;
			break;
		case 4:
			s.namespaces = join;
			s.n_namespaces = 1;
			break;
		case 5:
			s.sysctls = vm;
			s.n_sysctls = 1;
			break;
		case 6:
			s.namespaces = no_ipc;
			s.n_namespaces = 1;
			s.sysctls = ipc;
			s.n_sysctls = 1;
			break;
		case 7:
			s.sysctls = bad_key;
			s.n_sysctls = 1;
			break;
		case 8:
			s.resources.cpu_shares = 1;
			break;
		case 9:
			s.rootfs_propagation = "bogus";
			break;
		case 10:
			s.mounts = tagged;
			s.n_mounts = 1;
			break;
		default:
			s.rootfs_path = "relative/root";
			break;
		}
		char *out = NULL;
		int r = ctr_run(&h, &s, &out, &err);
		ok(r == cases[i].want && strstr(err.msg, cases[i].text), "refused: %s (%d: %s)",
		   cases[i].what, r, err.msg);
		free(out);
	}
	struct kvap_create s = oci_spec("good", argv);
	char *out = NULL;
	int r = ctr_run(&h, &s, &out, &err);
	ok(r == 0 && out && !strcmp(out, "fine\n"), "after those, a good CREATE works (%d %s)", r,
	   err.msg);
	free(out);
	finish(&h, "refusals");
}

int main(int argc, char **argv)
{
	static char base[128] = "/tmp/kvrun-oci-sec.XXXXXX";

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	agent = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0 || !mkdtemp(base) || oci_setup(base) < 0) {
		tap_plan(1);
		ok(0, "the container tests need root and a private mount namespace (%s)",
		   strerror(errno));
		return tap_done();
	}
	test_seccomp();
	test_caps_and_namespaces();
	test_sysctls();
	test_refusals();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		diag("could not remove %s", base);
	tap_plan(tap_n_);
	return tap_done();
}
