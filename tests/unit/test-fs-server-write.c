/* Unit tests for the FUSE server (vmm/virtio/fs_server*.c): the write side.
 *
 * CREATE, WRITE (also at a sparse offset above 4 GiB), FSYNC, FLUSH,
 * SETATTR (mode, owner, size by handle and by node, times with NOW and
 * OMIT), MKNOD (fifo, socket, char, block, regular), MKDIR, SYMLINK, LINK,
 * UNLINK, RMDIR, RENAME and RENAME2 (NOREPLACE, EXCHANGE, WHITEOUT), each
 * checked on the host; and the guest caller's credentials: files made as
 * uid/gid 1000 belong to 1000 on the host, the umask applies, setgid
 * directories pass their group on, and concurrent callers with different
 * uids (one thread each, as the device's workers) do not mix them up.
 * Runs as root (the VMM does). */
#include "fs-test-util.h"
#include "fuse-driver.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static char root[PATH_MAX], share[PATH_MAX];
static struct fs_server *srv;
static struct drv d;

static int hstat(const char *name, struct stat *st)
{
	char p[PATH_MAX];
	return lstat(ft_path(p, share, name), st);
}

static char *hread(const char *name, char *buf, size_t len)
{
	char p[PATH_MAX];
	int fd = open(ft_path(p, share, name), O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	return buf;
}

/* CREATE name in parent: the entry and the handle. */
static int create(uint64_t parent, const char *name, uint32_t flags, uint32_t mode, uint32_t umask,
		  struct fuse_entry_out *e, uint64_t *fh)
{
	struct drv_args a;
	struct fuse_create_in in = { .flags = flags, .mode = S_IFREG | mode, .umask = umask };
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out = { 0 };
	size_t n = 0;

	da_reset(&a);
	da_put(&a, &in, sizeof(in));
	da_str(&a, name);
	int err = drv_call(&d, FUSE_CREATE, parent, a.b, a.n, &out, sizeof(out), &n);
	if (err == 0 && n != sizeof(out))
		return 1;
	if (err == 0) {
		if (e)
			*e = out.e;
		if (fh)
			*fh = out.o.fh;
	}
	return err;
}

static int mkdir_(uint64_t parent, const char *name, uint32_t mode, uint32_t umask,
		  struct fuse_entry_out *e)
{
	struct drv_args a;
	struct fuse_mkdir_in in = { .mode = mode, .umask = umask };
	struct fuse_entry_out tmp = { 0 };
	size_t n = 0;

	da_reset(&a);
	da_put(&a, &in, sizeof(in));
	da_str(&a, name);
	return drv_call(&d, FUSE_MKDIR, parent, a.b, a.n, e ? e : &tmp, sizeof(tmp), &n);
}

static int mknod_(const char *name, uint32_t mode, uint32_t rdev, struct fuse_entry_out *e)
{
	struct drv_args a;
	struct fuse_mknod_in in = { .mode = mode, .rdev = rdev };
	struct fuse_entry_out tmp = { 0 };
	size_t n = 0;

	da_reset(&a);
	da_put(&a, &in, sizeof(in));
	da_str(&a, name);
	return drv_call(&d, FUSE_MKNOD, FUSE_ROOT_ID, a.b, a.n, e ? e : &tmp, sizeof(tmp), &n);
}

static int name_op(uint32_t op, uint64_t parent, const char *name)
{
	return drv_call(&d, op, parent, name, strlen(name) + 1, NULL, 0, NULL);
}

static int rename_(uint32_t op, const char *from, const char *to, uint32_t flags)
{
	struct drv_args a;
	struct fuse_rename2_in in = { .newdir = FUSE_ROOT_ID, .flags = flags };

	da_reset(&a);
	da_put(&a, &in, op == FUSE_RENAME ? sizeof(struct fuse_rename_in) : sizeof(in));
	da_str(&a, from);
	da_str(&a, to);
	return drv_call(&d, op, FUSE_ROOT_ID, a.b, a.n, NULL, 0, NULL);
}

static int setattr(uint64_t nodeid, struct fuse_setattr_in *in, struct fuse_attr *attr)
{
	struct fuse_attr_out out;
	size_t n = 0;
	int e = drv_call(&d, FUSE_SETATTR, nodeid, in, sizeof(*in), &out, sizeof(out), &n);
	if (e == 0 && attr)
		*attr = out.attr;
	return e;
}

static void test_create_write(void)
{
	struct fuse_entry_out e = { 0 };
	struct stat st;
	uint64_t fh = 0;
	uint32_t w;
	char buf[64];
	size_t n = 0;

	ok(create(FUSE_ROOT_ID, "new", O_RDWR, 0644, 022, &e, &fh) == 0, "CREATE new");
	ok(hstat("new", &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644 &&
	       st.st_ino == e.attr.ino && st.st_uid == 0,
	   "CREATE: a 0644 root-owned file on the host");
	ok(drv_write(&d, e.nodeid, fh, 0, "some data", 9, &w) == 0 && w == 9, "WRITE 9 bytes");
	ok(drv_write(&d, e.nodeid, fh, 4, "DATA", 4, &w) == 0 && w == 4, "WRITE at offset 4");
	ok(!strcmp(hread("new", buf, sizeof(buf)), "someDATAa"), "the host sees the writes");
	ok(drv_read(&d, e.nodeid, fh, 0, 64, buf, &n) == 0 && n == 9 &&
	       !memcmp(buf, "someDATAa", 9),
	   "READ them back");
	static char big[200000];
	memset(big, 'z', sizeof(big));
	ok(drv_write(&d, e.nodeid, fh, 5ULL << 30, big, sizeof(big), &w) == 0 && w == sizeof(big),
	   "WRITE 200000 bytes at 5 GiB (49 data buffers)");
	ok(hstat("new", &st) == 0 && st.st_size == (5LL << 30) + 200000 && st.st_blocks < 4096,
	   "the host file is sparse, 5 GiB + 200000 bytes");
	ok(drv_read(&d, e.nodeid, fh, (5ULL << 30) + 199990, 64, buf, &n) == 0 && n == 10 &&
	       buf[0] == 'z',
	   "READ the tail above 4 GiB");
	ok(drv_call_ex(&d, FUSE_WRITE, e.nodeid, &(struct fuse_write_in){ .fh = fh, .size = 10 },
		       sizeof(struct fuse_write_in), "abc", 3, NULL, 8, &n, 0) == -EINVAL,
	   "WRITE whose size disagrees with its data: EINVAL");
	char *huge = calloc(1, (1 << 20) + 4096);
	ok(drv_write(&d, e.nodeid, fh, 0, huge, (1 << 20) + 4096, &w) == -EINVAL,
	   "WRITE past max_write: EINVAL");
	free(huge);
	struct fuse_fsync_in fs = { .fh = fh, .fsync_flags = FUSE_FSYNC_FDATASYNC };
	ok(drv_call(&d, FUSE_FSYNC, e.nodeid, &fs, sizeof(fs), NULL, 0, NULL) == 0,
	   "FSYNC (fdatasync)");
	fs.fsync_flags = 0;
	ok(drv_call(&d, FUSE_FSYNC, e.nodeid, &fs, sizeof(fs), NULL, 0, NULL) == 0, "FSYNC");
	struct fuse_flush_in fl = { .fh = fh, .lock_owner = 7 };
	ok(drv_call(&d, FUSE_FLUSH, e.nodeid, &fl, sizeof(fl), NULL, 0, NULL) == 0, "FLUSH");
	ok(drv_release(&d, FUSE_RELEASE, e.nodeid, fh) == 0, "RELEASE");
	ok(drv_write(&d, e.nodeid, fh, 0, "x", 1, &w) == -EBADF, "WRITE after RELEASE: EBADF");

	uint64_t fh2 = 0;
	struct fuse_entry_out e2 = { 0 };
	ok(create(FUSE_ROOT_ID, "new", O_RDWR | O_EXCL, 0644, 0, &e2, &fh2) == -EEXIST,
	   "CREATE O_EXCL of an existing name: EEXIST");
	ok(create(FUSE_ROOT_ID, "new", O_RDWR | O_TRUNC, 0600, 0, &e2, &fh2) == 0 &&
	       e2.nodeid == e.nodeid && hstat("new", &st) == 0 && st.st_size == 0,
	   "CREATE of an existing file opens it (O_TRUNC: now empty), same node");
	drv_release(&d, FUSE_RELEASE, e2.nodeid, fh2);
	drv_forget(&d, e.nodeid, 2);

	char p[PATH_MAX];
	mkfifo(ft_path(p, share, "fifo0"), 0666);
	ok(create(FUSE_ROOT_ID, "fifo0", O_RDONLY, 0644, 0, &e2, &fh2) == -EACCES,
	   "CREATE of an existing FIFO: refused, not opened (no hang)");
	symlink("/etc/passwd", ft_path(p, share, "lnk0"));
	ok(create(FUSE_ROOT_ID, "lnk0", O_RDWR, 0644, 0, &e2, &fh2) == -ELOOP,
	   "CREATE of an existing symlink: ELOOP, never followed");
	ok(create(FUSE_ROOT_ID, "a/b", O_RDWR, 0644, 0, &e2, &fh2) == -EINVAL,
	   "CREATE a/b: EINVAL");
	ok(create(FUSE_ROOT_ID, "..", O_RDWR, 0644, 0, &e2, &fh2) == -EINVAL, "CREATE ..: EINVAL");
}

static void test_setattr(void)
{
	struct fuse_entry_out e = { 0 };
	struct fuse_attr a = { 0 };
	struct stat st;
	uint64_t fh = 0;

	create(FUSE_ROOT_ID, "attr", O_RDWR, 0644, 0, &e, &fh);
	drv_write(&d, e.nodeid, fh, 0, "0123456789", 10, NULL);
	struct fuse_setattr_in in = { .valid = FATTR_MODE, .mode = S_IFREG | 04751 };
	ok(setattr(e.nodeid, &in, &a) == 0 && (a.mode & 07777) == 04751 &&
	       hstat("attr", &st) == 0 && (st.st_mode & 07777) == 04751,
	   "SETATTR mode 4751");
	in = (struct fuse_setattr_in){ .valid = FATTR_UID | FATTR_GID, .uid = 1000, .gid = 1001 };
	ok(setattr(e.nodeid, &in, &a) == 0 && a.uid == 1000 && a.gid == 1001 &&
	       hstat("attr", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1001,
	   "SETATTR owner 1000:1001");
	in = (struct fuse_setattr_in){ .valid = FATTR_GID, .gid = 5 };
	ok(setattr(e.nodeid, &in, &a) == 0 && a.uid == 1000 && a.gid == 5, "SETATTR group only");
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_FH, .fh = fh, .size = 4 };
	ok(setattr(e.nodeid, &in, &a) == 0 && a.size == 4 && hstat("attr", &st) == 0 &&
	       st.st_size == 4,
	   "SETATTR size 4 through the handle");
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 1 << 20 };
	ok(setattr(e.nodeid, &in, &a) == 0 && a.size == 1 << 20, "SETATTR size 1 MiB by node");
	in.size = 1ULL << 63;
	ok(setattr(e.nodeid, &in, &a) == -EFBIG, "SETATTR size 2^63: EFBIG");
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE | FATTR_FH, .fh = fh + 5, .size = 1 };
	ok(setattr(e.nodeid, &in, &a) == -EBADF, "SETATTR with a bad fh: EBADF");
	in = (struct fuse_setattr_in){ .valid = FATTR_ATIME | FATTR_MTIME,
				       .atime = 1000000000,
				       .atimensec = 5,
				       .mtime = 1200000000,
				       .mtimensec = 7 };
	ok(setattr(e.nodeid, &in, &a) == 0 && hstat("attr", &st) == 0 &&
	       st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 5 &&
	       st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 7,
	   "SETATTR atime and mtime to the nanosecond");
	in = (struct fuse_setattr_in){ .valid = FATTR_MTIME | FATTR_MTIME_NOW };
	ok(setattr(e.nodeid, &in, &a) == 0 && hstat("attr", &st) == 0 &&
	       st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec > 1700000000,
	   "SETATTR mtime NOW, atime OMIT: atime kept");
	in = (struct fuse_setattr_in){ .valid = FATTR_ATIME, .atime = 1, .atimensec = 1000000000 };
	ok(setattr(e.nodeid, &in, &a) == -EINVAL, "SETATTR atimensec 1e9: EINVAL");
	in = (struct fuse_setattr_in){ .valid = FATTR_SIZE, .size = 0 };
	ok(setattr(FUSE_ROOT_ID, &in, &a) == -EISDIR, "SETATTR size of a directory: EISDIR");
	drv_release(&d, FUSE_RELEASE, e.nodeid, fh);
	drv_forget(&d, e.nodeid, 1);

	struct fuse_entry_out l = { 0 };
	drv_lookup(&d, FUSE_ROOT_ID, "lnk0", &l);
	in = (struct fuse_setattr_in){ .valid = FATTR_MODE, .mode = 0600 };
	ok(setattr(l.nodeid, &in, &a) == -EOPNOTSUPP, "SETATTR mode of a symlink: EOPNOTSUPP");
	in = (struct fuse_setattr_in){ .valid = FATTR_UID, .uid = 1234 };
	ok(setattr(l.nodeid, &in, &a) == 0 && hstat("lnk0", &st) == 0 && st.st_uid == 1234,
	   "SETATTR owner of a symlink: the link itself");
	ok(stat("/etc/passwd", &st) == 0 && st.st_uid == 0, "... not its target /etc/passwd");
	drv_forget(&d, l.nodeid, 1);
}

