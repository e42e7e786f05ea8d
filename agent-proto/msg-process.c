/* msg-process.c - schemas of the container and process messages.
 *
 * Owns: the field tables of CREATE, START, EXEC, their pid replies, and the
 * process spec, mount, rlimit, capability and window-size records inside
 * them. The container records CREATE gained in KVAP 1.1 (namespaces,
 * devices, resources, seccomp) are in msg-container.c. */
#include "kvap-msg.h"
#include "schemas.h"

#define REQ KVAP_FIELD_REQUIRED

static const struct kvap_field winsize_fields[] = {
	KVAP_F_U16(struct kvap_winsize, rows, 1, 0),
	KVAP_F_U16(struct kvap_winsize, cols, 2, 0),
};
KVAP_SCHEMA(kvap_schema_winsize, struct kvap_winsize, winsize_fields, NULL);

static const struct kvap_field rlimit_fields[] = {
	KVAP_F_U32(struct kvap_rlimit, type, 1, REQ),
	KVAP_F_U64(struct kvap_rlimit, soft, 2, REQ),
	KVAP_F_U64(struct kvap_rlimit, hard, 3, REQ),
};
KVAP_SCHEMA(kvap_schema_rlimit, struct kvap_rlimit, rlimit_fields, NULL);

static const struct kvap_field caps_fields[] = {
	KVAP_F_U64(struct kvap_caps, bounding, 1, 0),
	KVAP_F_U64(struct kvap_caps, effective, 2, 0),
	KVAP_F_U64(struct kvap_caps, inheritable, 3, 0),
	KVAP_F_U64(struct kvap_caps, permitted, 4, 0),
	KVAP_F_U64(struct kvap_caps, ambient, 5, 0),
};
KVAP_SCHEMA(kvap_schema_caps, struct kvap_caps, caps_fields, NULL);

#define P struct kvap_process
static const struct kvap_field process_fields[] = {
	KVAP_F_STRLIST(P, args, n_args, 1, KVAP_MAX_ARGS, KVAP_MAX_ARG),
	KVAP_F_STRLIST(P, env, n_env, 2, KVAP_MAX_ENV, KVAP_MAX_ARG),
	KVAP_F_STR(P, cwd, 3, KVAP_MAX_PATH, 0),
	KVAP_F_BOOL(P, terminal, 4),
	KVAP_F_STRUCT(P, console, 5, struct kvap_winsize, kvap_schema_winsize, 0),
	KVAP_F_U32(P, uid, 6, 0),
	KVAP_F_U32(P, gid, 7, 0),
	KVAP_F_U32LIST(P, gids, n_gids, 8, KVAP_MAX_GIDS),
	KVAP_F_STRUCTLIST(P, rlimits, n_rlimits, 9, KVAP_MAX_RLIMITS, struct kvap_rlimit,
			  kvap_schema_rlimit),
	KVAP_F_STRUCT(P, caps, 10, struct kvap_caps, kvap_schema_caps, 0),
	KVAP_F_BOOL(P, no_new_privileges, 11),
	KVAP_F_U32(P, umask, 12, 0),
	KVAP_F_BOOL(P, umask_set, 13),
	KVAP_F_S32(P, oom_score_adj, 14, 0),
	KVAP_F_BOOL(P, oom_score_adj_set, 15),
	/* Critical: a 1.0 agent would leave a process meant to have no
	 * capabilities with all of them. */
	KVAP_F_BOOL(P, caps_set, KVAP_CRITICAL(16)),
};
#undef P
KVAP_SCHEMA(kvap_schema_process, struct kvap_process, process_fields, NULL);

static const struct kvap_field mount_fields[] = {
	KVAP_F_STR(struct kvap_mount, source, 1, KVAP_MAX_PATH, 0),
	KVAP_F_STR(struct kvap_mount, destination, 2, KVAP_MAX_PATH, REQ),
	KVAP_F_STR(struct kvap_mount, type, 3, KVAP_MAX_FSTYPE, 0),
	KVAP_F_STRLIST(struct kvap_mount, options, n_options, 4, KVAP_MAX_MOUNT_OPTIONS,
		       KVAP_MAX_MOUNT_OPTION),
	/* Critical: a 1.0 agent would bind the guest path instead. */
	KVAP_F_STR(struct kvap_mount, source_tag, KVAP_CRITICAL(5), KVAP_MAX_FS_TAG, 0),
};
KVAP_SCHEMA(kvap_schema_mount, struct kvap_mount, mount_fields, NULL);

