/* main.c - the kvrun binary: global options and the command table.
 *
 * Owns: dispatching `kvrun VERB ...` to the verb's function (one row per
 * verb below), `kvrun --help`, `kvrun help VERB`, `kvrun --version`. */
#include "util.h"
#include "verbs.h"

#include <string.h>

#ifndef KVRUN_VERSION
#define KVRUN_VERSION "unknown"
#endif

static const struct verb verbs[] = {
	{ "vm", "boot a kernel in a micro-VM directly (the VMM's own front end)", verb_vm,
	  verb_vm_usage },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: kvrun [--help] [--version] VERB [ARGS...]\n\n"
		     "kvrun runs OCI containers, each in its own KVM micro-VM.\n\nVerbs:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\nRun `kvrun VERB --help` for a verb's options and exit statuses.\n");
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		usage(stderr);
		return KVRUN_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kvrun %s\n", KVRUN_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		v = find_verb(argv[2]);
		if (!v) {
			fprintf(stderr, "kvrun: unknown verb \"%s\" (see kvrun --help)\n", argv[2]);
			return KVRUN_EXIT_USAGE;
		}
		v->usage(stdout);
		return 0;
	}
	v = find_verb(argv[1]);
	if (!v) {
		fprintf(stderr, "kvrun: unknown verb \"%s\" (see kvrun --help)\n", argv[1]);
		return KVRUN_EXIT_USAGE;
	}
	return v->run(argc - 1, argv + 1);
}
