/* jail.c - the VMM's private mount namespace (vmm_jail, jail_trim).
 *
 * Owns: building the view a VMM process has of the file system, and
 * closing the descriptors it does not need. The process unshares its mount
 * namespace (mounts propagate in from the host, never out), clones what
 * set-up needs with open_tree() while the host's tree is still visible,
 * mounts a tmpfs as the new root and attaches each clone at its own path
 * there (nosuid, noexec, and nodev except for device nodes; read-only where
 * the VM only reads), mounts a procfs that shows only processes
 * (subset=pid, hidepid=invisible), and pivots into it; the host's root is
 * detached. Mount points are created only inside the tmpfs (openat2 with
 * RESOLVE_NO_XDEV): a path below a directory already bound is seen through
 * that directory, and nothing is ever created on the host. After set-up,
 * jail_trim() unmounts what only set-up needed and makes the root
 * read-only: what stays is /proc, the vsock socket's directory, each
 * virtio-fs share with the mounts beneath it, and the caller's directories
 * (docs/security.md). */
#include "sandbox.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_BINDS 64

enum bind_kind { B_FILE, B_DIR };

struct bind {
	char path[PATH_MAX]; /* absolute, normalized: where it appears in the jail */
	char raw[PATH_MAX];  /* absolute as given, ".." and all */
	const char *src;     /* as the caller gave it (relative to the old cwd) */
	enum bind_kind kind;
	bool rw, device, setup_only;
	int fd; /* the clone, from open_tree */
};

static struct bind binds[MAX_BINDS];
static unsigned nbinds;
static bool active, want_ptmx;

bool jail_active(void)
{
	return active;
}

/* Lexically: "a/./b//c/../d" -> "/CWD/a/b/d". */
static int normalize(const char *cwd, const char *p, char *out, size_t cap)
{
	char tmp[PATH_MAX * 2];
	size_t n = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/%s", p[0] == '/' ? "" : cwd, p) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	out[0] = 0;
	for (char *save = NULL, *c = strtok_r(tmp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			char *slash = strrchr(out, '/');
			n = slash ? (size_t)(slash - out) : 0;
			out[n] = 0;
			continue;
		}
		size_t k = strlen(c);
		if (n + 1 + k + 1 > cap)
			return -ENAMETOOLONG;
		out[n++] = '/';
		memcpy(out + n, c, k + 1);
		n += k;
	}
	if (!n) {
		out[0] = '/';
		out[1] = 0;
	}
	return 0;
}

static int add_bind(const char *cwd, const char *src, bool rw, bool setup_only, struct kv_err *err)
{
	struct bind *b;
	struct stat st;

	if (!src || !*src)
		return 0;
	if (nbinds == MAX_BINDS)
		return kv_errf(err, -E2BIG, "jail: more than %d paths", MAX_BINDS);
	/* Missing: set-up will say so in its own words (no kernel, no
	 * /dev/kvm, ...); there is nothing to bind. */
	if (stat(src, &st) < 0)
		return 0;
	b = &binds[nbinds];
	*b = (struct bind){ .src = src, .rw = rw, .setup_only = setup_only, .fd = -1 };
	if (normalize(cwd, src, b->path, sizeof(b->path)) < 0 ||
	    snprintf(b->raw, sizeof(b->raw), "%s/%s", src[0] == '/' ? "" : cwd, src) >=
		(int)sizeof(b->raw))
		return kv_errf(err, -ENAMETOOLONG, "jail: path too long: %s", src);
	if (!strcmp(b->path, "/"))
		return kv_errf(err, -EINVAL, "jail: refusing to bind the whole root (%s)", src);
	/* /proc/self/fd/N/...: reached through the jail's own /proc, by the
	 * descriptor (the runtime's state directory). */
	if (!strcmp(b->path, "/proc") || !strncmp(b->path, "/proc/", 6))
		return 0;
	b->kind = S_ISDIR(st.st_mode) ? B_DIR : B_FILE;
	/* Device nodes, and directories of them (devpts), keep their dev. */
	b->device = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || !strncmp(b->path, "/dev/", 5);
	for (unsigned i = 0; i < nbinds; i++) {
		if (!strcmp(binds[i].path, b->path)) {
			/* The same path twice: the wider access wins. */
			binds[i].rw |= rw;
			binds[i].setup_only &= setup_only;
			return 0;
		}
	}
	nbinds++;
	return 0;
}

/* The directory a file will be created in at set-up (a console file), or
 * the file when it exists already. */
