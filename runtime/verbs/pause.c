/* pause.c - `kvrun pause` and `kvrun resume`: the VM's vCPUs stop and go on,
 * through the VMM process's control socket. */
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void verb_pause_usage(FILE *out)
{
	fprintf(out, "usage: kvrun [GLOBAL OPTIONS] pause ID\n"
		     "\n"
		     "Pause the running container ID: every vCPU of its VM stops (the VMM keeps\n"
		     "its host-side I/O going); the state says paused until `kvrun resume`.\n"
		     "\n"
		     "Exit status: 0; 1 failure (not running, no such container); 2 usage.\n");
}

void verb_resume_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] resume ID\n"
		"\n"
		"Resume the paused container ID: its vCPUs run again; the state says running.\n"
		"\n"
		"Exit status: 0; 1 failure (not paused, no such container); 2 usage.\n");
}

static int pause_resume(struct kvrun *g, int argc, char **argv, bool pause)
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
		(pause ? verb_pause_usage : verb_resume_usage)(stdout);
		return 0;
	}
	if ((ch = verb_one_id(g, argc, argv, &id)) != 0)
		return ch;
	r = state_open(g->root, id, &c, &err);
	if (r == 0) {
		enum ctr_status s = ctr_status(&c);
		if (pause && s != CTR_RUNNING && s != CTR_CREATED)
			r = kv_errf(&err, -EINVAL, "container %s is %s, not running", id,
				    ctr_status_name(s));
		else if (!pause && s != CTR_PAUSED)
			r = kv_errf(&err, -EINVAL, "container %s is %s, not paused", id,
				    ctr_status_name(s));
		else if ((r = ctr_control(&c, pause ? "pause" : "resume", &err)) == 0) {
			const char *next = pause ? "paused" : c.st.started ? "running" : "created";
			free(c.st.status);
			c.st.status = strdup(next);
			r = c.st.status ? state_save(&c, &err)
					: kv_errf(&err, -ENOMEM, "out of memory");
		}
	}
	state_close(&c);
	return r < 0 ? kvrun_fail(g, &err) : 0;
}

int verb_pause(struct kvrun *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, true);
}

int verb_resume(struct kvrun *g, int argc, char **argv)
{
	return pause_resume(g, argc, argv, false);
}
