/* relay.h - the side thread of a host process standing for a guest process.
 *
 * Owns: forwarding the signals the host process receives to its guest
 * process (SIGNAL through the agent; SIGWINCH becomes a RESIZE with the
 * size of the host terminal instead), and, for a container's VMM process,
 * serving its control socket (one request per connection: "pause",
 * "resume", "ping"). One thread, poll()-based, with its own agent
 * connection (made when first needed). The signals must be blocked in
 * every thread of the process before any thread starts (relay_sigset). */
#ifndef KVRUN_RUNTIME_RELAY_H
#define KVRUN_RUNTIME_RELAY_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "agent-client.h"
#include "kvrun.h"

struct relay {
	/* set by the caller */
	struct agent_dialer dialer;
	const char *exec_id; /* "" for the container's init */
	int tty_fd;	     /* host terminal of the process, or -1 */
	int ctl_fd;	     /* listening control socket, or -1 */
	/* a control request into reply; returns 0 or a negative errno */
	int (*ctl_handle)(void *opaque, const char *req, char *reply, size_t size);
	void *opaque;
	struct kvrun *g;
	struct vmm *vm; /* the VM of a VMM process: the thread confines itself */
	/* internal */
	int sig_fd, quit_fd, go_fd;
	pthread_t thread;
	struct agent_client *c;
	bool running;
};

/* The stdio streams (KVAP_STREAM_BIT of 0, 1, 2) this process's fds 0-2
 * give a guest process: each open one that is not /dev/null (the agent
 * connects an unannounced stream to its /dev/null: one connection less). */
uint32_t stdio_streams(void);

/* The signals a relay forwards (and SIGWINCH). */
void relay_sigset(sigset_t *set);
int relay_start(struct relay *r, struct kv_err *err);
/* The same, but the thread (made now, with its descriptors) waits for
 * relay_go() before it relays anything: for a VMM process, whose thread
 * that decides when is already confined and may make neither threads nor
 * descriptors (docs/security.md). relay_stop() also ends a relay that
 * never got going. */
int relay_prepare(struct relay *r, struct kv_err *err);
void relay_go(struct relay *r);
/* Stop the thread and release everything (the caller's fds stay open). */
void relay_stop(struct relay *r);

#endif
