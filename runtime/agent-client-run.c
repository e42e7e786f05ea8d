/* agent-client-run.c - agent_run_command(): run one command in the guest.
 *
 * Owns: the convenience path `kvrun vm --exec` uses: connect, build the
 * process spec from argv and the options (default environment, streams
 * from which caller fds exist), run it as an EXEC with a unique exec id
 * (or, with poweroff, as the container's init - in the initramfs root or
 * on a virtio-fs root - so the agent powers the VM off afterwards), forward the caller's stdio, and return the shell-style
 * exit status. */
#include "agent-client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static unsigned run_counter;

int agent_run_command(const struct agent_dialer *d, char *const argv[],
		      const struct agent_run_opts *opts, struct kv_err *err)
{
	static const struct agent_run_opts defaults = AGENT_RUN_OPTS_DEFAULT;
	char *default_env[] = { (char *)RUN_DEFAULT_PATH, (char *)"TERM=xterm", NULL };
	struct agent_client *c = NULL;
	struct agent_proc *p = NULL;
	struct kvap_exit st;
	uint32_t argc = 0, envc = 0, streams;
	char exec_id[64];
	int r;

	if (!opts)
		opts = &defaults;
	while (argv && argv[argc])
		argc++;
	if (!argc)
		return kv_errf(err, -EINVAL, "no command to run");
	char *const *env = opts->env ? opts->env : default_env;
	while (env[envc])
		envc++;
	if (!opts->env && !opts->terminal)
		envc = 1; /* TERM only with a terminal */

	struct kvap_process proc = {
		.args = (char **)argv,
		.n_args = argc,
		.env = (char **)env,
		.n_env = envc,
		.cwd = (char *)(opts->cwd ? opts->cwd : "/"),
		.terminal = opts->terminal,
		.console = { opts->rows, opts->cols },
		.uid = opts->uid,
		.gid = opts->gid,
	};
	if (opts->terminal)
		streams = KVAP_STREAM_BIT(KVAP_STREAM_TTY);
	else
		streams = (opts->in_fd >= 0 ? KVAP_STREAM_BIT(KVAP_STREAM_STDIN) : 0) |
			  (opts->out_fd >= 0 ? KVAP_STREAM_BIT(KVAP_STREAM_STDOUT) : 0) |
			  (opts->err_fd >= 0 ? KVAP_STREAM_BIT(KVAP_STREAM_STDERR) : 0);
	const char *container_id = opts->container_id ? opts->container_id : "kvrun";

	if ((r = agent_client_connect(d, &c, err)) < 0)
		return r;
	if (opts->poweroff) {
		struct kvap_create spec = { .container_id = (char *)container_id,
					    .rootfs_type = opts->rootfs_tag ? KVAP_ROOTFS_VIRTIOFS
									    : KVAP_ROOTFS_INITRAMFS,
					    .rootfs_source = (char *)opts->rootfs_tag,
					    .process = proc,
					    .poweroff_on_exit = true };
		r = agent_proc_create_start(c, &spec, streams, &p, err);
	} else {
		snprintf(exec_id, sizeof(exec_id), "run-%d-%u", (int)getpid(),
			 __atomic_add_fetch(&run_counter, 1, __ATOMIC_RELAXED));
		r = agent_proc_exec(c, container_id, exec_id, &proc, streams, &p, err);
	}
	if (r == 0)
		r = agent_proc_forward(p, opts->in_fd, opts->out_fd, opts->err_fd, &st, err);
	if (r == 0 && (r = agent_exit_status(&st)) < 0) /* the client checked it: not reached */
		kv_errf(err, r, "the agent reported an impossible exit status");
	agent_proc_free(p);
	agent_client_free(c);
	return r;
}
