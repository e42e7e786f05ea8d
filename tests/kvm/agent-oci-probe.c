/* agent-oci-probe.c - a KVAP 1.1 container in a real guest, from the host.
 *
 * Owns: the end-to-end container checks of tests/kvm/exec.sh that need the
 * guest's own kernel: over the VM's hybrid vsock socket it CREATEs a
 * container on the image's /ctr directory (rootfs type 3) with new pid,
 * ipc, uts, mount, network and cgroup namespaces, cgroup v2 limits
 * (memory, swap, pids, cpu), a seccomp rule and a read-only root; checks
 * what the init prints (pivot_root, PID 1, hostname, namespaced cgroup,
 * the limits in its cgroup files, the denied mkdir), STATS, UPDATE,
 * FREEZE/THAW, EXEC and PS into it, SIGNAL to all, and powers the VM off.
 * Prints one "ok - ..." or "not ok - ..." line per check (PROBE_CHECKS of
 * them, always), exec.sh numbers them. Exit status 0 when all passed.
 * usage: agent-oci-probe SOCKET */
#include "agent-client-oci.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_CHECKS 10

static int n_done, n_failed;

__attribute__((format(printf, 2, 3))) static bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	n_done++;
	n_failed += !cond;
	printf("%sok - ", cond ? "" : "not ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append what fd has to buf within ms (or until `until` is in buf);
 * returns the bytes read. */
static size_t read_for(int fd, char *buf, size_t cap, int ms, const char *until)
{
	size_t have = strlen(buf), start = have;
	int64_t end = now_ms() + ms;

	while (have < cap - 1 && (!until || !strstr(buf, until))) {
		int left = (int)(end - now_ms());
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
	}
	return have - start;
}

static char *ctr_argv[] = {
	"sh", "-c",
	"echo pid=$$; test -e /init || echo pivoted; cat /marker; hostname;"
	"grep ^0:: /proc/self/cgroup; cd /sys/fs/cgroup;"
	"echo mem=$(cat memory.max) swap=$(cat memory.swap.max) pids=$(cat pids.max)"
	" cpu=$(cat cpu.max) weight=$(cat cpu.weight);"
	"mkdir /tmp/x 2>&1; touch /x 2>/dev/null || echo root-ro; echo ready;"
	"while :; do echo tick; sleep 0.2; done"
};
static char *ctr_env[] = { "PATH=/bin" };
static char *o_proc[] = { "nosuid", "noexec", "nodev" }, *o_dev[] = { "nosuid", "mode=755" },
	    *o_cg[] = { "nosuid", "noexec", "nodev", "ro" }, *deny[] = { "mkdir", "mkdirat" };

static const char *want_first =
    "pid=1\npivoted\nmarker\nctr-vm\n0::/\n"
    "mem=67108864 swap=0 pids=32 cpu=50000 100000 weight=20\n"
    "mkdir: can't create directory '/tmp/x': Block device required\nroot-ro\nready\n";

int main(int argc, char **argv)
{
	struct agent_dialer d;
	struct agent_client *c = NULL;
	struct agent_proc *p = NULL;
	struct kv_err err = { 0 };
	static char out[65536];
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct kvap_mount mounts[] = {
		{ "proc", "/proc", "proc", o_proc, 3, NULL },
		{ "tmpfs", "/dev", "tmpfs", o_dev, 2, NULL },
		{ "tmpfs", "/tmp", "tmpfs", NULL, 0, NULL },
		{ "cgroup", "/sys/fs/cgroup", "cgroup", o_cg, 4, NULL },
	};
	struct kvap_namespace ns[] = { { KVAP_NS_PID, NULL }, { KVAP_NS_IPC, NULL },
				       { KVAP_NS_UTS, NULL }, { KVAP_NS_MOUNT, NULL },
				       { KVAP_NS_NET, NULL }, { KVAP_NS_CGROUP, NULL } };
	struct kvap_seccomp_rule rule = {
		deny, 2, KVAP_SCMP_ERRNO, 15 /* ENOTBLK */, true, NULL, 0
	};
	struct kvap_create spec = {
		.container_id = "vm-ctr",
		.rootfs_type = KVAP_ROOTFS_DIR,
		.rootfs_path = "/ctr",
		.readonly_rootfs = true,
		.mounts = mounts,
		.n_mounts = 4,
		.hostname = "ctr-vm",
		.namespaces = ns,
		.n_namespaces = 6,
		.process = { .args = ctr_argv,
			     .n_args = 3,
			     .env = ctr_env,
			     .n_env = 1,
			     .cwd = "/" },
		.resources = { .memory_limit = 64 << 20,
			       .memory_swap = 64 << 20,
			       .pids_limit = 32,
			       .cpu_quota = 50000,
			       .cpu_period = 100000,
			       .cpu_shares = 512 },
		.seccomp = { .default_action = KVAP_SCMP_ALLOW,
			     .syscalls = &rule,
			     .n_syscalls = 1 },
	};

	if (agent_dialer_hybrid(&d, argv[1], &err) < 0)
		goto fail;
	d.timeout_ms = 90000;
	d.io_timeout_ms = 90000;
	if (agent_client_connect(&d, &c, &err) < 0)
		goto fail;
	err = (struct kv_err){ 0 }; /* the dialer's retries while the guest booted */
	uint64_t need = KVAP_FEAT_CONTAINER | KVAP_FEAT_SECCOMP;
	check((agent_client_features(c) & need) == need,
	      "the agent offers containers and seccomp (features %#llx)",
	      (unsigned long long)agent_client_features(c));

	r = agent_proc_create_start(
	    c, &spec, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT) | KVAP_STREAM_BIT(KVAP_STREAM_STDERR), &p,
	    &err);
	if (r < 0)
		goto fail;
	read_for(p->fd[KVAP_STREAM_STDOUT], out, sizeof(out), 60000, "ready\n");
	const char *lim = strstr(out, "mem=");
	check(!strncmp(out, "pid=1\npivoted\nmarker\nctr-vm\n0::/\n", 33),
	      "pivot_root into /ctr, PID 1 of a pid namespace, hostname, cgroup namespace");
	check(lim && !strncmp(lim, strstr(want_first, "mem="), 55),
	      "memory.max, memory.swap.max, pids.max, cpu.max and cpu.weight in the container's "
	      "cgroup");
	if (!strstr(out, want_first))
		fprintf(stdout, "# got: %s\n", out);
	check(strstr(out, "Block device required\nroot-ro\nready\n") != NULL,
	      "seccomp: mkdir fails with the configured errno; the root is read-only");

	struct kvap_stats stats;
	r = agent_client_stats_container(c, "vm-ctr", &stats, &err);
	struct kvap_cgroup_stats *g = &stats.cgroup;
	bool anon = false;
	for (uint32_t i = 0; r == 0 && i < g->n_mem_stat; i++)
		anon |= !strcmp(g->mem_stat[i].name, "anon");
	check(r == 0 && g->mem_usage > 0 && g->mem_limit == 64 << 20 && g->pids_current >= 2 &&
		  g->pids_limit == 32 && g->cpu_usage_ns > 0 && g->swap_limit == 0 && anon,
	      "STATS: memory %llu of %llu, %llu pids of %llu, cpu %llu ns, memory.stat (%s)",
	      (unsigned long long)g->mem_usage, (unsigned long long)g->mem_limit,
	      (unsigned long long)g->pids_current, (unsigned long long)g->pids_limit,
	      (unsigned long long)g->cpu_usage_ns, err.msg);
	if (r == 0)
		kvap_free_stats_reply(&stats);

	struct kvap_resources up = { .memory_limit = 128 << 20, .pids_limit = 16 };
	r = agent_client_update(c, "vm-ctr", &up, &err);
	int r2 = r < 0 ? r : agent_client_stats_container(c, "vm-ctr", &stats, &err);
	check(r == 0 && r2 == 0 && g->mem_limit == 128 << 20 && g->pids_limit == 16 &&
		  g->swap_limit == 0,
	      "UPDATE: memory.max 128 MiB, pids.max 16, swap left as it was (%s)", err.msg);
	if (r2 == 0)
		kvap_free_stats_reply(&stats);

	/* Frozen: no tick once what was in flight is out; thawed: ticks again. */
	r = agent_client_freeze(c, "vm-ctr", true, &err);
	out[0] = '\0';
	int64_t t0 = now_ms();
	while (read_for(p->fd[KVAP_STREAM_STDOUT], out, sizeof(out), 500, NULL) &&
	       now_ms() - t0 < 10000)
		out[0] = '\0';
	out[0] = '\0';
	size_t while_frozen = read_for(p->fd[KVAP_STREAM_STDOUT], out, sizeof(out), 1500, NULL);
	r2 = agent_client_freeze(c, "vm-ctr", false, &err);
	out[0] = '\0';
	read_for(p->fd[KVAP_STREAM_STDOUT], out, sizeof(out), 30000, "tick\n");
	check(r == 0 && r2 == 0 && while_frozen == 0 && strstr(out, "tick"),
	      "FREEZE stops the container (no output for 1.5 s), THAW resumes it (%s)", err.msg);

	char *ex_argv[] = { "sh", "-c", "hostname; echo $$; tr '\\0' ' ' </proc/1/cmdline", NULL };
	struct kvap_process ex = { .args = ex_argv, .n_args = 3, .env = ctr_env, .n_env = 1 };
	struct agent_proc *e;
	struct kvap_exit st;
	r = agent_proc_exec(c, "vm-ctr", "probe", &ex, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &e,
			    &err);
	char ex_out[512] = "";
	if (r == 0) {
		read_for(e->fd[KVAP_STREAM_STDOUT], ex_out, sizeof(ex_out), 30000, "sh -c");
		r = agent_client_wait(c, "probe", &st, &err);
		agent_proc_free(e);
	}
	struct kvap_ps ps;
	r2 = agent_client_ps_container(c, "vm-ctr", &ps, &err);
	uint32_t nps = r2 == 0 ? ps.n_procs : 0;
	if (r2 == 0)
		kvap_free_ps_reply(&ps);
	check(r == 0 && !strncmp(ex_out, "ctr-vm\n", 7) && strstr(ex_out, "\nsh -c echo pid") &&
		  r2 == 0 && nps >= 2,
	      "EXEC joins the container (its hostname, its PID 1); PS lists %u processes (%s)", nps,
	      err.msg);

	r = agent_client_signal(c, NULL, SIGKILL, true, &err);
	r2 = r < 0 ? r : agent_client_wait(c, "", &st, &err);
	check(r == 0 && r2 == 0 && st.term_signal == SIGKILL, "SIGNAL to all: the init dies (%s)",
	      err.msg);
	r = agent_client_shutdown(c, KVAP_SHUTDOWN_POWEROFF, &err);
	check(r == 0, "SHUTDOWN (%s)", err.msg);
	agent_proc_free(p);
	agent_client_free(c);
	return n_failed ? 1 : 0;
fail:
	printf("# %s\n", err.msg);
	while (n_done < PROBE_CHECKS)
		check(false, "(not reached: %s)", err.msg);
	if (p)
		agent_proc_free(p);
	if (c)
		agent_client_free(c);
	return 1;
}
