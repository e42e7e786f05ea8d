/* vm-opts.h - `kvrun vm`'s command line into a struct vmm_config.
 *
 * Owns: the verb's limits and defaults, and parsing and validating every
 * option (each message names the option and the bad value) into the VMM's
 * config and the verb's own options (struct vm_opts). vm.c runs the VM. */
#ifndef KVRUN_RUNTIME_VM_OPTS_H
#define KVRUN_RUNTIME_VM_OPTS_H

#include "vm-exec.h"
#include "vmm.h"

#include <stdbool.h>

#define DEFAULT_MEMORY (512 * MiB)
#define MAX_MEMORY     (1024 * GiB)

#define VSOCK_CID_MIN	      3u
#define VSOCK_CID_MAX	      0xfffffffeu
#define VSOCK_PATH_MAX	      96 /* docs/vsock.md: "<path>_4294967295" must fit sun_path */
#define DEFAULT_AGENT_TIMEOUT 60 /* seconds */

/* What parse_args gives besides the VMM config. */
struct vm_opts {
	char **exec_argv;			 /* --exec -- CMD...: NULL-terminated, or NULL */
	struct vm_exec_mount mounts[VMM_MAX_FS]; /* --fs ...,mount=DIR */
	unsigned nmounts;
	unsigned agent_timeout_s;
	bool serial_set;
	const char *netns; /* --net netns=PATH */
	bool jail;	   /* --jail (default on) */
};

/* Fill cfg and vo from argv (argv[0] is "vm"). 0: run; 1: --help was asked
 * for; -EINVAL: a usage error, already printed on stderr. */
int vm_parse_args(int argc, char **argv, struct vmm_config *cfg, struct vm_opts *vo);

#endif
