/* Unit tests for the FUSE server (vmm/virtio/fs_server*.c): the other ops.
 *
 * Extended attributes (trusted.overlay.*, security.capability, user.*, on a
 * symlink itself; size queries, ERANGE, CREATE/REPLACE), POSIX locks
 * (GETLK, SETLK between lock owners and against a host process, FLUSH
 * dropping an owner's locks, SETLKW waiting, INTERRUPT, fs_server_cancel,
 * the waiter limit), FALLOCATE, LSEEK SEEK_DATA/SEEK_HOLE, COPY_FILE_RANGE,
 * ACCESS, SYNCFS, FSYNCDIR, BATCH_FORGET, and a read-only share refusing
 * every mutating request with EROFS. */
#include "fs-test-util.h"
#include "fuse-driver.h"

#include <linux/capability.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <sys/xattr.h>

static char root[PATH_MAX], share[PATH_MAX];
static struct fs_server *srv;
static struct drv d;

static int setx(uint64_t node, const char *name, const void *v, uint32_t len, uint32_t flags)
{
	struct drv_args a;
	struct fuse_setxattr_in in = { .size = len, .flags = flags };

	da_reset(&a);
	da_put(&a, &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
	da_str(&a, name);
	da_put(&a, v, len);
	return drv_call(&d, FUSE_SETXATTR, node, a.b, a.n, NULL, 0, NULL);
}

static int getx(uint64_t node, uint32_t op, const char *name, uint32_t size, void *out, size_t *n)
{
	struct drv_args a;
	struct fuse_getxattr_in in = { .size = size };

	da_reset(&a);
	da_put(&a, &in, sizeof(in));
	if (name)
		da_str(&a, name);
	return drv_call(&d, op, node, a.b, a.n, out, size ? size : 8, n);
}

static void test_xattr(void)
{
	struct fuse_entry_out e = { 0 }, l = { 0 };
	char buf[256], p[PATH_MAX];
	size_t n = 0;

	ft_write(share, "xf", "x");
	symlink("xf", ft_path(p, share, "xl"));
	drv_lookup(&d, FUSE_ROOT_ID, "xf", &e);
	drv_lookup(&d, FUSE_ROOT_ID, "xl", &l);
	ok(setx(e.nodeid, "trusted.overlay.opaque", "y", 1, 0) == 0 &&
	       getxattr(ft_path(p, share, "xf"), "trusted.overlay.opaque", buf, 8) == 1 &&
	       buf[0] == 'y',
	   "SETXATTR trusted.overlay.opaque lands on the host");
	struct vfs_cap_data cap = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };
	cap.data[0].permitted = 1U << CAP_NET_BIND_SERVICE;
	ok(setx(e.nodeid, "security.capability", &cap, XATTR_CAPS_SZ_2, 0) == 0,
	   "SETXATTR security.capability (cap_net_bind_service+ep)");
	ok(getx(e.nodeid, FUSE_GETXATTR, "security.capability", 0, buf, &n) == 0 && n == 8 &&
	       ((struct fuse_getxattr_out *)buf)->size == XATTR_CAPS_SZ_2,
	   "GETXATTR size 0: the size (20)");
	ok(getx(e.nodeid, FUSE_GETXATTR, "security.capability", 64, buf, &n) == 0 &&
	       n == XATTR_CAPS_SZ_2 && !memcmp(buf, &cap, XATTR_CAPS_SZ_2),
	   "GETXATTR security.capability round-trips");
	ok(getx(e.nodeid, FUSE_GETXATTR, "security.capability", 4, buf, &n) == -ERANGE,
	   "GETXATTR into 4 bytes: ERANGE");
	ok(setx(e.nodeid, "user.k", "value", 5, 0) == 0, "SETXATTR user.k");
	ok(setx(e.nodeid, "user.k", "v2", 2, XATTR_CREATE) == -EEXIST,
	   "SETXATTR XATTR_CREATE of an existing one: EEXIST");
	ok(setx(e.nodeid, "user.none", "v", 1, XATTR_REPLACE) == -ENODATA,
	   "SETXATTR XATTR_REPLACE of a missing one: ENODATA");
	ok(setx(e.nodeid, "user.k", "v", 1, 0x100) == -EINVAL, "SETXATTR unknown flags: EINVAL");
	ok(getx(e.nodeid, FUSE_LISTXATTR, NULL, 0, buf, &n) == 0, "LISTXATTR size 0");
	uint32_t want = ((struct fuse_getxattr_out *)buf)->size;
	ok(getx(e.nodeid, FUSE_LISTXATTR, NULL, 256, buf, &n) == 0 && n == want &&
	       memmem(buf, n, "user.k", 7) && memmem(buf, n, "trusted.overlay.opaque", 23) &&
	       memmem(buf, n, "security.capability", 20),
	   "LISTXATTR names all three");
	ok(drv_call(&d, FUSE_REMOVEXATTR, e.nodeid, "user.k", 7, NULL, 0, NULL) == 0 &&
	       getxattr(ft_path(p, share, "xf"), "user.k", buf, 8) < 0 && errno == ENODATA,
	   "REMOVEXATTR user.k");
	ok(getx(e.nodeid, FUSE_GETXATTR, "user.k", 64, buf, &n) == -ENODATA,
	   "GETXATTR of a removed one: ENODATA");
	ok(setx(l.nodeid, "trusted.sym", "s", 1, 0) == 0 &&
	       lgetxattr(ft_path(p, share, "xl"), "trusted.sym", buf, 8) == 1 &&
	       getxattr(ft_path(p, share, "xf"), "trusted.sym", buf, 8) < 0,
	   "SETXATTR on a symlink node: on the link itself, not its target");
	ok(setx(e.nodeid, "", "v", 1, 0) == -EINVAL, "SETXATTR with an empty name: EINVAL");
	struct drv_args a;
	struct fuse_setxattr_in in = { .size = 10 };
	da_reset(&a);
	da_put(&a, &in, FUSE_COMPAT_SETXATTR_IN_SIZE);
	da_str(&a, "user.short");
	da_put(&a, "abc", 3);
	ok(drv_call(&d, FUSE_SETXATTR, e.nodeid, a.b, a.n, NULL, 0, NULL) == -EINVAL,
	   "SETXATTR whose size disagrees with the value: EINVAL");
	static char bigv[70000];
	ok(setx(e.nodeid, "user.big", bigv, sizeof(bigv), 0) == -EINVAL,
	   "SETXATTR of a 70000-byte value: EINVAL");
	/* A value beyond the argument buffer (a heap copy): whatever the host
	 * file system says (ext4 keeps values within a block). */
	ft_write(share, "xhost", "h");
	int hr = setxattr(ft_path(p, share, "xhost"), "user.big", bigv, 60000, 0) < 0 ? -errno : 0;
	ok(setx(e.nodeid, "user.big", bigv, 60000, 0) == hr &&
	       (hr < 0 ||
		(getx(e.nodeid, FUSE_GETXATTR, "user.big", 65536, NULL, &n) == 0 && n == 60000)),
	   "a 60000-byte value: the host's answer");
	ok(setx(e.nodeid, "user.mid", bigv, 3000, 0) == 0 &&
	       getx(e.nodeid, FUSE_GETXATTR, "user.mid", 65536, NULL, &n) == 0 && n == 3000,
	   "a 3000-byte value goes and comes back");
	drv_forget(&d, e.nodeid, 1);
	drv_forget(&d, l.nodeid, 1);
}

