/* kvap-msg.h - KVAP message types and their C structs.
 *
 * Owns: the list of message types (requests, their replies, the generic
 * error reply), the struct each type's payload decodes into, and the
 * enumerations and feature bits their fields use. Field limits are in
 * kvap-limits.h; how each field is encoded is in docs/agent-protocol.md.
 *
 * Ownership: a decoded struct owns every string and array in it (malloc'd
 * copies, strings NUL-terminated); kvap_msg_free() releases them. Nothing
 * points into the input buffer, so it may be reused as soon as decode
 * returns. A struct handed to an encoder is only read.
 *
 * Zero values: a field left zero, NULL or empty is not sent, and an absent
 * field decodes as zero/NULL/empty. A NULL string and "" are different
 * ("" is sent with length 0). */
#ifndef KVRUN_KVAP_MSG_H
#define KVRUN_KVAP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "kvap-limits.h"

/* Hello feature bits: what an agent implements beyond the mandatory
 * requests (hello, create, start, exec, signal, wait, resize, shutdown,
 * stream hello). A side only sends a request whose feature the peer named. */
#define KVAP_FEAT_PS	   (1ull << 0) /* PS */
#define KVAP_FEAT_STATS	   (1ull << 1) /* STATS */
#define KVAP_FEAT_NET	   (1ull << 2) /* NET_CONFIG */
#define KVAP_FEAT_MOUNT_FS (1ull << 3) /* MOUNT_FS */
#define KVAP_FEATURES_V1_0 (KVAP_FEAT_PS | KVAP_FEAT_STATS | KVAP_FEAT_NET | KVAP_FEAT_MOUNT_FS)
/* KVAP 1.1: the container fields of CREATE (namespaces, pivot_root, devices,
 * masked and read-only paths, sysctls, cgroup resources, domain name, the
 * new process fields, bind sources in virtio-fs shares), UPDATE, FREEZE,
 * THAW, and PS/STATS naming a container. */
#define KVAP_FEAT_CONTAINER (1ull << 4)
#define KVAP_FEAT_SECCOMP   (1ull << 5) /* CREATE's seccomp filter */
#define KVAP_FEATURES_V1_1  (KVAP_FEATURES_V1_0 | KVAP_FEAT_CONTAINER | KVAP_FEAT_SECCOMP)

/* HELLO and HELLO_REPLY: the peer's version is in the frame header. */
struct kvap_hello {
	uint64_t features;    /* KVAP_FEAT_* this side implements */
	uint32_t max_payload; /* largest payload it accepts; 0 means KVAP_MAX_PAYLOAD */
	char *software;	      /* e.g. "kvrun 0.1.0", informational */
};

struct kvap_winsize {
	uint16_t rows;
	uint16_t cols;
};

struct kvap_rlimit {
	uint32_t type; /* RLIMIT_* number */
	uint64_t soft; /* UINT64_MAX is RLIM_INFINITY */
	uint64_t hard;
};

/* Capability sets as bit masks of Linux capability numbers (bit n = cap n). */
struct kvap_caps {
	uint64_t bounding;
	uint64_t effective;
	uint64_t inheritable;
	uint64_t permitted;
	uint64_t ambient;
};

/* The OCI process spec, as far as the guest needs it. */
struct kvap_process {
	char **args;
	uint32_t n_args;
	char **env; /* "NAME=value" */
	uint32_t n_env;
	char *cwd;
	bool terminal;
	struct kvap_winsize console; /* initial size when terminal */
	uint32_t uid;
	uint32_t gid;
	uint32_t *gids; /* additional groups */
	uint32_t n_gids;
	struct kvap_rlimit *rlimits;
	uint32_t n_rlimits;
	struct kvap_caps caps;
	bool no_new_privileges;
	/* KVAP 1.1 */
	uint32_t umask;	       /* with umask_set; else 0022 */
	bool umask_set;	       /* umask is meant, also when it is 0 */
	int32_t oom_score_adj; /* with oom_score_adj_set; -1000..1000 */
	bool oom_score_adj_set;
	bool caps_set; /* apply the five sets exactly, even when all are 0 */
};

struct kvap_mount {
	char *source;
	char *destination;
	char *type;
	char **options; /* as in OCI: "ro", "nosuid", "mode=755", ... */
	uint32_t n_options;
	/* KVAP 1.1: source is a path inside the virtio-fs share with this tag
	 * (a bind mount of a host directory or file); NULL: a guest path. */
	char *source_tag;
};

