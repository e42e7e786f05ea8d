/* Unit tests for the FUSE server (vmm/virtio/fs_server*.c): the read side.
 *
 * A fake virtiofs guest (fuse-driver.h) sends requests laid out as Linux
 * lays them into descriptor chains against a scratch directory, and the
 * replies are checked against the host's view of the same files: INIT
 * negotiation, LOOKUP/FORGET and nodeid identity, GETATTR, READLINK,
 * OPEN/READ/RELEASE, OPENDIR/READDIR/READDIRPLUS/RELEASEDIR with
 * continuation, STATFS, DESTROY and reset, and how the server answers
 * malformed chains (lengths, names, nodeids, handles, opcodes), with the
 * arguments and reply in one buffer each and cut into odd pieces. */
#include "fs-test-util.h"
#include "fuse-driver.h"

#include <dirent.h>
#include <sys/statfs.h>

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	while (dir && readdir(dir))
		n++;
	if (dir)
		closedir(dir);
	return n;
}

static char root[PATH_MAX], share[PATH_MAX];
static struct fs_server *srv;
static struct drv d;

static void make_tree(void)
{
	char p[PATH_MAX], q[PATH_MAX];

	ft_mkdtemp(root, "read");
	mkdir(ft_path(share, root, "share"), 0755);
	mkdir(ft_path(p, root, "outside"), 0755);
	ft_write(p, "secret", "outside-secret\n");
	ft_write(share, "hello", "hello, world\n");
	mkdir(ft_path(p, share, "sub"), 0750);
	ft_write(p, "inner", "inner file\n");
	link(ft_path(p, share, "hello"), ft_path(q, share, "hello-link"));
	symlink("hello", ft_path(p, share, "link"));
	symlink("/etc", ft_path(p, share, "abs"));
	symlink("../outside", ft_path(p, share, "up"));
	mkdir(ft_path(p, share, "many"), 0755);
	for (int i = 0; i < 300; i++) {
		char name[64];
		snprintf(name, sizeof(name), "entry-%03d-with-a-longer-name", i);
		ft_write(p, name, "x");
	}
}

static void test_create(void)
{
	struct fs_server_config c = { .path = "/nonexistent/kvrun-fs" };
	struct fs_server *s = NULL;
	struct kv_err e = { 0 };
	char p[PATH_MAX];

	ok(fs_server_create(&c, &s, &e) == -ENOENT && !s && strstr(e.msg, "/nonexistent"),
	   "create: a missing directory fails naming it (%s)", e.msg);
	c.path = ft_path(p, share, "hello");
	ok(fs_server_create(&c, &s, &e) == -ENOTDIR, "create: a file is not a share");
	c.path = share;
	c.max_write = 100;
	ok(fs_server_create(&c, &s, &e) == -EINVAL && strstr(e.msg, "max_write"),
	   "create: max_write 100 refused (%s)", e.msg);
	c.max_write = 0;
	c.cache = (enum fs_cache_mode)7;
	ok(fs_server_create(&c, &s, &e) == -EINVAL, "create: unknown cache mode refused");
}