/* ---- locks ------------------------------------------------------------------ */

static int lk(uint32_t op, uint64_t node, uint64_t fh, uint64_t owner, uint32_t type,
	      uint64_t start, uint64_t end, struct fuse_file_lock *out)
{
	struct fuse_lk_in in = { .fh = fh,
				 .owner = owner,
				 .lk = { .start = start, .end = end, .type = type, .pid = 9 } };
	struct fuse_lk_out o;
	size_t n = 0;
	int e = drv_call(&d, op, node, &in, sizeof(in), &o, sizeof(o), &n);
	if (e == 0 && out)
		*out = o.lk;
	return e;
}

struct waiter {
	uint64_t node, fh, owner, unique;
	int result;
	struct drv dd;
};

static void *setlkw_thread(void *opaque)
{
	struct waiter *w = opaque;
	struct fuse_lk_in in = { .fh = w->fh,
				 .owner = w->owner,
				 .lk = { .start = 0, .end = 99, .type = F_WRLCK } };
	w->dd.unique = w->unique - 1;
	int r = drv_call(&w->dd, FUSE_SETLKW, w->node, &in, sizeof(in), NULL, 0, NULL);
	__atomic_store_n(&w->result, r, __ATOMIC_RELEASE);
	return NULL;
}

/* A host process's view: fcntl F_GETLK of [0,99] for writing. */
static int host_getlk(const char *name)
{
	char p[PATH_MAX];
	int fd = open(ft_path(p, share, name), O_RDWR | O_CLOEXEC);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
	int r = fcntl(fd, F_GETLK, &fl);
	close(fd);
	return r < 0 ? -1 : fl.l_type;
}

