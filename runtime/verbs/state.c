/* state.c - `kvrun state`. */
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void verb_state_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] state ID\n"
		"\n"
		"Print the state of the container ID as runc does: the runtime-spec state\n"
		"(ociVersion, id, status created|running|paused|stopped, pid, bundle,\n"
		"annotations) plus rootfs, created and owner. pid is the VMM process (0 once\n"
		"stopped).\n"
		"\n"
		"Exit status: 0; 1 no such container (\"container does not exist\"); 2 usage.\n");
}

int verb_state(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	struct ctr c;
	const char *id;
	char *json = NULL;
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (ch != 'h')
			return verb_getopt_error(g, argc, argv);
		verb_state_usage(stdout);
		return 0;
	}
	if ((ch = verb_one_id(g, argc, argv, &id)) != 0)
		return ch;
	r = state_open_unlocked(g->root, id, &c, &err);
	if (r == 0) {
		enum ctr_status s = ctr_status(&c);
		struct oci_state out = c.st;
		out.status = (char *)ctr_status_name(s);
		if (s == CTR_CREATING)
			out.status = (char *)"creating";
		if (s == CTR_STOPPED)
			out.pid = 0;
		r = oci_state_write(&out, false, true, &json, &err);
	}
	state_close(&c);
	if (r < 0)
		return kvrun_fail(g, &err);
	printf("%s\n", json);
	free(json);
	return 0;
}