static void test_init(void)
{
	struct fuse_init_out o = { 0 };
	struct fuse_attr a = { 0 };
	struct fuse_init_in in = { .major = 7, .minor = 36, .flags = 0xffffffff };
	size_t n = 0;

	ok(drv_getattr(&d, FUSE_ROOT_ID, &a) == -EIO, "before INIT: GETATTR gets EIO");
	in.major = 6;
	ok(drv_call(&d, FUSE_INIT, 0, &in, 16, &o, sizeof(o), &n) == -EPROTO, "INIT 6.x: EPROTO");
	in.major = 7;
	in.minor = 20;
	ok(drv_call(&d, FUSE_INIT, 0, &in, 16, &o, sizeof(o), &n) == -EPROTO,
	   "INIT 7.20: EPROTO (older than virtiofs)");
	in.major = 8;
	ok(drv_call(&d, FUSE_INIT, 0, &in, 16, &o, sizeof(o), &n) == 0 && n == 8 && o.major == 7,
	   "INIT 8.x: answered with major 7 only");
	ok(drv_call(&d, FUSE_INIT, 0, &in, 8, &o, sizeof(o), &n) == -EINVAL,
	   "INIT with 8 bytes of arguments: EINVAL");
	ok(drv_fuse_init(&d, 0xffffffff, &o) == 0, "INIT 7.36");
	ok(o.major == 7 && o.minor == 36, "INIT: protocol 7.36 agreed");
	ok(o.max_write == (1U << 20) && o.max_pages == 256, "INIT: max_write 1 MiB, 256 pages");
	ok((o.flags & FUSE_DO_READDIRPLUS) && (o.flags & FUSE_POSIX_LOCKS) &&
	       (o.flags & FUSE_DONT_MASK) && (o.flags & FUSE_MAX_PAGES) &&
	       !(o.flags & FUSE_WRITEBACK_CACHE) && !(o.flags & FUSE_EXPORT_SUPPORT),
	   "INIT: flags 0x%x (readdirplus, locks, dont_mask, max_pages; no writeback)", o.flags);
	ok(drv_fuse_init(&d, FUSE_ASYNC_READ, &o) == 0 && o.flags == FUSE_ASYNC_READ,
	   "INIT: only flags the guest offered come back");
}

static void test_lookup(void)
{
	struct fuse_entry_out e = { 0 }, e2 = { 0 };
	struct stat st;
	char p[PATH_MAX];

	stat(ft_path(p, share, "hello"), &st);
	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello", &e) == 0, "LOOKUP hello");
	ok(e.nodeid > FUSE_ROOT_ID && e.attr.ino == st.st_ino && e.attr.size == 13 &&
	       e.attr.mode == st.st_mode && e.attr.nlink == 2 &&
	       e.attr.mtime == (uint64_t)st.st_mtime,
	   "LOOKUP hello: attributes are the host's");
	ok(e.entry_valid == 1 && e.attr_valid == 1, "cache=auto: 1 s entry and attr timeouts");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello", &e2) == 0 && e2.nodeid == e.nodeid,
	   "LOOKUP twice: the same nodeid");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello-link", &e2) == 0 && e2.nodeid == e.nodeid,
	   "a hard link: the same nodeid");
	drv_forget(&d, e.nodeid, 3);
	ok(drv_getattr(&d, e.nodeid, NULL) == -ESTALE, "FORGET of all 3 lookups: nodeid gone");
	drv_forget(&d, e.nodeid, 1);
	ok(drv_getattr(&d, FUSE_ROOT_ID, NULL) == 0, "FORGET again (unknown node): ignored");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello", &e2) == 0 && e2.nodeid != e.nodeid,
	   "LOOKUP after FORGET: a new nodeid (old one never reused)");
	drv_forget(&d, e2.nodeid, 1);

	ok(drv_lookup(&d, FUSE_ROOT_ID, "sub", &e) == 0 && S_ISDIR(e.attr.mode), "LOOKUP sub");
	ok(drv_lookup(&d, e.nodeid, "inner", &e2) == 0 && e2.attr.size == 11, "LOOKUP sub/inner");
	ok(drv_lookup(&d, e2.nodeid, "x", NULL) == -ENOTDIR, "LOOKUP under a file: ENOTDIR");
	ok(drv_lookup(&d, e.nodeid, "nope", NULL) == -ENOENT, "LOOKUP a missing name: ENOENT");
	drv_forget(&d, e2.nodeid, 1);
	drv_forget(&d, e.nodeid, 1);
	ok(drv_lookup(&d, 0, "hello", NULL) == -ESTALE, "LOOKUP under nodeid 0: ESTALE");
	ok(drv_lookup(&d, 0xdead00000002ULL, "hello", NULL) == -ESTALE,
	   "LOOKUP under an unknown nodeid: ESTALE");
	ok(drv_getattr(&d, e.nodeid, NULL) == -ESTALE, "GETATTR of a forgotten dir: ESTALE");
}

