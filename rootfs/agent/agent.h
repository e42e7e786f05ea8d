/* agent.h - shared state of the kvrun guest agent (kvrun-agent, guest PID 1).
 *
 * Owns: the structs every agent file shares (the agent itself, fd watches,
 * control connections, processes and their stdio streams) and the calls
 * between the agent's files. One thread runs everything: an epoll loop over
 * the listeners, the connections, the stdio pipes and a signalfd; processes
 * are forked and exec'd. docs/agent.md describes the behaviour and
 * docs/agent-protocol.md the wire protocol. */
#ifndef KVRUN_AGENT_H
#define KVRUN_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "kvap.h"
#include "pump.h"

struct agent;
struct watch;

typedef void (*watch_fn)(struct agent *a, struct watch *w, uint32_t events);

/* One file descriptor in the epoll set. events == 0 means not registered:
 * an fd the loop wants nothing from is removed, so a hung-up pipe whose
 * data cannot move yet does not wake the loop over and over. */
struct watch {
	int fd;
	uint32_t events;
	watch_fn fn;
	void *owner;
};

/* A control connection (port 1024): framed requests in, replies out. */
struct conn {
	struct conn *next;
	uint64_t serial; /* never reused: pending replies name a connection by it */
	struct watch w;
	struct kvap_reader rd;
	uint8_t *out; /* replies not yet written */
	size_t out_off, out_len, out_cap;
	bool hello;   /* HELLO done */
	bool closing; /* stop reading, flush, close */
	bool dead;
};

/* A stream connection (port 1025) until its STREAM_HELLO is handled. */
struct sconn {
	struct sconn *next;
	struct watch w;
	uint8_t hdr[KVAP_HDR_SIZE];
	uint8_t *payload;
	size_t have; /* bytes of header + payload read so far */
	bool dead;
};

enum proc_state {
	PROC_SPAWNING, /* forked, setting itself up; the reply waits for it */
	PROC_HELD,     /* set up, blocked before execve (streams, START) */
	PROC_RUNNING,  /* released */
	PROC_EXITED,   /* reaped: status is valid */
};

/* One stdio stream of a process: the host's connection and the agent's end
 * of the process's pipe (or the pty master for KVAP_STREAM_TTY). */
struct pstream {
	struct proc *p;
	uint32_t kind;
	bool attached; /* the host's connection arrived */
	bool done;     /* finished: both fds closed */
	struct watch sock;
	struct watch io;
	struct pump out; /* process -> host (stdout, stderr, tty) */
	struct pump in;	 /* host -> process (stdin, tty) */
	bool veof_sent;
};

struct waiter {
	uint64_t conn;
	uint32_t req_id;
};

struct proc {
	struct proc *next;
	char *exec_id; /* "" for the container's init */
	bool is_init;
	pid_t pid;
	enum proc_state state;
	int status;   /* waitpid status once PROC_EXITED */
	bool started; /* init: START received (execs: always) */
	bool terminal;
	bool complete;	/* exited and every output stream drained and closed */
	bool collected; /* a WAIT reply carried the status */
	bool dead;
	uint32_t streams;
	uint8_t token[KVAP_TOKEN_SIZE];
	struct pstream st[4]; /* by enum kvap_stream_kind */
	int gate_fd;	      /* write end: one byte releases the child */
	struct watch report;  /* the child's setup report (read end) */
	bool reply_pending;   /* CREATE/EXEC reply waits for the setup report */
	uint64_t reply_conn;
	uint32_t reply_req;
	uint16_t reply_type;
	struct waiter *waiters;
	size_t n_waiters;
};

#define NS_TYPES (KVAP_NS_TIME + 1) /* ns_fd[] index: enum kvap_ns_type */

/* What CREATE set up: one container per VM. */
struct container {
	struct kvap_create spec;
	char *name;	     /* safe as a file name: cgroup and run directory */
	char *root;	     /* the root directory in the agent's view: bound (recursively)... */
	char *mnt;	     /* ...on this directory, which becomes the container's "/" */
	char *cg;	     /* its cgroup directory, or NULL (no cgroup v2 here) */
	bool isolated;	     /* own mount namespace and root; false only for a
			  * non-root --no-init agent, where processes run in "/" */
	bool setup_dev;	     /* /dev is not a bind: create the devices (runc's rule) */
	int unshare;	     /* CLONE_NEW* the init unshares (not CLONE_NEWPID) */
	bool new_pidns;	     /* the init is PID 1 of a new pid namespace */
	int ns_fd[NS_TYPES]; /* the init's own namespaces, for EXEC; -1: the VM's */
	void *seccomp;	     /* libseccomp filter, or NULL */
};

