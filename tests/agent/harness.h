/* harness.h - running kvrun-agent as an ordinary process for host tests.
 *
 * Owns: starting the agent with --listen-unix in a fresh temp dir and
 * --no-init (its --run-dir is DIR/run), checking it is alive, stopping it
 * (SIGTERM: it frees everything and exits 0, so a leak or sanitizer report
 * in the agent makes the exit status non-zero), running a command through
 * the client with its stdio in memory files, and for the container tests a
 * busybox root directory and one call that runs a container to its end. */
#ifndef KVRUN_TESTS_AGENT_HARNESS_H
#define KVRUN_TESTS_AGENT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent-client.h"

struct agent_h {
	pid_t pid;
	int status; /* wait status once reaped (pid is then -1) */
	char dir[64];
	char log[96];
	struct agent_dialer d;
};

/* Start agent_path; returns 0 when both sockets are there. */
int agent_h_start(struct agent_h *h, const char *agent_path);
/* The same, calling before(h, arg) once h->dir exists and before the agent
 * starts (it copies the mount namespace then: mounts made here are seen). */
int agent_h_start_with(struct agent_h *h, const char *agent_path,
		       int (*before)(struct agent_h *h, void *arg), void *arg);
bool agent_h_alive(struct agent_h *h);
/* SIGTERM and reap (unless it already exited); returns the wait status
 * (0: clean exit). */
int agent_h_stop(struct agent_h *h);
/* Print the agent's log as TAP diagnostics. */
void agent_h_dump_log(const struct agent_h *h);

struct run_result {
	int status; /* agent_run_command's return */
	char *out, *err;
	size_t out_len, err_len;
	struct kv_err e;
};

/* Run argv with stdin from in[0..in_len) (in == NULL: no stdin stream). */
void run_cmd(const struct agent_dialer *d, char *const argv[], const void *in, size_t in_len,
	     const struct agent_run_opts *base, struct run_result *res);
void run_result_free(struct run_result *res);

/* A memfd holding data (or empty), positioned at 0. */
int memfd_with(const void *data, size_t len);
/* Everything in fd from offset 0, malloc'd and NUL-terminated. */
char *memfd_read(int fd, size_t *len);

/* s made printable on one TAP line (\n escaped, cut at 60 bytes); a few
 * rotating static buffers, so several may appear in one message. */
const char *show(const char *s);

/* A container root at dir: bin/busybox (the host's static busybox, whose
 * shell runs every applet by name) and bin/sh, and empty proc, dev, sys,
 * tmp and etc. 0 or a negative errno. */
int rootfs_make(const char *dir);
/* mkdir -p path (0755). */
int mkdir_all(const char *path);

/* CREATE spec (stdout and stderr into one buffer, or the tty), START, and
 * forward until the init exits. Returns its exit status (0-255, 128 + n)
 * or a negative errno with err set; *out is malloc'd (NULL on failure). */
int ctr_run(struct agent_h *h, struct kvap_create *spec, char **out, struct kv_err *err);

/* FNV-1a, for comparing big outputs in messages. */
unsigned long long fnv1a(const void *data, size_t len);

#endif
