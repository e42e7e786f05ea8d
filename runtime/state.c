/* state.c - see state.h. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define STATE_JSON_MAX (1u << 20)

int state_validate_id(const char *id, struct kv_err *err)
{
	size_t n = strlen(id);

	if (n == 0)
		return kv_errf(err, -EINVAL, "container id cannot be empty");
	if (n > STATE_ID_MAX || n > 255)
		return kv_errf(err, -EINVAL, "invalid id format: longer than 255 bytes");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return kv_errf(err, -EINVAL, "invalid id format: %s", id);
	for (const char *c = id; *c; c++) {
		bool okc = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			   (*c >= '0' && *c <= '9') || strchr("_+,-.", *c);
		if (!okc)
			return kv_errf(err, -EINVAL, "invalid id format: %s", id);
	}
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

static int open_root(const char *root, bool create, struct kv_err *err)
{
	int r;

	if (!root || root[0] != '/')
		return kv_errf(err, -EINVAL, "--root \"%s\" must be an absolute path",
			       root ? root : "");
	if (create && (r = mkdir_p(root, 0700)) < 0)
		return kv_errno(err, r, "--root %s", root);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kv_errno(err, -errno, "--root %s", root);
	return fd;
}

/* Lock the directory and check it was not removed meanwhile. */
static int lock_dir(struct ctr *c, struct kv_err *err)
{
	struct stat st;

	while (flock(c->dir_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return kv_errno(err, -errno, "locking %s", c->dir);
	if (fstat(c->dir_fd, &st) < 0)
		return kv_errno(err, -errno, "%s", c->dir);
	if (st.st_nlink == 0)
		return kv_errf(err, -ENOENT, "container does not exist");
	return 0;
}

static void ctr_zero(struct ctr *c)
{
	memset(c, 0, sizeof(*c));
	c->dir_fd = -1;
}

static int ctr_init(struct ctr *c, const char *root, const char *id, struct kv_err *err)
{
	c->id = strdup(id);
	if (!c->id || asprintf(&c->dir, "%s/%s", root, id) < 0) {
		c->dir = NULL;
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int state_create(const char *root, const char *id, struct ctr *c, struct kv_err *err)
{
	int r;

	ctr_zero(c);
	if ((r = state_validate_id(id, err)) < 0 || (r = ctr_init(c, root, id, err)) < 0)
		return r;
	cleanup_close int rfd = open_root(root, true, err);
	if (rfd < 0)
		return rfd;
	if (mkdirat(rfd, id, 0711) < 0) {
		if (errno == EEXIST)
			return kv_errf(err, -EEXIST, "container with given ID already exists");
		return kv_errno(err, -errno, "creating %s", c->dir);
	}
	c->dir_fd = openat(rfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (c->dir_fd < 0) {
		r = kv_errno(err, -errno, "%s", c->dir);
		(void)unlinkat(rfd, id, AT_REMOVEDIR);
		return r;
	}
	if ((r = lock_dir(c, err)) < 0) {
		(void)unlinkat(rfd, id, AT_REMOVEDIR);
		return r;
	}
	return 0;
}

int state_read_file(struct ctr *c, const char *name, size_t max, char **buf, size_t *len,
		    struct kv_err *err)
{
	cleanup_close int fd = openat(c->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	*buf = NULL;
	if (fd < 0)
		return kv_errno(err, -errno, "%s/%s", c->dir, name);
	if (fstat(fd, &st) < 0)
		return kv_errno(err, -errno, "%s/%s", c->dir, name);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return kv_errf(err, -EINVAL, "%s/%s: not a regular file of at most %zu bytes",
			       c->dir, name, max);
	char *b = malloc((size_t)st.st_size + 1);
	if (!b)
		return kv_errf(err, -ENOMEM, "out of memory");
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(b);
			return kv_errno(err, e, "%s/%s", c->dir, name);
		}
		if (n == 0 || (got += (size_t)n) == (size_t)st.st_size)
			break;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

static int open_dir(const char *root, const char *id, struct ctr *c, bool lock, struct kv_err *err);

int state_open(const char *root, const char *id, struct ctr *c, struct kv_err *err)
{
	return open_dir(root, id, c, true, err);
}

int state_open_unlocked(const char *root, const char *id, struct ctr *c, struct kv_err *err)
{
	return open_dir(root, id, c, false, err);
}

static int open_dir(const char *root, const char *id, struct ctr *c, bool lock, struct kv_err *err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r;

	ctr_zero(c);
	if ((r = state_validate_id(id, err)) < 0 || (r = ctr_init(c, root, id, err)) < 0)
		return r;
	cleanup_close int rfd = open_root(root, false, err);
	if (rfd < 0)
		return rfd == -ENOENT ? kv_errf(err, -ENOENT, "container does not exist") : rfd;
	c->dir_fd = openat(rfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (c->dir_fd < 0) {
		if (errno == ENOENT)
			return kv_errf(err, -ENOENT, "container does not exist");
		return kv_errno(err, -errno, "%s", c->dir);
	}
	if (lock && (r = lock_dir(c, err)) < 0)
		return r;
	r = state_read_file(c, "state.json", STATE_JSON_MAX, &buf, &len, err);
	if (r == -ENOENT) {
		c->incomplete = true;
		return kv_errf(err, -ENOENT, "container does not exist");
	}
	if (r < 0)
		return r;
	if ((r = oci_state_parse(buf, len, &c->st, err)) < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return kv_errf(err, r, "%s/state.json: %s", c->dir, msg);
	}
	if (strcmp(c->st.id, id) != 0)
		return kv_errf(err, -EINVAL, "%s/state.json is for \"%s\"", c->dir, c->st.id);
	return 0;
}

int state_write_file(struct ctr *c, const char *name, const void *buf, size_t len,
		     struct kv_err *err)
{
	char tmp[300];
	int r;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	cleanup_close int fd =
	    openat(c->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kv_errno(err, -errno, "%s/%s", c->dir, tmp);
	if ((r = write_full(fd, buf, len)) < 0 || (fsync(fd) < 0 && (r = -errno))) {
		(void)unlinkat(c->dir_fd, tmp, 0);
		return kv_errno(err, r, "writing %s/%s", c->dir, tmp);
	}
	if (renameat(c->dir_fd, tmp, c->dir_fd, name) < 0) {
		r = -errno;
		(void)unlinkat(c->dir_fd, tmp, 0);
		return kv_errno(err, r, "renaming %s/%s", c->dir, tmp);
	}
	return 0;
}

int state_save(struct ctr *c, struct kv_err *err)
{
	cleanup_free char *json = NULL;
	int r;

	if ((r = oci_state_write(&c->st, true, false, &json, err)) < 0)
		return r;
	return state_write_file(c, "state.json", json, strlen(json), err);
}

void state_path(const struct ctr *c, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d/%s", c->dir_fd, name);
}

int state_remove(struct ctr *c, struct kv_err *err)
{
	int fd = dup(c->dir_fd);
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return kv_errno(err, -errno, "%s", c->dir);
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(c->dir_fd, e->d_name, 0) < 0 && errno != ENOENT && r == 0)
			r = kv_errno(err, -errno, "removing %s/%s", c->dir, e->d_name);
	closedir(d);
	if (r < 0)
		return r;
	if (rmdir(c->dir) < 0 && errno != ENOENT)
		return kv_errno(err, -errno, "removing %s", c->dir);
	return 0;
}

void state_close(struct ctr *c)
{
	if (c->dir_fd >= 0)
		(void)close(c->dir_fd); /* drops the flock */
	c->dir_fd = -1;
	oci_state_clear(&c->st);
	free(c->id);
	free(c->dir);
	c->id = c->dir = NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const char *root, char ***ids, size_t *n, struct kv_err *err)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : kv_errno(err, -errno, "--root %s", root);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || state_validate_id(e->d_name, NULL) < 0)
			continue;
		char **nv = realloc(v, (cnt + 2) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(e->d_name))) {
			free(nv ? nv : v);
			closedir(d);
			return kv_errf(err, -ENOMEM, "out of memory");
		}
		v = nv;
		v[++cnt] = NULL;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_name);
	*ids = v;
	*n = cnt;
	return 0;
}

int write_pid_file(const char *path, int pid, struct kv_err *err)
{
	cleanup_free char *copy = strdup(path), *copy2 = strdup(path);
	char tmp[4200], num[16];
	int r;

	if (!copy || !copy2)
		return kv_errf(err, -ENOMEM, "out of memory");
	snprintf(tmp, sizeof(tmp), "%s/.%s", dirname(copy), basename(copy2));
	int n = snprintf(num, sizeof(num), "%d", pid);
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kv_errno(err, -errno, "--pid-file %s", tmp);
	if ((r = write_full(fd, num, (size_t)n)) < 0) {
		(void)unlink(tmp);
		return kv_errno(err, r, "--pid-file %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return kv_errno(err, r, "--pid-file %s", path);
	}
	return 0;
}
