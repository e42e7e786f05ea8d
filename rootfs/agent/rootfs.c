/* rootfs.c - the container's root, set up by its init before it runs.
 *
 * Owns: what the init's child does in its new mount namespace, in this
 * order: the host and domain name, the sysctls (through the agent's /proc,
 * in the container's new net/ipc namespaces), the root's propagation, the
 * container root bound onto itself (so it is a mount pivot_root accepts),
 * the spec's mounts inside it (proc, sysfs, tmpfs, devpts, mqueue, cgroup,
 * and bind mounts of guest paths or of paths inside a virtio-fs share, of
 * directories and single files, with their flags and propagation; devpts
 * is the VM's own instance, bound), the
 * default devices and the spec's devices in a fresh /dev, /dev/console for
 * a terminal, masked and read-only paths, pivot_root (or MS_MOVE + chroot
 * with no_pivot) and a read-only root. Every path inside the root is
 * resolved beneath it (inroot.h). Runs in a forked copy of the agent. */
#include "agent.h"
#include "child.h"
#include "cleanup.h"
#include "inroot.h"
#include "mountopt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct rctx {
	const struct child_cfg *cfg;
	const struct container *ct;
	int rootfd; /* O_PATH, the root of the container's root mount */
	char *msg;
	size_t cap;
};

__attribute__((format(printf, 3, 4))) static int fail(struct rctx *c, int e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->msg, c->cap, fmt, ap);
	va_end(ap);
	if (e && n >= 0 && (size_t)n < c->cap)
		snprintf(c->msg + n, c->cap - (size_t)n, ": %s", strerror(-e));
	return e ? e : -EINVAL;
}

static int set_names_and_sysctls(struct rctx *c)
{
	const struct kvap_create *s = &c->ct->spec;
	char path[PATH_MAX];

	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return fail(c, -errno, "sethostname %s", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return fail(c, -errno, "setdomainname %s", s->domainname);
	for (uint32_t i = 0; i < s->n_sysctls; i++) {
		const struct kvap_keyval *kv = &s->sysctls[i];
		int n = snprintf(path, sizeof(path), "/proc/sys/%s", kv->key);
		if (n < 0 || (size_t)n >= sizeof(path))
			return fail(c, -ENAMETOOLONG, "sysctl %s", kv->key);
		for (char *p = path + 10; *p; p++)
			*p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
		cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(c, -errno, "sysctl %s (%s)", kv->key, path);
		size_t len = strlen(kv->value);
		if (write(fd, kv->value, len) != (ssize_t)len)
			return fail(c, -errno, "sysctl %s = '%s'", kv->key, kv->value);
	}
	return 0;
}

static unsigned long propagation(const char *name)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} t[] = {
		{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
		{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
		{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};

	if (!name || !*name)
		return MS_SLAVE | MS_REC;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, name))
			return t[i].flags;
	return 0;
}