enum kvap_rootfs_type {
	KVAP_ROOTFS_INITRAMFS = 1, /* the guest's initramfs is the rootfs */
	KVAP_ROOTFS_VIRTIOFS = 2,  /* rootfs_source is a virtio-fs tag */
	KVAP_ROOTFS_DIR = 3,	   /* KVAP 1.1: rootfs_path is a directory of the guest */
};

/* KVAP 1.1: a namespace of the container. A type that is not listed is
 * shared with the VM (the agent's); listed without container_id it is
 * new; with container_id it is that container's (same VM). The mount
 * namespace is always new. */
enum kvap_ns_type {
	KVAP_NS_PID = 1,
	KVAP_NS_NET = 2,
	KVAP_NS_IPC = 3,
	KVAP_NS_UTS = 4,
	KVAP_NS_MOUNT = 5,
	KVAP_NS_CGROUP = 6,
	KVAP_NS_USER = 7, /* refused: EOPNOTSUPP */
	KVAP_NS_TIME = 8, /* refused: EOPNOTSUPP */
};

struct kvap_namespace {
	uint32_t type;	    /* enum kvap_ns_type */
	char *container_id; /* join this container's namespace; NULL: a new one */
};

/* KVAP 1.1: a device node in the container's /dev. */
struct kvap_device {
	char *path;   /* absolute, in the container */
	uint8_t type; /* 'c', 'b', 'u' (= 'c') or 'p' (FIFO) */
	uint32_t major;
	uint32_t minor;
	uint32_t file_mode; /* permission bits; 0 means 0666 */
	uint32_t uid;
	uint32_t gid;
};

/* KVAP 1.1: a name and a value (sysctls, cgroup "unified" files). */
struct kvap_keyval {
	char *key;
	char *value;
};

struct kvap_weight_device {
	uint32_t major;
	uint32_t minor;
	uint16_t weight; /* 10..1000, as blkio weights */
};

struct kvap_throttle_device {
	uint32_t major;
	uint32_t minor;
	uint64_t rate; /* bytes or I/O operations per second */
};

/* KVAP 1.1: linux.resources with OCI meanings and runc's conventions: 0 is
 * "not set" (UPDATE leaves it alone), -1 is "unlimited" where OCI allows
 * it. The agent converts to cgroup v2 files as runc does. */
struct kvap_resources {
	int64_t memory_limit;	    /* bytes; -1 unlimited */
	int64_t memory_swap;	    /* memory + swap, bytes; -1 unlimited */
	int64_t memory_reservation; /* bytes (memory.low); -1 unlimited */
	uint64_t cpu_shares;	    /* 2..262144, converted to cpu.weight */
	int64_t cpu_quota;	    /* microseconds per period; -1 unlimited */
	uint64_t cpu_period;	    /* microseconds */
	char *cpuset_cpus;	    /* "0-3,5" */
	char *cpuset_mems;
	int64_t pids_limit; /* -1 (or any negative) unlimited */
	uint16_t blkio_weight;
	struct kvap_weight_device *blkio_weight_device;
	uint32_t n_blkio_weight_device;
	struct kvap_throttle_device *throttle_read_bps;
	uint32_t n_throttle_read_bps;
	struct kvap_throttle_device *throttle_write_bps;
	uint32_t n_throttle_write_bps;
	struct kvap_throttle_device *throttle_read_iops;
	uint32_t n_throttle_read_iops;
	struct kvap_throttle_device *throttle_write_iops;
	uint32_t n_throttle_write_iops;
	struct kvap_keyval *unified; /* cgroup v2 file name -> value */
	uint32_t n_unified;
};

/* KVAP 1.1: seccomp, as in OCI linux.seccomp. */
enum kvap_seccomp_action {
	KVAP_SCMP_KILL = 1, /* SCMP_ACT_KILL: kill the thread */
	KVAP_SCMP_KILL_PROCESS = 2,
	KVAP_SCMP_KILL_THREAD = 3,
	KVAP_SCMP_TRAP = 4,
	KVAP_SCMP_ERRNO = 5, /* errno: errno_ret, EPERM when not set */
	KVAP_SCMP_TRACE = 6, /* message to the tracer: errno_ret */
	KVAP_SCMP_ALLOW = 7,
	KVAP_SCMP_LOG = 8,
	KVAP_SCMP_NOTIFY = 9, /* refused: needs a listener socket */
};

