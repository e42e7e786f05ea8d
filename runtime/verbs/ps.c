/* ps.c - `kvrun ps`: the container's processes as its guest sees them. */
#include "agent-client-oci.h"
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

void verb_ps_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] ps [--format table|json] ID\n"
		"\n"
		"List the processes of container ID, as the guest kernel sees them (guest pids,\n"
		"from the container's cgroup in the guest).\n"
		"\n"
		"Options:\n"
		"  -f, --format FORMAT   table (default: UID PID PPID STAT CMD) or json (the\n"
		"                        pids)\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0; 1 failure (not running, no such container); 2 usage error.\n");
}

int verb_ps(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	struct agent_client *ac = NULL;
	struct agent_dialer d;
	struct kvap_ps ps = { 0 };
	bool json = false, have_ps = false;
	struct ctr c;
	const char *id;
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:f:h", opts, NULL)) != -1) {
		if (ch == 'f') {
			if (!strcmp(optarg, "json"))
				json = true;
			else if (strcmp(optarg, "table"))
				return verb_usage_error(g, "--format: \"%s\" is not table or json",
							optarg);
		} else if (ch == 'h') {
			verb_ps_usage(stdout);
			return 0;
		} else {
			return verb_getopt_error(g, argc, argv);
		}
	}
	if (optind >= argc)
		return verb_usage_error(g, "a container id is required");
	id = argv[optind];
	if (optind + 1 < argc)
		return verb_usage_error(g,
					"ps options (\"%s\") are not supported: the processes "
					"are in the VM",
					argv[optind + 1]);
	r = state_open_unlocked(g->root, id, &c, &err);
	if (r == 0) {
		enum ctr_status s = ctr_status(&c);
		if (s != CTR_RUNNING && s != CTR_CREATED)
			r = kv_errf(&err, -EINVAL, "container %s is %s", id, ctr_status_name(s));
	}
	if (r == 0 && (r = ctr_dialer(&c, 3000, &d, &err)) == 0 &&
	    (r = agent_client_connect(&d, &ac, &err)) == 0 &&
	    (r = (agent_client_features(ac) & KVAP_FEAT_CONTAINER)
		     ? agent_client_ps_container(ac, id, &ps, &err)
		     : agent_client_ps(ac, &ps, &err)) == 0)
		have_ps = true;
	agent_client_free(ac);
	state_close(&c);
	if (r < 0)
		return kvrun_fail(g, &err);
	if (json) {
		uint32_t *pids = calloc(ps.n_procs ? ps.n_procs : 1, sizeof(*pids));
		size_t n = 0;
		char *out = NULL;
		for (uint32_t i = 0; pids && i < ps.n_procs; i++)
			if (ps.procs[i].pid != 1)
				pids[n++] = ps.procs[i].pid;
		if (!pids || oci_pids_write(pids, n, &out, &err) < 0)
			r = kvrun_fail(g, &err);
		else
			printf("%s\n", out);
		free(out);
		free(pids);
	} else {
		printf("%-8s %7s %7s %-4s %s\n", "UID", "PID", "PPID", "STAT", "CMD");
		for (uint32_t i = 0; i < ps.n_procs; i++) {
			const struct kvap_proc *p = &ps.procs[i];
			if (p->pid == 1)
				continue;
			printf("%-8u %7u %7u %-4c", p->uid, p->pid, p->ppid,
			       p->state ? p->state : '?');
			for (uint32_t k = 0; k < p->n_cmdline; k++)
				printf(" %s", p->cmdline[k]);
			printf("\n");
		}
	}
	if (have_ps)
		kvap_free_ps_reply(&ps);
	return r;
}
