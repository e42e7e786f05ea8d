/* msg-net.c - schemas of the network and virtio-fs messages.
 *
 * Owns: the field tables of NET_CONFIG (interfaces, addresses, routes) and
 * MOUNT_FS, and the rule that keeps an address canonical. */
#include "kvap-msg.h"
#include "schemas.h"

#include <string.h>

#define REQ KVAP_FIELD_REQUIRED

/* One encoding per address: unused bytes zero, prefix within the family. */
static bool ipaddr_valid(const void *obj)
{
	static const uint8_t zero[16];
	const struct kvap_ipaddr *a = obj;

	switch (a->family) {
	case 0:
		return a->prefix == 0 && !memcmp(a->addr, zero, 16);
	case 4:
		return a->prefix <= 32 && !memcmp(a->addr + 4, zero, 12);
	case 6:
		return a->prefix <= 128;
	default:
		return false;
	}
}

static const struct kvap_field ipaddr_fields[] = {
	KVAP_F_U8(struct kvap_ipaddr, family, 1, 0),
	KVAP_F_BYTES(struct kvap_ipaddr, addr, 2, 0),
	KVAP_F_U8(struct kvap_ipaddr, prefix, 3, 0),
};
KVAP_SCHEMA(kvap_schema_ipaddr, struct kvap_ipaddr, ipaddr_fields, ipaddr_valid);

static const struct kvap_field iface_fields[] = {
	KVAP_F_BYTES(struct kvap_iface, mac, 1, REQ),
	KVAP_F_STR(struct kvap_iface, name, 2, KVAP_MAX_IFNAME, 0),
	KVAP_F_U32(struct kvap_iface, mtu, 3, 0),
	KVAP_F_STRUCTLIST(struct kvap_iface, addrs, n_addrs, 4, KVAP_MAX_ADDRS, struct kvap_ipaddr,
			  kvap_schema_ipaddr),
};
KVAP_SCHEMA(kvap_schema_iface, struct kvap_iface, iface_fields, NULL);

static const struct kvap_field route_fields[] = {
	KVAP_F_STRUCT(struct kvap_route, dest, 1, struct kvap_ipaddr, kvap_schema_ipaddr, 0),
	KVAP_F_STRUCT(struct kvap_route, gateway, 2, struct kvap_ipaddr, kvap_schema_ipaddr, 0),
	KVAP_F_STR(struct kvap_route, device, 3, KVAP_MAX_IFNAME, 0),
	KVAP_F_U32(struct kvap_route, metric, 4, 0),
};
KVAP_SCHEMA(kvap_schema_route, struct kvap_route, route_fields, NULL);

static const struct kvap_field net_config_fields[] = {
	KVAP_F_STRUCTLIST(struct kvap_net_config, ifaces, n_ifaces, 1, KVAP_MAX_IFACES,
			  struct kvap_iface, kvap_schema_iface),
	KVAP_F_STRUCTLIST(struct kvap_net_config, routes, n_routes, 2, KVAP_MAX_ROUTES,
			  struct kvap_route, kvap_schema_route),
};
KVAP_SCHEMA(kvap_schema_net_config, struct kvap_net_config, net_config_fields, NULL);

static const struct kvap_field mount_fs_fields[] = {
	KVAP_F_STR(struct kvap_mount_fs, tag, 1, KVAP_MAX_FS_TAG, REQ),
	KVAP_F_STR(struct kvap_mount_fs, mount_point, 2, KVAP_MAX_PATH, REQ),
	KVAP_F_STRLIST(struct kvap_mount_fs, options, n_options, 3, KVAP_MAX_MOUNT_OPTIONS,
		       KVAP_MAX_MOUNT_OPTION),
};
KVAP_SCHEMA(kvap_schema_mount_fs, struct kvap_mount_fs, mount_fs_fields, NULL);