/* The container root as a mount of its own, opened into c->rootfd. */
static int bind_root(struct rctx *c)
{
	const struct container *ct = c->ct;
	unsigned long prop = propagation(ct->spec.rootfs_propagation);

	if (!prop)
		return fail(c, 0, "rootfs propagation '%s' is unknown",
			    ct->spec.rootfs_propagation);
	/* Nothing of the container's mounts may reach the VM's namespace, and
	 * pivot_root wants no shared mount around: a shared root propagation
	 * is applied after it (switch_root), as runc does. */
	if (mount(NULL, "/", NULL, (prop & MS_SHARED) ? (MS_SLAVE | MS_REC) : prop, NULL) < 0)
		return fail(c, -errno, "making / %s", ct->spec.rootfs_propagation ?: "rslave");
	if (mount(ct->root, ct->mnt, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(c, -errno, "binding the container root %s on %s", ct->root, ct->mnt);
	c->rootfd = open(ct->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->rootfd < 0)
		return fail(c, -errno, "opening the container root %s", ct->mnt);
	return 0;
}

static bool is_cgroup(const char *type)
{
	return type && (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2"));
}

/* The source of a bind mount: inside a virtio-fs share, or a guest path. */
static int bind_source(struct rctx *c, const struct kvap_mount *m)
{
	char dir[PATH_MAX];

	if (!m->source || !*m->source)
		return fail(c, -EINVAL, "bind mount on %s has no source", m->destination);
	if (!m->source_tag) {
		int fd = open(m->source, O_PATH | O_CLOEXEC);
		return fd < 0 ? fail(c, -errno, "bind source %s", m->source) : fd;
	}
	snprintf(dir, sizeof(dir), "%s/fs/%s", c->cfg->run_dir, m->source_tag);
	cleanup_close int tag = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tag < 0)
		return fail(c, -errno, "virtio-fs share %s (%s)", m->source_tag, dir);
	int fd = inroot_open(tag, m->source, 0);
	if (fd < 0)
		return fail(c, fd, "bind source %s in virtio-fs share %s", m->source,
			    m->source_tag);
	return fd;
}

static int mount_entry(struct rctx *c, const struct kvap_mount *m)
{
	char src[64], dst[64];
	const char *type = m->type, *source = m->source;
	struct mountopt o;
	struct stat st = { .st_mode = S_IFDIR };
	cleanup_close int sfd = -1;
	int r;

	if (!m->destination || m->destination[0] != '/')
		return fail(c, 0, "mount destination '%s' is not absolute",
			    m->destination ? m->destination : "");
	if ((r = mountopt_parse(m->options, m->n_options, &o)) < 0)
		return fail(c, r, "mount %s", m->destination);
	cleanup_free char *data = o.data;
	if (type && !strcmp(type, "bind"))
		o.flags |= MS_BIND;
	if (is_cgroup(type)) {
		if (c->ct->cg && !(c->ct->unshare & CLONE_NEWCGROUP)) {
			/* No cgroup namespace: show the container's own cgroup. */
			if ((sfd = open(c->ct->cg, O_PATH | O_CLOEXEC)) < 0)
				return fail(c, -errno, "the container's cgroup %s", c->ct->cg);
			o.flags |= MS_BIND | MS_REC;
		} else {
			type = "cgroup2";
			source = "cgroup2";
		}
	} else if (o.flags & MS_BIND) {
		if ((sfd = bind_source(c, m)) < 0)
			return sfd;
	} else if (type && !strcmp(type, "devpts")) {
		/* The VM holds this one container: its terminals (the init's
		 * and exec's, ptys of the VM's devpts) must have names in it,
		 * so the container gets that instance (mounted as the spec's
		 * default asks: newinstance, ptmxmode 0666, mode 0620, gid 5). */
		if ((sfd = open("/dev/pts", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return fail(c, -errno, "the VM's /dev/pts for %s", m->destination);
		o.flags |= MS_BIND;
	}
	if (sfd >= 0) {
		if (fstat(sfd, &st) < 0)
			return fail(c, -errno, "bind source %s", m->source);
		fd_path(sfd, src, sizeof(src));
		source = src;
		type = NULL;
	}
	int tfd = inroot_mkpath(c->rootfd, m->destination, !S_ISDIR(st.st_mode),
				S_ISDIR(st.st_mode) ? 0755 : 0644);
	if (tfd < 0)
		return fail(c, tfd, "creating the mount point %s", m->destination);
	fd_path(tfd, dst, sizeof(dst));
	unsigned long flags = o.flags & ~((o.flags & MS_BIND) ? MS_RDONLY : 0ul);
	r = mount(source, dst, type, flags, (*data && !(o.flags & MS_BIND)) ? data : NULL);
	r = r < 0 ? -errno : 0;
	close(tfd);
	if (r < 0)
		return fail(c, r, "mount %s on %s (%s)", m->source ? m->source : "none",
			    m->destination, type ? type : "bind");
	if (!(o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) && !o.propagation)
		return 0;
	/* The new mount: bind flags and propagation are set on it. */
	if ((tfd = inroot_open(c->rootfd, m->destination, 0)) < 0)
		return fail(c, tfd, "reopening %s", m->destination);
	fd_path(tfd, dst, sizeof(dst));
	r = 0;
	if ((o.flags & MS_BIND) && (o.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) &&
	    mount(NULL, dst, NULL, (o.flags & ~MS_REC) | MS_REMOUNT, NULL) < 0)
		r = fail(c, -errno, "remounting %s with its options", m->destination);
	else if (o.propagation && mount(NULL, dst, NULL, o.propagation, NULL) < 0)
		r = fail(c, -errno, "setting the propagation of %s", m->destination);
	close(tfd);
	return r;
}

struct devnode {
	const char *path;
	mode_t type;
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* What runc creates in every container's /dev. */
static const struct devnode default_devices[] = {
	{ "/dev/null", S_IFCHR, 1, 3, 0666, 0, 0 },    { "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0 },
	{ "/dev/full", S_IFCHR, 1, 7, 0666, 0, 0 },    { "/dev/random", S_IFCHR, 1, 8, 0666, 0, 0 },
	{ "/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0 }, { "/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0 },
};

static int make_node(struct rctx *c, const struct devnode *d)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(d->path, '/');

	if (d->path[0] != '/' || !slash || !slash[1] || strlen(d->path) >= sizeof(dir))
		return fail(c, 0, "device path '%s' is not an absolute file name", d->path);
	memcpy(dir, d->path, (size_t)(slash - d->path));
	dir[slash - d->path] = '\0';
	cleanup_close int dfd = inroot_mkpath(c->rootfd, *dir ? dir : "/", false, 0755);
	if (dfd < 0)
		return fail(c, dfd, "creating %s", *dir ? dir : "/");
	/* An O_PATH directory fd works with the *at calls. */
	(void)unlinkat(dfd, slash + 1, 0);
	if (mknodat(dfd, slash + 1, d->type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
		return fail(c, -errno, "mknod %s", d->path);
	if ((d->uid || d->gid) && fchownat(dfd, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, -errno, "chown %s", d->path);
	return 0;
}

static bool spec_has_device(const struct kvap_create *s, const char *path)
{
	for (uint32_t i = 0; i < s->n_devices; i++)
		if (!strcmp(s->devices[i].path, path))
			return true;
	return false;
}

/* The pty slave on /dev/console. A bind source must be a mount of this
 * namespace, and the slave was opened in the agent's: open it again by
 * its name here (the same device, checked). */
static int bind_console(struct rctx *c)
{
	char link[64], name[PATH_MAX], src[64], dst[64];
	struct stat a, b;

	fd_path(c->cfg->tty, link, sizeof(link));
	ssize_t n = readlink(link, name, sizeof(name) - 1);
	if (n <= 0)
		return fail(c, -errno, "the terminal's name");
	name[n] = '\0';
	cleanup_close int tty = open(name, O_PATH | O_CLOEXEC);
	if (tty < 0 || fstat(tty, &a) < 0 || fstat(c->cfg->tty, &b) < 0)
		return fail(c, -errno, "the terminal %s", name);
	if (a.st_rdev != b.st_rdev)
		return fail(c, -ENXIO, "the terminal %s is another device", name);
	cleanup_close int t = inroot_mkpath(c->rootfd, "/dev/console", true, 0600);
	if (t < 0)
		return fail(c, t, "creating /dev/console");
	fd_path(tty, src, sizeof(src));
	fd_path(t, dst, sizeof(dst));
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return fail(c, -errno, "binding the terminal %s on /dev/console", name);
	return 0;
}

static int make_devices(struct rctx *c)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },	 { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	const struct kvap_create *s = &c->ct->spec;
	int r;

	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
		if (!spec_has_device(s, default_devices[i].path) &&
		    (r = make_node(c, &default_devices[i])) < 0)
			return r;
	for (uint32_t i = 0; i < s->n_devices; i++) {
		const struct kvap_device *d = &s->devices[i];
		mode_t type = d->type == 'b'			 ? S_IFBLK
			      : d->type == 'c' || d->type == 'u' ? S_IFCHR
			      : d->type == 'p'			 ? S_IFIFO
								 : 0;
		if (!type)
			return fail(c, 0, "device %s: unknown type '%c'", d->path, d->type);
		struct devnode n = {
			d->path, type,	d->major, d->minor, d->file_mode ? d->file_mode : 0666,
			d->uid,	 d->gid
		};
		if ((r = make_node(c, &n)) < 0)
			return r;
	}
	cleanup_close int dev = inroot_mkpath(c->rootfd, "/dev", false, 0755);
	if (dev < 0)
		return fail(c, dev, "/dev");
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		(void)unlinkat(dev, links[i][1], 0);
		if (symlinkat(links[i][0], dev, links[i][1]) < 0)
			return fail(c, -errno, "symlink /dev/%s", links[i][1]);
	}
	if (c->cfg->tty >= 0)
		return bind_console(c);
	return 0;
}

static int mask_paths(struct rctx *c)
{
	const struct kvap_create *s = &c->ct->spec;
	char p[64], null[64];
	cleanup_close int devnull = open("/dev/null", O_PATH | O_CLOEXEC);
	struct stat st;

	if (devnull < 0)
		return fail(c, -errno, "/dev/null");
	fd_path(devnull, null, sizeof(null));
	for (uint32_t i = 0; i < s->n_masked_paths; i++) {
		const char *path = s->masked_paths[i];
		cleanup_close int fd = inroot_open(c->rootfd, path, 0);
		if (fd == -ENOENT)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0)
			return fail(c, fd < 0 ? fd : -errno, "masked path %s", path);
		fd_path(fd, p, sizeof(p));
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL)
					    : mount(null, p, NULL, MS_BIND, NULL);
		if (r < 0)
			return fail(c, -errno, "masking %s", path);
	}
	for (uint32_t i = 0; i < s->n_readonly_paths; i++) {
		const char *path = s->readonly_paths[i];
		struct statvfs sv;
		int fd = inroot_open(c->rootfd, path, 0);
		if (fd == -ENOENT)
			continue;
		if (fd < 0)
			return fail(c, fd, "read-only path %s", path);
		fd_path(fd, p, sizeof(p));
		int r = mount(p, p, NULL, MS_BIND | MS_REC, NULL);
		close(fd);
		if (r < 0)
			return fail(c, -errno, "binding the read-only path %s", path);
		if ((fd = inroot_open(c->rootfd, path, 0)) < 0)
			return fail(c, fd, "read-only path %s", path);
		fd_path(fd, p, sizeof(p));
		unsigned long keep = statvfs(p, &sv) == 0
					 ? sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC |
							MS_NOATIME | MS_NODIRATIME | MS_RELATIME)
					 : 0;
		r = mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL);
		close(fd);
		if (r < 0)
			return fail(c, -errno, "making %s read-only", path);
	}
	return 0;
}

static int switch_root(struct rctx *c)
{
	const struct kvap_create *s = &c->ct->spec;

	if (fchdir(c->rootfd) < 0)
		return fail(c, -errno, "chdir to the container root");
	if (s->no_pivot) {
		char p[64];
		fd_path(c->rootfd, p, sizeof(p));
		if (mount(p, "/", NULL, MS_MOVE, NULL) < 0)
			return fail(c, -errno, "moving the container root over /");
		if (chroot(".") < 0)
			return fail(c, -errno, "chroot into the container root");
	} else {
		cleanup_close int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (old < 0)
			return fail(c, -errno, "opening /");
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return fail(c, -errno, "pivot_root into the container root");
		/* The old root sits on top of the new one: detach it. */
		if (fchdir(old) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
		    umount2(".", MNT_DETACH) < 0)
			return fail(c, -errno, "detaching the old root");
	}
	if (chdir("/") < 0)
		return fail(c, -errno, "chdir /");
	unsigned long prop = propagation(s->rootfs_propagation);
	if ((prop & MS_SHARED) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return fail(c, -errno, "making the root %s", s->rootfs_propagation);
	if (s->readonly_rootfs &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
		struct statvfs sv;
		unsigned long keep =
		    statvfs("/", &sv) == 0 ? sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC) : 0;
		if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, NULL) < 0)
			return fail(c, -errno, "making the root read-only");
	}
	return 0;
}

int rootfs_setup(const struct child_cfg *cfg, char *msg, size_t cap)
{
	struct rctx c = { .cfg = cfg, .ct = cfg->ct, .rootfd = -1, .msg = msg, .cap = cap };
	const struct kvap_create *s = &c.ct->spec;
	mode_t old = umask(0);
	int r;

	if ((r = set_names_and_sysctls(&c)) < 0 || (r = bind_root(&c)) < 0)
		goto out;
	for (uint32_t i = 0; i < s->n_mounts; i++)
		if ((r = mount_entry(&c, &s->mounts[i])) < 0)
			goto out;
	if ((c.ct->setup_dev && (r = make_devices(&c)) < 0) || (r = mask_paths(&c)) < 0)
		goto out;
	r = switch_root(&c);
out:
	if (c.rootfd >= 0)
		close(c.rootfd);
	umask(old);
	return r;
}
