/* gen-fs-corpus.c - writes the seed corpus of the FUSE server fuzz target.
 *
 * Owns: the seed files in tests/fuzz/corpus/fs-server/, each a short
 * session in the encoding of fs-input.h against the fuzz target's scratch
 * tree (hello, hard, dir/inner, fifo, out -> the outside dir, rel ->
 * ../outside/secret): reading, listing, writing, making and renaming
 * names, xattrs, locks, escape attempts and malformed requests, on each of
 * the four servers. Nodeids 8..15 and fhs 0..7 in the seeds stand for the
 * ones the server returned earlier (FSI_RECENT_NODE / FSI_RECENT_FH).
 * Run: gen-fs-server-corpus DIR */
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-input.h"

static const char *dir;
static int failed;
static uint8_t buf[1 << 16];
static size_t len;
static uint64_t unique;

static void begin(uint8_t flags)
{
	len = 0;
	buf[len++] = flags;
	unique = 10;
}

static void save(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "gen-fs-server-corpus: cannot write %s\n", path);
		failed = 1;
	}
}

/* One request: header, fixed arguments, up to two strings, raw bytes. */
static void req(uint8_t ctl, uint32_t op, uint64_t node, const void *fixed, size_t flen,
		const char *s1, const char *s2, const void *raw, size_t rlen, uint16_t rep)
{
	size_t l1 = s1 ? strlen(s1) + 1 : 0, l2 = s2 ? strlen(s2) + 1 : 0;
	size_t total = sizeof(struct fuse_in_header) + flen + l1 + l2 + rlen;
	struct fuse_in_header h = {
		.len = (uint32_t)total, .opcode = op, .unique = ++unique, .nodeid = node
	};

	if (len + FSI_RECORD_HDR + total > sizeof(buf))
		abort();
	buf[len++] = ctl;
	buf[len++] = (uint8_t)total;
	buf[len++] = (uint8_t)(total >> 8);
	buf[len++] = (uint8_t)rep;
	buf[len++] = (uint8_t)(rep >> 8);
	memcpy(buf + len, &h, sizeof(h));
	len += sizeof(h);
	const void *parts[4] = { fixed, s1, s2, raw };
	size_t sizes[4] = { flen, l1, l2, rlen };
	for (int i = 0; i < 4; i++)
		if (sizes[i]) {
			memcpy(buf + len, parts[i], sizes[i]);
			len += sizes[i];
		}
}

#define N  FSI_RECENT_NODE
#define F  FSI_RECENT_FH
#define NF (FSI_RECENT_NODE | FSI_RECENT_FH)

static void read_session(uint8_t server)
{
	struct fuse_open_in o = { .flags = O_RDONLY };
	struct fuse_read_in r = { .fh = 0, .size = 4096 };
	struct fuse_release_in rl = { .fh = 0 };
	struct fuse_getattr_in g = { 0 };
	struct fuse_forget_in fg = { .nlookup = 1 };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "hello", NULL, NULL, 0, 256);
	req(N, FUSE_GETATTR, 8, &g, sizeof(g), NULL, NULL, NULL, 0, 256);
	req(N, FUSE_OPEN, 8, &o, sizeof(o), NULL, NULL, NULL, 0, 64);
	req(NF | (FSI_SPLIT_BYTES << 2), FUSE_READ, 8, &r, sizeof(r), NULL, NULL, NULL, 0, 4112);
	r.offset = 5;
	r.size = 3;
	req(NF | FSI_SPLIT_BYTES, FUSE_READ, 8, &r, sizeof(r), NULL, NULL, NULL, 0, 19);
	req(NF, FUSE_RELEASE, 8, &rl, sizeof(rl), NULL, NULL, NULL, 0, 16);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "rel", NULL, NULL, 0, 256);
	req(N, FUSE_READLINK, 9, NULL, 0, NULL, NULL, NULL, 0, 4112);
	req(N, FUSE_FORGET, 8, &fg, sizeof(fg), NULL, NULL, NULL, 0, 0);
	req(0, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0, 96);
	char name[32];
	snprintf(name, sizeof(name), "read-%u", server);
	save(name);
}

