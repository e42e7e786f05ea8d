/* verbs.h - the kvrun command table's entries.
 *
 * Owns: the signature every verb implements. A verb gets the global
 * options and argv with argv[0] set to its own name, prints its own errors
 * ("kvrun VERB: ...") once, and returns the process exit status. Each verb
 * lives in its own file (runtime/verbs/, and runtime/vm.c for `vm`). */
#ifndef KVRUN_RUNTIME_VERBS_H
#define KVRUN_RUNTIME_VERBS_H

#include <stdio.h>

#include "kvrun.h"

/* Exit status for a usage error, shared by every verb. */
#define KVRUN_EXIT_USAGE 2

struct verb {
	const char *name;
	const char *summary; /* one line for `kvrun --help` */
	int (*run)(struct kvrun *g, int argc, char **argv);
	void (*usage)(FILE *out); /* `kvrun VERB --help` */
};

/* `kvrun vm` takes no global options. */
int verb_vm(int argc, char **argv);
void verb_vm_usage(FILE *out);

#define KVRUN_VERB(name)                                                                           \
	int verb_##name(struct kvrun *g, int argc, char **argv);                                   \
	void verb_##name##_usage(FILE *out)

KVRUN_VERB(create);
KVRUN_VERB(start);
KVRUN_VERB(run);
KVRUN_VERB(state);
KVRUN_VERB(kill);
KVRUN_VERB(delete);
KVRUN_VERB(exec);
KVRUN_VERB(ps);
KVRUN_VERB(list);
KVRUN_VERB(pause);
KVRUN_VERB(resume);
KVRUN_VERB(update);
KVRUN_VERB(events);
KVRUN_VERB(features);
KVRUN_VERB(spec);
KVRUN_VERB(checkpoint);
KVRUN_VERB(restore);

/* Helpers for the verbs (verbs/common.c). */

/* "kvrun VERB: MSG (see kvrun VERB --help)"; returns KVRUN_EXIT_USAGE. */
__attribute__((format(printf, 2, 3))) int verb_usage_error(struct kvrun *g, const char *fmt, ...);
/* getopt_long's error for argv[optind - 1]. */
int verb_getopt_error(struct kvrun *g, int argc, char **argv);
/* Exactly one positional argument, the container id, at argv[optind]. */
int verb_one_id(struct kvrun *g, int argc, char **argv, const char **id);

#endif
