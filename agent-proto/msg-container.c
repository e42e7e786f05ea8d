/* msg-container.c - schemas of the container records added in KVAP 1.1.
 *
 * Owns: the field tables of CREATE's namespaces, devices, sysctls,
 * cgroup resources and seccomp filter, of UPDATE, of the container
 * reference that PS, STATS, FREEZE and THAW carry, and of the cgroup
 * statistics in STATS_REPLY. */
#include "kvap-msg.h"
#include "schemas.h"

#define REQ KVAP_FIELD_REQUIRED

static const struct kvap_field namespace_fields[] = {
	KVAP_F_U32(struct kvap_namespace, type, 1, REQ),
	KVAP_F_STR(struct kvap_namespace, container_id, 2, KVAP_MAX_ID, 0),
};
KVAP_SCHEMA(kvap_schema_namespace, struct kvap_namespace, namespace_fields, NULL);

#define D struct kvap_device
static const struct kvap_field device_fields[] = {
	KVAP_F_STR(D, path, 1, KVAP_MAX_PATH, REQ),
	KVAP_F_U8(D, type, 2, REQ),
	KVAP_F_U32(D, major, 3, 0),
	KVAP_F_U32(D, minor, 4, 0),
	KVAP_F_U32(D, file_mode, 5, 0),
	KVAP_F_U32(D, uid, 6, 0),
	KVAP_F_U32(D, gid, 7, 0),
};
#undef D
KVAP_SCHEMA(kvap_schema_device, struct kvap_device, device_fields, NULL);

static const struct kvap_field keyval_fields[] = {
	KVAP_F_STR(struct kvap_keyval, key, 1, KVAP_MAX_KEY, REQ),
	KVAP_F_STR(struct kvap_keyval, value, 2, KVAP_MAX_VALUE, REQ),
};
KVAP_SCHEMA(kvap_schema_keyval, struct kvap_keyval, keyval_fields, NULL);

static const struct kvap_field weight_device_fields[] = {
	KVAP_F_U32(struct kvap_weight_device, major, 1, 0),
	KVAP_F_U32(struct kvap_weight_device, minor, 2, 0),
	KVAP_F_U16(struct kvap_weight_device, weight, 3, REQ),
};
KVAP_SCHEMA(kvap_schema_weight_device, struct kvap_weight_device, weight_device_fields, NULL);

static const struct kvap_field throttle_device_fields[] = {
	KVAP_F_U32(struct kvap_throttle_device, major, 1, 0),
	KVAP_F_U32(struct kvap_throttle_device, minor, 2, 0),
	KVAP_F_U64(struct kvap_throttle_device, rate, 3, REQ),
};
KVAP_SCHEMA(kvap_schema_throttle_device, struct kvap_throttle_device, throttle_device_fields, NULL);

#define R struct kvap_resources
#define THROTTLE(m, tag)                                                                           \
	KVAP_F_STRUCTLIST(R, m, n_##m, tag, KVAP_MAX_BLKIO_DEVICES, struct kvap_throttle_device,   \
			  kvap_schema_throttle_device)
static const struct kvap_field resources_fields[] = {
	KVAP_F_S64(R, memory_limit, 1, 0),
	KVAP_F_S64(R, memory_swap, 2, 0),
	KVAP_F_S64(R, memory_reservation, 3, 0),
	KVAP_F_U64(R, cpu_shares, 4, 0),
	KVAP_F_S64(R, cpu_quota, 5, 0),
	KVAP_F_U64(R, cpu_period, 6, 0),
	KVAP_F_STR(R, cpuset_cpus, 7, KVAP_MAX_CPUSET, 0),
	KVAP_F_STR(R, cpuset_mems, 8, KVAP_MAX_CPUSET, 0),
	KVAP_F_S64(R, pids_limit, 9, 0),
	KVAP_F_U16(R, blkio_weight, 10, 0),
	KVAP_F_STRUCTLIST(R, blkio_weight_device, n_blkio_weight_device, 11, KVAP_MAX_BLKIO_DEVICES,
			  struct kvap_weight_device, kvap_schema_weight_device),
	THROTTLE(throttle_read_bps, 12),
	THROTTLE(throttle_write_bps, 13),
	THROTTLE(throttle_read_iops, 14),
	THROTTLE(throttle_write_iops, 15),
	KVAP_F_STRUCTLIST(R, unified, n_unified, 16, KVAP_MAX_UNIFIED, struct kvap_keyval,
			  kvap_schema_keyval),
};
#undef THROTTLE
#undef R
KVAP_SCHEMA(kvap_schema_resources, struct kvap_resources, resources_fields, NULL);

static bool seccomp_arg_valid(const void *obj)
{
	const struct kvap_seccomp_arg *a = obj;
	return a->index < KVAP_MAX_SECCOMP_ARGS;
}

static const struct kvap_field seccomp_arg_fields[] = {
	KVAP_F_U32(struct kvap_seccomp_arg, index, 1, REQ),
	KVAP_F_U64(struct kvap_seccomp_arg, value, 2, 0),
	KVAP_F_U64(struct kvap_seccomp_arg, value_two, 3, 0),
	KVAP_F_U32(struct kvap_seccomp_arg, op, 4, REQ),
};
KVAP_SCHEMA(kvap_schema_seccomp_arg, struct kvap_seccomp_arg, seccomp_arg_fields,
	    seccomp_arg_valid);

