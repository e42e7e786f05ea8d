/* Unit tests for the FUSE server (vmm/virtio/fs_server*.c): a hostile guest.
 *
 * Escapes through "..", through absolute and relative symlinks (made by the
 * host and by the guest) and through rename races: one thread swaps a
 * directory with a symlink to a directory outside the share (on the host,
 * and through the server with RENAME2 EXCHANGE) while another looks up and
 * reads through it; a bind mount inside the share (in a private mount
 * namespace); the descriptor limit (the server's own cap and the kernel's
 * RLIMIT_NOFILE) giving EMFILE; the node and handle table limits; every
 * opcode with an unknown nodeid, short arguments and junk; double and
 * oversized FORGETs; DESTROY racing requests on other threads. Whatever
 * the guest sends, nothing outside the share is read or changed, and every
 * request gets a well-formed reply (or none, for FORGET and INTERRUPT). */
#include "fs-test-util.h"
#include "fuse-driver.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>

static char root[PATH_MAX], share[PATH_MAX], outside[PATH_MAX];
static struct fs_server *srv;
static struct drv d;
static ino_t inside_ino, outside_ino;

static void make_tree(void)
{
	char p[PATH_MAX];
	struct stat st;

	ft_mkdtemp(root, "hostile");
	mkdir(ft_path(share, root, "share"), 0755);
	mkdir(ft_path(outside, root, "outside"), 0755);
	ft_write(outside, "file", "OUTSIDE");
	stat(ft_path(p, outside, "file"), &st);
	outside_ino = st.st_ino;
	mkdir(ft_path(p, share, "d"), 0755);
	ft_write(p, "file", "inside!");
	stat(ft_path(p, share, "d/file"), &st);
	inside_ino = st.st_ino;
	symlink(outside, ft_path(p, share, "s"));
	symlink("../outside", ft_path(p, share, "rel"));
	symlink("/", ft_path(p, share, "slash"));
}

static bool outside_intact(void)
{
	char p[PATH_MAX], buf[32];
	int fd = open(ft_path(p, outside, "file"), O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd >= 0)
		close(fd);
	int entries = 0;
	DIR *dir = opendir(outside);
	while (dir && readdir(dir))
		entries++;
	if (dir)
		closedir(dir);
	return n == 7 && !memcmp(buf, "OUTSIDE", 7) && entries == 3;
}

static int call_name(uint32_t op, uint64_t parent, const void *fixed, size_t flen, const char *n1,
		     const char *n2)
{
	struct drv_args a;
	uint8_t out[256];
	size_t n = 0;

	da_reset(&a);
	da_put(&a, fixed, flen);
	da_str(&a, n1);
	if (n2)
		da_str(&a, n2);
	return drv_call(&d, op, parent, a.b, a.n, out, sizeof(out), &n);
}

static void test_names(void)
{
	static const char *bad[] = { "..", ".", "a/b", "/etc", "../outside", "" };
	struct fuse_mkdir_in mk = { .mode = 0755 };
	struct fuse_mknod_in mn = { .mode = S_IFIFO | 0644 };
	struct fuse_create_in cr = { .flags = O_RDWR, .mode = S_IFREG | 0644 };
	struct fuse_rename_in rn = { .newdir = FUSE_ROOT_ID };
	struct fuse_link_in li;
	struct fuse_entry_out e = { 0 };
	int fails = 0;

	drv_lookup(&d, FUSE_ROOT_ID, "d", &e);
	li.oldnodeid = e.nodeid;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *b = bad[i];
		int r[9] = {
			call_name(FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, b, NULL),
			call_name(FUSE_MKDIR, FUSE_ROOT_ID, &mk, sizeof(mk), b, NULL),
			call_name(FUSE_MKNOD, FUSE_ROOT_ID, &mn, sizeof(mn), b, NULL),
			call_name(FUSE_CREATE, FUSE_ROOT_ID, &cr, sizeof(cr), b, NULL),
			call_name(FUSE_SYMLINK, FUSE_ROOT_ID, NULL, 0, b, "x"),
			call_name(FUSE_LINK, FUSE_ROOT_ID, &li, sizeof(li), b, NULL),
			call_name(FUSE_UNLINK, FUSE_ROOT_ID, NULL, 0, b, NULL),
			call_name(FUSE_RENAME, FUSE_ROOT_ID, &rn, sizeof(rn), "d", b),
			call_name(FUSE_RENAME, FUSE_ROOT_ID, &rn, sizeof(rn), b, "x"),
		};
		for (int k = 0; k < 9; k++)
			if (r[k] != -EINVAL) {
				diag("name \"%s\", op %d: %d", b, k, r[k]);
				fails++;
			}
	}
	ok(fails == 0, "6 bad names x 9 name-taking ops: all EINVAL");
	drv_forget(&d, e.nodeid, 1);
	ok(outside_intact(), "outside the share: untouched");
}

