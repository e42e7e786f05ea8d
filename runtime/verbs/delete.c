/* delete.c - `kvrun delete`. */
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

void verb_delete_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] delete [--force] ID\n"
		"\n"
		"Delete the container ID: its VMM process (a created container's too), its host\n"
		"cgroup and its state directory, then run the poststop hooks. A running or\n"
		"paused container needs --force (it is killed first). A VMM that died (even by\n"
		"SIGKILL) leaves state that delete removes completely.\n"
		"\n"
		"Options:\n"
		"  -f, --force  kill a running container first; no error when ID does not exist\n"
		"  -h, --help   this text\n"
		"\n"
		"Exit status: 0 deleted; 1 failure; 2 usage error.\n");
}

int verb_delete(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	bool force = false;
	struct ctr c;
	const char *id;
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:fh", opts, NULL)) != -1) {
		if (ch == 'f') {
			force = true;
		} else if (ch == 'h') {
			verb_delete_usage(stdout);
			return 0;
		} else {
			return verb_getopt_error(g, argc, argv);
		}
	}
	if ((ch = verb_one_id(g, argc, argv, &id)) != 0)
		return ch;
	r = state_open(g->root, id, &c, &err);
	if (r == -ENOENT && c.incomplete) {
		/* A directory without state.json: a create that died half-way. */
		r = state_remove(&c, &err);
	} else if (r == -ENOENT && force) {
		r = 0;
	} else if (r == 0) {
		enum ctr_status s = ctr_status(&c);
		if ((s == CTR_RUNNING || s == CTR_PAUSED) && !force)
			r = kv_errf(&err, -EBUSY,
				    "cannot delete container %s that is not stopped: %s (use "
				    "--force)",
				    id, ctr_status_name(s));
		else
			r = ctr_destroy(g, &c, &err);
	}
	state_close(&c);
	return r < 0 ? kvrun_fail(g, &err) : 0;
}
