/* fs-exerciser.c - POSIX checks run inside a guest on a virtio-fs mount.
 *
 * Owns: the guest half of tests/kvm/fs.sh: each subcommand exercises one
 * area of a mounted share and prints one TAP-style line per check ("ok - ..."
 * or "not ok - ..." with errno), without a plan or numbers (fs.sh numbers
 * them). Exit status: the number of failed checks (capped at 100), 2 on a
 * usage error. Static and sanitizer-free: it runs in the guest image.
 *
 *   fs-exerciser posix DIR            file, directory and metadata operations in DIR
 *   fs-exerciser readdir DIR N        DIR holds exactly f00000..f<N-1>, nothing else
 *   fs-exerciser overlay LOWER SCRATCH  an overlayfs with LOWER (on the share) as lower
 *                                     layer, upper and work dirs on SCRATCH (tmpfs)
 *   fs-exerciser escape DIR SECRET [SKIP]  nothing reachable from DIR (but the
 *                                     subdirectory SKIP) reads SECRET
 *   fs-exerciser owner DIR ROOTDIR    run as uid 1000: creates DIR/file and DIR/dir,
 *                                     cannot write into the root-owned ROOTDIR
 *   fs-exerciser readonly DIR         every change fails with EROFS; reads work
 *   fs-exerciser readahead DIR        print read_ahead_kb of the mount holding DIR */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static int failed;

__attribute__((format(printf, 2, 3))) static bool check(bool cond, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	printf("%sok - ", cond ? "" : "not ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!cond) {
		printf(" (errno %d %s)", e, strerror(e));
		failed++;
	}
	printf("\n");
	fflush(stdout);
	errno = e;
	return cond;
}

static char *path(const char *dir, const char *name)
{
	static char buf[8][4096];
	static unsigned i;
	char *p = buf[i++ % 8];

	snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
}

static bool write_file(const char *p, const void *buf, size_t n, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return false;
	bool ok = write(fd, buf, n) == (ssize_t)n;
	return close(fd) == 0 && ok;
}

static ssize_t read_file(const char *p, void *buf, size_t n)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == n)
			break;
	}
	close(fd);
	return (ssize_t)got;
}

/* ---- posix ---- */

