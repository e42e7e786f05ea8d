/* inroot.h - paths inside a directory tree that someone else controls.
 *
 * Owns: resolving a path as if a directory were "/" (openat2 with
 * RESOLVE_IN_ROOT: "..", absolute symlinks and mount crossings stay inside)
 * and creating what is missing on the way, for the mounts, devices and
 * masked paths of a container root (rootfs.c) and the bind sources inside a
 * virtio-fs share. The descriptors are O_PATH; mount(2) takes them as
 * /proc/self/fd/N. Implemented in mount.c. */
#ifndef KVRUN_AGENT_INROOT_H
#define KVRUN_AGENT_INROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* An O_PATH fd of path beneath rootfd (flags: extra O_* such as
 * O_DIRECTORY or O_NOFOLLOW), or a negative errno. */
int inroot_open(int rootfd, const char *path, int flags);

/* Like inroot_open, creating missing directories on the way, and the last
 * component as a directory (or an empty file when `file`) with mode. */
int inroot_mkpath(int rootfd, const char *path, bool file, mode_t mode);

/* "/proc/self/fd/<fd>" into buf. */
void fd_path(int fd, char *buf, size_t cap);

#endif