static void test_nodes(void)
{
	struct fuse_entry_out e = { 0 };
	struct stat st;

	ok(mknod_("fifo", S_IFIFO | 0640, 0, &e) == 0 && S_ISFIFO(e.attr.mode) &&
	       hstat("fifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0640,
	   "MKNOD fifo");
	ok(mknod_("sock", S_IFSOCK | 0600, 0, &e) == 0 && hstat("sock", &st) == 0 &&
	       S_ISSOCK(st.st_mode),
	   "MKNOD socket");
	uint32_t null_dev = (1 << 8) | 3; /* the kernel's new_encode_dev(1:3) */
	ok(mknod_("null", S_IFCHR | 0666, null_dev, &e) == 0 && hstat("null", &st) == 0 &&
	       S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3 &&
	       e.attr.rdev == null_dev,
	   "MKNOD char 1:3");
	uint32_t big = (300 & 0xff) | (259 << 8) | ((300 & ~0xff) << 12);
	ok(mknod_("blk", S_IFBLK | 0600, big, &e) == 0 && hstat("blk", &st) == 0 &&
	       S_ISBLK(st.st_mode) && major(st.st_rdev) == 259 && minor(st.st_rdev) == 300,
	   "MKNOD block 259:300 (minor above 255)");
	ok(mknod_("reg", S_IFREG | 0600, 0, &e) == 0 && hstat("reg", &st) == 0 &&
	       S_ISREG(st.st_mode),
	   "MKNOD regular file");
	ok(mknod_("dir", S_IFDIR | 0755, 0, &e) == -EINVAL, "MKNOD of a directory: EINVAL");
	ok(mknod_("lnk", S_IFLNK | 0755, 0, &e) == -EINVAL, "MKNOD of a symlink: EINVAL");
	ok(mknod_("fifo", S_IFIFO | 0640, 0, &e) == -EEXIST, "MKNOD over an existing name: EEXIST");
	uint64_t fh = 0;
	ok(drv_lookup(&d, FUSE_ROOT_ID, "null", &e) == 0 &&
	       drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fh, NULL) == -EINVAL,
	   "OPEN of a device node: refused (the guest's kernel opens those itself)");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "fifo", &e) == 0 &&
	       drv_open(&d, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, NULL) == -EINVAL,
	   "OPEN of a FIFO: refused, not blocked");

	ok(mkdir_(FUSE_ROOT_ID, "d1", 0777, 022, &e) == 0 && hstat("d1", &st) == 0 &&
	       S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
	   "MKDIR 0777 with umask 022: 0755");
	ok(mkdir_(FUSE_ROOT_ID, "d1", 0777, 022, NULL) == -EEXIST, "MKDIR again: EEXIST");
	ok(mkdir_(e.nodeid, "inner", 01777, 0, NULL) == 0 && hstat("d1/inner", &st) == 0 &&
	       (st.st_mode & 07777) == 01777,
	   "MKDIR sticky 1777 inside");
	ok(name_op(FUSE_RMDIR, FUSE_ROOT_ID, "d1") == -ENOTEMPTY, "RMDIR non-empty: ENOTEMPTY");
	ok(name_op(FUSE_RMDIR, e.nodeid, "inner") == 0 && hstat("d1/inner", &st) < 0,
	   "RMDIR inner");
	ok(name_op(FUSE_RMDIR, FUSE_ROOT_ID, "reg") == -ENOTDIR, "RMDIR of a file: ENOTDIR");
	ok(name_op(FUSE_UNLINK, FUSE_ROOT_ID, "d1") == -EISDIR, "UNLINK of a dir: EISDIR");
	ok(name_op(FUSE_UNLINK, FUSE_ROOT_ID, "reg") == 0 && hstat("reg", &st) < 0, "UNLINK reg");
	ok(name_op(FUSE_UNLINK, FUSE_ROOT_ID, "reg") == -ENOENT, "UNLINK again: ENOENT");
	ok(name_op(FUSE_UNLINK, FUSE_ROOT_ID, "..") == -EINVAL, "UNLINK ..: EINVAL");
	ok(name_op(FUSE_RMDIR, FUSE_ROOT_ID, ".") == -EINVAL, "RMDIR .: EINVAL");
	drv_forget(&d, e.nodeid, 1);
}

