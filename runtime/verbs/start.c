/* start.c - `kvrun start`. */
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>

void verb_start_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] start ID\n"
		"\n"
		"Start the process of the created container ID: run the startContainer hooks,\n"
		"let the guest's init run, then the poststart hooks (a failing hook stops the\n"
		"container).\n"
		"\n"
		"Exit status: 0 started; 1 failure (not created, no such container, a hook\n"
		"failed); 2 usage error.\n");
}

int verb_start(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	struct ctr c;
	const char *id;
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (ch != 'h')
			return verb_getopt_error(g, argc, argv);
		verb_start_usage(stdout);
		return 0;
	}
	if ((ch = verb_one_id(g, argc, argv, &id)) != 0)
		return ch;
	r = state_open(g->root, id, &c, &err);
	if (r == 0)
		r = ctr_start(g, &c, &err);
	state_close(&c);
	return r < 0 ? kvrun_fail(g, &err) : 0;
}
