/* msg-control.c - schemas of the handshake, process-control, status and
 * error messages.
 *
 * Owns: the field tables of HELLO, SIGNAL, WAIT (and its exit status),
 * RESIZE, PS (and its process records), STATS, SHUTDOWN, STREAM_HELLO,
 * ERROR and the field-less replies. */
#include "kvap-msg.h"
#include "schemas.h"

#define REQ KVAP_FIELD_REQUIRED

static const struct kvap_field hello_fields[] = {
	KVAP_F_U64(struct kvap_hello, features, 1, REQ),
	KVAP_F_U32(struct kvap_hello, max_payload, 2, 0),
	KVAP_F_STR(struct kvap_hello, software, 3, KVAP_MAX_SOFTWARE, 0),
};
KVAP_SCHEMA(kvap_schema_hello, struct kvap_hello, hello_fields, NULL);

static const struct kvap_field signal_fields[] = {
	KVAP_F_STR(struct kvap_signal, exec_id, 1, KVAP_MAX_EXEC_ID, 0),
	KVAP_F_U32(struct kvap_signal, signal, 2, REQ),
	KVAP_F_BOOL(struct kvap_signal, all, 3),
};
KVAP_SCHEMA(kvap_schema_signal, struct kvap_signal, signal_fields, NULL);

static const struct kvap_field wait_fields[] = {
	KVAP_F_STR(struct kvap_wait, exec_id, 1, KVAP_MAX_EXEC_ID, 0),
};
KVAP_SCHEMA(kvap_schema_wait, struct kvap_wait, wait_fields, NULL);

static bool exit_valid(const void *obj)
{
	const struct kvap_exit *e = obj;
	return !(e->term_signal && e->exit_code);
}

static const struct kvap_field exit_fields[] = {
	KVAP_F_U32(struct kvap_exit, pid, 1, REQ),
	KVAP_F_U8(struct kvap_exit, exit_code, 2, 0),
	KVAP_F_U8(struct kvap_exit, term_signal, 3, 0),
	KVAP_F_BOOL(struct kvap_exit, core_dumped, 4),
};
KVAP_SCHEMA(kvap_schema_exit, struct kvap_exit, exit_fields, exit_valid);

static const struct kvap_field resize_fields[] = {
	KVAP_F_STR(struct kvap_resize, exec_id, 1, KVAP_MAX_EXEC_ID, 0),
	KVAP_F_STRUCT(struct kvap_resize, size, 2, struct kvap_winsize, kvap_schema_winsize, REQ),
};
KVAP_SCHEMA(kvap_schema_resize, struct kvap_resize, resize_fields, NULL);

static const struct kvap_field proc_fields[] = {
	KVAP_F_U32(struct kvap_proc, pid, 1, REQ),
	KVAP_F_U32(struct kvap_proc, ppid, 2, 0),
	KVAP_F_U32(struct kvap_proc, uid, 3, 0),
	KVAP_F_U8(struct kvap_proc, state, 4, 0),
	KVAP_F_STRLIST(struct kvap_proc, cmdline, n_cmdline, 5, KVAP_MAX_CMDLINE_ARGS,
		       KVAP_MAX_CMDLINE_ARG),
};
KVAP_SCHEMA(kvap_schema_proc, struct kvap_proc, proc_fields, NULL);

static const struct kvap_field ps_fields[] = {
	KVAP_F_STRUCTLIST(struct kvap_ps, procs, n_procs, 1, KVAP_MAX_PROCS, struct kvap_proc,
			  kvap_schema_proc),
	KVAP_F_BOOL(struct kvap_ps, truncated, 2),
};
KVAP_SCHEMA(kvap_schema_ps, struct kvap_ps, ps_fields, NULL);

static const struct kvap_field stats_fields[] = {
	KVAP_F_U64(struct kvap_stats, mem_total, 1, 0),
	KVAP_F_U64(struct kvap_stats, mem_free, 2, 0),
	KVAP_F_U64(struct kvap_stats, mem_available, 3, 0),
	KVAP_F_U64(struct kvap_stats, cpu_user_ns, 4, 0),
	KVAP_F_U64(struct kvap_stats, cpu_system_ns, 5, 0),
	KVAP_F_U64(struct kvap_stats, cpu_idle_ns, 6, 0),
	KVAP_F_U64(struct kvap_stats, uptime_ns, 7, 0),
	KVAP_F_U32(struct kvap_stats, nr_procs, 8, 0),
	KVAP_F_STRUCT(struct kvap_stats, cgroup, 9, struct kvap_cgroup_stats,
		      kvap_schema_cgroup_stats, 0),
};
KVAP_SCHEMA(kvap_schema_stats, struct kvap_stats, stats_fields, NULL);

static const struct kvap_field shutdown_fields[] = {
	KVAP_F_U32(struct kvap_shutdown, action, 1, REQ),
};
KVAP_SCHEMA(kvap_schema_shutdown, struct kvap_shutdown, shutdown_fields, NULL);

static const struct kvap_field stream_hello_fields[] = {
	KVAP_F_STR(struct kvap_stream_hello, exec_id, 1, KVAP_MAX_EXEC_ID, 0),
	KVAP_F_U32(struct kvap_stream_hello, kind, 2, REQ),
	KVAP_F_BYTES(struct kvap_stream_hello, token, 3, REQ),
};
KVAP_SCHEMA(kvap_schema_stream_hello, struct kvap_stream_hello, stream_hello_fields, NULL);

static const struct kvap_field error_fields[] = {
	KVAP_F_U32(struct kvap_error, errnum, 1, REQ),
	KVAP_F_STR(struct kvap_error, message, 2, KVAP_MAX_MESSAGE, 0),
};
KVAP_SCHEMA(kvap_schema_error, struct kvap_error, error_fields, NULL);

const struct kvap_schema kvap_schema_empty = {
	.name = "struct kvap_empty",
	.size = sizeof(struct kvap_empty),
};
