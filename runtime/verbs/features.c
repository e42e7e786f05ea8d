/* features.c - `kvrun features`. */
#include "oci-state.h"
#include "sandbox.h"
#include "verbs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef KVRUN_VERSION
#define KVRUN_VERSION "unknown"
#endif

void verb_features_usage(FILE *out)
{
	fprintf(out, "usage: kvrun [GLOBAL OPTIONS] features\n"
		     "\n"
		     "Print the runtime-spec features document: what this kvrun really applies\n"
		     "(hooks, mount options, namespaces, capabilities, cgroup v1/v2, seccomp) and\n"
		     "the io.kvrun.* annotations it reads.\n"
		     "\n"
		     "Exit status: 0; 2 usage error.\n");
}

int verb_features(struct kvrun *g, int argc, char **argv)
{
	static const char *const anns[] = { ANN_CPUS,	   ANN_MEMORY, ANN_KERNEL,
					    ANN_INITRAMFS, ANN_ROOTFS, NULL };
	struct oci_features_info fi = {
		/* What this tree's guest agent (KVAP 1.1) applies; an older guest image
		 * gets a warning per member at create (docs/runtime.md). */
		.seccomp = true,
		.guest_cgroups = true,
		.version = KVRUN_VERSION,
		.annotations = anns,
	};
	struct kv_err err = { 0 };
	char *out = NULL;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		verb_features_usage(stdout);
		return 0;
	}
	if (argc > 1)
		return verb_usage_error(g, "unexpected argument \"%s\"", argv[1]);
	if (oci_features_write(&fi, &out, &err) < 0)
		return kvrun_fail(g, &err);
	printf("%s\n", out);
	free(out);
	return 0;
}