/* The comparison of a syscall argument (libseccomp's numbering). */
enum kvap_seccomp_op {
	KVAP_SCMP_CMP_NE = 1,
	KVAP_SCMP_CMP_LT = 2,
	KVAP_SCMP_CMP_LE = 3,
	KVAP_SCMP_CMP_EQ = 4,
	KVAP_SCMP_CMP_GE = 5,
	KVAP_SCMP_CMP_GT = 6,
	KVAP_SCMP_CMP_MASKED_EQ = 7, /* (arg & value) == value_two */
};

struct kvap_seccomp_arg {
	uint32_t index; /* 0..5 */
	uint64_t value;
	uint64_t value_two;
	uint32_t op; /* enum kvap_seccomp_op */
};

struct kvap_seccomp_rule {
	char **names; /* syscall names; unknown ones are ignored, as runc does */
	uint32_t n_names;
	uint32_t action; /* enum kvap_seccomp_action */
	uint32_t errno_ret;
	bool errno_set; /* errno_ret is meant (else EPERM for ERRNO, 0 for TRACE) */
	struct kvap_seccomp_arg *args;
	uint32_t n_args;
};

struct kvap_seccomp {
	uint32_t default_action; /* 0: no filter at all */
	uint32_t default_errno;
	bool default_errno_set;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	uint32_t n_architectures;
	char **flags; /* "SECCOMP_FILTER_FLAG_LOG", "..._SPEC_ALLOW", "..._TSYNC" */
	uint32_t n_flags;
	struct kvap_seccomp_rule *syscalls;
	uint32_t n_syscalls;
};

/* Which stdio streams a process has. STDIN..STDERR without a terminal; a
 * terminal process has one bidirectional TTY stream. Mask bit = 1 << kind. */
enum kvap_stream_kind {
	KVAP_STREAM_STDIN = 0,
	KVAP_STREAM_STDOUT = 1,
	KVAP_STREAM_STDERR = 2,
	KVAP_STREAM_TTY = 3,
};
#define KVAP_STREAM_BIT(kind) (1u << (kind))

struct kvap_create {
	char *container_id;
	uint32_t rootfs_type; /* enum kvap_rootfs_type */
	char *rootfs_source;  /* virtio-fs tag; NULL for initramfs */
	char **rootfs_options;
	uint32_t n_rootfs_options;
	bool readonly_rootfs;
	struct kvap_mount *mounts;
	uint32_t n_mounts;
	char *hostname; /* NULL: leave unchanged */
	struct kvap_process process;
	uint32_t streams; /* KVAP_STREAM_BIT()s the host will connect */
	uint8_t stream_token[KVAP_TOKEN_SIZE];
	bool poweroff_on_exit; /* power the VM off when the init exits */
	/* KVAP 1.1 */
	char *rootfs_path; /* in the virtio-fs share (NULL: its top), or the DIR root */
	char *domainname;  /* NULL: leave unchanged */
	struct kvap_namespace *namespaces;
	uint32_t n_namespaces;
	struct kvap_device *devices; /* beyond the defaults, when /dev is not a bind */
	uint32_t n_devices;
	char **masked_paths;
	uint32_t n_masked_paths;
	char **readonly_paths;
	uint32_t n_readonly_paths;
	struct kvap_keyval *sysctls; /* "net.ipv4.ip_forward" -> "1" */
	uint32_t n_sysctls;
	struct kvap_resources resources;
	struct kvap_seccomp seccomp;
	bool no_pivot;		  /* chroot-like MS_MOVE instead of pivot_root */
	char *rootfs_propagation; /* "rslave" (default), "rprivate", "rshared", ... */
};

/* CREATE_REPLY, START_REPLY, EXEC_REPLY. */
struct kvap_pid {
	uint32_t pid; /* guest pid */
};

struct kvap_start {
	char *container_id;
};

struct kvap_exec {
	char *container_id;
	char *exec_id; /* non-empty, unique among live processes */
	struct kvap_process process;
	uint32_t streams;
	uint8_t stream_token[KVAP_TOKEN_SIZE];
};

/* Requests naming a process use exec_id; NULL or "" names the init. */
struct kvap_signal {
	char *exec_id;
	uint32_t signal;
	bool all; /* every process of the container, not just exec_id's */
};

struct kvap_wait {
	char *exec_id;
};