static void test_symlink_escapes(void)
{
	struct fuse_entry_out e = { 0 };
	struct fuse_mkdir_in mk = { .mode = 0755 };
	struct fuse_create_in cr = { .flags = O_RDWR, .mode = S_IFREG | 0644 };
	uint64_t fh = 0;

	static const char *links[] = { "s", "rel", "slash" };
	for (int i = 0; i < 3; i++) {
		ok(drv_lookup(&d, FUSE_ROOT_ID, links[i], &e) == 0 && S_ISLNK(e.attr.mode),
		   "LOOKUP %s: the symlink itself", links[i]);
		ok(drv_lookup(&d, e.nodeid, "file", NULL) == -ENOTDIR &&
		       call_name(FUSE_MKDIR, e.nodeid, &mk, sizeof(mk), "new", NULL) == -ENOTDIR &&
		       call_name(FUSE_CREATE, e.nodeid, &cr, sizeof(cr), "new", NULL) == -ENOTDIR &&
		       drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fh, NULL) == -ELOOP &&
		       drv_open(&d, FUSE_OPENDIR, e.nodeid, O_RDONLY, &fh, NULL) == -ENOTDIR,
		   "%s: LOOKUP, MKDIR, CREATE under it ENOTDIR; OPEN ELOOP; OPENDIR ENOTDIR",
		   links[i]);
		struct fuse_setattr_in sa = { .valid = FATTR_SIZE, .size = 0 };
		struct fuse_attr_out ao;
		size_t n = 0;
		ok(drv_call(&d, FUSE_SETATTR, e.nodeid, &sa, sizeof(sa), &ao, sizeof(ao), &n) ==
		       -EINVAL,
		   "%s: SETATTR size (truncate) EINVAL, nothing followed", links[i]);
		drv_forget(&d, e.nodeid, 1);
	}
	/* A symlink the guest makes itself, pointing out. */
	ok(call_name(FUSE_SYMLINK, FUSE_ROOT_ID, NULL, 0, "gs", "../../../../../../etc") == 0,
	   "the guest makes gs -> ../../../../../../etc");
	drv_lookup(&d, FUSE_ROOT_ID, "gs", &e);
	ok(drv_lookup(&d, e.nodeid, "passwd", NULL) == -ENOTDIR, "gs/passwd: ENOTDIR");
	struct fuse_link_in li = { .oldnodeid = e.nodeid };
	ok(call_name(FUSE_LINK, FUSE_ROOT_ID, &li, sizeof(li), "gs2", NULL) == 0,
	   "LINK gs -> gs2 (links the symlink itself)");
	struct stat st;
	char p[PATH_MAX];
	ok(lstat(ft_path(p, share, "gs2"), &st) == 0 && S_ISLNK(st.st_mode), "gs2 is a symlink");
	drv_forget(&d, e.nodeid, 3); /* SYMLINK, LOOKUP and LINK each counted one */
	ok(outside_intact(), "outside the share: untouched");
}

/* ---- rename races --------------------------------------------------------- */

static atomic_bool stop;

static void *host_swapper(void *opaque)
{
	char a[PATH_MAX], b[PATH_MAX];
	ft_path(a, share, "d");
	ft_path(b, share, "s");
	while (!atomic_load(&stop))
		(void)renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
	return NULL;
}

