/* test-agent-cgroup.c - a container's cgroup: membership, PS and STATS per
 * container, FREEZE and THAW, UPDATE, SIGNAL to all, and its removal.
 *
 * Against kvrun-agent-test (argv[1]) with --no-init, as root, in a private
 * mount namespace, on the busybox root of oci-spec.h. The agent puts each
 * container under kvrun-<its pid> in its own cgroup v2 directory; the
 * test reads those files directly. Limits need controllers: where the
 * host's cgroup2 offers one (a VM always does; these machines run cgroup v1
 * with an empty cgroup2) the limit must show in its file, where it does not
 * the agent must refuse with a message naming the controller. The guest VM
 * checks the limits themselves (tests/kvm/exec.sh). */
#include "agent-client-oci.h"
#include "oci-spec.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *agent;

/* The agent's kvrun-<pid> cgroup directory. */
static int agent_cgroup(pid_t pid, char *out, size_t cap)
{
	char line[2048], mnt[1024] = "", path[64], own[2048] = "";
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1)
			break;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(own, sizeof(own), "%s", strcmp(line + 3, "/") ? line + 3 : "");
		}
	if (f)
		fclose(f);
	if (!*mnt)
		return -ENOENT;
	snprintf(out, cap, "%s%s/kvrun-%d", mnt, own, (int)pid);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return f ? buf : NULL;
}

static bool has_controller(const char *dir, const char *name)
{
	char p[1200];
	snprintf(p, sizeof(p), "%s/cgroup.controllers", dir);
	char *c = slurp(p);
	if (!c)
		return false;
	for (char *save, *t = strtok_r(c, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (!strcmp(t, name))
			return true;
	return false;
}

static bool ps_has(const struct kvap_ps *ps, uint32_t pid)
{
	for (uint32_t i = 0; i < ps->n_procs; i++)
		if (ps->procs[i].pid == pid)
			return true;
	return false;
}

static int ctr_ps(struct agent_client *c, const char *id, struct kvap_ps *ps, struct kv_err *err)
{
	return id ? agent_client_ps_container(c, id, ps, err) : agent_client_ps(c, ps, err);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void test_cgroup(void)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	char cg[1100], file[1300];
	/* Burn a little CPU, leave an orphan behind, then wait. No pid
	 * namespace: the orphan goes to the agent, only the cgroup holds it. */
	char *argv[4] = { NULL, NULL,
			  "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done;"
			  "(setsid sleep 300 &); sleep 200 & exec sleep 100",
			  NULL };
	struct kvap_create spec = oci_spec("cg", argv);
	struct kvap_namespace ns[] = { { KVAP_NS_MOUNT, NULL }, { KVAP_NS_CGROUP, NULL } };

	spec.namespaces = ns;
	spec.n_namespaces = 2;
	spec.mounts = oci_base_mounts;
	spec.n_mounts = 2;
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "cgroup: agent (%s)", err.msg);
		return;
	}
	pid_t apid = h.pid;
	int r = agent_proc_create_start(c, &spec, 0, &p, &err);
	if (!ok(r == 0 && agent_cgroup(apid, cg, sizeof(cg) - 16) == 0,
		"a container with a cgroup and a cgroup namespace (%s)", err.msg)) {
		agent_client_free(c);
		agent_h_stop(&h);
		return;
	}
	strcat(cg, "/cg");
	/* The three sleeps appear in time. */
	struct kvap_ps ps = { 0 };
	for (int i = 0; i < 200; i++) {
		kvap_free_ps_reply(&ps);
		if ((r = ctr_ps(c, "cg", &ps, &err)) < 0 || ps.n_procs >= 3)
			break;
		sleep_ms(20);
	}
	snprintf(file, sizeof(file), "%s/cgroup.procs", cg);
	char *procs = slurp(file);
	char want_pid[32];
	snprintf(want_pid, sizeof(want_pid), "%u\n", p->pid);
	ok(r == 0 && ps.n_procs == 3 && ps_has(&ps, p->pid) && !ps_has(&ps, (uint32_t)apid) &&
	       procs && strstr(procs, want_pid),
	   "PS of the container: its 3 processes from its cgroup %s, not the agent (%d procs; "
	   "%s)",
	   cg, ps.n_procs, err.msg);
	kvap_free_ps_reply(&ps);
	r = ctr_ps(c, NULL, &ps, &err);
	ok(r == 0 && ps_has(&ps, (uint32_t)apid), "PS without a container: the whole guest");
	kvap_free_ps_reply(&ps);

	struct kvap_stats st;
	r = agent_client_stats_container(c, "cg", &st, &err);
	bool pids = has_controller(cg, "pids");
	ok(r == 0 && st.cgroup.cpu_usage_ns > 0 &&
	       st.cgroup.cpu_usage_ns >= st.cgroup.cpu_user_ns &&
	       (!pids || st.cgroup.pids_current == 3) && st.mem_total > 0,
	   "STATS of the container: cpu usage %llu ns from its cpu.stat%s, and the VM's memory",
	   (unsigned long long)st.cgroup.cpu_usage_ns, pids ? ", 3 pids" : "");
	if (r == 0)
		kvap_free_stats_reply(&st);

	r = agent_client_freeze(c, "cg", true, &err);
	snprintf(file, sizeof(file), "%s/cgroup.events", cg);
	char *ev = slurp(file);
	ok(r == 0 && ev && strstr(ev, "frozen 1"), "FREEZE: the cgroup reports frozen (%d %s)", r,
	   err.msg);
	r = agent_client_freeze(c, "cg", false, &err);
	ev = slurp(file);
	ok(r == 0 && ev && strstr(ev, "frozen 0"), "THAW: it is not frozen any more (%d %s)", r,
	   err.msg);
	/* The agent's own checks, past the client's. */
	struct kvap_container_ref none = { NULL }, other = { "other" };
	union kvap_body reply;
	r = agent_client_call(c, KVAP_MSG_FREEZE, &none, &reply, &err);
	int r2 = agent_client_freeze(c, "other", false, &err);
	int r3 = agent_client_call(c, KVAP_MSG_STATS, &other, &reply, &err);
	ok(r == -EINVAL && r2 == -ENOENT && r3 == -ENOENT,
	   "FREEZE without an id: EINVAL; THAW or STATS of another container: ENOENT");

	/* UPDATE: a limit shows in its file, or the controller is missing. */
	struct kvap_resources res = { .pids_limit = 50, .memory_limit = 64 << 20 };
	r = agent_client_update(c, "cg", &res, &err);
	bool mem = has_controller(cg, "memory");
	if (pids && mem) {
		snprintf(file, sizeof(file), "%s/pids.max", cg);
		char *pm = slurp(file);
		bool pm_ok = pm && !strcmp(pm, "50\n");
		snprintf(file, sizeof(file), "%s/memory.max", cg);
		char *mm = slurp(file);
		ok(r == 0 && pm_ok && mm && !strcmp(mm, "67108864\n"),
		   "UPDATE: pids.max 50 and memory.max 64 MiB (%d %s)", r, err.msg);
	} else {
		ok(r == -EOPNOTSUPP && strstr(err.msg, "controller"),
		   "UPDATE: the host's cgroup2 lacks pids or memory: refused naming it (%d %s)", r,
		   err.msg);
	}
	struct kvap_keyval bad[] = { { "cgroup.procs", "1" } };
	res = (struct kvap_resources){ .unified = bad, .n_unified = 1 };
	r = agent_client_update(c, "cg", &res, &err);
	ok(r == -EINVAL && strstr(err.msg, "cgroup.procs"),
	   "UPDATE may not write cgroup core files (%d %s)", r, err.msg);

	/* SIGNAL to all reaches the orphan through the cgroup. */
	r = agent_client_signal(c, NULL, SIGTERM, true, &err);
	struct kvap_exit ex;
	int w = agent_client_wait(c, "", &ex, &err);
	for (int i = 0; i < 200; i++) {
		kvap_free_ps_reply(&ps);
		if (ctr_ps(c, "cg", &ps, &err) < 0 || ps.n_procs == 0)
			break;
		sleep_ms(10);
	}
	ok(r == 0 && w == 0 && ex.term_signal == SIGTERM && ps.n_procs == 0,
	   "SIGNAL all: the init, its child and the orphan all got SIGTERM (%u left)", ps.n_procs);
	kvap_free_ps_reply(&ps);
	agent_proc_free(p);
	agent_client_free(c);
	cg[strlen(cg) - 3] = '\0';
	int st2 = agent_h_stop(&h);
	ok(st2 == 0 && access(cg, F_OK) != 0,
	   "the agent exits cleanly and removes its cgroups (0x%x, %s gone)", st2, cg);
}

