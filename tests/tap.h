/* tap.h - a tiny Test Anything Protocol helper for kvrun's C unit tests.
 *
 * Owns: plan/ok/diagnostic output. Usage:
 *   tap_plan(3); ok(x == 1, "x is one"); ...; return tap_done();
 * ok() returns its condition so tests can bail out of dependent checks. */
#ifndef KVRUN_TAP_H
#define KVRUN_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n_, tap_failed_, tap_planned_;

static inline void tap_plan(int n)
{
	tap_planned_ = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3))) static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n_++;
	if (!cond)
		tap_failed_++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n_);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2))) static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Exit status for main(): non-zero when a test failed or the plan was not met. */
static inline int tap_done(void)
{
	if (tap_planned_ && tap_n_ != tap_planned_) {
		diag("planned %d tests but ran %d", tap_planned_, tap_n_);
		return 1;
	}
	return tap_failed_ ? 1 : 0;
}

#endif