static void dir_session(uint8_t server)
{
	struct fuse_open_in o = { .flags = O_RDONLY | O_DIRECTORY };
	struct fuse_read_in r = { .fh = 0, .size = 4096 };
	struct fuse_release_in rl = { .fh = 0 };
	struct fuse_fsync_in fs = { .fh = 0 };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_OPENDIR, 1, &o, sizeof(o), NULL, NULL, NULL, 0, 64);
	req(F, FUSE_READDIRPLUS, 1, &r, sizeof(r), NULL, NULL, NULL, 0, 4112);
	req(F | (FSI_SPLIT_SEVEN << 2), FUSE_READDIR, 1, &r, sizeof(r), NULL, NULL, NULL, 0, 4112);
	r.size = 80;
	r.offset = 1;
	req(F, FUSE_READDIR, 1, &r, sizeof(r), NULL, NULL, NULL, 0, 96);
	req(F, FUSE_FSYNCDIR, 1, &fs, sizeof(fs), NULL, NULL, NULL, 0, 16);
	req(F, FUSE_RELEASEDIR, 1, &rl, sizeof(rl), NULL, NULL, NULL, 0, 16);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "dir", NULL, NULL, 0, 256);
	req(N, FUSE_LOOKUP, 8, NULL, 0, "inner", NULL, NULL, 0, 256);
	req(N, FUSE_OPENDIR, 8, &o, sizeof(o), NULL, NULL, NULL, 0, 64);
	req(NF, FUSE_READDIRPLUS, 8, &r, sizeof(r), NULL, NULL, NULL, 0, 4112);
	char name[32];
	snprintf(name, sizeof(name), "dir-%u", server);
	save(name);
}

static void write_session(uint8_t server)
{
	struct fuse_create_in c = { .flags = O_RDWR, .mode = S_IFREG | 0644, .umask = 022 };
	struct fuse_write_in w = { .fh = 0, .offset = 0, .size = 10 };
	struct fuse_fsync_in fs = { .fh = 0, .fsync_flags = 1 };
	struct fuse_flush_in fl = { .fh = 0, .lock_owner = 3 };
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME_NOW |
					       FATTR_MTIME | FATTR_ATIME,
				      .size = 3,
				      .mode = 0600,
				      .atime = 12345 };
	struct fuse_fallocate_in fa = { .fh = 0, .offset = 0, .length = 8192 };
	struct fuse_lseek_in ls = { .fh = 0, .offset = 0, .whence = SEEK_DATA };
	struct fuse_copy_file_range_in cr = {
		.fh_in = 0, .off_in = 0, .nodeid_out = 8, .fh_out = 0, .off_out = 100, .len = 10
	};
	struct fuse_release_in rl = { .fh = 0 };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_CREATE, 1, &c, sizeof(c), "new", NULL, NULL, 0, 256);
	req(NF, FUSE_WRITE, 8, &w, sizeof(w), NULL, NULL, "0123456789", 10, 32);
	w.offset = 5ULL << 30;
	req(NF | FSI_SPLIT_BYTES, FUSE_WRITE, 8, &w, sizeof(w), NULL, NULL, "abcdefghij", 10, 32);
	req(NF, FUSE_FSYNC, 8, &fs, sizeof(fs), NULL, NULL, NULL, 0, 16);
	req(NF, FUSE_FLUSH, 8, &fl, sizeof(fl), NULL, NULL, NULL, 0, 16);
	req(N, FUSE_SETATTR, 8, &sa, sizeof(sa), NULL, NULL, NULL, 0, 128);
	req(NF, FUSE_FALLOCATE, 8, &fa, sizeof(fa), NULL, NULL, NULL, 0, 16);
	req(NF, FUSE_LSEEK, 8, &ls, sizeof(ls), NULL, NULL, NULL, 0, 32);
	req(NF, FUSE_COPY_FILE_RANGE, 8, &cr, sizeof(cr), NULL, NULL, NULL, 0, 32);
	req(NF, FUSE_RELEASE, 8, &rl, sizeof(rl), NULL, NULL, NULL, 0, 16);
	c.flags = O_RDWR | O_EXCL;
	req(0, FUSE_CREATE, 1, &c, sizeof(c), "new", NULL, NULL, 0, 256);
	c.flags = O_RDONLY;
	req(0, FUSE_CREATE, 1, &c, sizeof(c), "fifo", NULL, NULL, 0, 256);
	char name[32];
	snprintf(name, sizeof(name), "write-%u", server);
	save(name);
}