static void test_names(void)
{
	char longname[300];
	size_t n = 0;

	ok(drv_lookup(&d, FUSE_ROOT_ID, "", NULL) == -EINVAL, "LOOKUP \"\": EINVAL");
	ok(drv_lookup(&d, FUSE_ROOT_ID, ".", NULL) == -EINVAL, "LOOKUP \".\": EINVAL");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "..", NULL) == -EINVAL, "LOOKUP \"..\": EINVAL");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "sub/inner", NULL) == -EINVAL, "LOOKUP sub/inner: EINVAL");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "../outside", NULL) == -EINVAL,
	   "LOOKUP ../outside: EINVAL");
	ok(drv_call(&d, FUSE_LOOKUP, FUSE_ROOT_ID, "hello\0x", 8, NULL, 128, &n) == -EINVAL,
	   "LOOKUP with a NUL inside the name: EINVAL");
	ok(drv_call(&d, FUSE_LOOKUP, FUSE_ROOT_ID, "hello", 5, NULL, 128, &n) == -EINVAL,
	   "LOOKUP of a name without its NUL: EINVAL");
	ok(drv_call(&d, FUSE_LOOKUP, FUSE_ROOT_ID, NULL, 0, NULL, 128, &n) == -EINVAL,
	   "LOOKUP without a name: EINVAL");
	memset(longname, 'a', 256);
	longname[256] = 0;
	ok(drv_lookup(&d, FUSE_ROOT_ID, longname, NULL) == -ENAMETOOLONG,
	   "LOOKUP of a 256-byte name: ENAMETOOLONG");
}

static void test_symlinks(void)
{
	struct fuse_entry_out e = { 0 };
	char buf[256];
	size_t n = 0;

	ok(drv_lookup(&d, FUSE_ROOT_ID, "link", &e) == 0 && S_ISLNK(e.attr.mode),
	   "LOOKUP of a symlink gives the symlink itself");
	ok(drv_lookup(&d, e.nodeid, "x", NULL) == -ENOTDIR, "LOOKUP through a symlink: ENOTDIR");
	ok(drv_call(&d, FUSE_READLINK, e.nodeid, NULL, 0, buf, sizeof(buf), &n) == 0 && n == 5 &&
	       memcmp(buf, "hello", 5) == 0,
	   "READLINK link: hello");
	uint64_t fh = 0;
	ok(drv_open(&d, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, NULL) == -ELOOP,
	   "OPEN of a symlink node: ELOOP (never followed on the host)");
	drv_forget(&d, e.nodeid, 1);
	ok(drv_lookup(&d, FUSE_ROOT_ID, "abs", &e) == 0 && S_ISLNK(e.attr.mode), "LOOKUP abs");
	ok(drv_lookup(&d, e.nodeid, "passwd", NULL) == -ENOTDIR,
	   "LOOKUP through an absolute symlink to /etc: ENOTDIR");
	drv_forget(&d, e.nodeid, 1);
	ok(drv_lookup(&d, FUSE_ROOT_ID, "up", &e) == 0, "LOOKUP up (-> ../outside)");
	ok(drv_lookup(&d, e.nodeid, "secret", NULL) == -ENOTDIR,
	   "LOOKUP through a relative symlink out of the share: ENOTDIR");
	drv_forget(&d, e.nodeid, 1);
	ok(drv_call(&d, FUSE_READLINK, FUSE_ROOT_ID, NULL, 0, buf, sizeof(buf), &n) == -EINVAL,
	   "READLINK of a directory: EINVAL");
}