static int add_created_file(const char *cwd, const char *path, bool setup_only, struct kv_err *err)
{
	char dir[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == 0)
		return add_bind(cwd, path, true, setup_only, err);
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return add_bind(cwd, ".", true, setup_only, err);
	if (slash == dir)
		slash[1] = 0;
	else
		*slash = 0;
	/* Kept by address: the caller's string is not, so copy it; freed
	 * when not kept (the same directory twice, e.g. the serial console's
	 * and the vsock socket's). */
	char *copy = strdup(dir);
	if (!copy)
		return kv_errf(err, -ENOMEM, "out of memory");
	unsigned before = nbinds;
	int r = add_bind(cwd, copy, true, setup_only, err);
	if (nbinds == before)
		free(copy);
	return r;
}

static int add_chardev(const char *cwd, const struct vmm_chardev *c, struct kv_err *err)
{
	int r = 0;

	if (c->kind == VMM_CHR_FILE)
		r = add_created_file(cwd, c->path, true, err);
	else if (c->kind == VMM_CHR_PTY) {
		/* /dev/ptmx as a link to pts/ptmx: a bind of the ptmx node alone
		 * would not find its devpts instance next to it. */
		want_ptmx = true;
		r = add_bind(cwd, "/dev/pts", true, true, err);
	}
	return r;
}

/* Each virtio-fs share, for the whole run, with the mounts beneath it (a
 * container's rootfs with its volumes bound into it): cloned recursively.
 * Given through /proc (a descriptor's magic link) it could not be attached
 * at its own path in the jail, and a missing share would be a silently
 * empty one: both are refused here. */
static int add_shares(const struct vmm_config *cfg, const char *cwd, struct kv_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	for (unsigned i = 0; i < cfg->nfs; i++) {
		const char *src = cfg->fs[i].path;
		if (!src || !*src)
			continue;
		if (stat(src, &st) < 0)
			return kv_errno(err, -errno, "jail: virtio-fs share %s", src);
		if (!S_ISDIR(st.st_mode))
			return kv_errf(err, -ENOTDIR, "jail: virtio-fs share %s: not a directory",
				       src);
		if (normalize(cwd, src, path, sizeof(path)) < 0)
			return kv_errf(err, -ENAMETOOLONG, "jail: path too long: %s", src);
		if (!strcmp(path, "/proc") || !strncmp(path, "/proc/", 6))
			return kv_errf(err, -EINVAL,
				       "jail: virtio-fs share %s: give it by a path outside /proc",
				       src);
		if ((r = add_bind(cwd, src, !cfg->fs[i].readonly, false, err)) < 0)
			return r;
	}
	return 0;
}

/* A path below a directory bound too is seen through that directory (and
 * gets no mount of its own): the directory must then stay as long as, and
 * be as writable as, anything below it. Lexically, as the mount points are
 * made. binds[] sorted by depth. */
static void cover_nested(void)
{
	for (unsigned i = 0; i < nbinds; i++) {
		size_t n = strlen(binds[i].path);
		if (binds[i].kind != B_DIR)
			continue;
		for (unsigned j = i + 1; j < nbinds; j++) {
			if (strncmp(binds[j].path, binds[i].path, n) != 0 ||
			    binds[j].path[n] != '/')
				continue;
			binds[i].setup_only &= binds[j].setup_only;
			binds[i].rw |= binds[j].rw;
			binds[i].device |= binds[j].device;
		}
	}
}

static int collect(const struct vmm_config *cfg, const char *cwd, const char *const *extra,
		   struct kv_err *err)
{
	int r;

	if ((r = add_bind(cwd, "/dev/kvm", true, true, err)) < 0 ||
	    (r = add_bind(cwd, cfg->kernel, false, true, err)) < 0 ||
	    (r = add_bind(cwd, cfg->initrd, false, true, err)) < 0 ||
	    (r = add_chardev(cwd, &cfg->console, err)) < 0 ||
	    (r = add_chardev(cwd, &cfg->serial, err)) < 0)
		return r;
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if ((r = add_bind(cwd, cfg->disks[i].path, !cfg->disks[i].readonly, true, err)) < 0)
			return r;
	for (unsigned i = 0; i < cfg->nnets; i++)
		if (cfg->nets[i].tap && (r = add_bind(cwd, "/dev/net/tun", true, true, err)) < 0)
			return r;
	/* The vsock socket's directory: bound at set-up, and at run time the
	 * guest's connections go to "<socket>_<port>" next to it. */
	if (cfg->vsock.guest_cid && cfg->vsock.uds_path &&
	    (r = add_created_file(cwd, cfg->vsock.uds_path, false, err)) < 0)
		return r;
	if ((r = add_shares(cfg, cwd, err)) < 0)
		return r;
	for (; extra && *extra; extra++)
		if ((r = add_bind(cwd, *extra, true, false, err)) < 0)
			return r;
	return 0;
}