static void test_links(void)
{
	struct drv_args a;
	struct fuse_entry_out e = { 0 }, t = { 0 };
	struct stat st;
	char p[PATH_MAX], buf[PATH_MAX];
	size_t n = 0;

	da_reset(&a);
	da_str(&a, "sym");
	da_str(&a, "../../etc/passwd");
	ok(drv_call(&d, FUSE_SYMLINK, FUSE_ROOT_ID, a.b, a.n, &e, sizeof(e), &n) == 0 &&
	       S_ISLNK(e.attr.mode),
	   "SYMLINK sym -> ../../etc/passwd (just data)");
	ssize_t k = readlink(ft_path(p, share, "sym"), buf, sizeof(buf));
	ok(k == 16 && !memcmp(buf, "../../etc/passwd", 16), "the host has that symlink");
	ok(drv_call(&d, FUSE_READLINK, e.nodeid, NULL, 0, buf, sizeof(buf), &n) == 0 && n == 16,
	   "READLINK sym");
	ok(drv_lookup(&d, e.nodeid, "x", NULL) == -ENOTDIR, "and nothing resolves through it");
	drv_forget(&d, e.nodeid, 1);
	da_reset(&a);
	da_str(&a, "sym2");
	da_put(&a, "ab", 2);
	ok(drv_call(&d, FUSE_SYMLINK, FUSE_ROOT_ID, a.b, a.n, &e, sizeof(e), &n) == -EINVAL,
	   "SYMLINK with an unterminated target: EINVAL");

	ft_write(share, "orig", "original");
	drv_lookup(&d, FUSE_ROOT_ID, "orig", &t);
	struct fuse_link_in li = { .oldnodeid = t.nodeid };
	da_reset(&a);
	da_put(&a, &li, sizeof(li));
	da_str(&a, "hard");
	ok(drv_call(&d, FUSE_LINK, FUSE_ROOT_ID, a.b, a.n, &e, sizeof(e), &n) == 0 &&
	       e.nodeid == t.nodeid && e.attr.nlink == 2,
	   "LINK orig -> hard: the same node, nlink 2");
	ok(hstat("hard", &st) == 0 && st.st_ino == t.attr.ino, "the host has the hard link");
	li.oldnodeid = FUSE_ROOT_ID;
	da_reset(&a);
	da_put(&a, &li, sizeof(li));
	da_str(&a, "rootlink");
	ok(drv_call(&d, FUSE_LINK, FUSE_ROOT_ID, a.b, a.n, &e, sizeof(e), &n) == -EPERM,
	   "LINK of a directory: EPERM");
	drv_forget(&d, t.nodeid, 2);

	ft_write(share, "r1", "one");
	ft_write(share, "r2", "two");
	char b[16];
	ok(rename_(FUSE_RENAME, "r1", "r3", 0) == 0 && hstat("r1", &st) < 0 &&
	       !strcmp(hread("r3", b, sizeof(b)), "one"),
	   "RENAME r1 -> r3");
	ok(rename_(FUSE_RENAME, "r3", "r2", 0) == 0 && !strcmp(hread("r2", b, sizeof(b)), "one"),
	   "RENAME r3 over r2");
	ft_write(share, "r4", "four");
	ok(rename_(FUSE_RENAME2, "r4", "r2", RENAME_NOREPLACE) == -EEXIST,
	   "RENAME2 NOREPLACE onto an existing name: EEXIST");
	ok(rename_(FUSE_RENAME2, "r4", "r2", RENAME_EXCHANGE) == 0 &&
	       !strcmp(hread("r2", b, sizeof(b)), "four") &&
	       !strcmp(hread("r4", b, sizeof(b)), "one"),
	   "RENAME2 EXCHANGE swaps r2 and r4");
	ok(rename_(FUSE_RENAME2, "r4", "r5", RENAME_WHITEOUT) == 0 && hstat("r4", &st) == 0 &&
	       S_ISCHR(st.st_mode) && st.st_rdev == 0 && !strcmp(hread("r5", b, sizeof(b)), "one"),
	   "RENAME2 WHITEOUT leaves a 0:0 char device behind");
	ok(rename_(FUSE_RENAME2, "r5", "r6", 1 << 7) == -EINVAL, "RENAME2 unknown flag: EINVAL");
	ok(rename_(FUSE_RENAME, "r5", "../r6", 0) == -EINVAL, "RENAME to ../r6: EINVAL");
	ok(rename_(FUSE_RENAME, "nope", "r6", 0) == -ENOENT, "RENAME of a missing name: ENOENT");
}