enum power_phase {
	POWER_NONE,
	POWER_GRACE, /* init exited, no WAIT pending yet: wait for one */
	POWER_FLUSH, /* the last reply is queued: let the host read it */
};

struct agent {
	int epfd;
	bool init_mode; /* PID 1 in a VM (not --no-init) */
	bool verbose;
	bool own_ns; /* --no-init: private mount and UTS namespaces */
	struct watch lctl, lstream, sig;
	struct conn *conns;
	struct sconn *sconns;
	struct proc *procs;
	struct container *ct;
	uint64_t next_serial;
	size_t n_conns;
	enum power_phase power;
	uint32_t power_action;	/* enum kvap_shutdown_action */
	int64_t power_deadline; /* CLOCK_MONOTONIC ms */
	bool quit;		/* --no-init: leave the loop (SIGTERM, SHUTDOWN) */
	void (**defer_fn)(void *);
	void **defer_ptr;
	size_t n_defer, cap_defer;
	const char *run_dir; /* /run/kvrun: virtio-fs tags, container roots */
	char *cg_base;	     /* where containers' cgroups go (cgroup.c) */
	bool cg_tried;
	int own_pidns_fd; /* the agent's pid namespace, to return after a fork */
};

#define AGENT_SOFTWARE "kvrun-agent " KVRUN_VERSION
#define AGENT_FEATURES                                                                             \
	(KVAP_FEAT_PS | KVAP_FEAT_STATS | KVAP_FEAT_MOUNT_FS | KVAP_FEAT_NET |                     \
	 KVAP_FEAT_CONTAINER | KVAP_FEAT_SECCOMP)

