/* container.h - the container lifecycle the verbs share.
 *
 * Owns: a container's live status (state.json's, corrected by whether its
 * VMM process still exists, checked by pid and start time, and whether its
 * init already exited), creating one (create.c), starting, signalling,
 * pausing through the VMM process's control socket, reaching its guest
 * agent, and destroying it (VMM, host cgroup, poststop hooks, state
 * directory). Every function takes an open, locked struct ctr. */
#ifndef KVRUN_RUNTIME_CONTAINER_H
#define KVRUN_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "agent-client.h"
#include "kvrun.h"
#include "oci.h"
#include "state.h"

enum ctr_status {
	CTR_CREATING = 0,
	CTR_CREATED,
	CTR_RUNNING,
	CTR_PAUSED,
	CTR_STOPPED,
};

const char *ctr_status_name(enum ctr_status s);
enum ctr_status ctr_status(struct ctr *c);
bool ctr_vmm_alive(const struct ctr *c);
/* The init's exit status from ROOT/ID/exit, or -1. */
int ctr_exit_status(struct ctr *c);

/* /proc/PID/stat: the start time (field 22) of a live, non-zombie process. */
int proc_start_time(pid_t pid, unsigned long long *start);

struct create_opts {
	const char *id;
	const char *bundle;
	const char *console_socket;
	const char *pid_file;
	unsigned preserve_fds;
	bool terminal_on_stdin; /* run in the foreground: the caller's terminal (fd 0) */
	bool no_pivot;
};

/* `kvrun create`: returns 0 once the container exists in the guest, its
 * init held; *vmm_pid is the VMM process (our child). Leaves nothing
 * behind on failure. */
int ctr_create(struct kvrun *g, const struct create_opts *o, pid_t *vmm_pid, struct kv_err *err);

/* The config.json saved at create. */
int ctr_config(struct ctr *c, struct oci_config **cfg, struct kv_err *err);
/* The hooks' state JSON with the given status. */
int ctr_hook_state(struct ctr *c, const char *status, char **json, struct kv_err *err);
/* A dialer for the guest agent (connection retries for timeout_ms). */
int ctr_dialer(struct ctr *c, int timeout_ms, struct agent_dialer *d, struct kv_err *err);
/* One request on the VMM process's control socket ("pause", "resume"). */
int ctr_control(struct ctr *c, const char *req, struct kv_err *err);

int ctr_start(struct kvrun *g, struct ctr *c, struct kv_err *err);
/* The signal to the init (all: every process of the container). SIGKILL
 * kills the VMM when the agent does not take it. */
int ctr_kill(struct kvrun *g, struct ctr *c, int sig, bool all, struct kv_err *err);
/* Kill the VMM (if alive) and wait until it is gone. */
int ctr_kill_vmm(struct ctr *c, struct kv_err *err);
/* Remove everything: VMM, host cgroup, state; poststop hooks run (their
 * failures are warnings, as the runtime-spec says). */
int ctr_destroy(struct kvrun *g, struct ctr *c, struct kv_err *err);

#endif
