/* oci.h - the OCI runtime-spec documents as C structs: config.json in,
 * state, features and the default spec out.
 *
 * Owns: the parsed and validated form of config.json (struct oci_config and
 * its parts), a standalone linux.resources object (for `kvrun update
 * --resources`) and process object (for `kvrun exec --process`). oci/ is the
 * only part of kvrun that touches JSON (json-c); everything it returns is
 * plain C. Parse errors fill struct kv_err with the JSON path of the bad
 * value, e.g. "process.args: must be a non-empty array of strings".
 * Unknown members are ignored, as the runtime-spec asks. Nothing prints.
 *
 * Optional scalars come with a `has_*` flag; strings and arrays are NULL
 * or empty when absent. oci_config_free() releases everything. */
#ifndef KVRUN_OCI_H
#define KVRUN_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The runtime-spec version kvrun writes and the range it accepts. */
#define OCI_VERSION	"1.0.2-dev"
#define OCI_VERSION_MIN "1.0.0"

/* config.json larger than this is refused before parsing. */
#define OCI_CONFIG_MAX_BYTES (4u << 20)

struct oci_kv {
	char *key;
	char *value;
};

/* ---- process ---- */

struct oci_rlimit {
	int type; /* RLIMIT_* */
	uint64_t soft, hard;
};

/* Capability sets as masks, bit n = Linux capability n. */
struct oci_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct oci_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height, console_width;
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	uint32_t umask;
	char **args; /* NULL-terminated, n_args >= 1 */
	size_t n_args;
	char **env; /* NULL-terminated "NAME=value" */
	size_t n_env;
	char *cwd; /* absolute */
	bool has_caps;
	struct oci_caps caps;
	char **unknown_caps; /* names this kernel's table does not know: ignored */
	size_t n_unknown_caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;	/* -1000..1000 */
	char *apparmor_profile; /* accepted, not applied */
	char *selinux_label;
};

/* ---- root, mounts, hooks ---- */

struct oci_mount {
	char *destination; /* absolute */
	char *source;
	char *type;
	char **options;
	size_t n_options;
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART = 0,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK__COUNT
};

struct oci_hook {
	char *path; /* absolute */
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	uint32_t timeout; /* seconds; 0: none */
};

/* The member name of each kind ("prestart", "createRuntime", ...). */
const char *oci_hook_name(enum oci_hook_kind k);

/* ---- linux ---- */

enum oci_ns_type {
	OCI_NS_PID = 0,
	OCI_NS_NETWORK,
	OCI_NS_MOUNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	OCI_NS__COUNT
};

const char *oci_ns_name(enum oci_ns_type t);

struct oci_namespace {
	enum oci_ns_type type;
	char *path; /* NULL: a new namespace */
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool has_file_mode, has_uid, has_gid;
	uint32_t file_mode, uid, gid;
};

/* linux.resources.devices[]: type 'a', 'b' or 'c'; major/minor -1 = any. */
struct oci_device_rule {
	bool allow;
	char type;
	int64_t major, minor;
	char access[4]; /* subset of "rwm"; "" = all */
};

/* blockIO.weightDevice (rate is the weight) and throttle*Device entries. */
struct oci_blkio_device {
	int64_t major, minor;
	uint64_t rate;
};

struct oci_hugepage_limit {
	char *page_size; /* "2MB" */
	uint64_t limit;
};

struct oci_resources {
	/* memory (bytes; -1 = unlimited) */
	bool has_mem_limit, has_mem_reservation, has_mem_swap, has_mem_kernel, has_mem_kernel_tcp,
	    has_mem_swappiness, has_disable_oom_killer;
	int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp;
	uint64_t mem_swappiness;
	bool disable_oom_killer;
	/* cpu */
	bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_cpu_rt_runtime, has_cpu_rt_period,
	    has_cpu_idle;
	uint64_t cpu_shares, cpu_period, cpu_rt_period;
	int64_t cpu_quota, cpu_rt_runtime, cpu_idle; /* quota -1 = unlimited */
	char *cpuset_cpus, *cpuset_mems;
	/* pids */
	bool has_pids_limit;
	int64_t pids_limit; /* <= 0: unlimited */
	/* blockIO */
	bool has_blkio_weight;
	uint32_t blkio_weight;			       /* 10..1000 */
	struct oci_blkio_device *blkio_weight_devices; /* rate = weight */
	size_t n_blkio_weight_devices;
	struct oci_blkio_device *blkio_throttle[4]; /* read bps, write bps, read iops, write iops */
	size_t n_blkio_throttle[4];
	struct oci_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct oci_device_rule *devices;
	size_t n_devices;
	struct oci_kv *unified; /* cgroup v2 file -> value */
	size_t n_unified;
};

