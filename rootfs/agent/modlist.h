/* modlist.h - parsing the kernel module list the image builder writes.
 *
 * Owns: the format of /lib/modules/load.list. One module per line, already
 * in dependency order (the builder runs modprobe --show-depends):
 *
 *   # comment
 *   kernel/net/vmw_vsock/vsock.ko
 *   kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko.xz
 *   kernel/fs/fuse/virtiofs.ko  some_param=1 other=2
 *
 * A path is relative to /lib/modules/$(uname -r) unless it starts with '/';
 * anything after the first run of blanks is the module's parameter string.
 * Blank lines and lines starting with '#' are skipped. Pure parsing, no I/O,
 * so the unit tests cover it. */
#ifndef KVRUN_AGENT_MODLIST_H
#define KVRUN_AGENT_MODLIST_H

#include <stdbool.h>

struct modlist_entry {
	const char *path;   /* NUL-terminated in the caller's buffer */
	const char *params; /* "" when none */
	bool compressed;    /* .ko.xz, .ko.gz or .ko.zst: the kernel decompresses */
};

/* Parse the next entry from *cursor (a NUL-terminated buffer this function
 * writes NULs into) and advance it. Returns 1 with *e filled, 0 at the end. */
int modlist_next(char **cursor, struct modlist_entry *e);

#endif
