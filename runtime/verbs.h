/* verbs.h - the kvrun command table's entries.
 *
 * Owns: the signature every verb implements. A verb gets argv with argv[0]
 * set to its own name, prints its own errors ("kvrun VERB: ...") once, and
 * returns the process exit status. Each verb lives in its own file. */
#ifndef KVRUN_RUNTIME_VERBS_H
#define KVRUN_RUNTIME_VERBS_H

#include <stdio.h>

/* Exit status for a usage error, shared by every verb. */
#define KVRUN_EXIT_USAGE 2

struct verb {
	const char *name;
	const char *summary; /* one line for `kvrun --help` */
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out); /* `kvrun VERB --help` */
};

int verb_vm(int argc, char **argv);
void verb_vm_usage(FILE *out);

#endif