/* log.c: "kvrun-agent: " lines on the console (stderr with --no-init). */
void log_open(bool console);
__attribute__((format(printf, 1, 2))) void alog(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void adebug(const char *fmt, ...);
void log_set_verbose(bool v);
__attribute__((format(printf, 2, 3), noreturn)) void agent_fatal(struct agent *a, const char *fmt,
								 ...);

/* evloop.c */
int watch_set(struct agent *a, struct watch *w, uint32_t events);
void watch_close(struct agent *a, struct watch *w);
void agent_defer_free(struct agent *a, void (*fn)(void *), void *p);
void agent_run_deferred(struct agent *a);
int64_t now_ms(void);

/* init.c: PID 1 duties. */
void init_root_mount(void);
int init_mounts(void);
void init_stdio(void);
void init_loopback(void);
int init_private_ns(void);

/* modules.c */
void modules_load(const char *list);

/* listen.c */
int listen_vsock(uint32_t port, int *fd);
int listen_unix(const char *dir, uint32_t port, int *fd);
void listen_register(struct agent *a, int ctl_fd, int stream_fd);

/* control.c */
void conn_accept(struct agent *a, int fd);
struct conn *conn_find(struct agent *a, uint64_t serial);
void conn_send_reply(struct agent *a, struct conn *c, uint16_t type, uint32_t req_id,
		     const void *body);
void conn_send_error(struct agent *a, struct conn *c, uint32_t req_id, int errnum, const char *msg);
void conn_close(struct agent *a, struct conn *c);
bool conns_flushed(struct agent *a);

/* requests.c, req-proc.c, req-sys.c: handlers return 0 when they answered
 * (or will answer later), or a negative errno with err set: the caller
 * then answers ERROR. */
void request_dispatch(struct agent *a, struct conn *c, const struct kvap_frame *f);
int req_create(struct agent *a, struct conn *c, uint32_t id, struct kvap_create *b,
	       struct kv_err *err);
int req_start(struct agent *a, struct conn *c, uint32_t id, struct kvap_start *b,
	      struct kv_err *err);
int req_exec(struct agent *a, struct conn *c, uint32_t id, struct kvap_exec *b, struct kv_err *err);
int req_signal(struct agent *a, struct conn *c, uint32_t id, struct kvap_signal *b,
	       struct kv_err *err);
int req_wait(struct agent *a, struct conn *c, uint32_t id, struct kvap_wait *b, struct kv_err *err);
int req_resize(struct agent *a, struct conn *c, uint32_t id, struct kvap_resize *b,
	       struct kv_err *err);
int req_ps(struct agent *a, struct conn *c, uint32_t id, struct kvap_container_ref *b,
	   struct kv_err *err);
int req_stats(struct agent *a, struct conn *c, uint32_t id, struct kvap_container_ref *b,
	      struct kv_err *err);
int req_update(struct agent *a, struct conn *c, uint32_t id, struct kvap_update *b,
	       struct kv_err *err);
int req_freeze(struct agent *a, struct conn *c, uint32_t id, struct kvap_container_ref *b,
	       bool frozen, struct kv_err *err);
int req_mount_fs(struct agent *a, struct conn *c, uint32_t id, struct kvap_mount_fs *b,
		 struct kv_err *err);
int req_shutdown(struct agent *a, struct conn *c, uint32_t id, struct kvap_shutdown *b,
		 struct kv_err *err);
/* net.c */
int req_net_config(struct agent *a, struct conn *c, uint32_t id, struct kvap_net_config *b,
		   struct kv_err *err);

void req_container_failed(struct agent *a);

/* container.c: CREATE's checks and its preparation in the agent (tags,
 * directories, cgroup, seccomp filter); the rest happens in the init's
 * child (rootfs.c). */
int container_prepare(struct agent *a, struct container *ct, struct kv_err *err);
void container_init_ready(struct agent *a, struct container *ct, pid_t pid);
void container_free(struct agent *a, struct container *ct);
struct container *container_find(struct agent *a, const char *id, struct kv_err *err, int *r);
int mkdir_p(const char *path, mode_t mode);
/* virtiofs.c: read-ahead of a virtio-fs mount at target. */
void virtiofs_tune(const char *target);

/* mount.c */
int mount_fs_tag(struct agent *a, const char *tag, char *const *opts, uint32_t n_opts, char *dir,
		 size_t cap, struct kv_err *err);
int mount_one(const char *root, const struct kvap_mount *m, struct kv_err *err);

/* ns.c */
int ns_plan(struct agent *a, struct container *ct, struct kv_err *err);
int ns_check_sysctls(struct agent *a, const struct container *ct, struct kv_err *err);
pid_t ns_fork(struct agent *a, const struct container *ct, bool init);
void ns_open(struct container *ct, pid_t pid);
void ns_close(struct container *ct);

/* cgroup.c */
int cgroup_create(struct agent *a, const char *name, char **out, struct kv_err *err);
int cgroup_apply(const char *cg, const struct kvap_resources *res, struct kv_err *err);
int cgroup_freeze(const char *cg, bool frozen, int timeout_ms, struct kv_err *err);
int cgroup_pids(const char *cg, pid_t **pids, size_t *n);
int cgroup_signal(const char *cg, int sig);
void cgroup_stats(const char *cg, struct kvap_cgroup_stats *s);
void cgroup_remove(const char *cg);
void cgroup_base_remove(struct agent *a);

/* seccomp.c */
int seccomp_build(const struct kvap_seccomp *s, void **out, struct kv_err *err);
void seccomp_free(void *ctx);

/* procfs.c: PS (with filter: of these pids only) and STATS. */
int procfs_ps(bool filter, const pid_t *pids, size_t n_pids, struct kvap_ps *ps);
int procfs_stats(struct kvap_stats *s);

/* spawn.c, proc.c */
int proc_spawn(struct agent *a, const char *exec_id, const struct kvap_process *spec,
	       uint32_t streams, const uint8_t token[KVAP_TOKEN_SIZE], const struct container *ct,
	       struct proc **out, struct kv_err *err);
struct proc *proc_find(struct agent *a, const char *exec_id);
void proc_maybe_release(struct agent *a, struct proc *p);
void proc_check_complete(struct agent *a, struct proc *p);
void proc_reap(struct agent *a);
void proc_answer_waiters(struct agent *a, struct proc *p);
void proc_kill_all(struct agent *a, int sig);
void proc_free_all(struct agent *a);
void proc_on_report(struct agent *a, struct watch *w, uint32_t events);
size_t proc_live_count(struct agent *a);

/* stream.c */
void sconn_accept(struct agent *a, int fd);
void pstream_service(struct agent *a, struct pstream *s);
void pstream_close(struct agent *a, struct pstream *s);

/* power.c */
void power_schedule(struct agent *a, uint32_t action, int delay_ms);
void power_tick(struct agent *a);
int power_timeout(struct agent *a);
__attribute__((noreturn)) void power_now(uint32_t action);

#endif
