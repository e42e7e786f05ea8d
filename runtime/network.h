/* network.h - a container's network: from linux.namespaces to the VM's NICs.
 *
 * Owns: what kvrun does with the `network` entry of linux.namespaces
 * (docs/networking.md, "Namespace cases"):
 *
 *   no entry          host networking: refused, naming linux.namespaces (the
 *                     host's interfaces cannot be handed to a VM without
 *                     taking the host's traffic with them);
 *   an entry, a path  the namespace CNI (podman, containerd's CRI, ctr
 *                     --with-ns) prepared: each usable interface in it (veth,
 *                     macvlan, ipvlan) becomes a NIC of the VM through
 *                     netsetup (tap + tc redirect, a guard process); the VMM
 *                     process itself stays in its own namespace;
 *   an entry, no path the VMM process gets a new, empty network namespace of
 *                     its own; its /proc/PID/ns/net is where prestart and
 *                     createRuntime hooks (docker's libnetwork-setkey) put
 *                     the container's interfaces. Whatever usable interface
 *                     is there once those hooks ran is handed to the VM
 *                     likewise; none (the usual case) leaves the guest with
 *                     loopback only.
 *
 * Either way the VM is the container's network namespace: the container runs
 * in the guest's own, where the agent configured the NICs (NET_CONFIG, before
 * the container's process is created). */
#ifndef KVRUN_RUNTIME_NETWORK_H
#define KVRUN_RUNTIME_NETWORK_H

#include "agent-client.h"
#include "err.h"
#include "kvap.h"
#include "oci.h"
#include "vmm.h"

struct netsetup;

struct network {
	struct netsetup *ns;	     /* NULL: no NIC */
	struct kvap_net_config kvap; /* for the agent; n_ifaces 0: nothing to send */
};

/* Refuse a config kvrun cannot network (no side effects). */
int network_check(const struct oci_config *cfg, struct kv_err *err);

/* In the VMM process, still single-threaded: a new network namespace when
 * the config's entry has no path. */
int network_enter(const struct oci_config *cfg, struct kv_err *err);

/* In the VMM process, after the hooks that may populate its namespace and
 * before vmm_create: attach the namespace's interfaces, start the guard,
 * add the taps to vm->nets. On failure nothing is left behind. */
int network_attach(const struct oci_config *cfg, struct vmm_config *vm, struct network *n,
		   struct kv_err *err);

/* NET_CONFIG to the agent, when there is a NIC. */
int network_configure_guest(const struct network *n, struct agent_client *c, struct kv_err *err);

/* Before the VMM process is sandboxed: hand the orderly undo to the guard,
 * so the process that runs the VM keeps no netlink socket into the
 * namespace. No-op without a NIC. */
int network_release_netlink(struct network *n, struct kv_err *err);

/* The descriptors the VM's network needs kept open through the jail: the
 * taps and the guard's pipe. Returns how many were written (at most cap). */
unsigned network_keep_fds(const struct network *n, int *out, unsigned cap);

/* The orderly undo, after the VMM closed its tap fds (vmm_destroy). */
void network_detach(struct network *n);

/* For delete (and a create that failed): remove from the namespace named by
 * path whatever of ours is still there. Nothing to do without a path: the
 * VMM's own namespace is gone with it, or in the hands of the hook that
 * populated it. Returns the number of objects removed or a negative errno. */
int network_cleanup(const struct oci_config *cfg, struct kv_err *err);

#endif
