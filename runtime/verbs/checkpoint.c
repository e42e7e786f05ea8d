/* checkpoint.c - `kvrun checkpoint` and `kvrun restore`: not supported. */
#include "verbs.h"

#include <errno.h>
#include <string.h>

void verb_checkpoint_usage(FILE *out)
{
	fprintf(out, "usage: kvrun checkpoint ...\n\nNot supported: kvrun cannot checkpoint a "
		     "container's VM. Exits 1.\n");
}

void verb_restore_usage(FILE *out)
{
	fprintf(out, "usage: kvrun restore ...\n\nNot supported: kvrun cannot restore a "
		     "container's VM. Exits 1.\n");
}

static int unsupported(struct kvrun *g, int argc, char **argv, void (*usage)(FILE *))
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
	kvrun_error(g, "%s is not supported", argv[0]);
	return 1;
}

int verb_checkpoint(struct kvrun *g, int argc, char **argv)
{
	return unsupported(g, argc, argv, verb_checkpoint_usage);
}

int verb_restore(struct kvrun *g, int argc, char **argv)
{
	return unsupported(g, argc, argv, verb_restore_usage);
}
