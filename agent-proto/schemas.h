/* schemas.h - the schema of every KVAP struct (internal to agent-proto/).
 *
 * Owns: declarations only; the tables are in msg-process.c, msg-control.c,
 * msg-container.c and msg-net.c. Tags within a schema are stable forever: a new field gets a
 * new tag, a retired tag is never reused. */
#ifndef KVRUN_KVAP_SCHEMAS_H
#define KVRUN_KVAP_SCHEMAS_H

#include "schema.h"

extern const struct kvap_schema kvap_schema_winsize, kvap_schema_rlimit, kvap_schema_caps,
    kvap_schema_process, kvap_schema_mount, kvap_schema_create, kvap_schema_pid, kvap_schema_start,
    kvap_schema_exec;
extern const struct kvap_schema kvap_schema_hello, kvap_schema_signal, kvap_schema_wait,
    kvap_schema_exit, kvap_schema_resize, kvap_schema_proc, kvap_schema_ps, kvap_schema_stats,
    kvap_schema_shutdown, kvap_schema_stream_hello, kvap_schema_error, kvap_schema_empty;
extern const struct kvap_schema kvap_schema_ipaddr, kvap_schema_iface, kvap_schema_route,
    kvap_schema_net_config, kvap_schema_mount_fs;
extern const struct kvap_schema kvap_schema_namespace, kvap_schema_device, kvap_schema_keyval,
    kvap_schema_weight_device, kvap_schema_throttle_device, kvap_schema_resources,
    kvap_schema_seccomp_arg, kvap_schema_seccomp_rule, kvap_schema_seccomp,
    kvap_schema_container_ref, kvap_schema_update, kvap_schema_stat_kv, kvap_schema_io_stat,
    kvap_schema_cgroup_stats;

#endif
