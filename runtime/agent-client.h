/* agent-client.h - the host side of the kvrun agent protocol (KVAP).
 *
 * Owns: the API kvrun uses to drive the guest agent: reaching a guest vsock
 * port (a dialer: hybrid vsock through the VMM's Unix socket, or plain Unix
 * sockets DIR/<port> for tests), the control connection (HELLO, requests
 * and their replies, matched by id), process handles with their stdio
 * stream connections, forwarding a caller's stdin/stdout/stderr, and
 * agent_run_command(): run one argv in the guest with the caller's stdio
 * and return its exit status. Library code: nothing prints; every failure
 * is a negative errno plus a message in struct kv_err. Blocking, for one
 * thread per client (separate clients may be used from separate threads).
 * docs/agent.md describes the API, docs/agent-protocol.md the wire. */
#ifndef KVRUN_AGENT_CLIENT_H
#define KVRUN_AGENT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "kvap.h"

/* ---- Dialing a guest port ---- */

enum agent_dial_kind {
	AGENT_DIAL_HYBRID = 1, /* VMM's Unix socket: "CONNECT <port>\n" -> "OK <n>\n" */
	AGENT_DIAL_UNIX = 2,   /* Unix sockets DIR/<port> (kvrun-agent --listen-unix DIR) */
};

struct agent_dialer {
	enum agent_dial_kind kind;
	char path[108];	   /* the hybrid socket, or the directory */
	int timeout_ms;	   /* keep retrying a refused connection this long (guest booting) */
	int io_timeout_ms; /* a reply, the CONNECT answer: give up after this */
};

#define AGENT_DIAL_TIMEOUT_MS 10000
#define AGENT_IO_TIMEOUT_MS   30000

/* What the client accepts from an agent (docs/agent.md, "Protocol
 * violations"): WAITs sent ahead (agent_client_wait_send()) and not yet
 * collected per connection (one more: -EBUSY; a call always has room);
 * replies to requests never sent tolerated before the connection is
 * closed; bytes of replies set aside for their callers; characters of
 * guest text in a message; the highest signal a WAIT_REPLY may name. */
#define AGENT_MAX_IN_FLIGHT	256
#define AGENT_MAX_STRAY_REPLIES 16
#define AGENT_SET_ASIDE_MAX	(512u << 10)
#define AGENT_GUEST_TEXT_MAX	200
#define AGENT_MAX_SIGNAL	64

/* Fill *d (timeouts set to the defaults above). -ENAMETOOLONG if the path
 * does not fit a socket address. */
int agent_dialer_hybrid(struct agent_dialer *d, const char *socket_path, struct kv_err *err);
int agent_dialer_unix(struct agent_dialer *d, const char *dir, struct kv_err *err);

/* A connected, blocking, close-on-exec byte stream to guest `port`.
 * Retries while the port is not there yet (ENOENT, ECONNREFUSED, the VMM
 * closing without OK) until d->timeout_ms, then -ETIMEDOUT or the last
 * error. Returns the fd. */
int agent_dial(const struct agent_dialer *d, uint32_t port, struct kv_err *err);

/* ---- The control connection ---- */

struct agent_client;

/* Dial port 1024 and exchange HELLO. A peer of another major protocol
 * version gives -EPROTO with both versions in the message. */
int agent_client_connect(const struct agent_dialer *d, struct agent_client **out,
			 struct kv_err *err);
/* The same over fd, a stream already connected to the control port (the
 * client owns it from here on, also on failure); d gives the timeouts and
 * how streams are dialed. */
int agent_client_open(int fd, const struct agent_dialer *d, struct agent_client **out,
		      struct kv_err *err);
void agent_client_free(struct agent_client *c);

uint64_t agent_client_features(const struct agent_client *c); /* KVAP_FEAT_* of the agent */
const char *agent_client_software(const struct agent_client *c);
const struct agent_dialer *agent_client_dialer(const struct agent_client *c);