static void test_locks(void)
{
	struct fuse_entry_out e = { 0 };
	struct fuse_file_lock got = { 0 };
	uint64_t fa, fb;
	const uint64_t A = 0xaaaa, B = 0xbbbb, MAX = INT64_MAX;

	ft_write(share, "lockf", "0123456789");
	drv_lookup(&d, FUSE_ROOT_ID, "lockf", &e);
	drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fa, NULL);
	drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fb, NULL);
	ok(lk(FUSE_GETLK, e.nodeid, fa, A, F_WRLCK, 0, MAX, &got) == 0 && got.type == F_UNLCK,
	   "GETLK on an unlocked file: F_UNLCK");
	ok(lk(FUSE_SETLK, e.nodeid, fa, A, F_WRLCK, 0, 99, NULL) == 0, "SETLK A: write [0,99]");
	ok(lk(FUSE_GETLK, e.nodeid, fb, B, F_RDLCK, 50, MAX, &got) == 0 && got.type == F_WRLCK &&
	       got.start == 0 && got.end == 99,
	   "GETLK for B: A's write lock [0,99]");
	ok(lk(FUSE_GETLK, e.nodeid, fa, A, F_WRLCK, 0, 10, &got) == 0 && got.type == F_UNLCK,
	   "GETLK for A itself: no conflict with its own lock");
	ok(lk(FUSE_SETLK, e.nodeid, fb, B, F_RDLCK, 10, 20, NULL) == -EAGAIN,
	   "SETLK B read [10,20]: EAGAIN");
	ok(lk(FUSE_SETLK, e.nodeid, fb, A, F_RDLCK, 10, 20, NULL) == 0,
	   "SETLK A read [10,20] through another handle: the same owner, no conflict");
	ok(lk(FUSE_SETLK, e.nodeid, fb, B, F_RDLCK, 200, MAX, NULL) == 0,
	   "SETLK B read [200,EOF]: no overlap");
	pid_t pid = fork();
	if (pid == 0)
		_exit(host_getlk("lockf") == F_WRLCK ? 0 : 1);
	int st;
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a host process sees the guest's write lock");
	ok(lk(FUSE_SETLK, e.nodeid, fa, A, 7, 0, 1, NULL) == -EINVAL, "SETLK type 7: EINVAL");
	ok(lk(FUSE_SETLK, e.nodeid, fa, A, F_RDLCK, 10, 5, NULL) == -EINVAL,
	   "SETLK end before start: EINVAL");
	ok(lk(FUSE_SETLK, e.nodeid, fa + 99, A, F_RDLCK, 0, 1, NULL) == -EBADF,
	   "SETLK with a bad fh: EBADF");

	/* SETLKW by B waits for A. */
	struct waiter w = { .node = e.nodeid, .fh = fb, .owner = B, .unique = 5000, .result = 99 };
	drv_init(&w.dd, srv);
	pthread_t th;
	pthread_create(&th, NULL, setlkw_thread, &w);
	usleep(100000);
	ok(__atomic_load_n(&w.result, __ATOMIC_ACQUIRE) == 99,
	   "SETLKW B [0,99] has not got the lock while A holds it");
	struct fuse_flush_in fl = { .fh = fa, .lock_owner = A };
	ok(drv_call(&d, FUSE_FLUSH, e.nodeid, &fl, sizeof(fl), NULL, 0, NULL) == 0,
	   "FLUSH for A (the guest process closed the file)");
	pthread_join(th, NULL);
	ok(w.result == 0, "SETLKW B gets the lock once A's locks are gone");
	ok(lk(FUSE_GETLK, e.nodeid, fa, A, F_WRLCK, 0, 0, &got) == 0 && got.type == F_WRLCK,
	   "now A sees B's lock");

	/* INTERRUPT ends a wait: sent until the waiter has seen it (an
	 * INTERRUPT for a request not yet waiting is ignored, as in FUSE). */
	w = (struct waiter){ .node = e.nodeid, .fh = fa, .owner = A, .unique = 6000, .result = 99 };
	drv_init(&w.dd, srv);
	pthread_create(&th, NULL, setlkw_thread, &w);
	struct fuse_interrupt_in ii = { .unique = 6000 };
	bool noreply = true;
	for (int i = 0; i < 3000 && pthread_tryjoin_np(th, NULL) == EBUSY; i++) {
		drv_call(&d, FUSE_INTERRUPT, 0, &ii, sizeof(ii), NULL, 0, NULL);
		noreply &= d.reply_len == 0 && d.ret == 0;
		usleep(10000);
	}
	ok(noreply, "INTERRUPT takes no reply");
	ok(w.result == -EINTR, "INTERRUPT of a waiting SETLKW: EINTR");

	/* The waiter limit, then fs_server_cancel ends every wait. */
	struct waiter ws[5];
	pthread_t ths[5];
	for (int i = 0; i < 5; i++) {
		ws[i] = (struct waiter){ .node = e.nodeid,
					 .fh = fa,
					 .owner = 100 + (uint64_t)i,
					 .unique = 7000 + 10 * (uint64_t)i,
					 .result = 99 };
		drv_init(&ws[i].dd, srv);
		pthread_create(&ths[i], NULL, setlkw_thread, &ws[i]);
	}
	/* One of them finds 4 already waiting: then the other 4 are waiting. */
	int edeadlk = 0, waiting = 0, who = -1;
	for (int t = 0; t < 3000 && who < 0; t++) {
		for (int i = 0; i < 5; i++)
			if (__atomic_load_n(&ws[i].result, __ATOMIC_ACQUIRE) == -EDEADLK)
				who = i;
		usleep(10000);
	}
	for (int i = 0; i < 5; i++) {
		edeadlk += ws[i].result == -EDEADLK;
		waiting += ws[i].result == 99;
	}
	ok(who >= 0 && edeadlk == 1 && waiting == 4, "4 SETLKW wait, a 5th gets EDEADLK");
	fs_server_cancel(srv);
	int eintr = 0;
	for (int i = 0; i < 5; i++) {
		pthread_join(ths[i], NULL);
		eintr += ws[i].result == -EINTR;
	}
	ok(eintr == 4, "fs_server_cancel: every waiter returns EINTR");
	ok(lk(FUSE_SETLK, e.nodeid, fb, B, F_UNLCK, 0, MAX, NULL) == 0, "SETLK B unlock all");
	ok(lk(FUSE_SETLKW, e.nodeid, fa, A, F_WRLCK, 0, MAX, NULL) == 0,
	   "SETLKW A on a free file: at once (cancel affects only earlier waits)");
	drv_release(&d, FUSE_RELEASE, e.nodeid, fa);
	drv_release(&d, FUSE_RELEASE, e.nodeid, fb);
	drv_forget(&d, e.nodeid, 1);
}