/* ---- credentials ------------------------------------------------------------ */

static void test_creds(void)
{
	struct fuse_entry_out e = { 0 }, dir = { 0 };
	struct stat st;
	uint64_t fh = 0;

	d.uid = 1000;
	d.gid = 1000;
	ok(create(FUSE_ROOT_ID, "u1000", O_RDWR, 0666, 027, &e, &fh) == 0 &&
	       hstat("u1000", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000 &&
	       (st.st_mode & 0777) == 0640,
	   "CREATE as 1000:1000 with umask 027: owned by 1000:1000, mode 0640");
	drv_release(&d, FUSE_RELEASE, e.nodeid, fh);
	ok(mkdir_(FUSE_ROOT_ID, "d1000", 0777, 002, &dir) == 0 && hstat("d1000", &st) == 0 &&
	       st.st_uid == 1000 && (st.st_mode & 0777) == 0775,
	   "MKDIR as 1000 with umask 002: 1000, 0775");
	ok(mknod_("f1000", S_IFIFO | 0600, 0, NULL) == 0 && hstat("f1000", &st) == 0 &&
	       st.st_uid == 1000 && st.st_gid == 1000,
	   "MKNOD as 1000");
	ok(mknod_("c1000", S_IFCHR | 0600, (1 << 8) | 3, NULL) == 0 && hstat("c1000", &st) == 0 &&
	       st.st_uid == 1000,
	   "MKNOD of a char device as guest uid 1000 (the guest checked CAP_MKNOD)");
	struct drv_args a;
	da_reset(&a);
	da_str(&a, "s1000");
	da_str(&a, "target");
	size_t n = 0;
	ok(drv_call(&d, FUSE_SYMLINK, FUSE_ROOT_ID, a.b, a.n, &e, sizeof(e), &n) == 0 &&
	       hstat("s1000", &st) == 0 && st.st_uid == 1000,
	   "SYMLINK as 1000");

	/* setgid directory owned by root:4321, mode 2777. */
	char p[PATH_MAX];
	mkdir(ft_path(p, share, "sgid"), 0777);
	chown(p, 0, 4321);
	chmod(p, 02777);
	drv_lookup(&d, FUSE_ROOT_ID, "sgid", &dir);
	ok(create(dir.nodeid, "f", O_RDWR, 02755, 0, &e, &fh) == 0 && hstat("sgid/f", &st) == 0 &&
	       st.st_uid == 1000 && st.st_gid == 4321 && !(st.st_mode & S_ISGID),
	   "CREATE 2755 as 1000:1000 in a setgid dir: group 4321, setgid cleared (not a member)");
	drv_release(&d, FUSE_RELEASE, e.nodeid, fh);
	ok(mkdir_(dir.nodeid, "sub", 0755, 0, NULL) == 0 && hstat("sgid/sub", &st) == 0 &&
	       st.st_gid == 4321 && (st.st_mode & S_ISGID),
	   "MKDIR in a setgid dir: group 4321 and setgid inherited");
	d.gid = 4321;
	ok(create(dir.nodeid, "g", O_RDWR, 02755, 0, &e, &fh) == 0 && hstat("sgid/g", &st) == 0 &&
	       (st.st_mode & S_ISGID),
	   "CREATE 2755 as a member of 4321: setgid kept");
	drv_release(&d, FUSE_RELEASE, e.nodeid, fh);

	/* A root-owned 0755 directory: the guest already decided the caller may. */
	mkdir(ft_path(p, share, "rootdir"), 0755);
	drv_lookup(&d, FUSE_ROOT_ID, "rootdir", &dir);
	ok(mkdir_(dir.nodeid, "x", 0755, 0, NULL) == 0 && hstat("rootdir/x", &st) == 0 &&
	       st.st_uid == 1000,
	   "MKDIR as 1000 in a root 0755 dir (DAC left to the guest): owned by 1000");

	d.uid = d.gid = 0;
	ok(create(FUSE_ROOT_ID, "u0", O_RDWR, 0600, 0, &e, &fh) == 0 && hstat("u0", &st) == 0 &&
	       st.st_uid == 0 && st.st_gid == 0,
	   "afterwards, CREATE as root is root's again");
	drv_release(&d, FUSE_RELEASE, e.nodeid, fh);
	d.uid = UINT32_MAX;
	ok(mkdir_(FUSE_ROOT_ID, "uminus1", 0755, 0, NULL) == -EINVAL, "MKDIR as uid -1: EINVAL");
	d.uid = 0;
	ok(syscall(SYS_setfsuid, -1) == 0 && syscall(SYS_setfsgid, -1) == 0,
	   "this thread's fsuid and fsgid are 0 again");
}

struct cred_thread {
	int idx;
	int fails;
};

static void *cred_worker(void *opaque)
{
	struct cred_thread *t = opaque;
	struct drv dd;

	drv_init(&dd, srv);
	dd.uid = 2000 + (uint32_t)t->idx;
	dd.gid = 3000 + (uint32_t)t->idx;
	for (int i = 0; i < 50; i++) {
		struct drv_args a;
		struct fuse_mkdir_in in = { .mode = 0755 };
		struct fuse_entry_out e = { 0 };
		char name[64], p[PATH_MAX];
		struct stat st;
		size_t n = 0;

		snprintf(name, sizeof(name), "t%d-%d", t->idx, i);
		da_reset(&a);
		da_put(&a, &in, sizeof(in));
		da_str(&a, name);
		if (drv_call(&dd, FUSE_MKDIR, FUSE_ROOT_ID, a.b, a.n, &e, sizeof(e), &n) != 0 ||
		    lstat(ft_path(p, share, name), &st) != 0 || st.st_uid != dd.uid ||
		    st.st_gid != dd.gid)
			t->fails++;
	}
	return NULL;
}

static void test_creds_threads(void)
{
	pthread_t th[4];
	struct cred_thread t[4];
	int fails = 0;

	for (int i = 0; i < 4; i++) {
		t[i] = (struct cred_thread){ .idx = i };
		pthread_create(&th[i], NULL, cred_worker, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		fails += t[i].fails;
	}
	ok(fails == 0, "4 threads x 50 MKDIRs as 4 different uids: each owned by its caller");
}

int main(void)
{
	struct kv_err err;
	struct fs_server_config cfg = { 0 };

	ft_mkdtemp(root, "write");
	mkdir(ft_path(share, root, "share"), 0755);
	cfg.path = share;
	if (!ok(fs_server_create(&cfg, &srv, &err) == 0, "create on %s", share)) {
		diag("%s", err.msg);
		return tap_done();
	}
	drv_init(&d, srv);
	d.split = 1;
	ok(drv_fuse_init(&d, 0xffffffff, NULL) == 0, "INIT");
	test_create_write();
	test_setattr();
	test_nodes();
	test_links();
	test_creds();
	test_creds_threads();
	fs_server_destroy(srv);
	ft_rmrf(root);
	tap_plan(tap_n_);
	return tap_done();
}
