/* settings.h - kvrun's own configuration file and its defaults.
 *
 * Owns: reading the configuration file ($KVRUN_CONFIG, else
 * /etc/kvrun/kvrun.conf; a missing file means the defaults): KEY = VALUE
 * lines, '#' comments. Every key, its default and its meaning is in
 * docs/runtime.md. An unknown key or a bad value is an error naming the
 * file and line. The defaults for the guest image are where `make install`
 * puts it (KVRUN_DATADIR, from meson's prefix and datadir). */
#ifndef KVRUN_RUNTIME_SETTINGS_H
#define KVRUN_RUNTIME_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define SETTINGS_DEFAULT_PATH "/etc/kvrun/kvrun.conf"

struct settings {
	char kernel[4096];    /* guest kernel (ELF vmlinux or bzImage) */
	char initramfs[4096]; /* guest initramfs with kvrun-agent as /init */
	char cmdline[1024];   /* guest kernel command line */
	unsigned cpus;	      /* vCPUs when the config sets no CPU limit */
	unsigned max_cpus;
	uint64_t memory;	  /* guest RAM when the config sets no memory limit */
	uint64_t memory_overhead; /* added to a memory limit: the guest kernel and agent */
	uint64_t min_memory;
	uint64_t vmm_overhead; /* host cgroup memory limit = guest RAM + this */
	unsigned boot_timeout; /* seconds for the guest agent to answer */
	bool console_log; /* the guest's serial console into ROOT/ID/console.log (also --debug) */
	bool hugepages;
	bool vmm_seccomp; /* a seccomp filter per VMM thread (docs/security.md) */
	bool vmm_jail;	  /* the VMM's mount namespace, capabilities dropped */
	char path[4096];  /* the file read, or "" */
};

/* Fill s with the defaults, then apply the file (if it exists). */
int settings_load(struct settings *s, struct kv_err *err);

#endif
