/* err.h - an error value that carries a negative errno and a message.
 *
 * Owns: the one way library code reports a failure with context. Library
 * functions fill a struct kv_err and return its negative errno; only the CLI
 * verb prints it, once. kv_errf() returns the code so callers can write
 * `return kv_errf(err, -ENOENT, "kernel %s: not found", path);`. */
#ifndef KVRUN_ERR_H
#define KVRUN_ERR_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct kv_err {
	int code;      /* negative errno, 0 when no error */
	char msg[512]; /* human-readable, no trailing newline */
};

__attribute__((format(printf, 3, 4))) static inline int kv_errf(struct kv_err *e, int code,
								const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* Like kv_errf, appending ": strerror(-code)". */
#define kv_errno(e, code, fmt, ...)                                                                \
	({                                                                                         \
		int kv_code_ = (code);                                                             \
		kv_errf((e), kv_code_, fmt ": %s", ##__VA_ARGS__, strerror(-kv_code_));            \
	})

#endif
