/* common.c - what the verbs' command lines share: usage errors and the id
 * argument. */
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

int verb_usage_error(struct kvrun *g, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kvrun_error(g, "%s (see kvrun %s --help)", msg, g->verb);
	return KVRUN_EXIT_USAGE;
}

int verb_getopt_error(struct kvrun *g, int argc, char **argv)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (optopt && strncmp(arg, "--", 2) != 0)
		return verb_usage_error(g, "-%c needs a value or is unknown", optopt);
	return verb_usage_error(g, "unknown option or missing value: \"%s\"", arg);
}

int verb_one_id(struct kvrun *g, int argc, char **argv, const char **id)
{
	if (optind >= argc)
		return verb_usage_error(g, "a container id is required");
	if (optind + 1 < argc)
		return verb_usage_error(g, "unexpected argument \"%s\"", argv[optind + 1]);
	*id = argv[optind];
	return 0;
}