static void mk_session(uint8_t server)
{
	struct fuse_mkdir_in md = { .mode = 0755, .umask = 022 };
	struct fuse_mknod_in mn = { .mode = S_IFIFO | 0644 };
	struct fuse_link_in li = { .oldnodeid = 8 };
	struct fuse_rename_in rn = { .newdir = 1 };
	struct fuse_rename2_in r2 = { .newdir = 1, .flags = RENAME_EXCHANGE };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_MKDIR, 1, &md, sizeof(md), "newdir", NULL, NULL, 0, 256);
	req(N, FUSE_MKNOD, 8, &mn, sizeof(mn), "p", NULL, NULL, 0, 256);
	mn.mode = S_IFCHR | 0600;
	mn.rdev = 0x103;
	req(0, FUSE_MKNOD, 1, &mn, sizeof(mn), "null", NULL, NULL, 0, 256);
	req(0, FUSE_SYMLINK, 1, NULL, 0, "sl", "../../etc/passwd", NULL, 0, 256);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "hello", NULL, NULL, 0, 256);
	li.oldnodeid = 0;
	req(0, FUSE_LINK, 1, &li, sizeof(li), "hello2", NULL, NULL, 0, 256);
	req(0, FUSE_RENAME, 1, &rn, sizeof(rn), "hello2", "hello3", NULL, 0, 16);
	req(0, FUSE_RENAME2, 1, &r2, sizeof(r2), "hello3", "dir", NULL, 0, 16);
	r2.flags = RENAME_WHITEOUT;
	req(0, FUSE_RENAME2, 1, &r2, sizeof(r2), "sl", "sl2", NULL, 0, 16);
	r2.flags = RENAME_NOREPLACE;
	req(0, FUSE_RENAME2, 1, &r2, sizeof(r2), "sl2", "hello", NULL, 0, 16);
	req(0, FUSE_UNLINK, 1, NULL, 0, "sl2", NULL, NULL, 0, 16);
	req(N, FUSE_RMDIR, 1, NULL, 0, "newdir", NULL, NULL, 0, 16);
	char name[32];
	snprintf(name, sizeof(name), "mk-%u", server);
	save(name);
}

static void xattr_session(uint8_t server)
{
	struct fuse_setxattr_in sx = { .size = 1 };
	struct fuse_getxattr_in gx = { .size = 0 };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_SETXATTR, 1, &sx, FUSE_COMPAT_SETXATTR_IN_SIZE, "trusted.overlay.opaque", NULL,
	    "y", 1, 16);
	req(0, FUSE_GETXATTR, 1, &gx, sizeof(gx), "trusted.overlay.opaque", NULL, NULL, 0, 32);
	gx.size = 64;
	req(0, FUSE_GETXATTR, 1, &gx, sizeof(gx), "trusted.overlay.opaque", NULL, NULL, 0, 96);
	req(0, FUSE_LISTXATTR, 1, &gx, sizeof(gx), NULL, NULL, NULL, 0, 96);
	req(0, FUSE_REMOVEXATTR, 1, NULL, 0, "trusted.overlay.opaque", NULL, NULL, 0, 16);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "out", NULL, NULL, 0, 256);
	sx.size = 2;
	req(N, FUSE_SETXATTR, 8, &sx, FUSE_COMPAT_SETXATTR_IN_SIZE, "trusted.sym", NULL, "ab", 2,
	    16);
	char name[32];
	snprintf(name, sizeof(name), "xattr-%u", server);
	save(name);
}

static void lock_session(uint8_t server)
{
	struct fuse_open_in o = { .flags = O_RDWR };
	struct fuse_lk_in lk = { .fh = 0, .owner = 1, .lk = { 0, 99, F_WRLCK, 5 } };
	struct fuse_flush_in fl = { .fh = 0, .lock_owner = 1 };
	struct fuse_interrupt_in ii = { .unique = 15 };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "hello", NULL, NULL, 0, 256);
	req(N, FUSE_OPEN, 8, &o, sizeof(o), NULL, NULL, NULL, 0, 64);
	req(NF, FUSE_SETLK, 8, &lk, sizeof(lk), NULL, NULL, NULL, 0, 16);
	lk.owner = 2;
	req(NF, FUSE_GETLK, 8, &lk, sizeof(lk), NULL, NULL, NULL, 0, 48);
	req(NF, FUSE_SETLK, 8, &lk, sizeof(lk), NULL, NULL, NULL, 0, 16);
	req(NF, FUSE_SETLKW, 8, &lk, sizeof(lk), NULL, NULL, NULL, 0, 16);
	req(0, FUSE_INTERRUPT, 0, &ii, sizeof(ii), NULL, NULL, NULL, 0, 0);
	req(NF, FUSE_FLUSH, 8, &fl, sizeof(fl), NULL, NULL, NULL, 0, 16);
	lk.lk.type = F_UNLCK;
	req(NF, FUSE_SETLK, 8, &lk, sizeof(lk), NULL, NULL, NULL, 0, 16);
	char name[32];
	snprintf(name, sizeof(name), "lock-%u", server);
	save(name);
}