static void test_read(void)
{
	struct fuse_entry_out e = { 0 };
	uint64_t fh = 0;
	uint32_t of = 0;
	char buf[64];
	size_t n = 0;

	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello", &e) == 0, "LOOKUP hello");
	ok(drv_open(&d, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, &of) == 0 && of == 0,
	   "OPEN hello (cache=auto: no open flags)");
	ok(drv_read(&d, e.nodeid, fh, 0, 64, buf, &n) == 0 && n == 13 &&
	       memcmp(buf, "hello, world\n", 13) == 0,
	   "READ all 13 bytes");
	ok(drv_read(&d, e.nodeid, fh, 7, 3, buf, &n) == 0 && n == 3 && memcmp(buf, "wor", 3) == 0,
	   "READ 3 bytes at offset 7");
	ok(drv_read(&d, e.nodeid, fh, 100, 10, buf, &n) == 0 && n == 0, "READ past the end: 0");
	ok(drv_read(&d, e.nodeid, fh, 0, 4u << 20, NULL, &n) == -EINVAL,
	   "READ of 4 MiB (more than max_pages): EINVAL");
	ok(drv_read(&d, e.nodeid, fh + 1, 0, 4, buf, &n) == -EBADF, "READ with a wrong fh: EBADF");
	ok(drv_read(&d, e.nodeid, fh, 1ULL << 63, 4, buf, &n) == -EINVAL,
	   "READ at offset 2^63: EINVAL");
	/* A reply buffer smaller than asked: only what fits. */
	struct fuse_read_in in = { .fh = fh, .offset = 0, .size = 4096 };
	ok(drv_call(&d, FUSE_READ, e.nodeid, &in, sizeof(in), buf, 5, &n) == 0 && n == 5 &&
	       memcmp(buf, "hello", 5) == 0,
	   "READ with room for 5 bytes: 5 bytes");
	ok(drv_release(&d, FUSE_RELEASE, e.nodeid, fh) == 0, "RELEASE");
	ok(drv_release(&d, FUSE_RELEASE, e.nodeid, fh) == -EBADF, "RELEASE again: EBADF");
	ok(drv_read(&d, e.nodeid, fh, 0, 4, buf, &n) == -EBADF, "READ after RELEASE: EBADF");
	ok(drv_open(&d, FUSE_OPEN, FUSE_ROOT_ID, O_RDONLY, &fh, NULL) == -EISDIR,
	   "OPEN of a directory: EISDIR");
	ok(drv_open(&d, FUSE_OPENDIR, e.nodeid, O_RDONLY, &fh, NULL) == -ENOTDIR,
	   "OPENDIR of a file: ENOTDIR");
	drv_forget(&d, e.nodeid, 1);
}

struct seen {
	int count, dots, with_node, bad;
	char names[400][64];
	uint64_t nodes[400];
};

static void collect(const struct fuse_entry_out *e, const struct fuse_dirent *de, void *opaque)
{
	struct seen *s = opaque;
	if (s->count >= 400)
		return;
	snprintf(s->names[s->count], 64, "%.*s", (int)de->namelen, de->name);
	bool dot = !strcmp(s->names[s->count], ".") || !strcmp(s->names[s->count], "..");
	s->dots += dot;
	s->nodes[s->count] = e ? e->nodeid : 0;
	if (e && e->nodeid)
		s->with_node++;
	if (e && dot && e->nodeid)
		s->bad++;
	s->count++;
}

/* Read a whole directory with READDIR(PLUS) replies of size bytes. */
static int read_dir(uint64_t nodeid, bool plus, uint32_t size, struct seen *s, int *calls)
{
	uint64_t fh = 0, off = 0;
	uint64_t buf[1024];
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	*calls = 0;
	if (drv_open(&d, FUSE_OPENDIR, nodeid, O_RDONLY, &fh, NULL))
		return -1;
	for (;;) {
		struct fuse_read_in in = { .fh = fh, .offset = off, .size = size };
		int e = drv_call(&d, plus ? FUSE_READDIRPLUS : FUSE_READDIR, nodeid, &in,
				 sizeof(in), buf, size, &n);
		(*calls)++;
		if (e || *calls > 1000)
			return -1;
		if (n == 0)
			break;
		if (drv_dirents((const uint8_t *)buf, n, plus, collect, s) < 0)
			return -1;
		/* Continue after the last entry, as the kernel does. */
		size_t pos = 0, last = 0;
		size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
		while (pos < n) {
			const struct fuse_dirent *de =
			    (const void *)((const uint8_t *)buf + pos +
					   (plus ? sizeof(struct fuse_entry_out) : 0));
			last = de->off;
			pos += FUSE_DIRENT_ALIGN(hdr + de->namelen);
		}
		off = last;
	}
	return drv_release(&d, FUSE_RELEASEDIR, nodeid, fh);
}