static void *guest_swapper(void *opaque)
{
	struct drv g;
	struct fuse_rename2_in in = { .newdir = FUSE_ROOT_ID, .flags = RENAME_EXCHANGE };
	struct drv_args a;

	drv_init(&g, srv);
	da_reset(&a);
	da_put(&a, &in, sizeof(in));
	da_str(&a, "d");
	da_str(&a, "s");
	while (!atomic_load(&stop))
		(void)drv_call(&g, FUSE_RENAME2, FUSE_ROOT_ID, a.b, a.n, NULL, 0, NULL);
	return NULL;
}

struct race_result {
	int inside, refused, outside;
};

static void *racer(void *opaque)
{
	struct race_result *res = opaque;
	struct drv g;

	drv_init(&g, srv);
	for (int i = 0; i < 2000; i++) {
		struct fuse_entry_out dir = { 0 }, f = { 0 };
		char buf[16];
		size_t n = 0;
		uint64_t fh = 0;
		if (drv_lookup(&g, FUSE_ROOT_ID, "d", &dir) != 0) {
			res->refused++;
			continue;
		}
		int r = drv_lookup(&g, dir.nodeid, "file", &f);
		if (r == 0) {
			if (f.attr.ino == outside_ino)
				res->outside++;
			if (drv_open(&g, FUSE_OPEN, f.nodeid, O_RDONLY, &fh, NULL) == 0) {
				if (drv_read(&g, f.nodeid, fh, 0, 16, buf, &n) == 0 && n == 7 &&
				    !memcmp(buf, "OUTSIDE", 7))
					res->outside++;
				else
					res->inside++;
				drv_release(&g, FUSE_RELEASE, f.nodeid, fh);
			}
			drv_forget(&g, f.nodeid, 1);
		} else {
			res->refused++;
		}
		drv_forget(&g, dir.nodeid, 1);
	}
	return NULL;
}

