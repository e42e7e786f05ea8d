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
};

struct kvap_mount {
	char *source;
	char *destination;
	char *type;
	char **options; /* as in OCI: "ro", "nosuid", "mode=755", ... */
	uint32_t n_options;
};

enum kvap_rootfs_type {
	KVAP_ROOTFS_INITRAMFS = 1, /* the guest's initramfs is the rootfs */
	KVAP_ROOTFS_VIRTIOFS = 2,  /* rootfs_source is a virtio-fs tag */
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

struct kvap_stats {
	uint64_t mem_total; /* bytes */
	uint64_t mem_free;
	uint64_t mem_available;
	uint64_t cpu_user_ns; /* summed over CPUs since boot */
	uint64_t cpu_system_ns;
	uint64_t cpu_idle_ns;
	uint64_t uptime_ns;
	uint32_t nr_procs;
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
	X(PS, 0x0008, ps, struct kvap_empty)                                                       \
	X(PS_REPLY, 0x8008, ps_reply, struct kvap_ps)                                              \
	X(STATS, 0x0009, stats, struct kvap_empty)                                                 \
	X(STATS_REPLY, 0x8009, stats_reply, struct kvap_stats)                                     \
	X(NET_CONFIG, 0x000a, net_config, struct kvap_net_config)                                  \
	X(NET_CONFIG_REPLY, 0x800a, net_config_reply, struct kvap_empty)                           \
	X(MOUNT_FS, 0x000b, mount_fs, struct kvap_mount_fs)                                        \
	X(MOUNT_FS_REPLY, 0x800b, mount_fs_reply, struct kvap_empty)                               \
	X(SHUTDOWN, 0x000c, shutdown, struct kvap_shutdown)                                        \
	X(SHUTDOWN_REPLY, 0x800c, shutdown_reply, struct kvap_empty)                               \
	X(STREAM_HELLO, 0x000d, stream_hello, struct kvap_stream_hello)                            \
	X(STREAM_HELLO_REPLY, 0x800d, stream_hello_reply, struct kvap_empty)                       \
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
