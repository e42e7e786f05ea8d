/* log.c - reporting for the OCI verbs: stderr and the --log file.
 *
 * Owns: formatting a message once and writing it to stderr ("kvrun VERB:
 * MSG") and to the log file as one line in runc's text or json format, and
 * the RFC 3339 timestamps used there and in the state. A log line is one
 * write(2) on an O_APPEND fd, so lines of concurrent verbs do not mix. */
#include "kvrun.h"
#include "oci-state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int kvrun_log_open(struct kvrun *g, struct kv_err *err)
{
	g->log_fd = -1;
	if (!g->log_path || !*g->log_path)
		return 0;
	g->log_fd = open(g->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (g->log_fd < 0)
		return kv_errno(err, -errno, "--log %s", g->log_path);
	return 0;
}

void kvrun_time_now(char *buf, unsigned long size, bool nanos)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (nanos)
		snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
	else
		snprintf(buf, size, "%sZ", base);
}

/* text format: time="..." level=error msg="..." with \ and " escaped. */
static char *text_line(const char *level, const char *msg, const char *time)
{
	size_t n = strlen(msg);
	char *esc = malloc(2 * n + 1), *o = esc;

	if (!esc)
		return NULL;
	for (const char *c = msg; *c; c++) {
		if (*c == '"' || *c == '\\')
			*o++ = '\\';
		*o++ = *c == '\n' ? ' ' : *c;
	}
	*o = '\0';
	char *line = NULL;
	if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"", time, level, esc) < 0)
		line = NULL;
	free(esc);
	return line;
}

static void emit(struct kvrun *g, const char *level, bool to_stderr, const char *fmt, va_list ap)
{
	char msg[1024], time[48];
	char *line = NULL;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (to_stderr && !g->quiet_stderr)
		fprintf(stderr, "kvrun%s%s: %s\n", g->verb ? " " : "", g->verb ? g->verb : "", msg);
	if (g->log_fd < 0)
		return;
	kvrun_time_now(time, sizeof(time), false);
	if (g->log_format == KVRUN_LOG_JSON) {
		if (oci_log_json_line(level, msg, time, &line) < 0)
			line = NULL;
	} else {
		line = text_line(level, msg, time);
	}
	if (!line)
		return;
	size_t len = strlen(line);
	char *nl = realloc(line, len + 2);
	if (nl) {
		nl[len] = '\n';
		nl[len + 1] = '\0';
		(void)write_full(g->log_fd, nl, len + 1);
		line = nl;
	}
	free(line);
}

void kvrun_error(struct kvrun *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(g, "error", true, fmt, ap);
	va_end(ap);
}

void kvrun_warn(struct kvrun *g, const char *fmt, ...)
{
	va_list ap;

	/* Only to the log when there is one: a verb's stderr may be the container's. */
	va_start(ap, fmt);
	emit(g, "warning", g->log_fd < 0, fmt, ap);
	va_end(ap);
}

void kvrun_debug(struct kvrun *g, const char *fmt, ...)
{
	va_list ap;

	if (!g->debug)
		return;
	va_start(ap, fmt);
	emit(g, "debug", g->log_fd < 0, fmt, ap);
	va_end(ap);
}

int kvrun_fail(struct kvrun *g, const struct kv_err *err)
{
	kvrun_error(g, "%s", err->msg[0] ? err->msg : "failed");
	return 1;
}