#define S struct kvap_seccomp_rule
static const struct kvap_field seccomp_rule_fields[] = {
	KVAP_F_STRLIST(S, names, n_names, 1, KVAP_MAX_SECCOMP_NAMES, KVAP_MAX_SYSCALL_NAME),
	KVAP_F_U32(S, action, 2, REQ),
	KVAP_F_U32(S, errno_ret, 3, 0),
	KVAP_F_BOOL(S, errno_set, 4),
	KVAP_F_STRUCTLIST(S, args, n_args, 5, KVAP_MAX_SECCOMP_ARGS, struct kvap_seccomp_arg,
			  kvap_schema_seccomp_arg),
};
#undef S
KVAP_SCHEMA(kvap_schema_seccomp_rule, struct kvap_seccomp_rule, seccomp_rule_fields, NULL);

#define S struct kvap_seccomp
static const struct kvap_field seccomp_fields[] = {
	KVAP_F_U32(S, default_action, 1, 0),
	KVAP_F_U32(S, default_errno, 2, 0),
	KVAP_F_BOOL(S, default_errno_set, 3),
	KVAP_F_STRLIST(S, architectures, n_architectures, 4, KVAP_MAX_SECCOMP_ARCHES,
		       KVAP_MAX_SECCOMP_ARCH_NAME),
	KVAP_F_STRLIST(S, flags, n_flags, 5, KVAP_MAX_SECCOMP_FLAGS, KVAP_MAX_SECCOMP_FLAG),
	KVAP_F_STRUCTLIST(S, syscalls, n_syscalls, 6, KVAP_MAX_SECCOMP_RULES,
			  struct kvap_seccomp_rule, kvap_schema_seccomp_rule),
};
#undef S
KVAP_SCHEMA(kvap_schema_seccomp, struct kvap_seccomp, seccomp_fields, NULL);

static const struct kvap_field container_ref_fields[] = {
	KVAP_F_STR(struct kvap_container_ref, container_id, 1, KVAP_MAX_ID, 0),
};
KVAP_SCHEMA(kvap_schema_container_ref, struct kvap_container_ref, container_ref_fields, NULL);

static const struct kvap_field update_fields[] = {
	KVAP_F_STR(struct kvap_update, container_id, 1, KVAP_MAX_ID, REQ),
	KVAP_F_STRUCT(struct kvap_update, resources, 2, struct kvap_resources,
		      kvap_schema_resources, 0),
};
KVAP_SCHEMA(kvap_schema_update, struct kvap_update, update_fields, NULL);

static const struct kvap_field stat_kv_fields[] = {
	KVAP_F_STR(struct kvap_stat_kv, name, 1, KVAP_MAX_STAT_NAME, REQ),
	KVAP_F_U64(struct kvap_stat_kv, value, 2, 0),
};
KVAP_SCHEMA(kvap_schema_stat_kv, struct kvap_stat_kv, stat_kv_fields, NULL);

#define I struct kvap_io_stat
static const struct kvap_field io_stat_fields[] = {
	KVAP_F_U32(I, major, 1, 0),  KVAP_F_U32(I, minor, 2, 0), KVAP_F_U64(I, rbytes, 3, 0),
	KVAP_F_U64(I, wbytes, 4, 0), KVAP_F_U64(I, rios, 5, 0),	 KVAP_F_U64(I, wios, 6, 0),
	KVAP_F_U64(I, dbytes, 7, 0), KVAP_F_U64(I, dios, 8, 0),
};
#undef I
KVAP_SCHEMA(kvap_schema_io_stat, struct kvap_io_stat, io_stat_fields, NULL);

#define G struct kvap_cgroup_stats
static const struct kvap_field cgroup_stats_fields[] = {
	KVAP_F_U64(G, cpu_usage_ns, 1, 0),
	KVAP_F_U64(G, cpu_user_ns, 2, 0),
	KVAP_F_U64(G, cpu_system_ns, 3, 0),
	KVAP_F_U64(G, cpu_periods, 4, 0),
	KVAP_F_U64(G, cpu_throttled_periods, 5, 0),
	KVAP_F_U64(G, cpu_throttled_ns, 6, 0),
	KVAP_F_U64(G, mem_usage, 7, 0),
	KVAP_F_U64(G, mem_limit, 8, 0),
	KVAP_F_U64(G, mem_max_usage, 9, 0),
	KVAP_F_U64(G, mem_failcnt, 10, 0),
	KVAP_F_U64(G, swap_usage, 11, 0),
	KVAP_F_U64(G, swap_limit, 12, 0),
	KVAP_F_STRUCTLIST(G, mem_stat, n_mem_stat, 13, KVAP_MAX_MEM_STATS, struct kvap_stat_kv,
			  kvap_schema_stat_kv),
	KVAP_F_U64(G, pids_current, 14, 0),
	KVAP_F_U64(G, pids_limit, 15, 0),
	KVAP_F_STRUCTLIST(G, io, n_io, 16, KVAP_MAX_IO_STATS, struct kvap_io_stat,
			  kvap_schema_io_stat),
	KVAP_F_U64(G, oom_events, 17, 0),
	KVAP_F_U64(G, oom_kill_events, 18, 0),
};
#undef G
KVAP_SCHEMA(kvap_schema_cgroup_stats, struct kvap_cgroup_stats, cgroup_stats_fields, NULL);