/* max_lock_waiters 1: the second waiter gets EDEADLK. */
static void test_lock_waiter_limit(void)
{
	struct fs_server_config c = { .path = share, .max_lock_waiters = 1 };
	struct fs_server *s2 = NULL;
	struct kv_err err;
	struct drv saved = d;
	struct fuse_entry_out e = { 0 };
	uint64_t fa = 0, fb = 0;

	ok(fs_server_create(&c, &s2, &err) == 0, "create with max_lock_waiters 1");
	drv_init(&d, s2);
	drv_fuse_init(&d, 0xffffffff, NULL);
	drv_lookup(&d, FUSE_ROOT_ID, "lockf", &e);
	drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fa, NULL);
	drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fb, NULL);
	lk(FUSE_SETLK, e.nodeid, fa, 1, F_WRLCK, 0, 99, NULL);
	/* Two waiters on two threads: whichever comes second gets EDEADLK. */
	struct waiter w[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		w[i] = (struct waiter){ .node = e.nodeid,
					.fh = fb,
					.owner = 2 + (uint64_t)i,
					.unique = 9000 + 10 * (uint64_t)i,
					.result = 99 };
		drv_init(&w[i].dd, s2);
		pthread_create(&th[i], NULL, setlkw_thread, &w[i]);
	}
	int who = -1;
	for (int t = 0; t < 3000 && who < 0; t++) {
		for (int i = 0; i < 2; i++)
			if (__atomic_load_n(&w[i].result, __ATOMIC_ACQUIRE) == -EDEADLK)
				who = i;
		usleep(10000);
	}
	ok(who >= 0 && __atomic_load_n(&w[1 - who].result, __ATOMIC_ACQUIRE) == 99,
	   "a second SETLKW while one waits: EDEADLK, the first still waits");
	fs_server_cancel(s2);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(who >= 0 && w[1 - who].result == -EINTR, "the waiter ends with EINTR on cancel");
	fs_server_destroy(s2);
	d = saved;
}