#define C struct kvap_create
static const struct kvap_field create_fields[] = {
	KVAP_F_STR(C, container_id, 1, KVAP_MAX_ID, REQ),
	KVAP_F_U32(C, rootfs_type, 2, REQ),
	KVAP_F_STR(C, rootfs_source, 3, KVAP_MAX_FS_TAG, 0),
	KVAP_F_STRLIST(C, rootfs_options, n_rootfs_options, 4, KVAP_MAX_MOUNT_OPTIONS,
		       KVAP_MAX_MOUNT_OPTION),
	KVAP_F_BOOL(C, readonly_rootfs, 5),
	KVAP_F_STRUCTLIST(C, mounts, n_mounts, 6, KVAP_MAX_MOUNTS, struct kvap_mount,
			  kvap_schema_mount),
	KVAP_F_STR(C, hostname, 7, KVAP_MAX_HOSTNAME, 0),
	KVAP_F_STRUCT(C, process, 8, struct kvap_process, kvap_schema_process, REQ),
	KVAP_F_U32(C, streams, 9, 0),
	KVAP_F_BYTES(C, stream_token, 10, 0),
	KVAP_F_BOOL(C, poweroff_on_exit, 11),
	/* KVAP 1.1. Restrictions are critical: an agent that does not know
	 * them must refuse the container rather than run it without them. */
	KVAP_F_STR(C, rootfs_path, 12, KVAP_MAX_PATH, 0),
	KVAP_F_STR(C, domainname, 13, KVAP_MAX_HOSTNAME, 0),
	KVAP_F_STRUCTLIST(C, namespaces, n_namespaces, KVAP_CRITICAL(14), KVAP_MAX_NAMESPACES,
			  struct kvap_namespace, kvap_schema_namespace),
	KVAP_F_STRUCTLIST(C, devices, n_devices, 15, KVAP_MAX_DEVICES, struct kvap_device,
			  kvap_schema_device),
	KVAP_F_STRLIST(C, masked_paths, n_masked_paths, KVAP_CRITICAL(16), KVAP_MAX_PATHS,
		       KVAP_MAX_PATH),
	KVAP_F_STRLIST(C, readonly_paths, n_readonly_paths, KVAP_CRITICAL(17), KVAP_MAX_PATHS,
		       KVAP_MAX_PATH),
	KVAP_F_STRUCTLIST(C, sysctls, n_sysctls, 18, KVAP_MAX_SYSCTLS, struct kvap_keyval,
			  kvap_schema_keyval),
	KVAP_F_STRUCT(C, resources, KVAP_CRITICAL(19), struct kvap_resources, kvap_schema_resources,
		      0),
	KVAP_F_STRUCT(C, seccomp, KVAP_CRITICAL(20), struct kvap_seccomp, kvap_schema_seccomp, 0),
	KVAP_F_BOOL(C, no_pivot, 21),
	KVAP_F_STR(C, rootfs_propagation, 22, KVAP_MAX_PROPAGATION, 0),
};
#undef C
KVAP_SCHEMA(kvap_schema_create, struct kvap_create, create_fields, NULL);

static const struct kvap_field pid_fields[] = {
	KVAP_F_U32(struct kvap_pid, pid, 1, REQ),
};
KVAP_SCHEMA(kvap_schema_pid, struct kvap_pid, pid_fields, NULL);

static const struct kvap_field start_fields[] = {
	KVAP_F_STR(struct kvap_start, container_id, 1, KVAP_MAX_ID, REQ),
};
KVAP_SCHEMA(kvap_schema_start, struct kvap_start, start_fields, NULL);

static const struct kvap_field exec_fields[] = {
	KVAP_F_STR(struct kvap_exec, container_id, 1, KVAP_MAX_ID, REQ),
	KVAP_F_STR(struct kvap_exec, exec_id, 2, KVAP_MAX_EXEC_ID, REQ),
	KVAP_F_STRUCT(struct kvap_exec, process, 3, struct kvap_process, kvap_schema_process, REQ),
	KVAP_F_U32(struct kvap_exec, streams, 4, 0),
	KVAP_F_BYTES(struct kvap_exec, stream_token, 5, 0),
};
KVAP_SCHEMA(kvap_schema_exec, struct kvap_exec, exec_fields, NULL);
