/* virtiofs.c - what the agent adjusts on a virtio-fs mount it makes.
 *
 * Owns: the read-ahead of virtio-fs mounts. Linux gives a FUSE mount the
 * default 128 KiB read-ahead whatever the server's max_write, so sequential
 * reads went to the host in 128 KiB requests; kvrun's device takes 1 MiB
 * (docs/virtio-fs.md). After mounting a virtio-fs tag (MOUNT_FS, a CREATE
 * root, a spec mount of type virtiofs) the agent sets the mount's
 * read_ahead_kb in sysfs to that size, as 9p does to its msize by itself.
 * Best effort: without /sys (--no-init on the host) nothing changes. */
#include "agent.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define VIRTIOFS_READ_AHEAD_KB "1024"

void virtiofs_tune(const char *target)
{
	struct stat st;
	char path[96];

	if (stat(target, &st) < 0)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, VIRTIOFS_READ_AHEAD_KB, strlen(VIRTIOFS_READ_AHEAD_KB)) < 0)
		alog("%s: cannot set read_ahead_kb: %m", target);
	close(fd);
}