static void race(void *(*swapper)(void *), const char *who)
{
	pthread_t sw, rc[2];
	struct race_result res[2] = { { 0 } };

	atomic_store(&stop, false);
	pthread_create(&sw, NULL, swapper, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&rc[i], NULL, racer, &res[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(rc[i], NULL);
	atomic_store(&stop, true);
	pthread_join(sw, NULL);
	int in = res[0].inside + res[1].inside, out = res[0].outside + res[1].outside;
	int ref = res[0].refused + res[1].refused;
	diag("%s: %d reads inside, %d refused (ENOTDIR), %d outside", who, in, ref, out);
	ok(out == 0 && in > 0, "%s swaps d <-> s (-> outside) during 4000 lookups: none outside",
	   who);
	/* Put d back where it was. */
	struct stat st;
	char p[PATH_MAX];
	if (lstat(ft_path(p, share, "d"), &st) == 0 && S_ISLNK(st.st_mode)) {
		char q[PATH_MAX];
		renameat2(AT_FDCWD, p, AT_FDCWD, ft_path(q, share, "s"), RENAME_EXCHANGE);
	}
}

/* ---- a bind mount inside the share, in a private mount namespace ------------ */

static int bind_child(void)
{
	char mnt[PATH_MAX];
	struct fs_server *s;
	struct kv_err err;
	struct fuse_entry_out e = { 0 }, f = { 0 };
	int bits = 0;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 0x80;
	mkdir(ft_path(mnt, share, "mnt"), 0755);
	if (mount(outside, mnt, NULL, MS_BIND, NULL) < 0)
		return 0x80;
	struct fs_server_config c = { .path = share };
	if (fs_server_create(&c, &s, &err) < 0)
		return 0x80;
	drv_init(&d, s);
	drv_fuse_init(&d, 0xffffffff, NULL);
	if (drv_lookup(&d, FUSE_ROOT_ID, "mnt", &e) == -EXDEV)
		bits |= 1; /* strict: the mount point is not crossed */
	fs_server_destroy(s);
	c.cross_mounts = true;
	if (fs_server_create(&c, &s, &err) < 0)
		return 0x80;
	drv_init(&d, s);
	drv_fuse_init(&d, 0xffffffff, NULL);
	if (drv_lookup(&d, FUSE_ROOT_ID, "mnt", &e) == 0 &&
	    drv_lookup(&d, e.nodeid, "file", &f) == 0 && f.attr.ino == outside_ino)
		bits |= 2; /* cross_mounts: what the host mounted there is served */
	if (drv_lookup(&d, e.nodeid, "..", NULL) == -EINVAL)
		bits |= 4; /* and ".." from it is refused, never resolved */
	fs_server_destroy(s);
	umount(mnt);
	return bits;
}

static void test_bind_mount(void)
{
	int st;
	pid_t pid = fork();
	if (pid == 0)
		_exit(bind_child());
	waitpid(pid, &st, 0);
	int bits = WIFEXITED(st) ? WEXITSTATUS(st) : 0x80;
	ok(!(bits & 0x80), "a private mount namespace with a bind mount of outside/ at share/mnt");
	ok(bits & 1, "default: LOOKUP of the mount point is EXDEV");
	ok(bits & 2, "cross_mounts: the bind-mounted directory is served");
	ok(bits & 4, "cross_mounts: LOOKUP .. from it is EINVAL");
	char p[PATH_MAX];
	rmdir(ft_path(p, share, "mnt"));
}

/* ---- limits --------------------------------------------------------------- */

static int many_lookups(struct drv *g, int count, uint64_t *nodes, int *first_err)
{
	int got = 0;
	*first_err = 0;
	for (int i = 0; i < count; i++) {
		char name[32];
		struct fuse_entry_out e = { 0 };
		snprintf(name, sizeof(name), "f%04d", i);
		int r = drv_lookup(g, FUSE_ROOT_ID, name, &e);
		if (r == 0)
			nodes[got++] = e.nodeid;
		else if (!*first_err)
			*first_err = r;
	}
	return got;
}

static void test_limits(void)
{
	char many[PATH_MAX];
	struct fs_server_config c = { 0 };
	struct fs_server *s;
	struct kv_err err;
	struct drv g;
	static uint64_t nodes[400];
	int first;

	mkdir(ft_path(many, root, "many"), 0755);
	for (int i = 0; i < 400; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%04d", i);
		ft_write(many, name, "x");
	}
	c.path = many;

	/* The node table. */
	c.max_inodes = 8;
	c.max_handles = 3;
	fs_server_create(&c, &s, &err);
	drv_init(&g, s);
	drv_fuse_init(&g, 0xffffffff, NULL);
	int got = many_lookups(&g, 20, nodes, &first);
	ok(got == 8 && first == -ENFILE, "max_inodes 8: 8 nodes, then ENFILE");
	drv_forget(&g, nodes[0], 1);
	struct fuse_entry_out e = { 0 };
	ok(drv_lookup(&g, FUSE_ROOT_ID, "f0399", &e) == 0, "after one FORGET, a LOOKUP again");
	uint64_t fh[4];
	int opened = 0, err4 = 0;
	for (int i = 0; i < 4; i++) {
		int r = drv_open(&g, FUSE_OPEN, nodes[1 + i], O_RDONLY, &fh[i], NULL);
		opened += r == 0;
		if (r)
			err4 = r;
	}
	ok(opened == 3 && err4 == -ENFILE, "max_handles 3: the 4th OPEN gets ENFILE");
	fs_server_destroy(s);

	/* The server's own descriptor cap, from RLIMIT_NOFILE at create: in a
	 * child, since a lowered hard limit may not come back (CAP_SYS_RESOURCE). */
	struct rlimit old, lim;
	getrlimit(RLIMIT_NOFILE, &old);
	pid_t pid = fork();
	if (pid == 0) {
		int bits = 0;
		lim.rlim_cur = lim.rlim_max = 256;
		c.max_inodes = c.max_handles = 0;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0 || fs_server_create(&c, &s, &err) < 0)
			_exit(0x80);
		drv_init(&g, s);
		drv_fuse_init(&g, 0xffffffff, NULL);
		got = many_lookups(&g, 400, nodes, &first);
		if (got == 224 && first == -EMFILE)
			bits |= 1;
		if (drv_getattr(&g, FUSE_ROOT_ID, NULL) == 0)
			bits |= 2;
		for (int i = 0; i < got; i++)
			drv_forget(&g, nodes[i], 1);
		if (drv_lookup(&g, FUSE_ROOT_ID, "f0001", &e) == 0)
			bits |= 4;
		fs_server_destroy(s);
		_exit(bits);
	}
	int st;
	waitpid(pid, &st, 0);
	int bits = WIFEXITED(st) ? WEXITSTATUS(st) : 0x80;
	ok(bits & 1, "RLIMIT_NOFILE 256: 224 nodes (an eighth kept for the VMM), then EMFILE");
	ok(bits & 2, "GETATTR still works at the cap");
	ok(bits & 4, "after FORGETs, LOOKUP works again");

	/* The kernel's limit, lowered under a running server. */
	c.max_inodes = c.max_handles = 0;
	fs_server_create(&c, &s, &err);
	drv_init(&g, s);
	drv_fuse_init(&g, 0xffffffff, NULL);
	int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
	close(probe);
	lim.rlim_cur = (rlim_t)probe + 20;
	lim.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_NOFILE, &lim);
	got = many_lookups(&g, 100, nodes, &first);
	uint64_t dfh = 0;
	ok(got >= 10 && got <= 20 && first == -EMFILE,
	   "RLIMIT_NOFILE lowered under the server: EMFILE from the kernel, passed on");
	ok(drv_open(&g, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &dfh, NULL) == -EMFILE,
	   "OPENDIR with no descriptor left: EMFILE");
	for (int i = 0; i < got; i++)
		drv_forget(&g, nodes[i], 1);
	setrlimit(RLIMIT_NOFILE, &old);
	ok(drv_open(&g, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &dfh, NULL) == 0,
	   "limit restored: OPENDIR works");
	fs_server_destroy(s);
	ft_rmrf(many);
}

