/* fs-test-util.h - scratch directories for the FUSE server's unit tests.
 *
 * Owns: making a fresh directory under $FS_TEST_DIR (the build dir, set by
 * meson), $TMPDIR or /tmp, writing small files into it, and removing it
 * again. Header-only. */
#ifndef KVRUN_TESTS_FS_TEST_UTIL_H
#define KVRUN_TESTS_FS_TEST_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline const char *ft_base(void)
{
	const char *b = getenv("FS_TEST_DIR");
	if (!b || !*b)
		b = getenv("TMPDIR");
	return b && *b ? b : "/tmp";
}

/* A new empty directory; its path in out (PATH_MAX bytes). */
static inline int ft_mkdtemp(char *out, const char *tag)
{
	snprintf(out, PATH_MAX, "%s/fs-%s.XXXXXX", ft_base(), tag);
	return mkdtemp(out) ? 0 : -1;
}

static inline int ft_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static inline void ft_rmrf(const char *path)
{
	(void)nftw(path, ft_rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

/* path = dir/name, written with content. */
static inline int ft_write(const char *dir, const char *name, const char *content)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
		return -1;
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, content, strlen(content));
	close(fd);
	return n == (ssize_t)strlen(content) ? 0 : -1;
}

static inline char *ft_path(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		buf[0] = 0;
	return buf;
}

#endif