/* Shallower paths first: a path below a directory bound already is seen
 * through it and needs no mount of its own. */
static int by_depth(const void *a, const void *b)
{
	const struct bind *x = a, *y = b;
	unsigned dx = 0, dy = 0;

	for (const char *p = x->path; *p; p++)
		dx += *p == '/';
	for (const char *p = y->path; *p; p++)
		dy += *p == '/';
	return dx != dy ? (int)dx - (int)dy : strcmp(x->path, y->path);
}

static int openat2_in(int dirfd, const char *name, int flags)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
				.resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH };
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* mkdir -p of the absolute path p inside the tmpfs at root; stops quietly
 * where p enters another mount (it exists there already). */
static void mkdirs_in(int root, const char *p)
{
	char path[PATH_MAX];
	int dir = dup(root);

	snprintf(path, sizeof(path), "%s", p);
	for (char *save = NULL, *c = strtok_r(path, "/", &save); c && dir >= 0;
	     c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (mkdirat(dir, c, 0755) < 0 && errno != EEXIST)
			break;
		int sub = openat2_in(dir, c, O_PATH | O_DIRECTORY);
		close(dir);
		dir = sub;
	}
	if (dir >= 0)
		close(dir);
}

/* A path given with ".." (kernel/../vmlinux) is resolved by the kernel
 * component by component: the directories before each ".." must exist in
 * the jail too, or the path does not resolve. */
static void make_dotdot_dirs(int root, const char *raw)
{
	char prefix[PATH_MAX];
	const char *p = raw;

	while ((p = strstr(p, "/..")) && (p[3] == '/' || !p[3])) {
		size_t n = (size_t)(p - raw);
		if (n && n < sizeof(prefix)) {
			memcpy(prefix, raw, n);
			prefix[n] = 0;
			char norm[PATH_MAX];
			/* The directory the kernel will be in: lexically normalized
			 * up to there (earlier ".." included). */
			if (normalize("/", prefix, norm, sizeof(norm)) == 0)
				mkdirs_in(root, norm);
		}
		p += 3;
	}
}

/* Walk b->path from the jail root, creating directories (and the final
 * mount point) inside the tmpfs. 1 when the path lies below another
 * mount (skip it), 0 when the mount point is ready: the component *leaf
 * of the directory *parent. */
