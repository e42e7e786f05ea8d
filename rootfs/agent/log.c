/* log.c - the agent's own messages, on the console.
 *
 * Owns: where the agent's errors go and their "kvrun-agent: " prefix. As
 * PID 1 that is /dev/console (hvc0 or ttyS0, whatever console= names), so
 * the host sees them in the VM's console log; with --no-init it is stderr.
 * Each message is one write(2) of a whole line, so lines from the agent do
 * not interleave mid-line with a process that shares the console. This file
 * also owns agent_fatal(): PID 1 must never exit, so a fatal error powers
 * the VM off after saying why. */
#include "agent.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "kvrun-agent: "

static int log_fd = STDERR_FILENO;
static bool log_console; /* log_fd is our own /dev/console */
static bool log_verbose;

/* Once it succeeds, later calls keep the fd they have. */
void log_open(bool console)
{
	if (!console || log_console)
		return;
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		log_fd = fd;
		log_console = true;
	}
}

void log_set_verbose(bool v)
{
	log_verbose = v;
}

static void vlog(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), LOG_PREFIX);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);

	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* Best effort: nothing sensible is left to report a failed log write to. */
	ssize_t w = write(log_fd, line, (size_t)n);
	(void)w;
}

void alog(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void adebug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void agent_fatal(struct agent *a, const char *fmt, ...)
{
	va_list ap;
	char msg[768];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a ? !a->init_mode : getpid() != 1) {
		alog("fatal: %s", msg);
		exit(1);
	}
	alog("fatal: %s; powering off", msg);
	power_now(KVAP_SHUTDOWN_POWEROFF);
}