/* Send a request and wait for its reply (other replies arriving meanwhile
 * are set aside for their own callers). *reply holds the decoded body of
 * reply_type (free with kvap_msg_free(reply_type, reply)), and is zeroed
 * on any failure; an ERROR reply becomes -errnum with the agent's message
 * (escaped, cut to AGENT_GUEST_TEXT_MAX). Times out after d->io_timeout_ms
 * (-ETIMEDOUT; a reply coming later is dropped); a connection that ends,
 * even in the middle of a frame, is -ECONNRESET. A protocol violation
 * (docs/agent.md) is -EPROTO and closes the connection. Once an I/O error
 * or a violation happened the client is unusable: every later call fails
 * at once with the same error. */
int agent_client_call(struct agent_client *c, uint16_t type, const void *body,
		      union kvap_body *reply, struct kv_err *err);

/* Requests. pid may be NULL. */
int agent_client_create(struct agent_client *c, const struct kvap_create *spec, uint32_t *pid,
			struct kv_err *err);
int agent_client_start(struct agent_client *c, const char *container_id, uint32_t *pid,
		       struct kv_err *err);
int agent_client_signal(struct agent_client *c, const char *exec_id, int sig, bool all,
			struct kv_err *err);
int agent_client_resize(struct agent_client *c, const char *exec_id, uint16_t rows, uint16_t cols,
			struct kv_err *err);
int agent_client_shutdown(struct agent_client *c, enum kvap_shutdown_action action,
			  struct kv_err *err);
int agent_client_ps(struct agent_client *c, struct kvap_ps *ps, struct kv_err *err);
int agent_client_stats(struct agent_client *c, struct kvap_stats *st, struct kv_err *err);
/* NET_CONFIG: the guest's interfaces, addresses and routes (netsetup_to_kvap
 * makes one from a network namespace); -EOPNOTSUPP when the agent lacks
 * KVAP_FEAT_NET. */
int agent_client_net_config(struct agent_client *c, const struct kvap_net_config *net,
			    struct kv_err *err);
/* MOUNT_FS: mount virtio-fs tag at mount_point in the guest (created when
 * missing), with mount options as the agent's mount table takes them. */
int agent_client_mount_fs(struct agent_client *c, const char *tag, const char *mount_point,
			  char *const *options, uint32_t n_options, struct kv_err *err);

/* WAIT, blocking without a timeout (a process may run for days). */
int agent_client_wait(struct agent_client *c, const char *exec_id, struct kvap_exit *st,
		      struct kv_err *err);

/* WAIT in two halves, for callers that poll: send it, then collect the
 * reply with a timeout (-ETIMEDOUT: not yet, call again; but an agent may
 * also answer ERROR ETIMEDOUT: agent_client_wait_poll() tells them apart).
 * A WAIT_REPLY with a signal above AGENT_MAX_SIGNAL is -EPROTO. *st is
 * zeroed unless the status came. */
int agent_client_wait_send(struct agent_client *c, const char *exec_id, uint32_t *req_id,
			   struct kv_err *err);
int agent_client_wait_recv(struct agent_client *c, uint32_t req_id, int timeout_ms,
			   struct kvap_exit *st, struct kv_err *err);
/* Without waiting: 1 with *st set, 0 not yet, or a negative errno (an
 * ERROR reply, whatever its errnum, or the connection failing). */
int agent_client_wait_poll(struct agent_client *c, uint32_t req_id, struct kvap_exit *st,
			   struct kv_err *err);

/* The control socket, to poll for readability alongside other fds. A reply
 * already read off the socket does not make it readable again: it was read
 * with another request's reply and set aside, or is still in the client's
 * buffer. So before each poll() ask agent_client_buffered(): when true,
 * collect (agent_client_wait_poll()) instead of polling. */
int agent_client_fd(const struct agent_client *c);
bool agent_client_buffered(const struct agent_client *c, uint32_t req_id);