static bool has(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->count; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

static void test_readdir(void)
{
	struct seen s;
	int calls;
	struct fuse_entry_out e = { 0 };

	ok(read_dir(FUSE_ROOT_ID, false, 4096, &s, &calls) == 0, "READDIR of the root");
	ok(s.count == 9 && s.dots == 2 && has(&s, "hello") && has(&s, "sub") && has(&s, "up") &&
	       !has(&s, "secret"),
	   "READDIR: the 7 entries plus . and ..");
	ok(read_dir(FUSE_ROOT_ID, true, 4096, &s, &calls) == 0, "READDIRPLUS of the root");
	ok(s.count == 9 && s.with_node == 7 && s.bad == 0,
	   "READDIRPLUS: nodes for the 7 entries, none for . and ..");
	int i;
	for (i = 0; i < s.count && strcmp(s.names[i], "hello"); i++)
		;
	ok(i < s.count && drv_lookup(&d, FUSE_ROOT_ID, "hello", &e) == 0 && e.nodeid == s.nodes[i],
	   "READDIRPLUS's nodeid for hello is LOOKUP's");
	/* Every READDIRPLUS entry counted one lookup: forget them all. */
	for (i = 0; i < s.count; i++)
		if (s.nodes[i])
			drv_forget(&d, s.nodes[i], 1);
	drv_forget(&d, e.nodeid, 1);
	ok(drv_getattr(&d, e.nodeid, NULL) == -ESTALE, "after FORGET of both: hello's node gone");

	ok(drv_lookup(&d, FUSE_ROOT_ID, "many", &e) == 0, "LOOKUP many");
	ok(read_dir(e.nodeid, false, 256, &s, &calls) == 0 && s.count == 302 && calls > 40,
	   "READDIR of 300 entries in 256-byte replies: all of them, in many calls");
	bool dup = false;
	for (int a = 0; a < s.count; a++)
		for (int b = a + 1; b < s.count; b++)
			dup |= !strcmp(s.names[a], s.names[b]);
	ok(!dup, "READDIR continuation: no duplicates");
	ok(read_dir(e.nodeid, true, 1024, &s, &calls) == 0 && s.count == 302 && s.with_node == 300,
	   "READDIRPLUS of 300 entries in 1 KiB replies");
	for (i = 0; i < s.count; i++)
		if (s.nodes[i])
			drv_forget(&d, s.nodes[i], 1);

	uint64_t fh = 0, buf[64];
	size_t n = 0;
	ok(drv_open(&d, FUSE_OPENDIR, e.nodeid, O_RDONLY, &fh, NULL) == 0, "OPENDIR many");
	struct fuse_read_in in = { .fh = fh, .size = 16 };
	ok(drv_call(&d, FUSE_READDIR, e.nodeid, &in, sizeof(in), buf, 16, &n) == -EINVAL,
	   "READDIR with room for no entry: EINVAL (an empty reply would mean the end)");
	in.size = 4096;
	ok(drv_call(&d, FUSE_READDIR, e.nodeid, &in, sizeof(in), buf, 100, &n) == 0 && n > 0 &&
	       n <= 100,
	   "READDIR with a 100-byte reply buffer: entries up to 100 bytes");
	in.fh = fh + (1ULL << 32);
	ok(drv_call(&d, FUSE_READDIR, e.nodeid, &in, sizeof(in), buf, 512, &n) == -EBADF,
	   "READDIR with a stale fh generation: EBADF");
	in.fh = fh;
	ok(drv_call(&d, FUSE_READ, e.nodeid, &in, sizeof(in), buf, 512, &n) == -EBADF,
	   "READ with a directory handle: EBADF");
	ok(drv_release(&d, FUSE_RELEASE, e.nodeid, fh) == -EBADF,
	   "RELEASE of a directory handle: EBADF");
	ok(drv_release(&d, FUSE_RELEASEDIR, e.nodeid, fh) == 0, "RELEASEDIR");
	drv_forget(&d, e.nodeid, 1);
}

static void test_statfs(void)
{
	struct fuse_statfs_out o;
	struct statfs sf;
	size_t n = 0;

	statfs(share, &sf);
	ok(drv_call(&d, FUSE_STATFS, FUSE_ROOT_ID, NULL, 0, &o, sizeof(o), &n) == 0 &&
	       n == sizeof(o) && o.st.blocks == sf.f_blocks && o.st.bsize == sf.f_bsize &&
	       o.st.namelen == 255,
	   "STATFS: the host file system's figures");
}

static void test_malformed(void)
{
	struct fuse_attr a = { 0 };
	struct fuse_getattr_in in = { 0 };
	size_t n = 0;

	ok(drv_call_ex(&d, FUSE_GETATTR, 1, &in, sizeof(in), NULL, 0, &a, sizeof(a), &n, 57) ==
		   -EINVAL &&
	       d.ret < 0,
	   "header length past the buffers: EINVAL reply and a negative return");
	ok(drv_call_ex(&d, FUSE_GETATTR, 1, &in, sizeof(in), NULL, 0, &a, sizeof(a), &n, 41) ==
		   -EINVAL &&
	       d.ret < 0,
	   "header length short of the buffers: EINVAL and a negative return");
	ok(drv_call(&d, FUSE_GETATTR, 1, &in, 8, &a, sizeof(a), &n) == -EINVAL && d.ret == 0,
	   "GETATTR with 8 of its 16 argument bytes: EINVAL");
	ok(drv_call(&d, FUSE_GETATTR, 1, &in, sizeof(in), &a, 20, &n) == -EINVAL,
	   "GETATTR with room for 20 of 104 reply bytes: EINVAL");
	ok(drv_call(&d, 4000, 1, NULL, 0, NULL, 0, &n) == -ENOSYS, "unknown opcode 4000: ENOSYS");
	ok(drv_call(&d, 0, 1, NULL, 0, NULL, 0, &n) == -ENOSYS, "opcode 0: ENOSYS");
	ok(drv_call(&d, CUSE_INIT, 1, NULL, 0, NULL, 0, &n) == -ENOSYS, "CUSE_INIT: ENOSYS");
	ok(drv_call(&d, FUSE_SETUPMAPPING, 1, NULL, 0, NULL, 0, &n) == -ENOSYS,
	   "SETUPMAPPING (DAX): ENOSYS");
	ok(drv_call(&d, FUSE_IOCTL, 1, NULL, 0, NULL, 0, &n) == -ENOSYS, "IOCTL: ENOSYS");
	ok(drv_getattr(&d, 1, NULL) == 0, "after all that, GETATTR still works");

	/* Chains that cannot carry a request at all. */
	uint8_t small[20] = { 0 };
	struct iovec req = { small, sizeof(small) }, rep = { small, sizeof(small) };
	uint32_t len = 99;
	ok(fs_server_handle(srv, &req, 1, &rep, 1, &len) < 0 && len == 0,
	   "a 20-byte request: negative, nothing written");
	struct fuse_in_header h = { .len = sizeof(h), .opcode = FUSE_GETATTR, .nodeid = 1 };
	struct iovec r2 = { &h, sizeof(h) }, o2 = { small, 15 };
	ok(fs_server_handle(srv, &r2, 1, &o2, 1, &len) < 0 && len == 0,
	   "no room for fuse_out_header: negative, nothing written");
	ok(fs_server_handle(srv, &r2, 1, NULL, 0, &len) < 0 && len == 0,
	   "no writable buffer at all: negative");
	struct iovec huge[2] = { { &h, sizeof(h) }, { small, SIZE_MAX } };
	ok(fs_server_handle(srv, huge, 2, &rep, 1, &len) < 0, "buffer lengths that overflow");
	h.opcode = FUSE_FORGET;
	h.len = 1000;
	ok(fs_server_handle(srv, &r2, 1, NULL, 0, &len) < 0 && len == 0,
	   "FORGET with a wrong length: negative, no reply");
}

static void test_lifecycle(void)
{
	struct fuse_entry_out e = { 0 };

	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello", &e) == 0, "LOOKUP hello");
	ok(drv_call(&d, FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL) == 0, "DESTROY");
	ok(drv_getattr(&d, FUSE_ROOT_ID, NULL) == -EIO, "after DESTROY: EIO until INIT");
	ok(drv_fuse_init(&d, 0xffffffff, NULL) == 0, "INIT again");
	ok(drv_getattr(&d, e.nodeid, NULL) == -ESTALE, "the old session's nodeid is stale");
	ok(drv_lookup(&d, FUSE_ROOT_ID, "hello", &e) == 0, "LOOKUP hello");
	uint64_t fh = 0;
	ok(drv_open(&d, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, NULL) == 0, "OPEN hello");
	fs_server_reset(srv);
	ok(drv_getattr(&d, FUSE_ROOT_ID, NULL) == -EIO, "after reset: EIO until INIT");
	ok(drv_fuse_init(&d, 0xffffffff, NULL) == 0, "INIT after reset");
	char buf[8];
	size_t n = 0;
	ok(drv_read(&d, e.nodeid, fh, 0, 4, buf, &n) == -EBADF, "the old fh is gone");
	ok(drv_getattr(&d, e.nodeid, NULL) == -ESTALE, "the old nodeid is gone");
}

static void test_cache_modes(void)
{
	struct fs_server_config c = { .path = share, .cache = FS_CACHE_ALWAYS };
	struct fs_server *s;
	struct kv_err err;
	struct drv d2;
	struct fuse_entry_out e = { 0 };
	struct fuse_init_out o = { 0 };
	uint64_t fh = 0;
	uint32_t of = 0;

	ok(fs_server_create(&c, &s, &err) == 0, "create cache=always");
	drv_init(&d2, s);
	drv_fuse_init(&d2, 0xffffffff, &o);
	ok(drv_lookup(&d2, FUSE_ROOT_ID, "hello", &e) == 0 && e.entry_valid == 86400 &&
	       e.attr_valid == 86400,
	   "cache=always: day-long timeouts");
	ok(drv_open(&d2, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, &of) == 0 && of == FOPEN_KEEP_CACHE,
	   "cache=always: OPEN keeps the page cache");
	ok(drv_open(&d2, FUSE_OPENDIR, FUSE_ROOT_ID, O_RDONLY, &fh, &of) == 0 &&
	       of == (FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR),
	   "cache=always: OPENDIR caches the directory");
	fs_server_destroy(s);

	c.cache = FS_CACHE_NEVER;
	c.max_write = 128 * 1024;
	ok(fs_server_create(&c, &s, &err) == 0, "create cache=never, max_write 128 KiB");
	drv_init(&d2, s);
	drv_fuse_init(&d2, 0xffffffff, &o);
	ok(!(o.flags & FUSE_DO_READDIRPLUS) && o.max_write == 131072 && o.max_pages == 32,
	   "cache=never: no READDIRPLUS; max_write 128 KiB in 32 pages");
	ok(drv_lookup(&d2, FUSE_ROOT_ID, "hello", &e) == 0 && e.entry_valid == 0 &&
	       e.attr_valid == 0,
	   "cache=never: no timeouts");
	ok(drv_open(&d2, FUSE_OPEN, e.nodeid, O_RDONLY, &fh, &of) == 0 && of == FOPEN_DIRECT_IO,
	   "cache=never: OPEN with direct I/O");
	char buf[8];
	size_t n = 0;
	ok(drv_read(&d2, e.nodeid, fh, 0, 200 * 1024, NULL, &n) == -EINVAL,
	   "a READ above max_pages: EINVAL");
	fs_server_destroy(s); /* with a node and a handle still held */
	(void)buf;
}

int main(void)
{
	struct kv_err err;
	struct fs_server_config cfg = { 0 };

	make_tree();
	int fds = count_fds();
	test_create();
	cfg.path = share;
	if (!ok(fs_server_create(&cfg, &srv, &err) == 0, "create on %s", share)) {
		diag("%s", err.msg);
		return tap_done();
	}
	for (int split = 0; split < 2; split++) {
		fs_server_reset(srv);
		drv_init(&d, srv);
		d.split = split;
		diag("---- arguments and replies %s", split ? "cut into pieces" : "in one buffer");
		test_init();
		test_lookup();
		test_names();
		test_symlinks();
		test_read();
		test_readdir();
		test_statfs();
		test_malformed();
		test_lifecycle();
	}
	test_cache_modes();
	fs_server_destroy(srv);
	ok(count_fds() == fds, "every descriptor closed after destroy");
	ft_rmrf(root);
	tap_plan(tap_n_);
	return tap_done();
}