/* ---- data ops --------------------------------------------------------------- */

static void test_data_ops(void)
{
	struct fuse_entry_out e = { 0 }, e2 = { 0 };
	uint64_t fh, fh2;
	char p[PATH_MAX];
	struct stat st;
	size_t n = 0;

	ft_write(share, "sparse", "");
	drv_lookup(&d, FUSE_ROOT_ID, "sparse", &e);
	drv_open(&d, FUSE_OPEN, e.nodeid, O_RDWR, &fh, NULL);
	struct fuse_fallocate_in fa = { .fh = fh, .offset = 0, .length = 1 << 20 };
	ok(drv_call(&d, FUSE_FALLOCATE, e.nodeid, &fa, sizeof(fa), NULL, 0, NULL) == 0 &&
	       stat(ft_path(p, share, "sparse"), &st) == 0 && st.st_size == 1 << 20 &&
	       st.st_blocks >= 2048,
	   "FALLOCATE 1 MiB: size and blocks");
	fa = (struct fuse_fallocate_in){ .fh = fh,
					 .offset = 0,
					 .length = 1 << 20,
					 .mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE };
	ok(drv_call(&d, FUSE_FALLOCATE, e.nodeid, &fa, sizeof(fa), NULL, 0, NULL) == 0 &&
	       stat(p, &st) == 0 && st.st_size == 1 << 20 && st.st_blocks == 0,
	   "FALLOCATE punch it all again, size kept");
	drv_write(&d, e.nodeid, fh, 1 << 20, "data", 4, NULL);
	drv_write(&d, e.nodeid, fh, 3 << 20, "tail", 4, NULL);
	struct fuse_lseek_in ls = { .fh = fh, .offset = 0, .whence = SEEK_DATA };
	struct fuse_lseek_out lo;
	ok(drv_call(&d, FUSE_LSEEK, e.nodeid, &ls, sizeof(ls), &lo, sizeof(lo), &n) == 0 &&
	       lo.offset == 1 << 20,
	   "LSEEK SEEK_DATA from 0: 1 MiB");
	ls.whence = SEEK_HOLE;
	ls.offset = 1 << 20;
	ok(drv_call(&d, FUSE_LSEEK, e.nodeid, &ls, sizeof(ls), &lo, sizeof(lo), &n) == 0 &&
	       lo.offset > 1 << 20 && lo.offset < 3 << 20,
	   "LSEEK SEEK_HOLE from 1 MiB: after the first block");
	ls.whence = SEEK_DATA;
	ls.offset = 2 << 20;
	ok(drv_call(&d, FUSE_LSEEK, e.nodeid, &ls, sizeof(ls), &lo, sizeof(lo), &n) == 0 &&
	       lo.offset == 3 << 20,
	   "LSEEK SEEK_DATA from 2 MiB: the tail at 3 MiB");
	ls.whence = 9;
	ok(drv_call(&d, FUSE_LSEEK, e.nodeid, &ls, sizeof(ls), &lo, sizeof(lo), &n) == -EINVAL,
	   "LSEEK whence 9: EINVAL");
	ls = (struct fuse_lseek_in){ .fh = fh, .offset = 10 << 20, .whence = SEEK_DATA };
	ok(drv_call(&d, FUSE_LSEEK, e.nodeid, &ls, sizeof(ls), &lo, sizeof(lo), &n) == -ENXIO,
	   "LSEEK SEEK_DATA past the end: ENXIO");

	ft_write(share, "dst", "");
	drv_lookup(&d, FUSE_ROOT_ID, "dst", &e2);
	drv_open(&d, FUSE_OPEN, e2.nodeid, O_RDWR, &fh2, NULL);
	struct fuse_copy_file_range_in cr = { .fh_in = fh,
					      .off_in = 3 << 20,
					      .nodeid_out = e2.nodeid,
					      .fh_out = fh2,
					      .off_out = 2,
					      .len = 100 };
	struct fuse_write_out wo;
	char b[16];
	ok(drv_call(&d, FUSE_COPY_FILE_RANGE, e.nodeid, &cr, sizeof(cr), &wo, sizeof(wo), &n) ==
		   0 &&
	       wo.size == 4 && stat(ft_path(p, share, "dst"), &st) == 0 && st.st_size == 6,
	   "COPY_FILE_RANGE of the 4-byte tail to offset 2");
	int fd = open(p, O_RDONLY);
	ok(pread(fd, b, 4, 2) == 4 && !memcmp(b, "tail", 4), "the copy is there");
	close(fd);
	cr.nodeid_out = e.nodeid;
	ok(drv_call(&d, FUSE_COPY_FILE_RANGE, e.nodeid, &cr, sizeof(cr), &wo, sizeof(wo), &n) ==
	       -EBADF,
	   "COPY_FILE_RANGE with nodeid_out not fh_out's: EBADF");
	cr.nodeid_out = e2.nodeid;
	cr.flags = 1;
	ok(drv_call(&d, FUSE_COPY_FILE_RANGE, e.nodeid, &cr, sizeof(cr), &wo, sizeof(wo), &n) ==
	       -EINVAL,
	   "COPY_FILE_RANGE with flags: EINVAL");

	struct fuse_syncfs_in sy = { 0 };
	ok(drv_call(&d, FUSE_SYNCFS, FUSE_ROOT_ID, &sy, sizeof(sy), NULL, 0, NULL) == 0, "SYNCFS");
	uint64_t dfh = 0;
	drv_open(&d, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &dfh, NULL);
	struct fuse_fsync_in fs = { .fh = dfh };
	ok(drv_call(&d, FUSE_FSYNCDIR, FUSE_ROOT_ID, &fs, sizeof(fs), NULL, 0, NULL) == 0,
	   "FSYNCDIR");
	fs.fh = fh;
	ok(drv_call(&d, FUSE_FSYNCDIR, FUSE_ROOT_ID, &fs, sizeof(fs), NULL, 0, NULL) == -EBADF,
	   "FSYNCDIR with a file handle: EBADF");
	drv_release(&d, FUSE_RELEASEDIR, FUSE_ROOT_ID, dfh);
	drv_release(&d, FUSE_RELEASE, e.nodeid, fh);
	drv_release(&d, FUSE_RELEASE, e2.nodeid, fh2);

	/* BATCH_FORGET of both, with a count larger than the entries sent. */
	struct {
		struct fuse_batch_forget_in in;
		struct fuse_forget_one one[2];
	} bf = { { .count = 1000 }, { { e.nodeid, 1 }, { e2.nodeid, 1 } } };
	drv_call(&d, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), NULL, 0, NULL);
	ok(d.reply_len == 0 && drv_getattr(&d, e.nodeid, NULL) == -ESTALE &&
	       drv_getattr(&d, e2.nodeid, NULL) == -ESTALE,
	   "BATCH_FORGET (count 1000, 2 entries): both gone, no reply");
}

