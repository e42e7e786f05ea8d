/* vm-exec.h - `kvrun vm --exec`: run one command through the guest agent.
 *
 * Owns: the thread that waits (bounded) for the agent to answer on the VM's
 * hybrid vsock socket, runs the command with the caller's stdio as the
 * guest's init (the agent powers the VM off when it exits), and stops the
 * VM when anything goes wrong, so that vmm_run() on the main thread always
 * returns. Sequence for the caller:
 *
 *   vmm_create -> vm_exec_start -> vmm_run -> vm_exec_vm_gone -> vmm_destroy
 *   -> vm_exec_finish
 */
#ifndef KVRUN_VM_EXEC_H
#define KVRUN_VM_EXEC_H

#include "err.h"
#include "vmm.h"

struct kvap_net_config;

struct vm_exec;

/* A virtio-fs tag the agent mounts (MOUNT_FS) before the command runs. */
struct vm_exec_mount {
	const char *tag;
	const char *mount_point; /* absolute guest path */
};

/* Start the thread. socket_path is the VM's hybrid vsock socket; argv is
 * NULL-terminated and must outlive the thread, and so must mounts (n of
 * them, mounted in order once the agent answers) and net; ready_timeout_ms
 * bounds the wait for the agent. net, when not NULL and not empty, is sent
 * as NET_CONFIG before the mounts and the command. Call with SIGTERM/SIGINT
 * blocked (the thread inherits the mask). */
int vm_exec_start(struct vmm *vm, const char *socket_path, char *const argv[],
		  const struct vm_exec_mount *mounts, unsigned n, int ready_timeout_ms,
		  const struct kvap_net_config *net, struct vm_exec **out, struct kv_err *err);

/* vmm_run() returned: the thread must not touch vm any more, and stops
 * waiting for the agent at once. Call before vmm_destroy(). */
void vm_exec_vm_gone(struct vm_exec *x);

/* Join the thread and free x. Returns the command's exit status (0..255 or
 * 128 + signal), or a negative errno with err set (agent not ready in
 * time, the VM stopped first, the connection broke). */
int vm_exec_finish(struct vm_exec *x, struct kv_err *err);

#endif
