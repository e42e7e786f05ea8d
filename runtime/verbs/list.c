/* list.c - `kvrun list`. */
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void verb_list_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] list [OPTIONS]\n"
		"\n"
		"List the containers under --root.\n"
		"\n"
		"Options:\n"
		"  -f, --format FORMAT   table (default: ID PID STATUS BUNDLE CREATED OWNER) or\n"
		"                        json (an array of states)\n"
		"  -q, --quiet           ids only\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status: 0; 1 failure; 2 usage error.\n");
}

struct row {
	struct ctr c;
	struct oci_state out;
	char owner[64];
};

int verb_list(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	bool quiet = false, json = false;
	char **ids = NULL;
	size_t n = 0, nrows = 0;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:f:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (!strcmp(optarg, "json"))
				json = true;
			else if (strcmp(optarg, "table"))
				return verb_usage_error(g, "--format: \"%s\" is not table or json",
							optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			verb_list_usage(stdout);
			return 0;
		default:
			return verb_getopt_error(g, argc, argv);
		}
	}
	if (optind < argc)
		return verb_usage_error(g, "unexpected argument \"%s\"", argv[optind]);
	if (state_list(g->root, &ids, &n, &err) < 0)
		return kvrun_fail(g, &err);
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		kv_errf(&err, -ENOMEM, "out of memory");
		return kvrun_fail(g, &err);
	}
	for (size_t i = 0; i < n; i++) {
		struct row *w = &rows[nrows];
		struct kv_err e2 = { 0 };
		if (state_open_unlocked(g->root, ids[i], &w->c, &e2) < 0) {
			state_close(&w->c);
			continue; /* deleted meanwhile, or not finished: as runc, skip it */
		}
		enum ctr_status s = ctr_status(&w->c);
		w->out = w->c.st;
		w->out.status = (char *)ctr_status_name(s);
		if (s == CTR_STOPPED)
			w->out.pid = 0;
		struct stat st;
		struct passwd *pw;
		if (fstat(w->c.dir_fd, &st) == 0 && (pw = getpwuid(st.st_uid)))
			snprintf(w->owner, sizeof(w->owner), "%s", pw->pw_name);
		else
			snprintf(w->owner, sizeof(w->owner), "#%u", (unsigned)st.st_uid);
		nrows++;
	}
	int rc = 0;
	if (quiet) {
		for (size_t i = 0; i < nrows; i++)
			printf("%s\n", rows[i].out.id);
	} else if (json) {
		const struct oci_state **v = calloc(nrows ? nrows : 1, sizeof(*v));
		char *out = NULL;
		for (size_t i = 0; v && i < nrows; i++) {
			rows[i].out.owner = rows[i].owner;
			v[i] = &rows[i].out;
		}
		if (!v || oci_state_write_list(v, nrows, &out, &err) < 0)
			rc = kvrun_fail(g, &err);
		else
			printf("%s\n", out);
		free(out);
		free(v);
	} else {
		printf("%-12s%-12s%-12s%-12s%-32s%s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
		       "OWNER");
		for (size_t i = 0; i < nrows; i++) {
			const struct oci_state *s = &rows[i].out;
			printf("%-11s %-11d %-11s %-11s %-31s %s\n", s->id, s->pid, s->status,
			       s->bundle, s->created ? s->created : "", rows[i].owner);
		}
	}
	for (size_t i = 0; i < nrows; i++)
		state_close(&rows[i].c);
	free(rows);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}