static void test_access(void)
{
	struct fuse_entry_out e = { 0 };
	struct fuse_access_in in = { .mask = R_OK };
	char p[PATH_MAX];

	ft_write(share, "private", "p");
	chmod(ft_path(p, share, "private"), 0600);
	drv_lookup(&d, FUSE_ROOT_ID, "private", &e);
	ok(drv_call(&d, FUSE_ACCESS, e.nodeid, &in, sizeof(in), NULL, 0, NULL) == 0,
	   "ACCESS R_OK as root: 0");
	d.uid = 1000;
	ok(drv_call(&d, FUSE_ACCESS, e.nodeid, &in, sizeof(in), NULL, 0, NULL) == -EACCES,
	   "ACCESS R_OK as 1000 on a root 0600 file: EACCES");
	in.mask = F_OK;
	ok(drv_call(&d, FUSE_ACCESS, e.nodeid, &in, sizeof(in), NULL, 0, NULL) == 0,
	   "ACCESS F_OK as 1000: 0");
	d.uid = 0;
	in.mask = X_OK;
	ok(drv_call(&d, FUSE_ACCESS, e.nodeid, &in, sizeof(in), NULL, 0, NULL) == -EACCES,
	   "ACCESS X_OK as root on a file without x bits: EACCES");
	drv_forget(&d, e.nodeid, 1);
}

