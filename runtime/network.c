/* network.c - see network.h. */
#include "network.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#include "netsetup.h"

/* The VMM process's own namespace, from any of its threads. */
#define OWN_NETNS "/proc/self/ns/net"

int network_check(const struct oci_config *cfg, struct kv_err *err)
{
	if (!oci_namespace(cfg, OCI_NS_NETWORK))
		return kv_errf(err, -EOPNOTSUPP,
			       "linux.namespaces: no \"network\" entry asks for the host's network "
			       "(--network host): a VM cannot share the host's network stack; give "
			       "the container a network namespace (a path, or a new one for "
			       "loopback only)");
	return 0;
}

int network_enter(const struct oci_config *cfg, struct kv_err *err)
{
	const struct oci_namespace *net = oci_namespace(cfg, OCI_NS_NETWORK);

	if (net && !net->path && unshare(CLONE_NEWNET) < 0)
		return kv_errno(err, -errno, "linux.namespaces: a new network namespace");
	return 0;
}

int network_attach(const struct oci_config *cfg, struct vmm_config *vm, struct network *n,
		   struct kv_err *err)
{
	const struct oci_namespace *net = oci_namespace(cfg, OCI_NS_NETWORK);
	const char *path = net && net->path ? net->path : OWN_NETNS;
	struct netsetup *ns = NULL;
	struct kv_err e = { 0 };
	int r;

	memset(n, 0, sizeof(*n));
	if (!net)
		return 0;
	if ((r = netsetup_attach(path, &ns, &e)) < 0)
		goto fail;
	if (ns->nnics == 0) {
		netsetup_detach(ns);
		return 0;
	}
	if (vm->nnets + ns->nnics > VMM_MAX_NETS) {
		r = kv_errf(&e, -E2BIG, "%u interfaces, more than the %d NICs of a VM", ns->nnics,
			    VMM_MAX_NETS);
		goto fail;
	}
	if ((r = netsetup_guard(ns, &e)) < 0 || (r = netsetup_to_kvap(ns, &n->kvap, &e)) < 0)
		goto fail;
	for (unsigned k = 0; k < ns->nnics; k++) {
		struct vmm_net *v = &vm->nets[vm->nnets++];
		*v = (struct vmm_net){ .fd = ns->nics[k].tap_fd,
				       .mac_set = true,
				       .mtu = ns->nics[k].mtu };
		memcpy(v->mac, ns->nics[k].mac, sizeof(v->mac));
	}
	n->ns = ns;
	return 0;

fail:
	netsetup_detach(ns);
	kvap_free_net_config(&n->kvap);
	memset(&n->kvap, 0, sizeof(n->kvap));
	return kv_errf(err, r, "linux.namespaces: the network namespace %s: %s",
		       net->path ? net->path : "(the VMM's own)", e.msg);
}

int network_configure_guest(const struct network *n, struct agent_client *c, struct kv_err *err)
{
	struct kv_err e = { 0 };
	int r;

	if (!n->ns || n->kvap.n_ifaces == 0)
		return 0;
	if ((r = agent_client_net_config(c, &n->kvap, &e)) < 0)
		return kv_errf(err, r, "configuring the guest's network: %s", e.msg);
	return 0;
}

int network_release_netlink(struct network *n, struct kv_err *err)
{
	struct kv_err e = { 0 };
	int r;

	if (!n->ns)
		return 0;
	if ((r = netsetup_release_netlink(n->ns, &e)) < 0)
		return kv_errf(err, r, "handing the network's undo to its guard: %s", e.msg);
	return 0;
}

unsigned network_keep_fds(const struct network *n, int *out, unsigned cap)
{
	unsigned k = 0;

	if (!n->ns)
		return 0;
	for (unsigned i = 0; i < n->ns->nnics && k < cap; i++)
		out[k++] = n->ns->nics[i].tap_fd;
	if (n->ns->guard > 0 && k < cap)
		out[k++] = n->ns->guard_fd;
	return k;
}

void network_detach(struct network *n)
{
	netsetup_detach(n->ns);
	n->ns = NULL;
	kvap_free_net_config(&n->kvap);
	memset(&n->kvap, 0, sizeof(n->kvap));
}

int network_cleanup(const struct oci_config *cfg, struct kv_err *err)
{
	const struct oci_namespace *net = oci_namespace(cfg, OCI_NS_NETWORK);

	if (!net || !net->path)
		return 0;
	return netsetup_cleanup(net->path, err);
}