/* ---- garbage -------------------------------------------------------------- */

static void test_garbage(void)
{
	uint8_t args[600], out[512];
	size_t n = 0;
	int bad = 0, calls = 0;
	unsigned seed = 1;

	for (uint32_t op = 0; op <= 60; op++) {
		if (op == FUSE_INIT || op == FUSE_DESTROY)
			continue;
		for (int round = 0; round < 40; round++) {
			size_t len = (size_t)(rand_r(&seed) % (int)sizeof(args));
			for (size_t i = 0; i < len; i++)
				args[i] = (uint8_t)rand_r(&seed);
			if (round & 1)
				memset(args, 0, len < 64 ? len : 64);
			uint64_t node = round % 3 == 0	 ? 0xdeadbeef00000005ULL
					: round % 3 == 1 ? FUSE_ROOT_ID
							 : (uint64_t)rand_r(&seed);
			int e = drv_call(&d, op, node, args, len, out, sizeof(out), &n);
			calls++;
			bool noreply =
			    op == FUSE_FORGET || op == FUSE_BATCH_FORGET || op == FUSE_INTERRUPT;
			if (noreply ? (d.reply_len != 0 || d.ret != 0) : (e == 1 || d.ret != 0))
				bad++;
		}
	}
	ok(bad == 0, "%d requests with junk arguments and nodeids: well-formed replies", calls);
	/* Fixed arguments one byte short. */
	static const uint32_t fixed[] = { FUSE_GETATTR,	  FUSE_SETATTR,
					  FUSE_MKNOD,	  FUSE_MKDIR,
					  FUSE_RENAME,	  FUSE_LINK,
					  FUSE_OPEN,	  FUSE_READ,
					  FUSE_WRITE,	  FUSE_RELEASE,
					  FUSE_FSYNC,	  FUSE_GETXATTR,
					  FUSE_FLUSH,	  FUSE_OPENDIR,
					  FUSE_GETLK,	  FUSE_SETLK,
					  FUSE_ACCESS,	  FUSE_CREATE,
					  FUSE_FALLOCATE, FUSE_RENAME2,
					  FUSE_LSEEK,	  FUSE_COPY_FILE_RANGE,
					  FUSE_SYNCFS };
	static const uint32_t sizes[] = { 16, 88, 16, 8,  8, 8,	 8,  40, 40, 24, 16, 8,
					  24, 8,  48, 48, 8, 16, 32, 16, 24, 56, 8 };
	int short_ok = 0;
	memset(args, 0, sizeof(args));
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		short_ok += drv_call(&d, fixed[i], FUSE_ROOT_ID, args, sizes[i] - 1, out,
				     sizeof(out), &n) == -EINVAL;
	ok(short_ok == 23, "23 opcodes with their fixed arguments one byte short: EINVAL");
	/* FORGET abuse. */
	struct fuse_entry_out e = { 0 };
	drv_lookup(&d, FUSE_ROOT_ID, "d", &e);
	drv_forget(&d, e.nodeid, UINT64_MAX);
	drv_forget(&d, e.nodeid, UINT64_MAX);
	drv_forget(&d, FUSE_ROOT_ID, UINT64_MAX);
	ok(drv_getattr(&d, e.nodeid, NULL) == -ESTALE && drv_getattr(&d, FUSE_ROOT_ID, NULL) == 0,
	   "FORGET 2^64-1 twice: gone; FORGET of the root: ignored");
	ok(outside_intact(), "outside the share: untouched");
}