/* Resources at CREATE: applied before the init runs, or refused. */
static void test_create_resources(void)
{
	struct agent_h h;
	struct kv_err err = { 0 };
	char cg[1100];
	char *argv[4] = { NULL, NULL, "cat /sys/fs/cgroup/pids.max", NULL };
	struct kvap_create spec = oci_spec("res", argv);
	char *out = NULL;

	spec.resources.pids_limit = 20;
	if (agent_h_start(&h, agent) < 0 || agent_cgroup(h.pid, cg, sizeof(cg)) < 0) {
		ok(0, "resources: agent");
		return;
	}
	int r = ctr_run(&h, &spec, &out, &err);
	if (has_controller(cg, "pids"))
		ok(r == 0 && out && !strcmp(out, "20\n"),
		   "pids.max from linux.resources, seen in the container's cgroup (%d %s)", r,
		   err.msg);
	else
		ok(r == -EOPNOTSUPP && strstr(err.msg, "pids controller"),
		   "resources without the controller: CREATE refused naming it (%d %s)", r,
		   err.msg);
	free(out);
	int st = agent_h_stop(&h);
	ok(st == 0, "resources: the agent exits cleanly (0x%x)", st);
}

int main(int argc, char **argv)
{
	static char base[128] = "/tmp/kvrun-cgroup-test.XXXXXX";

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
	test_cgroup();
	test_create_resources();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		diag("could not remove %s", base);
	tap_plan(tap_n_);
	return tap_done();
}