static void escape_session(uint8_t server)
{
	struct fuse_create_in c = { .flags = O_RDWR, .mode = S_IFREG | 0644 };
	struct fuse_open_in o = { .flags = O_RDWR };
	struct fuse_setattr_in sa = { .valid = FATTR_SIZE };

	begin(server | FSI_AUTO_INIT);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "..", NULL, NULL, 0, 256);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "out/secret", NULL, NULL, 0, 256);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "out", NULL, NULL, 0, 256);
	req(N, FUSE_LOOKUP, 8, NULL, 0, "secret", NULL, NULL, 0, 256);
	req(N, FUSE_CREATE, 8, &c, sizeof(c), "x", NULL, NULL, 0, 256);
	req(N, FUSE_OPEN, 8, &o, sizeof(o), NULL, NULL, NULL, 0, 64);
	req(N, FUSE_SETATTR, 8, &sa, sizeof(sa), NULL, NULL, NULL, 0, 128);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "rel", NULL, NULL, 0, 256);
	req(N, FUSE_SETATTR, 9, &sa, sizeof(sa), NULL, NULL, NULL, 0, 128);
	req(0, FUSE_LOOKUP, 1, NULL, 0, "fifo", NULL, NULL, 0, 256);
	o.flags = O_RDONLY;
	req(N, FUSE_OPEN, 10, &o, sizeof(o), NULL, NULL, NULL, 0, 64);
	char name[32];
	snprintf(name, sizeof(name), "escape-%u", server);
	save(name);
}

static void malformed(void)
{
	struct fuse_getattr_in g = { 0 };
	struct fuse_batch_forget_in bf = { .count = 1000 };
	struct fuse_forget_one one = { 8, 1 };

	begin(FSI_AUTO_INIT);
	/* A header claiming more than the buffers hold, then less. */
	req(FSI_KEEP_LEN, FUSE_GETATTR, 1, &g, sizeof(g), NULL, NULL, NULL, 0, 128);
	memcpy(buf + len - sizeof(g) - sizeof(struct fuse_in_header), "\x90", 1);
	req(FSI_KEEP_LEN, FUSE_GETATTR, 1, &g, sizeof(g), NULL, NULL, NULL, 0, 128);
	buf[len - sizeof(g) - sizeof(struct fuse_in_header)] = 41;
	req(0, FUSE_GETATTR, 1, &g, 8, NULL, NULL, NULL, 0, 128);	 /* short arguments */
	req(0, FUSE_GETATTR, 1, &g, sizeof(g), NULL, NULL, NULL, 0, 20); /* short reply room */
	req(0, FUSE_GETATTR, 1, &g, sizeof(g), NULL, NULL, NULL, 0, 8);	 /* no room at all */
	req(0, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), NULL, NULL, &one, sizeof(one), 0);
	req(0, 4000, 1, NULL, 0, NULL, NULL, NULL, 0, 16);
	req(0, FUSE_LOOKUP, 1, NULL, 0, NULL, NULL, "hel\0lo", 7, 256);
	req(0, FUSE_DESTROY, 1, NULL, 0, NULL, NULL, NULL, 0, 16);
	req(0, FUSE_GETATTR, 1, &g, sizeof(g), NULL, NULL, NULL, 0, 128);
	save("malformed");

	begin(0); /* no INIT */
	struct fuse_init_in in = { .major = 7, .minor = 20 };
	req(0, FUSE_GETATTR, 1, &g, sizeof(g), NULL, NULL, NULL, 0, 128);
	req(0, FUSE_INIT, 0, &in, 16, NULL, NULL, NULL, 0, 80);
	in.minor = 38;
	in.flags = 0xffffffff;
	req(0, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL, NULL, 0, 80);
	req(0, FUSE_STATFS, 1, NULL, 0, NULL, NULL, NULL, 0, 96);
	struct fuse_syncfs_in sy = { 0 };
	req(0, FUSE_SYNCFS, 1, &sy, sizeof(sy), NULL, NULL, NULL, 0, 16);
	struct fuse_access_in ac = { .mask = 4 };
	req(0, FUSE_ACCESS, 1, &ac, sizeof(ac), NULL, NULL, NULL, 0, 16);
	save("init");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-fs-server-corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	for (uint8_t server = 0; server < 4; server++) {
		read_session(server);
		dir_session(server);
		write_session(server);
		mk_session(server);
		xattr_session(server);
		lock_session(server);
		escape_session(server);
	}
	malformed();
	return failed;
}
