/* kvrun.h - what every OCI verb shares: the global options and reporting.
 *
 * Owns: struct kvrun (the parsed global options --root, --log,
 * --log-format, --debug; the log file) and the verb's reporting functions.
 * A verb reports a failure once with kvrun_error(): one line
 * "kvrun VERB: MSG" on stderr and, with --log, one entry in the log file
 * in the chosen format (json: {"level","msg","time"} as runc writes it, so
 * containerd's shim and conmon can show it; text: time="" level= msg=""). The
 * VMM process behind a container writes to the log file only (its stderr is
 * the container's). */
#ifndef KVRUN_RUNTIME_KVRUN_H
#define KVRUN_RUNTIME_KVRUN_H

#include <stdbool.h>

#include "err.h"

#define KVRUN_DEFAULT_ROOT "/run/kvrun"

enum kvrun_log_format {
	KVRUN_LOG_TEXT = 0,
	KVRUN_LOG_JSON,
};

struct kvrun {
	const char *root; /* state directories: ROOT/ID */
	const char *log_path;
	enum kvrun_log_format log_format;
	bool debug;
	int log_fd;	   /* -1 without --log */
	bool quiet_stderr; /* the VMM process: log file only */
	const char *verb;  /* for messages */
};

/* Open --log (append, created 0600) when set. */
int kvrun_log_open(struct kvrun *g, struct kv_err *err);

__attribute__((format(printf, 2, 3))) void kvrun_error(struct kvrun *g, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void kvrun_warn(struct kvrun *g, const char *fmt, ...);
/* Only with --debug (to the log file, and stderr when there is no log). */
__attribute__((format(printf, 2, 3))) void kvrun_debug(struct kvrun *g, const char *fmt, ...);
/* kvrun_error(g, "%s", err->msg) and return 1, the exit status of a failed verb. */
int kvrun_fail(struct kvrun *g, const struct kv_err *err);

/* RFC 3339 UTC time with nanoseconds, as runc's "created". */
void kvrun_time_now(char *buf, unsigned long size, bool nanos);

#endif