static int make_mountpoint(int root, const struct bind *b, int *parent, const char **leaf)
{
	char path[PATH_MAX];
	int dir = dup(root), r;

	if (dir < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s", b->path + 1);
	char *save = NULL, *c = strtok_r(path, "/", &save);
	while (c) {
		char *next = strtok_r(NULL, "/", &save);
		if (!next) {
			/* The mount point itself. */
			if (b->kind == B_DIR)
				r = mkdirat(dir, c, 0755) < 0 && errno != EEXIST ? -errno : 0;
			else
				r = mknodat(dir, c, S_IFREG | 0600, 0) < 0 && errno != EEXIST
					? -errno
					: 0;
			if (r == 0) {
				int fd = openat2_in(dir, c, O_PATH);
				if (fd == -EXDEV)
					r = 1;
				else if (fd < 0)
					r = fd;
				else
					close(fd);
			}
			if (r != 0) {
				close(dir);
				return r;
			}
			*parent = dir;
			*leaf = b->path + (c - path) + 1;
			return 0;
		}
		if (mkdirat(dir, c, 0755) < 0 && errno != EEXIST) {
			r = -errno;
			close(dir);
			return r;
		}
		int sub = openat2_in(dir, c, O_PATH | O_DIRECTORY);
		close(dir);
		if (sub == -EXDEV)
			return 1; /* below a bound directory */
		if (sub < 0)
			return sub;
		dir = sub;
		c = next;
	}
	close(dir);
	return -EINVAL;
}

static int attach(int root, struct bind *b, struct kv_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
	const char *leaf = NULL;
	int parent = -1, r;

	if (!b->device)
		attr.attr_set |= MOUNT_ATTR_NODEV;
	if (!b->rw)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	r = make_mountpoint(root, b, &parent, &leaf);
	if (r == 1) {
		b->setup_only = false; /* nothing of its own to unmount */
		return 0;
	}
	if (r < 0)
		return kv_errno(err, r, "jail: mount point for %s", b->path);
	if (syscall(SYS_mount_setattr, b->fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
		    sizeof(attr)) < 0 ||
	    syscall(SYS_move_mount, b->fd, "", parent, leaf, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = kv_errno(err, -errno, "jail: binding %s", b->src);
	close(parent);
	return r;
}

static void close_others(const int *keep, unsigned nkeep)
{
	unsigned from = 3;

	/* keep[] in any order: close the gaps between the kept ones. */
	for (;;) {
		unsigned next = ~0u;
		for (unsigned i = 0; i < nkeep; i++)
			if (keep[i] >= (int)from && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next > from)
			(void)close_range(from, next == ~0u ? ~0u : next - 1, 0);
		if (next == ~0u)
			return;
		from = next + 1;
	}
}

int vmm_jail(const struct vmm_config *cfg, const char *const *extra_dirs, const int *keep_fds,
	     unsigned nkeep, struct kv_err *err)
{
	char cwd[PATH_MAX];
	int r, root = -1;

	if (active)
		return kv_errf(err, -EALREADY, "jail: already in one");
	if (!getcwd(cwd, sizeof(cwd)))
		return kv_errno(err, -errno, "jail: getcwd");
	nbinds = 0;
	want_ptmx = false;
	if ((r = collect(cfg, cwd, extra_dirs, err)) < 0)
		return r;
	qsort(binds, nbinds, sizeof(binds[0]), by_depth);
	cover_nested();
	close_others(keep_fds, nkeep);

	if (unshare(CLONE_NEWNS) < 0)
		return kv_errno(err, -errno, "jail: unshare(CLONE_NEWNS)");
	/* Host mounts and unmounts still reach us; ours never reach the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return kv_errno(err, -errno, "jail: making / a slave mount");
	for (unsigned i = 0; i < nbinds; i++) {
		struct bind *b = &binds[i];
		b->fd = (int)syscall(SYS_open_tree, AT_FDCWD, b->src,
				     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					 (b->kind == B_DIR ? AT_RECURSIVE : 0));
		if (b->fd < 0) {
			r = kv_errno(err, -errno, "jail: cloning %s", b->src);
			goto out;
		}
	}
	/* The new root: a tmpfs mounted over /proc (which every system has),
	 * so that no directory on the host is needed as a mount point. */
	if (mount("kvrun-jail", "/proc", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0755,size=1m,nr_inodes=4096") < 0) {
		r = kv_errno(err, -errno, "jail: mounting the root tmpfs");
		goto out;
	}
	root = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || fchdir(root) < 0) {
		r = kv_errno(err, -errno, "jail: entering the root tmpfs");
		goto out;
	}
	for (unsigned i = 0; i < nbinds; i++)
		if ((r = attach(root, &binds[i], err)) < 0)
			goto out;
	for (unsigned i = 0; i < nbinds; i++)
		make_dotdot_dirs(root, binds[i].raw);
	if (want_ptmx) {
		mkdirs_in(root, "/dev");
		if (symlinkat("pts/ptmx", root, "dev/ptmx") < 0 && errno != EEXIST) {
			r = kv_errno(err, -errno, "jail: /dev/ptmx");
			goto out;
		}
	}
	/* Relative paths keep working: the same working directory. */
	mkdirs_in(root, cwd);
	if (mkdirat(root, "proc", 0555) < 0 ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "hidepid=invisible,subset=pid") < 0) {
		r = kv_errno(err, -errno, "jail: mounting /proc");
		goto out;
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		r = kv_errno(err, -errno, "jail: pivot_root");
		goto out;
	}
	/* The old root is stacked on top of the new one at "/": detach it. */
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
		r = kv_errno(err, -errno, "jail: detaching the host's root");
		goto out;
	}
	if (chdir(cwd) < 0) {
		r = kv_errno(err, -errno, "jail: working directory %s", cwd);
		goto out;
	}
	active = true;
	r = 0;
out:
	if (root >= 0)
		close(root);
	for (unsigned i = 0; i < nbinds; i++) {
		if (binds[i].fd >= 0)
			close(binds[i].fd);
		binds[i].fd = -1;
	}
	return r;
}

int jail_trim(struct kv_err *err)
{
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

	if (!active)
		return 0;
	/* Deepest first; the mount points go too, so not even the names of
	 * the kernel, initrd or disks stay. */
	for (unsigned i = nbinds; i-- > 0;) {
		if (!binds[i].setup_only || umount2(binds[i].path, MNT_DETACH) < 0)
			continue;
		if (binds[i].kind == B_DIR)
			(void)rmdir(binds[i].path);
		else
			(void)unlink(binds[i].path);
	}
	if (syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &ro, sizeof(ro)) < 0)
		return kv_errno(err, -errno, "jail: making the root read-only");
	return 0;
}
