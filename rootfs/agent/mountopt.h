/* mountopt.h - OCI mount options to mount(2) arguments.
 *
 * Owns: splitting an OCI-style option list ("ro", "nosuid", "bind",
 * "mode=755", ...) into MS_* flags, propagation flags, and the data string
 * the filesystem parses. Pure: no I/O, covered by unit tests. */
#ifndef KVRUN_AGENT_MOUNTOPT_H
#define KVRUN_AGENT_MOUNTOPT_H

#include <stddef.h>
#include <stdint.h>

struct mountopt {
	unsigned long flags;	   /* MS_RDONLY, MS_NOSUID, MS_BIND, MS_REC, ... */
	unsigned long propagation; /* MS_PRIVATE, MS_SHARED, ... (| MS_REC), 0 for none */
	char *data;		   /* malloc'd, comma-joined; "" when none */
};

/* Returns 0, or -ENOMEM. The caller frees o->data. */
int mountopt_parse(char *const *opts, uint32_t n, struct mountopt *o);

#endif
