/* modules.c - loading the guest's kernel modules with finit_module(2).
 *
 * Owns: reading the module list (format in modlist.h) and loading each
 * module in the listed order. EEXIST (built in, or already loaded) is
 * success; any other failure is logged with the module's path and the
 * errno, and loading goes on: a missing optional module should not keep the
 * agent from reporting what is wrong over vsock. A missing list means a
 * kernel with everything built in. */
#include "agent.h"
#include "cleanup.h"
#include "modlist.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/module.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

/* *what says which step failed: "open" or "finit_module". */
static int load_one(const char *dir, const struct modlist_entry *e, const char **what)
{
	char path[4096];
	int n = e->path[0] == '/' ? snprintf(path, sizeof(path), "%s", e->path)
				  : snprintf(path, sizeof(path), "%s/%s", dir, e->path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	*what = "open";
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*what = "finit_module";
	int flags = e->compressed ? MODULE_INIT_COMPRESSED_FILE : 0;
	if (syscall(SYS_finit_module, fd, e->params, flags) < 0)
		return errno == EEXIST ? 0 : -errno;
	return 0;
}

static char *read_file(const char *path, int *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = -errno;
		return NULL;
	}
	if (st.st_size > (1 << 20)) {
		*err = -EFBIG;
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	int r = read_full(fd, buf, (size_t)st.st_size);
	if (r < 0) {
		free(buf);
		*err = r;
		return NULL;
	}
	buf[st.st_size] = '\0';
	return buf;
}

void modules_load(const char *list)
{
	struct utsname u;
	char dir[512];
	int err = 0;

	cleanup_free char *text = read_file(list, &err);
	if (!text) {
		if (err != -ENOENT)
			alog("module list %s: %s", list, strerror(-err));
		return;
	}
	if (uname(&u) < 0)
		strcpy(u.release, "unknown");
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);

	char *cursor = text;
	struct modlist_entry e;
	unsigned loaded = 0, failed = 0;
	while (modlist_next(&cursor, &e)) {
		const char *what = "";
		int r = load_one(dir, &e, &what);
		if (r < 0) {
			bool finit = !strcmp(what, "finit_module");
			failed++;
			/* finit_module's ENOENT is an unknown symbol, not a missing file. */
			alog("module %s%s%s: %s: %s%s", e.path[0] == '/' ? "" : dir,
			     e.path[0] == '/' ? "" : "/", e.path, what, strerror(-r),
			     finit && r == -ENOENT
				 ? " (unknown symbol: a module it needs is missing from the "
				   "list or comes after it)"
				 : "");
		} else {
			loaded++;
		}
	}
	adebug("modules: %u loaded, %u failed (list %s)", loaded, failed, list);
}