/* WAIT_REPLY: exactly one of exit_code (exited) or term_signal (killed). */
struct kvap_exit {
	uint32_t pid;
	uint8_t exit_code;
	uint8_t term_signal; /* non-zero: killed by this signal, exit_code is 0 */
	bool core_dumped;
};

struct kvap_resize {
	char *exec_id;
	struct kvap_winsize size;
};

struct kvap_proc {
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint8_t state; /* /proc/PID/stat state letter: 'R', 'S', 'Z', ... */
	char **cmdline;
	uint32_t n_cmdline;
};

struct kvap_ps {
	struct kvap_proc *procs;
	uint32_t n_procs;
	bool truncated; /* the agent left processes or arguments out to fit */
};

/* KVAP 1.1: one line of a cgroup stat file (memory.stat, ...). */
struct kvap_stat_kv {
	char *name;
	uint64_t value;
};

/* KVAP 1.1: one device's line of io.stat. */
struct kvap_io_stat {
	uint32_t major;
	uint32_t minor;
	uint64_t rbytes;
	uint64_t wbytes;
	uint64_t rios;
	uint64_t wios;
	uint64_t dbytes;
	uint64_t dios;
};

/* KVAP 1.1: a container's cgroup, what runc's events --stats reports.
 * Limits are UINT64_MAX for "max"; a controller the guest lacks reads 0. */
struct kvap_cgroup_stats {
	uint64_t cpu_usage_ns; /* cpu.stat */
	uint64_t cpu_user_ns;
	uint64_t cpu_system_ns;
	uint64_t cpu_periods;
	uint64_t cpu_throttled_periods;
	uint64_t cpu_throttled_ns;
	uint64_t mem_usage;	       /* memory.current */
	uint64_t mem_limit;	       /* memory.max */
	uint64_t mem_max_usage;	       /* memory.peak, when the kernel has it */
	uint64_t mem_failcnt;	       /* memory.events "max" */
	uint64_t swap_usage;	       /* memory.swap.current */
	uint64_t swap_limit;	       /* memory.swap.max */
	struct kvap_stat_kv *mem_stat; /* memory.stat */
	uint32_t n_mem_stat;
	uint64_t pids_current;
	uint64_t pids_limit;
	struct kvap_io_stat *io; /* io.stat */
	uint32_t n_io;
	uint64_t oom_events;	  /* memory.events "oom" */
	uint64_t oom_kill_events; /* memory.events "oom_kill" */
};

struct kvap_stats {
	uint64_t mem_total; /* bytes */
	uint64_t mem_free;
	uint64_t mem_available;
	uint64_t cpu_user_ns; /* summed over CPUs since boot */
	uint64_t cpu_system_ns;
	uint64_t cpu_idle_ns;
	uint64_t uptime_ns;
	uint32_t nr_procs;
	/* KVAP 1.1: the container's cgroup, when STATS named a container */
	struct kvap_cgroup_stats cgroup;
};

/* KVAP 1.1: PS, STATS, FREEZE and THAW requests. PS and STATS without a
 * container id are about the whole guest (1.0); FREEZE and THAW need one. */
struct kvap_container_ref {
	char *container_id;
};

/* KVAP 1.1: UPDATE: change a running container's cgroup resources. */
struct kvap_update {
	char *container_id;
	struct kvap_resources resources;
};

/* family 4: addr[0..3] hold the address and the rest is zero; family 6: all
 * 16 bytes; family 0: no address (all zero). prefix <= 32 or 128. */
struct kvap_ipaddr {
	uint8_t family;
	uint8_t addr[16];
	uint8_t prefix;
};

struct kvap_iface {
	uint8_t mac[6]; /* finds the interface */
	char *name;	/* rename it to this; NULL keeps the kernel's name */
	uint32_t mtu;	/* 0 keeps the current MTU */
	struct kvap_ipaddr *addrs;
	uint32_t n_addrs;
};

struct kvap_route {
	struct kvap_ipaddr dest;    /* prefix 0: default route */
	struct kvap_ipaddr gateway; /* family 0: on-link */
	char *device;
	uint32_t metric;
};

struct kvap_net_config {
	struct kvap_iface *ifaces;
	uint32_t n_ifaces;
	struct kvap_route *routes;
	uint32_t n_routes;
};

struct kvap_mount_fs {
	char *tag;
	char *mount_point;
	char **options;
	uint32_t n_options;
};

enum kvap_shutdown_action {
	KVAP_SHUTDOWN_POWEROFF = 1,
	KVAP_SHUTDOWN_REBOOT = 2,
};

