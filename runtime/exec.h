/* exec.h - `kvrun exec`'s work: a new process in a running container.
 *
 * Owns: the host process that stands for the guest process: forked from
 * the verb (a new session), it asks the guest agent to run the process
 * with its stdio (or a terminal: sent to --console-socket, or the caller's
 * own), relays stdio, signals and window sizes, and exits with the guest
 * process's status. The verb either returns once the process runs
 * (--detach; the pid file names this host process) or waits for it,
 * passing signals on. */
#ifndef KVRUN_RUNTIME_EXEC_H
#define KVRUN_RUNTIME_EXEC_H

#include <stdbool.h>

#include "agent-client.h"
#include "kvrun.h"

struct exec_req {
	const char *container_id;
	struct agent_dialer dialer; /* the container's agent */
	int keep_fd;		    /* an fd the dialer's path goes through */
	const struct kvap_process *proc;
	const char *console_socket;
	const char *pid_file;
	bool detach;
};

/* Returns the exit status to exit with, or -1 (err set) when the process
 * could not be started. */
int exec_run(struct kvrun *g, const struct exec_req *x, struct kv_err *err);

#endif
