/* child.h - the forked child's side of starting a process.
 *
 * Owns: the contract between proc.c (parent) and child.c (the child after
 * fork, before execve): what the child is given and the reports it sends
 * back over a close-on-exec SOCK_SEQPACKET socket. The child sets itself up
 * completely (session, stdio, root, rlimits, identity, capabilities,
 * no_new_privs, executable lookup), reports READY (with the pty master as
 * SCM_RIGHTS for a terminal) or SETUP_FAILED, then blocks on the
 * gate pipe until the agent releases it (streams attached, START), and
 * execs. A failed execve is reported as EXEC_FAILED; a successful one closes
 * the report socket, which the parent sees as EOF. */
#ifndef KVRUN_AGENT_CHILD_H
#define KVRUN_AGENT_CHILD_H

#include <stdint.h>

#include "kvap.h"

enum child_stage {
	CHILD_READY = 1,
	CHILD_SETUP_FAILED = 2,
	CHILD_EXEC_FAILED = 3,
};

/* One message on the report socket. */
struct child_report {
	int32_t stage; /* enum child_stage */
	int32_t err;   /* positive errno */
	char msg[248];
};

struct container;

struct child_cfg {
	const struct kvap_process *spec;
	const struct container *ct; /* NULL: the VM's own root (EXEC before CREATE) */
	bool init;		    /* the container's init: set the container up */
	const char *run_dir;
	int stdio[3];  /* fds that become 0, 1, 2 (no terminal) */
	bool terminal; /* the child opens a pty (child.c) and sends the master */
	int report_fd; /* the child's end of the report socket */
	int gate_fd;   /* read end of the gate pipe */
};

__attribute__((noreturn)) void child_main(const struct child_cfg *cfg);

/* Steps in the child that fail with a negative errno and a message in
 * msg[0..cap). */
/* ns.c: the init unshares its new namespaces; an EXEC joins the init's. */
int ns_enter(const struct child_cfg *cfg, char *msg, size_t cap);
/* rootfs.c: hostname, sysctls, the root and its mounts, devices, masked and
 * read-only paths, pivot_root: everything the init's mount namespace gets. */
int rootfs_setup(const struct child_cfg *cfg, char *msg, size_t cap);
/* seccomp.c */
int seccomp_apply(void *ctx);

/* caps.c: capability sets as bit masks (bit n = capability n). */
int caps_last(void);
int caps_drop_bounding(uint64_t keep);
int caps_apply(const struct kvap_caps *c);

#endif