enum oci_seccomp_action {
	OCI_SCMP_ACT_KILL = 0, /* = KILL_THREAD */
	OCI_SCMP_ACT_KILL_PROCESS,
	OCI_SCMP_ACT_KILL_THREAD,
	OCI_SCMP_ACT_TRAP,
	OCI_SCMP_ACT_ERRNO,
	OCI_SCMP_ACT_TRACE,
	OCI_SCMP_ACT_ALLOW,
	OCI_SCMP_ACT_LOG,
	OCI_SCMP_ACT_NOTIFY,
	OCI_SCMP_ACT__COUNT
};

enum oci_seccomp_op {
	OCI_SCMP_CMP_NE = 0,
	OCI_SCMP_CMP_LT,
	OCI_SCMP_CMP_LE,
	OCI_SCMP_CMP_EQ,
	OCI_SCMP_CMP_GE,
	OCI_SCMP_CMP_GT,
	OCI_SCMP_CMP_MASKED_EQ,
	OCI_SCMP_CMP__COUNT
};

const char *oci_seccomp_action_name(enum oci_seccomp_action a);
const char *oci_seccomp_op_name(enum oci_seccomp_op o);
/* The architectures kvrun accepts in linux.seccomp.architectures. */
extern const char *const oci_seccomp_archs[];

struct oci_seccomp_arg {
	uint32_t index;
	uint64_t value, value_two;
	enum oci_seccomp_op op;
};

struct oci_seccomp_rule {
	char **names;
	size_t n_names;
	enum oci_seccomp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	enum oci_seccomp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures;
	size_t n_architectures;
	char **flags;
	size_t n_flags;
	char *listener_path;
	struct oci_seccomp_rule *syscalls;
	size_t n_syscalls;
};

struct oci_linux {
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	bool has_resources;
	struct oci_resources resources;
	char *cgroups_path;
	struct oci_kv *sysctl;
	size_t n_sysctl;
	struct oci_device *devices;
	size_t n_devices;
	struct oci_seccomp *seccomp; /* NULL: none */
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	char *rootfs_propagation;
	char *mount_label;
};

/* ---- the whole document ---- */

struct oci_config {
	char *oci_version;
	bool has_process;
	struct oci_process process;
	char *root_path; /* as written: may be relative to the bundle */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hook *hooks[OCI_HOOK__COUNT];
	size_t n_hooks[OCI_HOOK__COUNT];
	struct oci_kv *annotations;
	size_t n_annotations;
	struct oci_linux linux_; /* "linux" is a predefined macro in GNU C */
};

/* Parse and validate config.json text (len bytes, need not be
 * NUL-terminated). Requires ociVersion 1.x and root.path; process is
 * required when need_process (create, run). */
int oci_config_parse(const char *json, size_t len, bool need_process, struct oci_config **out,
		     struct kv_err *err);
/* Read BUNDLE/config.json (at most OCI_CONFIG_MAX_BYTES) and parse it. The
 * message names the file for I/O errors. */
int oci_config_load(const char *path, bool need_process, struct oci_config **out,
		    struct kv_err *err);
void oci_config_free(struct oci_config *c);

/* Read a whole regular file of at most max bytes into a NUL-terminated
 * buffer (the message names the file). */
int oci_read_file(const char *path, size_t max, char **buf, size_t *len, struct kv_err *err);

/* The value of annotation key, or NULL. */
const char *oci_annotation(const struct oci_config *c, const char *key);
/* The namespace entry of type t, or NULL when the config asks for none. */
const struct oci_namespace *oci_namespace(const struct oci_config *c, enum oci_ns_type t);

/* A linux.resources object on its own (`kvrun update --resources FILE`). */
int oci_resources_parse(const char *json, size_t len, struct oci_resources *out,
			struct kv_err *err);
void oci_resources_clear(struct oci_resources *r);

/* A process object on its own (`kvrun exec --process FILE`). */
int oci_process_parse(const char *json, size_t len, struct oci_process *out, struct kv_err *err);
void oci_process_clear(struct oci_process *p);

/* Capabilities: "CAP_SYS_ADMIN" -> 21, or -1. oci_cap_name(21) ->
 * "CAP_SYS_ADMIN", or NULL. OCI_CAP_LAST is the highest number known. */
int oci_cap_number(const char *name);
const char *oci_cap_name(int number);
#define OCI_CAP_LAST 40

/* RLIMIT_NOFILE -> 7, or -1. */
int oci_rlimit_number(const char *name);
const char *oci_rlimit_name(int number);

#endif