struct kvap_shutdown {
	uint32_t action; /* enum kvap_shutdown_action */
};

/* First frame on a stdio stream connection. */
struct kvap_stream_hello {
	char *exec_id; /* NULL or "" for the init */
	uint32_t kind; /* enum kvap_stream_kind */
	uint8_t token[KVAP_TOKEN_SIZE];
};

/* ERROR: the reply to any request that failed. */
struct kvap_error {
	uint32_t errnum; /* positive errno value */
	char *message;	 /* may be NULL */
};

/* Replies with no fields yet (a later minor version may add some). */
struct kvap_empty {
	uint8_t unused_;
};

/* X(NAME, type number, union member, C struct). A reply is its request's
 * number with KVAP_REPLY_BIT set; ERROR is KVAP_REPLY_BIT alone. */
#define KVAP_REPLY_BIT 0x8000u
#define KVAP_MESSAGES(X)                                                                           \
	X(HELLO, 0x0001, hello, struct kvap_hello)                                                 \
	X(HELLO_REPLY, 0x8001, hello_reply, struct kvap_hello)                                     \
	X(CREATE, 0x0002, create, struct kvap_create)                                              \
	X(CREATE_REPLY, 0x8002, create_reply, struct kvap_pid)                                     \
	X(START, 0x0003, start, struct kvap_start)                                                 \
	X(START_REPLY, 0x8003, start_reply, struct kvap_pid)                                       \
	X(EXEC, 0x0004, exec, struct kvap_exec)                                                    \
	X(EXEC_REPLY, 0x8004, exec_reply, struct kvap_pid)                                         \
	X(SIGNAL, 0x0005, signal, struct kvap_signal)                                              \
	X(SIGNAL_REPLY, 0x8005, signal_reply, struct kvap_empty)                                   \
	X(WAIT, 0x0006, wait, struct kvap_wait)                                                    \
	X(WAIT_REPLY, 0x8006, wait_reply, struct kvap_exit)                                        \
	X(RESIZE, 0x0007, resize, struct kvap_resize)                                              \
	X(RESIZE_REPLY, 0x8007, resize_reply, struct kvap_empty)                                   \
	X(PS, 0x0008, ps, struct kvap_container_ref)                                               \
	X(PS_REPLY, 0x8008, ps_reply, struct kvap_ps)                                              \
	X(STATS, 0x0009, stats, struct kvap_container_ref)                                         \
	X(STATS_REPLY, 0x8009, stats_reply, struct kvap_stats)                                     \
	X(NET_CONFIG, 0x000a, net_config, struct kvap_net_config)                                  \
	X(NET_CONFIG_REPLY, 0x800a, net_config_reply, struct kvap_empty)                           \
	X(MOUNT_FS, 0x000b, mount_fs, struct kvap_mount_fs)                                        \
	X(MOUNT_FS_REPLY, 0x800b, mount_fs_reply, struct kvap_empty)                               \
	X(SHUTDOWN, 0x000c, shutdown, struct kvap_shutdown)                                        \
	X(SHUTDOWN_REPLY, 0x800c, shutdown_reply, struct kvap_empty)                               \
	X(STREAM_HELLO, 0x000d, stream_hello, struct kvap_stream_hello)                            \
	X(STREAM_HELLO_REPLY, 0x800d, stream_hello_reply, struct kvap_empty)                       \
	X(UPDATE, 0x000e, update, struct kvap_update)                                              \
	X(UPDATE_REPLY, 0x800e, update_reply, struct kvap_empty)                                   \
	X(FREEZE, 0x000f, freeze, struct kvap_container_ref)                                       \
	X(FREEZE_REPLY, 0x800f, freeze_reply, struct kvap_empty)                                   \
	X(THAW, 0x0010, thaw, struct kvap_container_ref)                                           \
	X(THAW_REPLY, 0x8010, thaw_reply, struct kvap_empty)                                       \
	X(ERROR, 0x8000, error, struct kvap_error)

enum kvap_type {
#define KVAP_ENUM_(name, num, member, type) KVAP_MSG_##name = num,
	KVAP_MESSAGES(KVAP_ENUM_)
#undef KVAP_ENUM_
};

/* Any message body; kvap_msg below pairs it with its header. */
union kvap_body {
#define KVAP_MEMBER_(name, num, member, type) type member;
	KVAP_MESSAGES(KVAP_MEMBER_)
#undef KVAP_MEMBER_
};

#endif