/* Requests on several threads while DESTROY and INIT come and go. */
static void *churn(void *opaque)
{
	struct drv g;
	int *errs = opaque;

	drv_init(&g, srv);
	for (int i = 0; i < 300; i++) {
		struct fuse_entry_out e = { 0 }, f = { 0 };
		uint64_t fh = 0;
		char buf[16];
		size_t n = 0;
		if (drv_lookup(&g, FUSE_ROOT_ID, "d", &e) == 0) {
			if (drv_lookup(&g, e.nodeid, "file", &f) == 0) {
				if (drv_open(&g, FUSE_OPEN, f.nodeid, O_RDONLY, &fh, NULL) == 0) {
					(void)drv_read(&g, f.nodeid, fh, 0, 16, buf, &n);
					(void)drv_release(&g, FUSE_RELEASE, f.nodeid, fh);
				}
				drv_forget(&g, f.nodeid, 1);
			}
			drv_forget(&g, e.nodeid, 1);
		}
		*errs += !g.header_ok && g.error != 1;
	}
	return NULL;
}

static void test_destroy_race(void)
{
	pthread_t th[3];
	int errs[3] = { 0 };

	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, churn, &errs[i]);
	for (int i = 0; i < 100; i++) {
		(void)drv_call(&d, FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL);
		(void)drv_fuse_init(&d, 0xffffffff, NULL);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ok(drv_getattr(&d, FUSE_ROOT_ID, NULL) == 0,
	   "100 DESTROY/INIT rounds under 3 busy threads: no crash (ASan), still serving");
}

int main(void)
{
	struct kv_err err;
	struct fs_server_config cfg = { 0 };

	make_tree();
	cfg.path = share;
	if (!ok(fs_server_create(&cfg, &srv, &err) == 0, "create on %s", share)) {
		diag("%s", err.msg);
		return tap_done();
	}
	drv_init(&d, srv);
	d.split = 1;
	ok(drv_fuse_init(&d, 0xffffffff, NULL) == 0, "INIT");
	test_names();
	test_symlink_escapes();
	race(host_swapper, "a host thread");
	race(guest_swapper, "the guest (RENAME2 EXCHANGE)");
	ok(outside_intact(), "outside the share: untouched after the races");
	test_bind_mount();
	test_limits();
	test_garbage();
	test_destroy_race();
	fs_server_destroy(srv);
	ft_rmrf(root);
	tap_plan(tap_n_);
	return tap_done();
}
