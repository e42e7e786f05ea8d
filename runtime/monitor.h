/* monitor.h - the host process behind a container: its VMM.
 *
 * Owns: everything the process forked by `kvrun create` does until it
 * exits with the container's status. In order: detach (new session; stop
 * when create dies before it commits), keep only the fds it needs, enter the
 * host namespaces the config asks for, boot the VM, wait for the guest
 * agent, let create run its hooks, create the container in the guest with
 * this process's stdio (or a terminal sent to --console-socket) as the
 * init's, and then relay stdio, signals and window sizes, serve the control
 * socket (pause, resume), record the exit status in the state directory,
 * and exit with it once the guest powered off. The hand-shake with create,
 * over a SOCK_SEQPACKET pair:
 *
 *   create -> VMM   "go"            (the VMM process is in its cgroup)
 *   VMM -> create   "booted"        (the agent answered) | "error MSG"
 *   create -> VMM   "create"        (hooks ran)
 *   VMM -> create   "created PID"   (guest pid of the held init) | "error MSG"
 *   create -> VMM   "commit"        (state and pid file written)
 *   VMM -> create   "ack"           (no longer dies with create)
 *
 * Exit status: the init's (128+N when signal N killed it); 255 when the VM
 * stopped without one (boot failure, VMM error, guest crash). */
#ifndef KVRUN_RUNTIME_MONITOR_H
#define KVRUN_RUNTIME_MONITOR_H

#include <sys/types.h>

#include "kvrun.h"
#include "oci.h"
#include "sandbox.h"
#include "settings.h"
#include "state.h"

#define MONITOR_EXIT_NO_STATUS 255

struct monitor_args {
	struct kvrun *g;
	const struct oci_config *cfg;
	const char *id;
	struct sandbox *sb;
	const struct settings *settings;
	struct ctr *c;
	const char *console_socket; /* with process.terminal */
	bool terminal_on_stdin;	    /* process.terminal without a socket: fd 0 is the terminal */
	bool no_pivot;		    /* create --no-pivot */
	int sync_fd;
	pid_t parent;
};

/* In the forked child; never returns. */
_Noreturn void monitor_main(struct monitor_args *a);

#endif