static void data_and_truncate(const char *d)
{
	const size_t n = 3 << 20;
	uint8_t *w = malloc(n), *r = malloc(n);

	pattern(w, n, 1);
	char *f = path(d, "data");
	check(write_file(f, w, n, 0644), "create and write 3 MiB");
	memset(r, 0, n);
	check(read_file(f, r, n) == (ssize_t)n && memcmp(w, r, n) == 0, "read back 3 MiB intact");
	int fd = open(f, O_RDWR | O_CLOEXEC);
	pattern(w, 4096, 2);
	check(pwrite(fd, w, 4096, 1000000) == 4096 && pread(fd, r, 4096, 1000000) == 4096 &&
		  memcmp(w, r, 4096) == 0,
	      "pwrite/pread at an unaligned offset");
	check(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync, fdatasync");
	struct stat st;
	check(ftruncate(fd, 5000) == 0 && fstat(fd, &st) == 0 && st.st_size == 5000,
	      "ftruncate shrinks to 5000");
	check(ftruncate(fd, 100000) == 0 && pread(fd, r, 1000, 50000) == 1000 && r[0] == 0 &&
		  r[999] == 0,
	      "ftruncate grows; the new part reads as zeroes");
	check(truncate(f, 10) == 0 && stat(f, &st) == 0 && st.st_size == 10, "truncate by path");
	close(fd);
	fd = open(f, O_WRONLY | O_APPEND | O_CLOEXEC);
	check(fd >= 0 && write(fd, "xyz", 3) == 3 && stat(f, &st) == 0 && st.st_size == 13,
	      "O_APPEND writes at the end");
	close(fd);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	check(fd < 0 && errno == EEXIST, "O_CREAT|O_EXCL on an existing file: EEXIST");
	free(w);
	free(r);
}

static void names(const char *d)
{
	char buf[64];
	struct stat a, b;

	write_file(path(d, "a"), "AAAA", 4, 0644);
	write_file(path(d, "b"), "BB", 2, 0644);
	check(rename(path(d, "a"), path(d, "b")) == 0 && read_file(path(d, "b"), buf, 64) == 4 &&
		  memcmp(buf, "AAAA", 4) == 0 && access(path(d, "a"), F_OK) < 0 && errno == ENOENT,
	      "rename over an existing file replaces it");
	write_file(path(d, "c"), "C", 1, 0644);
	check(syscall(SYS_renameat2, AT_FDCWD, path(d, "c"), AT_FDCWD, path(d, "b"),
		      RENAME_NOREPLACE) < 0 &&
		  errno == EEXIST,
	      "renameat2 RENAME_NOREPLACE onto a file: EEXIST");
	check(syscall(SYS_renameat2, AT_FDCWD, path(d, "c"), AT_FDCWD, path(d, "b"),
		      RENAME_EXCHANGE) == 0 &&
		  read_file(path(d, "b"), buf, 64) == 1 && buf[0] == 'C' &&
		  read_file(path(d, "c"), buf, 64) == 4,
	      "renameat2 RENAME_EXCHANGE swaps two files");
	check(mkdir(path(d, "sub"), 0755) == 0 && rename(path(d, "c"), path(d, "sub/c")) == 0 &&
		  access(path(d, "sub/c"), F_OK) == 0,
	      "rename into a subdirectory");
	check(rmdir(path(d, "sub")) < 0 && errno == ENOTEMPTY,
	      "rmdir of a non-empty dir: ENOTEMPTY");
	check(unlink(path(d, "sub/c")) == 0 && rmdir(path(d, "sub")) == 0 &&
		  access(path(d, "sub"), F_OK) < 0,
	      "unlink, rmdir");

	check(link(path(d, "b"), path(d, "hard")) == 0 && stat(path(d, "b"), &a) == 0 &&
		  stat(path(d, "hard"), &b) == 0 && a.st_ino == b.st_ino && a.st_nlink == 2,
	      "hard link: same inode, nlink 2");
	check(unlink(path(d, "b")) == 0 && stat(path(d, "hard"), &b) == 0 && b.st_nlink == 1 &&
		  read_file(path(d, "hard"), buf, 64) == 1,
	      "unlink one name: the other keeps the data, nlink 1");

	ssize_t n;
	check(symlink("hard", path(d, "sym")) == 0 &&
		  (n = readlink(path(d, "sym"), buf, sizeof(buf))) == 4 &&
		  memcmp(buf, "hard", 4) == 0,
	      "symlink, readlink");
	check(lstat(path(d, "sym"), &a) == 0 && S_ISLNK(a.st_mode) &&
		  stat(path(d, "sym"), &b) == 0 && S_ISREG(b.st_mode) &&
		  read_file(path(d, "sym"), buf, 64) == 1,
	      "lstat sees the link, stat and open follow it");
	check(symlink("/nonexistent/target", path(d, "dangling")) == 0 &&
		  stat(path(d, "dangling"), &a) < 0 && errno == ENOENT,
	      "a dangling symlink");

	check(mkfifo(path(d, "fifo"), 0600) == 0 && lstat(path(d, "fifo"), &a) == 0 &&
		  S_ISFIFO(a.st_mode),
	      "mkfifo");
	int fd = open(path(d, "fifo"), O_RDWR | O_CLOEXEC);
	check(fd >= 0 && write(fd, "p", 1) == 1 && read(fd, buf, 1) == 1 && buf[0] == 'p',
	      "a fifo on the share is a working pipe in the guest");
	if (fd >= 0)
		close(fd);
	check(mknod(path(d, "null"), S_IFCHR | 0600, makedev(1, 3)) == 0 &&
		  lstat(path(d, "null"), &a) == 0 && S_ISCHR(a.st_mode) &&
		  a.st_rdev == makedev(1, 3),
	      "mknod a character device (1,3)");
	check(mknod(path(d, "sock"), S_IFSOCK | 0600, 0) == 0 && lstat(path(d, "sock"), &a) == 0 &&
		  S_ISSOCK(a.st_mode),
	      "mknod a socket");

	check(chmod(path(d, "hard"), 0640) == 0 && stat(path(d, "hard"), &a) == 0 &&
		  (a.st_mode & 07777) == 0640,
	      "chmod 0640");
	check(chown(path(d, "hard"), 1234, 5678) == 0 && stat(path(d, "hard"), &a) == 0 &&
		  a.st_uid == 1234 && a.st_gid == 5678,
	      "chown 1234:5678");
	check(lchown(path(d, "sym"), 42, 43) == 0 && lstat(path(d, "sym"), &a) == 0 &&
		  a.st_uid == 42 && stat(path(d, "sym"), &b) == 0 && b.st_uid == 1234,
	      "lchown changes the link, not its target");

	mode_t old = umask(027);
	fd = open(path(d, "umask"), O_CREAT | O_WRONLY | O_CLOEXEC, 0777);
	check(fd >= 0 && fstat(fd, &a) == 0 && (a.st_mode & 0777) == 0750, "umask 027 gives 0750");
	close(fd);
	umask(old);
	check(mkdir(path(d, "sgid"), 0755) == 0 && chown(path(d, "sgid"), 0, 4321) == 0 &&
		  chmod(path(d, "sgid"), 02775) == 0 && mkdir(path(d, "sgid/inner"), 0755) == 0 &&
		  write_file(path(d, "sgid/f"), "", 0, 0644) && stat(path(d, "sgid/f"), &a) == 0 &&
		  a.st_gid == 4321 && stat(path(d, "sgid/inner"), &b) == 0 && b.st_gid == 4321 &&
		  (b.st_mode & S_ISGID),
	      "a setgid directory passes its group (and setgid to subdirectories)");
}

static void xattrs(const char *d)
{
	char *f = path(d, "x");
	char buf[256];
	ssize_t n;

	write_file(f, "x", 1, 0644);
	check(setxattr(f, "trusted.kvrun", "v1", 2, XATTR_CREATE) == 0 &&
		  (n = getxattr(f, "trusted.kvrun", buf, sizeof(buf))) == 2 &&
		  memcmp(buf, "v1", 2) == 0,
	      "setxattr/getxattr trusted.kvrun");
	check(setxattr(f, "trusted.kvrun", "v2", 2, XATTR_CREATE) < 0 && errno == EEXIST,
	      "XATTR_CREATE on an existing attribute: EEXIST");
	check(setxattr(f, "trusted.other", "", 0, XATTR_REPLACE) < 0 && errno == ENODATA,
	      "XATTR_REPLACE on a missing attribute: ENODATA");
	/* A file capability (VFS_CAP_REVISION_2, cap_net_raw permitted). */
	uint8_t cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };
	check(setxattr(f, "security.capability", cap, sizeof(cap), 0) == 0 &&
		  getxattr(f, "security.capability", buf, sizeof(buf)) == sizeof(cap) &&
		  memcmp(buf, cap, sizeof(cap)) == 0,
	      "security.capability round-trips");
	check(setxattr(f, "trusted.overlay.opaque", "y", 1, 0) == 0 &&
		  getxattr(f, "trusted.overlay.opaque", buf, sizeof(buf)) == 1,
	      "trusted.overlay.opaque round-trips");
	n = listxattr(f, buf, sizeof(buf));
	bool has_k = false, has_c = false;
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(buf + i) + 1) {
		has_k |= strcmp(buf + i, "trusted.kvrun") == 0;
		has_c |= strcmp(buf + i, "security.capability") == 0;
	}
	check(n > 0 && has_k && has_c, "listxattr names them");
	check(listxattr(f, buf, 1) < 0 && errno == ERANGE, "listxattr into a small buffer: ERANGE");
	check(removexattr(f, "trusted.kvrun") == 0 &&
		  getxattr(f, "trusted.kvrun", buf, sizeof(buf)) < 0 && errno == ENODATA,
	      "removexattr; then getxattr: ENODATA");
	check(lsetxattr(path(d, "sym"), "user.x", "1", 1, 0) < 0 && errno == EPERM,
	      "user.* on a symlink: EPERM (the guest kernel's rule)");
}