static void test_readonly(void)
{
	struct fs_server_config c = { .path = share, .readonly = true };
	struct fs_server *s;
	struct kv_err err;
	struct drv r;
	struct fuse_entry_out e = { 0 };
	uint64_t fh = 0;
	char buf[16];
	size_t n = 0;

	ok(fs_server_create(&c, &s, &err) == 0, "create read-only");
	drv_init(&r, s);
	drv_fuse_init(&r, 0xffffffff, NULL);
	ok(drv_lookup(&r, FUSE_ROOT_ID, "dst", &e) == 0, "read-only: LOOKUP works");
	ok(drv_open(&r, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, NULL) == 0 &&
	       drv_read(&r, e.nodeid, fh, 2, 4, buf, &n) == 0 && n == 4,
	   "read-only: OPEN O_RDONLY and READ work");
	uint64_t fh2 = 0;
	ok(drv_open(&r, FUSE_OPEN, e.nodeid, O_RDWR, &fh2, NULL) == -EROFS, "OPEN O_RDWR: EROFS");
	ok(drv_open(&r, FUSE_OPEN, e.nodeid, O_RDONLY | O_TRUNC, &fh2, NULL) == -EROFS,
	   "OPEN O_TRUNC: EROFS");
	ok(drv_write(&r, e.nodeid, fh, 0, "x", 1, NULL) == -EROFS, "WRITE: EROFS");
	static const uint32_t mut[] = { FUSE_SETATTR,	  FUSE_SYMLINK,	       FUSE_MKNOD,
					FUSE_MKDIR,	  FUSE_UNLINK,	       FUSE_RMDIR,
					FUSE_RENAME,	  FUSE_LINK,	       FUSE_SETXATTR,
					FUSE_REMOVEXATTR, FUSE_CREATE,	       FUSE_FALLOCATE,
					FUSE_RENAME2,	  FUSE_COPY_FILE_RANGE };
	int rofs = 0;
	uint8_t args[256];
	memset(args, 'a', sizeof(args));
	args[255] = 0;
	for (unsigned i = 0; i < sizeof(mut) / sizeof(mut[0]); i++)
		rofs += drv_call(&r, mut[i], e.nodeid, args, sizeof(args), buf, sizeof(buf), &n) ==
			-EROFS;
	ok(rofs == (int)(sizeof(mut) / sizeof(mut[0])), "all 14 mutating opcodes: EROFS (%d)",
	   rofs);
	struct fuse_access_in ai = { .mask = W_OK };
	ok(drv_call(&r, FUSE_ACCESS, e.nodeid, &ai, sizeof(ai), NULL, 0, NULL) == -EROFS,
	   "ACCESS W_OK: EROFS");
	struct stat st;
	char p[PATH_MAX];
	ok(stat(ft_path(p, share, "dst"), &st) == 0 && st.st_size == 6, "the host file unchanged");
	fs_server_destroy(s);
}

int main(void)
{
	struct kv_err err;
	struct fs_server_config cfg = { 0 };

	ft_mkdtemp(root, "misc");
	mkdir(ft_path(share, root, "share"), 0755);
	cfg.path = share;
	if (!ok(fs_server_create(&cfg, &srv, &err) == 0, "create on %s", share)) {
		diag("%s", err.msg);
		return tap_done();
	}
	drv_init(&d, srv);
	d.split = 1;
	ok(drv_fuse_init(&d, 0xffffffff, NULL) == 0, "INIT");
	test_xattr();
	test_locks();
	test_lock_waiter_limit();
	test_data_ops();
	test_access();
	test_readonly();
	fs_server_destroy(srv);
	ft_rmrf(root);
	tap_plan(tap_n_);
	return tap_done();
}
