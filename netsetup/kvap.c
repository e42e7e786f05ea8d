/* kvap.c - netsetup_to_kvap: the guest's share of an attach, as the
 * agent's NET_CONFIG request.
 *
 * Owns: the translation of each handed-over interface (MAC, name, MTU,
 * addresses) and of the routes through them into struct
 * kvap_net_config, whose memory kvap_free_net_config() releases. */
#include "kvap.h"
#include "netsetup_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void ipaddr(struct kvap_ipaddr *out, int family, const uint8_t *addr, uint8_t prefix)
{
	memset(out, 0, sizeof(*out));
	out->family = family == AF_INET ? 4 : 6;
	memcpy(out->addr, addr, family == AF_INET ? 4 : 16);
	out->prefix = prefix;
}

static const struct netsetup_iface *iface(const struct netsetup *ns, const char *name)
{
	for (unsigned i = 0; i < ns->info.nifaces; i++)
		if (!strcmp(ns->info.ifaces[i].name, name))
			return &ns->info.ifaces[i];
	return NULL;
}

static bool handed_over(const struct netsetup *ns, const char *name)
{
	for (unsigned k = 0; k < ns->nnics; k++)
		if (!strcmp(ns->nics[k].iface, name))
			return true;
	return false;
}

int netsetup_to_kvap(const struct netsetup *ns, struct kvap_net_config *out, struct kv_err *err)
{
	memset(out, 0, sizeof(*out));
	if (ns->nnics == 0)
		return 0;
	out->ifaces = calloc(ns->nnics, sizeof(*out->ifaces));
	out->routes = calloc(ns->info.nroutes ? ns->info.nroutes : 1, sizeof(*out->routes));
	if (!out->ifaces || !out->routes)
		goto oom;
	for (unsigned k = 0; k < ns->nnics; k++) {
		const struct netsetup_nic *nic = &ns->nics[k];
		const struct netsetup_iface *i = iface(ns, nic->iface);
		struct kvap_iface *o = &out->ifaces[out->n_ifaces++];
		memcpy(o->mac, nic->mac, 6);
		o->mtu = nic->mtu;
		if (!(o->name = strdup(nic->iface)))
			goto oom;
		if (!i || i->naddrs == 0)
			continue;
		if (!(o->addrs = calloc(i->naddrs, sizeof(*o->addrs))))
			goto oom;
		for (unsigned a = 0; a < i->naddrs; a++)
			ipaddr(&o->addrs[o->n_addrs++], i->addrs[a].family, i->addrs[a].addr,
			       i->addrs[a].prefix);
	}
	for (unsigned k = 0; k < ns->info.nroutes; k++) {
		const struct netsetup_route *r = &ns->info.routes[k];
		if (!handed_over(ns, r->dev))
			continue;
		struct kvap_route *o = &out->routes[out->n_routes++];
		ipaddr(&o->dest, r->family, r->dst, r->dst_len);
		if (r->has_gateway)
			ipaddr(&o->gateway, r->family, r->gateway, 0);
		o->metric = r->metric;
		if (!(o->device = strdup(r->dev)))
			goto oom;
	}
	return 0;
oom:
	kvap_free_net_config(out);
	return kv_errf(err, -ENOMEM, "out of memory");
}
