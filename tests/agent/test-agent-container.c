/* test-agent-container.c - CREATE, START and the agent stopping itself.
 *
 * Each case starts its own kvrun-agent-test (argv[1]) with --no-init,
 * since CREATE happens once per agent: CREATE/START rules and the hostname
 * (inside the agent's own UTS namespace), poweroff_on_exit after the
 * init's WAIT, SHUTDOWN, agent_run_command with poweroff (what kvrun vm
 * --exec does), and CREATE's mounts, read-only root and MOUNT_FS inside
 * the agent's own mount namespace. Checks that need root are skipped
 * otherwise. */
#include "harness.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A fresh agent per container test: CREATE is once per agent. */
static void test_container(const char *agent, bool root)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;
	char host_name[128] = "", *argv[] = { "hostname", NULL };
	struct kvap_create spec = { .container_id = "ctr",
				    .rootfs_type = KVAP_ROOTFS_INITRAMFS,
				    .hostname = root ? "kvrun-guest" : NULL,
				    .process = { .args = argv, .n_args = 1 },
				    .poweroff_on_exit = true };

	gethostname(host_name, sizeof(host_name));
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "container agent: %s", err.msg);
		return;
	}
	int r = agent_proc_create_start(c, &spec, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p, &err);
	ok(r == 0 && p->pid > 0, "CREATE + streams + START (%s)", err.msg);
	if (r < 0) {
		agent_client_free(c);
		agent_h_stop(&h);
		return;
	}
	struct kvap_create again = spec;
	r = agent_client_create(c, &again, NULL, &err);
	ok(r == -EEXIST, "a second CREATE: EEXIST (%s)", err.msg);
	r = agent_client_start(c, "ctr", NULL, &err);
	ok(r == -EALREADY, "a second START: EALREADY (%s)", err.msg);
	char *ex_argv[] = { "true", NULL };
	struct kvap_process ex = { .args = ex_argv, .n_args = 1 };
	struct agent_proc *p2;
	r = agent_proc_exec(c, "other", "x", &ex, 0, &p2, &err);
	ok(r == -ENOENT, "EXEC into another container id: ENOENT (%s)", err.msg);
	int o = memfd_with(NULL, 0);
	r = agent_proc_forward(p, -1, o, -1, &st, &err);
	size_t n;
	char *out = memfd_read(o, &n);
	char now[128] = "";
	gethostname(now, sizeof(now));
	if (root)
		ok(r == 0 && !strcmp(out, "kvrun-guest\n") && !strcmp(now, host_name),
		   "the init sees CREATE's hostname; the host's is untouched (%s)", show(out));
	else
		ok(r == 0, "the init ran # SKIP hostname needs root");
	free(out);
	close(o);
	agent_proc_free(p);
	agent_client_free(c); /* the host has the status: poweroff goes ahead */
	bool stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		stopped = !agent_h_alive(&h);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	int status = agent_h_stop(&h);
	ok(stopped && status == 0,
	   "poweroff_on_exit: after the WAIT reply the agent stops (--no-init: exits 0, 0x%x)",
	   status);

	/* SHUTDOWN. */
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "shutdown agent: %s", err.msg);
		return;
	}
	r = agent_client_shutdown(c, KVAP_SHUTDOWN_POWEROFF, &err);
	agent_client_free(c);
	stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		stopped = !agent_h_alive(&h);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	status = agent_h_stop(&h);
	ok(r == 0 && stopped && status == 0,
	   "SHUTDOWN is answered, then the agent stops (exits 0: 0x%x)", status);

	/* What `kvrun vm --exec` does: one call, the VM powers off after. */
	struct agent_run_opts ro = AGENT_RUN_OPTS_DEFAULT;
	struct run_result res;
	char *cmd[] = { "sh", "-c", "cat; echo bye >&2; exit 5", NULL };
	ro.poweroff = true;
	if (agent_h_start(&h, agent) < 0) {
		ok(0, "run-command agent");
		return;
	}
	run_cmd(&h.d, cmd, "in\n", 3, &ro, &res);
	stopped = false;
	for (int i = 0; i < 300 && !stopped; i++) {
		stopped = !agent_h_alive(&h);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	status = agent_h_stop(&h);
	ok(res.status == 5 && !strcmp(res.out, "in\n") && !strcmp(res.err, "bye\n") && stopped &&
	       status == 0,
	   "agent_run_command with poweroff: status 5, stdio forwarded, then the agent stops "
	   "(%d %s)",
	   res.status, res.e.msg);
	run_result_free(&res);
}

/* CREATE's mounts and read-only root, MOUNT_FS: inside the --no-init
 * agent's own mount namespace (root only), so the host is never touched. */
static void test_mounts(const char *agent, bool root)
{
	struct agent_h h;
	struct agent_client *c;
	struct agent_proc *p;
	struct kv_err err = { 0 };
	struct kvap_exit st;
	char dest[128], script[512];

	if (!root) {
		ok(1, "mounts and a read-only root # SKIP not root");
		ok(1, "MOUNT_FS # SKIP not root");
		return;
	}
	if (agent_h_start(&h, agent) < 0 || agent_client_connect(&h.d, &c, &err) < 0) {
		ok(0, "mount agent: %s", err.msg);
		return;
	}
	snprintf(dest, sizeof(dest), "%s/mnt", h.dir);
	snprintf(script, sizeof(script),
		 "touch %s/written && ! touch /kvrun-ro-probe 2>/dev/null && "
		 "grep -c ' %s tmpfs .*nosuid' /proc/self/mounts",
		 dest, dest);
	char *argv[] = { "sh", "-c", script, NULL };
	char *opts[] = { "nosuid", "size=1m", "mode=755" };
	struct kvap_mount m = { .source = "tmpfs",
				.destination = dest,
				.type = "tmpfs",
				.options = opts,
				.n_options = 3 };
	struct kvap_create spec = { .container_id = "ro",
				    .rootfs_type = KVAP_ROOTFS_INITRAMFS,
				    .readonly_rootfs = true,
				    .mounts = &m,
				    .n_mounts = 1,
				    .process = { .args = argv, .n_args = 3 } };
	int r = agent_proc_create_start(c, &spec, KVAP_STREAM_BIT(KVAP_STREAM_STDOUT), &p, &err);
	char *out = NULL;
	if (r == 0) {
		int o = memfd_with(NULL, 0);
		size_t n;
		r = agent_proc_forward(p, -1, o, -1, &st, &err);
		out = memfd_read(o, &n);
		close(o);
		agent_proc_free(p);
	}
	ok(r == 0 && st.exit_code == 0 && out && !strcmp(out, "1\n") &&
	       access("/kvrun-ro-probe", F_OK) != 0,
	   "CREATE: a tmpfs mount with its options, and a read-only root (%d %s %s)", r, show(out),
	   err.msg);
	unlink("/kvrun-ro-probe");
	free(out);

	struct kvap_mount_fs mfs = { .tag = "no-such-kvrun-tag", .mount_point = dest };
	union kvap_body reply;
	r = agent_client_call(c, KVAP_MSG_MOUNT_FS, &mfs, &reply, &err);
	ok(r < 0 && strstr(err.msg, "no-such-kvrun-tag") && strstr(err.msg, "virtiofs"),
	   "MOUNT_FS of a tag that does not exist: an ERROR naming it (%d: %s)", r, err.msg);
	agent_client_free(c);
	agent_h_stop(&h);
}

int main(int argc, char **argv)
{
	bool root = geteuid() == 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-kvrun-agent-test\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tap_plan(10);
	test_container(argv[1], root);
	test_mounts(argv[1], root);
	return tap_done();
}
