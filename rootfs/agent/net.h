/* net.h - the guest's network configuration (NET_CONFIG), over rtnetlink.
 *
 * Owns: net_apply(), which the NET_CONFIG handler calls and the unit test
 * drives in a namespace of its own. libc only (the agent is static). */
#ifndef KVRUN_AGENT_NET_H
#define KVRUN_AGENT_NET_H

#include "err.h"
#include "kvap.h"

/* Configure the calling thread's network namespace as cfg says, in order:
 * interfaces that change name first get a temporary one (so names can be
 * swapped); then for each interface (found by MAC) rename it, set its MTU,
 * bring it up
 * and add its addresses (IPv6 without duplicate address detection, so
 * they are usable at once); then add the routes (main table; a route with
 * a device uses that interface, one without lets the kernel pick by
 * gateway). Addresses and routes that exist are replaced, so applying the
 * same configuration twice succeeds. Stops at the first failure, with a
 * message naming the interface, address or route. */
int net_apply(const struct kvap_net_config *cfg, struct kv_err *err);

#endif