/* exit_code, or 128 + term_signal, as a shell reports it: 0..255 (at most
 * 128 + AGENT_MAX_SIGNAL for a signal), or -EPROTO for a status no process
 * can have (agent_client_wait*() never return one). */
int agent_exit_status(const struct kvap_exit *st);

/* ---- Processes and their stdio streams ---- */

struct agent_proc {
	struct agent_client *c;
	char *exec_id; /* "" for the container's init */
	uint32_t pid;
	uint32_t streams; /* KVAP_STREAM_BIT()s announced and attached */
	uint8_t token[KVAP_TOKEN_SIZE];
	int fd[4]; /* stream connections by enum kvap_stream_kind, -1 if none */
};

/* EXEC process as exec_id in container_id with the given streams (bits of
 * KVAP_STREAM_*; a terminal process takes only the tty stream), then
 * connect each stream. The process runs once every stream is attached. */
int agent_proc_exec(struct agent_client *c, const char *container_id, const char *exec_id,
		    const struct kvap_process *process, uint32_t streams, struct agent_proc **out,
		    struct kv_err *err);

/* CREATE (spec->streams and spec->stream_token are filled in here), attach
 * the init's streams, and START it. */
int agent_proc_create_start(struct agent_client *c, struct kvap_create *spec, uint32_t streams,
			    struct agent_proc **out, struct kv_err *err);

/* CREATE and attach the init's streams, without START: the init waits
 * (before execve) until agent_client_start() on any connection. */
int agent_proc_create(struct agent_client *c, struct kvap_create *spec, uint32_t streams,
		      struct agent_proc **out, struct kv_err *err);

/* Forward until the process has exited and all its output is out:
 * in_fd -> stdin (or tty) stream, EOF half-closes it; stdout stream ->
 * out_fd; stderr stream -> err_fd (kept separate). -1 skips an fd. The
 * caller's fds are used as they are (not made non-blocking). Returns 0 with
 * *st set, or a negative errno (the agent went away or broke the protocol,
 * a write to out_fd failed). The agent sends the exit status only once the
 * output streams are closed, so after it the streams get the dialer's
 * io_timeout_ms in all (time spent waiting for them, not writing to the
 * caller's fds) to reach EOF; a guest holding them open longer makes this
 * -ETIMEDOUT. */
int agent_proc_forward(struct agent_proc *p, int in_fd, int out_fd, int err_fd,
		       struct kvap_exit *st, struct kv_err *err);

/* Close the streams and free the handle (the process is not signalled). */
void agent_proc_free(struct agent_proc *p);

/* ---- One call: run a command ---- */

struct agent_run_opts {
	char *const *env;	   /* NULL: PATH=<default> (and TERM=xterm with a terminal) */
	const char *cwd;	   /* NULL: "/" */
	uint32_t uid, gid;	   /* 0: root */
	bool terminal;		   /* one tty stream instead of stdin/stdout/stderr */
	uint16_t rows, cols;	   /* initial terminal size */
	bool poweroff;		   /* run as the container's init; the VM powers off after */
	const char *rootfs_tag;	   /* with poweroff: this virtio-fs tag is the container's root */
	const char *container_id;  /* NULL: "kvrun" */
	int in_fd, out_fd, err_fd; /* the caller's stdio; -1: none (stdin: /dev/null) */
};

#define AGENT_RUN_OPTS_DEFAULT                                                                     \
	{                                                                                          \
		.in_fd = 0, .out_fd = 1, .err_fd = 2                                               \
	}

/* Connect to the agent, run argv (a NULL-terminated array) in the guest
 * forwarding the caller's stdio, and return its exit status (0..255, or
 * 128 + signal), or a negative errno with err set. opts may be NULL for
 * AGENT_RUN_OPTS_DEFAULT. What `kvrun vm --exec -- CMD...` calls:
 *
 *   status = agent_run_command(&dialer, argv, NULL, &err);
 */
int agent_run_command(const struct agent_dialer *d, char *const argv[],
		      const struct agent_run_opts *opts, struct kv_err *err);

#endif
