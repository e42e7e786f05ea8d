/* oci-state.h - JSON documents kvrun writes: container state, hook state, list,
 * ps, stats events, log lines, features and the default spec.
 *
 * Owns: the C forms of those documents and their (de)serialisation with
 * json-c. struct oci_state is both what `kvrun state` prints (the
 * runtime-spec state plus runc's rootfs, created and owner) and, with the
 * kvrun-private members, the state.json kept in the state directory.
 * Every writer returns a malloc'd NUL-terminated string in *out. */
#ifndef KVRUN_OCI_OCI_STATE_H
#define KVRUN_OCI_OCI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "oci.h"

struct oci_state {
	char *oci_version;
	char *id;
	char *status; /* creating, created, running, paused, stopped */
	int pid;      /* the VMM process; 0 when stopped */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 with nanoseconds, UTC */
	char *owner;
	struct oci_kv *annotations;
	size_t n_annotations;

	/* kvrun's own, in the state directory only */
	uint64_t pid_start; /* starttime of the VMM in /proc/PID/stat: guards against pid reuse */
	char **cgroup_dirs; /* host cgroup directories kvrun created, deepest last */
	size_t n_cgroup_dirs;
	char **cgroup_leaves; /* the container's cgroup in each hierarchy (may predate it) */
	size_t n_cgroup_leaves;
	unsigned vm_cpus;
	uint64_t vm_memory; /* bytes */
	char *log_path;	    /* --log of create, for the VMM process */
	char *log_format;
	bool started; /* start was called (guest init released) */
};

/* Serialise: internal adds the kvrun-private members (state.json); pretty
 * indents by two spaces as runc's `state` does. */
int oci_state_write(const struct oci_state *s, bool internal, bool pretty, char **out,
		    struct kv_err *err);
/* The runtime-spec state given to hooks on stdin (no runc extras). */
int oci_state_write_hook(const struct oci_state *s, char **out, struct kv_err *err);
/* `kvrun list --format json`: an array of states. */
int oci_state_write_list(const struct oci_state *const *s, size_t n, char **out,
			 struct kv_err *err);
/* Parse state.json (as written with internal). */
int oci_state_parse(const char *json, size_t len, struct oci_state *out, struct kv_err *err);
void oci_state_clear(struct oci_state *s);

/* `kvrun ps --format json`: [pid, ...]. */
int oci_pids_write(const uint32_t *pids, size_t n, char **out, struct kv_err *err);

/* `kvrun events`: runc's {"type":"stats","id":...,"data":{...}} object. */
struct oci_blkio_stat;
struct oci_stats {
	uint64_t cpu_total_ns, cpu_kernel_ns, cpu_user_ns;
	uint64_t *cpu_percpu_ns;
	size_t n_cpus;
	uint64_t mem_usage, mem_max_usage, mem_limit, mem_cache, mem_failcnt;
	uint64_t swap_usage, swap_limit;
	struct oci_kv *mem_raw; /* values are decimal numbers */
	size_t n_mem_raw;
	uint64_t pids_current, pids_limit;
	uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_ns;
	uint64_t oom_events, oom_kill_events;
	/* blkio: runc's ioServiceBytesRecursive and ioServicedRecursive entries */
	struct oci_blkio_stat *io_bytes, *io_ops;
	size_t n_io_bytes, n_io_ops;
};

struct oci_blkio_stat {
	uint64_t major, minor;
	const char *op; /* "Read", "Write", ... */
	uint64_t value;
};
int oci_stats_event_write(const char *id, const struct oci_stats *st, char **out,
			  struct kv_err *err);
/* Any other event: {"type":TYPE,"id":ID} (e.g. "oom"). */
int oci_event_write(const char *type, const char *id, char **out, struct kv_err *err);

/* One --log-format json line as runc writes it: {"level":..,"msg":..,"time":..}. */
int oci_log_json_line(const char *level, const char *msg, const char *time, char **out);

/* `kvrun features`: what this build really supports. */
struct oci_features_info {
	bool seccomp;			/* linux.seccomp is applied in the guest */
	bool guest_cgroups;		/* linux.resources reach the guest's cgroup */
	const char *version;		/* kvrun's version */
	const char *const *annotations; /* io.kvrun.* annotation names understood */
};
int oci_features_write(const struct oci_features_info *f, char **out, struct kv_err *err);

/* `kvrun spec`: a default config.json (root.path "rootfs", terminal, sh). */
int oci_default_spec_write(char **out, struct kv_err *err);

#endif
