/* hooks.h - OCI hooks, run on the host.
 *
 * Owns: running one kind of hook (prestart, createRuntime, ...) in order:
 * each hook is its own process (a new session, close-on-exec for all but
 * 0-2) with the container state JSON on stdin, its args and env (no env
 * given: ours), and its stdout and stderr captured (the first 4 KiB of
 * each go into the error message). A hook that exits non-zero, dies from a
 * signal or outlives its timeout (then SIGKILLed) fails the whole kind.
 * Where each kind runs in the lifecycle is in docs/runtime.md. */
#ifndef KVRUN_RUNTIME_HOOKS_H
#define KVRUN_RUNTIME_HOOKS_H

#include "err.h"
#include "oci.h"

int hooks_run(const struct oci_config *cfg, enum oci_hook_kind kind, const char *state_json,
	      struct kv_err *err);

#endif