static void times_space_seek(const char *d)
{
	char *f = path(d, "t");
	struct stat st;

	write_file(f, "t", 1, 0644);
	struct timespec ts[2] = { { 1000000000, 123456789 }, { 1100000000, 987654321 } };
	check(utimensat(AT_FDCWD, f, ts, 0) == 0 && stat(f, &st) == 0 &&
		  st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 123456789 &&
		  st.st_mtim.tv_sec == 1100000000 && st.st_mtim.tv_nsec == 987654321,
	      "utimensat sets atime and mtime to the nanosecond");
	struct timespec now_omit[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	time_t t0 = time(NULL);
	check(utimensat(AT_FDCWD, f, now_omit, 0) == 0 && stat(f, &st) == 0 &&
		  st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec >= t0 - 5,
	      "UTIME_OMIT keeps atime, UTIME_NOW sets mtime");

	int fd = open(path(d, "falloc"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	check(fallocate(fd, 0, 0, 1 << 20) == 0 && fstat(fd, &st) == 0 && st.st_size == 1 << 20 &&
		  st.st_blocks >= (1 << 20) / 512,
	      "fallocate 1 MiB: size and blocks");
	check(fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20) == 0 && fstat(fd, &st) == 0 &&
		  st.st_size == 1 << 20,
	      "fallocate KEEP_SIZE beyond the end keeps the size");
	close(fd);

	uint8_t blk[4096];
	memset(blk, 0xab, sizeof(blk));
	fd = open(path(d, "sparse"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	check(pwrite(fd, blk, 4096, 0) == 4096 && pwrite(fd, blk, 4096, 1 << 20) == 4096 &&
		  fsync(fd) == 0,
	      "a sparse file: data at 0 and at 1 MiB");
	off_t hole = lseek(fd, 0, SEEK_HOLE), data = lseek(fd, 8192, SEEK_DATA);
	check(hole == 4096 && data == 1 << 20, "SEEK_HOLE from 0: %lld, SEEK_DATA from 8 KiB: %lld",
	      (long long)hole, (long long)data);
	check(lseek(fd, (1 << 20) + 4096, SEEK_DATA) < 0 && errno == ENXIO,
	      "SEEK_DATA at the end: ENXIO");
	check(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1 << 20, 4096) == 0 &&
		  lseek(fd, 4096, SEEK_DATA) < 0 && errno == ENXIO,
	      "punching the second block leaves no data after 4 KiB");
	close(fd);

	/* Past 4 GiB. */
	const off_t big = 5LL << 30;
	uint8_t r[4096];
	pattern(blk, sizeof(blk), 9);
	fd = open(path(d, "big"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	check(pwrite(fd, blk, 4096, big) == 4096 && fstat(fd, &st) == 0 && st.st_size == big + 4096,
	      "a write at 5 GiB: size 5 GiB + 4 KiB");
	check(pread(fd, r, 4096, big) == 4096 && memcmp(r, blk, 4096) == 0 &&
		  pread(fd, r, 4096, 4LL << 30) == 4096 && r[0] == 0 && r[4095] == 0,
	      "read back at 5 GiB; zeroes at 4 GiB");
	check(lseek(fd, 4096, SEEK_DATA) == big && st.st_blocks < 1024,
	      "SEEK_DATA finds it past 4 GiB; the file is sparse (%lld blocks)",
	      (long long)st.st_blocks);
	close(fd);

	/* copy_file_range. */
	uint8_t *src = malloc(1 << 20), *dst = malloc(1 << 20);
	pattern(src, 1 << 20, 5);
	write_file(path(d, "cfr-src"), src, 1 << 20, 0644);
	int in = open(path(d, "cfr-src"), O_RDONLY | O_CLOEXEC);
	int out = open(path(d, "cfr-dst"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t done = 0, c;
	while (done < (1 << 20) &&
	       (c = copy_file_range(in, NULL, out, NULL, (1 << 20) - done, 0)) > 0)
		done += c;
	close(in);
	close(out);
	check(done == 1 << 20 && read_file(path(d, "cfr-dst"), dst, 1 << 20) == 1 << 20 &&
		  memcmp(src, dst, 1 << 20) == 0,
	      "copy_file_range 1 MiB");
	free(src);
	free(dst);

	struct statfs sf = { 0 };
	int sr = statfs(d, &sf);
	check(sr == 0 && sf.f_bsize > 0 && sf.f_blocks > 0 && sf.f_namelen >= 255,
	      "statfs: bsize %ld, %llu blocks, namelen %ld", (long)sf.f_bsize,
	      (unsigned long long)sf.f_blocks, (long)sf.f_namelen);
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check(fd >= 0 && syncfs(fd) == 0 && fsync(fd) == 0, "syncfs and fsync on the directory");
	close(fd);
}

static void locks_mmap_exec(const char *d, const char *self)
{
	char *f = path(d, "lock");
	write_file(f, "0123456789", 10, 0644);
	int fd = open(f, O_RDWR | O_CLOEXEC);
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5 };
	check(fcntl(fd, F_SETLK, &l) == 0, "F_SETLK a write lock on bytes 0-4");
	pid_t pid = fork();
	if (pid == 0) {
		int cfd = open(f, O_RDWR | O_CLOEXEC);
		struct flock c = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 5 };
		struct flock g = c;
		int bits = 0;
		if (!(fcntl(cfd, F_SETLK, &c) < 0 && (errno == EAGAIN || errno == EACCES)))
			bits |= 1;
		/* The server keeps locks as host OFD locks, which carry no pid:
		 * l_pid is 0 there (docs/virtio-fs.md); type and range must
		 * be right. */
		if (fcntl(cfd, F_GETLK, &g) < 0 || g.l_type != F_WRLCK || g.l_start != 0 ||
		    g.l_len != 5)
			bits |= 2;
		else if (g.l_pid != getppid() && g.l_pid != 0)
			bits |= 4;
		c.l_start = 5;
		if (fcntl(cfd, F_SETLK, &c) < 0)
			bits |= 8;
		_exit(bits);
	}
	int st = -1;
	waitpid(pid, &st, 0);
	int bits = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
	check(!(bits & 1), "another process: F_SETLK on the locked bytes fails");
	check(!(bits & 6), "F_GETLK reports the write lock on bytes 0-4 (%s)",
	      bits & 2	 ? "not seen"
	      : bits & 4 ? "with a wrong pid"
			 : "pid ours or 0");
	check(!(bits & 8), "bytes 5-9 can be locked by the other process");
	l.l_type = F_UNLCK;
	check(fcntl(fd, F_SETLK, &l) == 0, "F_UNLCK");
	close(fd);

	fd = open(f, O_RDWR | O_CLOEXEC);
	char *m = mmap(NULL, 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	bool mok = m != MAP_FAILED && memcmp(m, "0123456789", 10) == 0;
	if (m != MAP_FAILED) {
		m[0] = 'M';
		mok &= msync(m, 10, MS_SYNC) == 0;
		munmap(m, 10);
	}
	close(fd);
	char buf[10];
	check(mok && read_file(f, buf, 10) == 10 && buf[0] == 'M',
	      "mmap MAP_SHARED: read, write, msync, read back");

	/* A program on the share runs (exec maps it from the share). */
	static uint8_t img[4 << 20];
	ssize_t n = read_file(self, img, sizeof(img));
	char *copy = path(d, "exe");
	check(n > 0 && write_file(copy, img, (size_t)n, 0755), "copy this program onto the share");
	pid = fork();
	if (pid == 0) {
		execl(copy, copy, "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec a program from the share");
}

static int cmd_posix(const char *d, const char *self)
{
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/posix", d);
	if (!check(mkdir(sub, 0755) == 0, "mkdir %s", sub))
		return 1;
	data_and_truncate(sub);
	names(sub);
	xattrs(sub);
	times_space_seek(sub);
	locks_mmap_exec(sub, self);
	return 0;
}

/* ---- readdir ---- */

static int cmd_readdir(const char *d, unsigned n)
{
	uint8_t *seen = calloc(n, 1);
	unsigned count = 0, other = 0, dups = 0;
	DIR *dir = opendir(d);

	if (!check(dir != NULL, "opendir %s", d))
		return 1;
	struct dirent *e;
	while ((e = readdir(dir))) {
		unsigned i;
		char tail;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (sscanf(e->d_name, "f%5u%c", &i, &tail) == 1 && i < n &&
		    strlen(e->d_name) == 6) {
			dups += seen[i]++ > 0;
			count++;
		} else {
			other++;
		}
	}
	closedir(dir);
	check(count == n && other == 0 && dups == 0,
	      "readdir lists all %u entries once (got %u, %u others, %u duplicates)", n, count,
	      other, dups);
	/* A second pass with stat on each (READDIRPLUS-fed attributes). */
	struct stat st;
	unsigned bad = 0;
	for (unsigned i = 0; i < n; i += 97) {
		char name[16];
		snprintf(name, sizeof(name), "f%05u", i);
		if (stat(path(d, name), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
			bad++;
	}
	check(bad == 0, "stat of every 97th entry: empty regular files");
	free(seen);
	return 0;
}

/* ---- overlay ---- */

static int cmd_overlay(const char *lower, const char *scratch)
{
	char upper[4096], work[4096], merged[4096], opts[16384], buf[64];
	struct stat st;

	snprintf(upper, sizeof(upper), "%s/upper", scratch);
	snprintf(work, sizeof(work), "%s/work", scratch);
	snprintf(merged, sizeof(merged), "%s/merged", scratch);
	mkdir(upper, 0755);
	mkdir(work, 0755);
	mkdir(merged, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=on", lower,
		 upper, work);
	if (!check(mount("overlay", merged, "overlay", 0, opts) == 0,
		   "mount overlay with the share as lower layer"))
		return 1;
	check(read_file(path(merged, "keep"), buf, sizeof(buf)) == 4 && memcmp(buf, "keep", 4) == 0,
	      "a lower file reads through the overlay");
	check(read_file(path(merged, "dir/inner"), buf, sizeof(buf)) == 5,
	      "a lower file in a lower directory");
	int fd = open(path(merged, "keep"), O_WRONLY | O_APPEND | O_CLOEXEC);
	check(fd >= 0 && write(fd, "+up", 3) == 3 && close(fd) == 0 &&
		  read_file(path(merged, "keep"), buf, sizeof(buf)) == 7 &&
		  read_file(path(lower, "keep"), buf, sizeof(buf)) == 4 &&
		  stat(path(upper, "keep"), &st) == 0 && st.st_size == 7,
	      "a write copies the file up; the share keeps its 4 bytes");
	check(unlink(path(merged, "gone")) == 0 && access(path(merged, "gone"), F_OK) < 0 &&
		  access(path(lower, "gone"), F_OK) == 0 && lstat(path(upper, "gone"), &st) == 0 &&
		  S_ISCHR(st.st_mode),
	      "deleting a lower file leaves a whiteout in the upper layer only");
	check(rename(path(merged, "dir"), path(merged, "dir2")) == 0 &&
		  read_file(path(merged, "dir2/inner"), buf, sizeof(buf)) == 5 &&
		  access(path(lower, "dir/inner"), F_OK) == 0,
	      "renaming a lower directory (redirect) keeps its contents visible");
	check(umount(merged) == 0, "umount the overlay");
	return 0;
}

/* ---- escape ---- */

static unsigned scanned, leaks;
static const char *skip;

static void scan(const char *p, const char *secret, unsigned depth)
{
	struct stat st;
	char buf[65536];

	if (depth > 8 || lstat(p, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(p);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
			    (depth == 0 && skip && !strcmp(e->d_name, skip)))
				continue;
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", p, e->d_name);
			scan(sub, secret, depth + 1);
		}
		if (d)
			closedir(d);
		return;
	}
	/* Files, and whatever a symlink leads to. */
	ssize_t n = read_file(p, buf, sizeof(buf) - 1);
	scanned++;
	if (n > 0) {
		buf[n] = 0;
		if (memmem(buf, (size_t)n, secret, strlen(secret)))
			leaks++;
	}
}

static int cmd_escape(const char *d, const char *secret)
{
	char buf[4096], p[4096];

	scan(d, secret, 0);
	check(leaks == 0 && scanned > 0,
	      "no file or symlink under the share reads the secret (%u read)", scanned);
	const char *tries[] = { "out-abs",   "out-rel",	    "out-dir/secret",
				"../secret", "./../secret", "sub/../../secret" };
	unsigned bad = 0;
	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", d, tries[i]);
		ssize_t n = read_file(p, buf, sizeof(buf) - 1);
		if (n > 0 && memmem(buf, (size_t)n, secret, strlen(secret))) {
			printf("# leaked through %s\n", tries[i]);
			bad++;
		}
	}
	check(bad == 0, "symlinks out of the share and .. paths read nothing outside");
	struct stat root, dotdot;
	check(stat(d, &root) == 0 && stat(path(d, ".."), &dotdot) == 0 &&
		  (dotdot.st_dev != root.st_dev || dotdot.st_ino == root.st_ino),
	      ".. of the share's root is not a directory of the share");
	return 0;
}

/* ---- owner (run as uid 1000) ---- */

static int cmd_owner(const char *d, const char *rootdir)
{
	struct stat st;

	check(getuid() == 1000 && getgid() == 1000, "running as 1000:1000");
	check(write_file(path(d, "file"), "u", 1, 0644) && stat(path(d, "file"), &st) == 0 &&
		  st.st_uid == 1000 && st.st_gid == 1000,
	      "a file created by uid 1000 is 1000:1000 in the guest");
	check(mkdir(path(d, "dir"), 0755) == 0 && symlink("file", path(d, "link")) == 0 &&
		  mkfifo(path(d, "fifo"), 0644) == 0,
	      "mkdir, symlink, mkfifo as uid 1000");
	check(!write_file(path(rootdir, "nope"), "x", 1, 0644) && errno == EACCES,
	      "cannot create in a root-owned 0755 directory: EACCES");
	check(chown(path(d, "file"), 0, 0) < 0 && errno == EPERM,
	      "cannot give a file to root: EPERM");
	int fd = open(path(rootdir, "rootfile"), O_WRONLY | O_CLOEXEC);
	check(fd < 0 && errno == EACCES, "cannot write a root-owned 0644 file: EACCES");
	return 0;
}

/* ---- readonly ---- */

static int cmd_readonly(const char *d)
{
	char buf[16];
	struct stat st;

	check(read_file(path(d, "hello"), buf, sizeof(buf)) == 5, "reading works");
	check(!write_file(path(d, "new"), "x", 1, 0644) && errno == EROFS, "create: EROFS");
	check(open(path(d, "hello"), O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS,
	      "open for writing: EROFS");
	check(mkdir(path(d, "dir"), 0755) < 0 && errno == EROFS, "mkdir: EROFS");
	check(unlink(path(d, "hello")) < 0 && errno == EROFS, "unlink: EROFS");
	check(chmod(path(d, "hello"), 0600) < 0 && errno == EROFS, "chmod: EROFS");
	check(setxattr(path(d, "hello"), "trusted.x", "1", 1, 0) < 0 && errno == EROFS,
	      "setxattr: EROFS");
	check(stat(path(d, "hello"), &st) == 0 && (st.st_mode & 0777) == 0644,
	      "the file is unchanged");
	return 0;
}

static int cmd_readahead(const char *d)
{
	struct stat st;
	char p[96], buf[32];

	if (stat(d, &st) < 0)
		return 1;
	snprintf(p, sizeof(p), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	ssize_t n = read_file(p, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 1;
	buf[n] = 0;
	fputs(buf, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	int r = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "true") == 0)
		return 0;
	if (argc == 3 && strcmp(argv[1], "posix") == 0)
		r = cmd_posix(argv[2], "/proc/self/exe");
	else if (argc == 4 && strcmp(argv[1], "readdir") == 0)
		r = cmd_readdir(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	else if (argc == 4 && strcmp(argv[1], "overlay") == 0)
		r = cmd_overlay(argv[2], argv[3]);
	else if ((argc == 4 || argc == 5) && strcmp(argv[1], "escape") == 0) {
		skip = argc == 5 ? argv[4] : NULL;
		r = cmd_escape(argv[2], argv[3]);
	} else if (argc == 4 && strcmp(argv[1], "owner") == 0)
		r = cmd_owner(argv[2], argv[3]);
	else if (argc == 3 && strcmp(argv[1], "readonly") == 0)
		r = cmd_readonly(argv[2]);
	else if (argc == 3 && strcmp(argv[1], "readahead") == 0)
		r = cmd_readahead(argv[2]);
	else {
		fprintf(stderr,
			"usage: fs-exerciser posix|readdir|overlay|escape|owner|readonly ...\n");
		return 2;
	}
	if (r)
		failed++;
	return failed > 100 ? 100 : failed;
}
