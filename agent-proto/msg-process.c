/* msg-process.c - schemas of the container and process messages.
 *
 * Owns: the field tables of CREATE, START, EXEC, their pid replies, and the
 * process spec, mount, rlimit, capability and window-size records inside
 * them. */
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
};
#undef P
KVAP_SCHEMA(kvap_schema_process, struct kvap_process, process_fields, NULL);

static const struct kvap_field mount_fields[] = {
	KVAP_F_STR(struct kvap_mount, source, 1, KVAP_MAX_PATH, 0),
	KVAP_F_STR(struct kvap_mount, destination, 2, KVAP_MAX_PATH, REQ),
	KVAP_F_STR(struct kvap_mount, type, 3, KVAP_MAX_FSTYPE, 0),
	KVAP_F_STRLIST(struct kvap_mount, options, n_options, 4, KVAP_MAX_MOUNT_OPTIONS,
		       KVAP_MAX_MOUNT_OPTION),
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
