/* fuzz-fs-server.c - a fuzz target for the FUSE server's request decoder.
 *
 * Owns: LLVMFuzzerTestOneInput, which turns arbitrary bytes into a session
 * of FUSE requests against real servers on a scratch share (fs-input.h
 * describes the encoding), each request cut into device-readable and
 * device-writable buffers the way the input says, every buffer a separate
 * exact-size allocation (ASan sees any access past one). After each request
 * it checks the contract of fs_server_handle(): the reply stays inside the
 * writable buffers, carries a well-formed fuse_out_header with the request's
 * unique and a plain errno, and the chain gets one unless it carries no
 * request or asks for none. After each input it checks that the directory
 * beside the share is untouched (a file inside the share links out to it).
 *
 * Built as a libFuzzer binary (-Dfuzz=true, `make fuzz`) and, with
 * replay.c, as the unit test that replays tests/fuzz/corpus/fs-server.
 * Requests that could fill the host's disk are defused (FALLOCATE and
 * COPY_FILE_RANGE lengths, RLIMIT_FSIZE 64 MiB); SETLKW becomes SETLK so that
 * one input cannot wait on itself forever. */
#include "fs_server.h"
#include "fs-input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSERVERS 4
#define MAX_IOV	 96

static char base[PATH_MAX], share[PATH_MAX], outside[PATH_MAX];
static struct fs_server *servers[NSERVERS];
static struct stat outside_st, secret_st;
static unsigned runs;
static uint64_t recent_node[8], recent_fh[8];
static unsigned recent_n, recent_f;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void cleanup(void)
{
	for (int i = 0; i < NSERVERS; i++)
		fs_server_destroy(servers[i]);
	if (base[0])
		(void)nftw(base, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		(void)!write(fd, text, strlen(text));
		close(fd);
	}
}

/* The share's contents (the share directory itself stays: the servers
 * hold it open). */
static void build_tree(void)
{
	char p[PATH_MAX + 64];
	DIR *d = opendir(share);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", share, e->d_name) >= (int)sizeof(p))
			continue;
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			(void)nftw(p, rm_one, 32, FTW_DEPTH | FTW_PHYS);
		else
			(void)unlink(p);
	}
	if (d)
		closedir(d);
	put(share, "hello", "hello, world\n");
	snprintf(p, sizeof(p), "%s/dir", share);
	mkdir(p, 0755);
	put(p, "inner", "inner\n");
	snprintf(p, sizeof(p), "%s/fifo", share);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/out", share);
	(void)!symlink(outside, p);
	snprintf(p, sizeof(p), "%s/rel", share);
	(void)!symlink("../outside/secret", p);
	snprintf(p, sizeof(p), "%s/hard", share);
	char q[PATH_MAX + 64];
	snprintf(q, sizeof(q), "%s/hello", share);
	(void)!link(q, p);
}

static void setup(void)
{
	const char *t = getenv("FS_TEST_DIR");
	struct kv_err err;

	if (!t || !*t)
		t = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/fs-fuzz.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(base))
		abort();
	if (snprintf(share, sizeof(share), "%s/share", base) >= (int)sizeof(share) ||
	    snprintf(outside, sizeof(outside), "%s/outside", base) >= (int)sizeof(outside) ||
	    mkdir(share, 0755) < 0 || mkdir(outside, 0755) < 0)
		abort();
	put(outside, "secret", "secret\n");
	build_tree();
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/secret", outside);
	if (stat(outside, &outside_st) < 0 || stat(p, &secret_st) < 0)
		abort();

	/* Sparse writes are fine; filling the disk is not. */
	struct rlimit fsize = { 64 << 20, 64 << 20 };
	(void)setrlimit(RLIMIT_FSIZE, &fsize);
	signal(SIGXFSZ, SIG_IGN);

	static const struct fs_server_config cfgs[NSERVERS] = {
		{ .cache = FS_CACHE_AUTO },
		{ .cache = FS_CACHE_AUTO, .readonly = true },
		{ .cache = FS_CACHE_NEVER, .max_write = 65536, .max_inodes = 64, .max_handles = 8 },
		{ .cache = FS_CACHE_ALWAYS, .cross_mounts = true },
	};
	for (int i = 0; i < NSERVERS; i++) {
		struct fs_server_config c = cfgs[i];
		c.path = share;
		if (fs_server_create(&c, &servers[i], &err) < 0) {
			fprintf(stderr, "fuzz-fs-server: %s\n", err.msg);
			abort();
		}
	}
	atexit(cleanup);
}

static bool outside_untouched(void)
{
	struct stat a, b;
	char p[PATH_MAX + 16];

	snprintf(p, sizeof(p), "%s/secret", outside);
	return stat(outside, &a) == 0 && stat(p, &b) == 0 &&
	       a.st_mtim.tv_nsec == outside_st.st_mtim.tv_nsec &&
	       a.st_mtim.tv_sec == outside_st.st_mtim.tv_sec && a.st_nlink == outside_st.st_nlink &&
	       b.st_size == secret_st.st_size && b.st_mode == secret_st.st_mode &&
	       b.st_uid == secret_st.st_uid && b.st_nlink == secret_st.st_nlink &&
	       b.st_ctim.tv_sec == secret_st.st_ctim.tv_sec &&
	       b.st_ctim.tv_nsec == secret_st.st_ctim.tv_nsec;
}

/* Cut n bytes at src into buffers per mode, appending to iov. */
static void cut(struct iovec *iov, unsigned *k, const uint8_t *src, size_t n, unsigned mode,
		size_t first)
{
	size_t piece = mode == FSI_SPLIT_ONE ? n : mode == FSI_SPLIT_BYTES ? 1 : 7;
	size_t off = 0;

	if (mode == FSI_SPLIT_KERNEL && first && first < n)
		piece = first;
	while (off < n && *k < MAX_IOV) {
		size_t len = n - off < piece ? n - off : piece;
		if (*k + 1 == MAX_IOV)
			len = n - off;
		iov[*k].iov_base = malloc(len);
		if (src)
			memcpy(iov[*k].iov_base, src + off, len);
		else
			memset(iov[*k].iov_base, 0x5a, len);
		iov[*k].iov_len = len;
		(*k)++;
		off += len;
		if (mode == FSI_SPLIT_BYTES)
			piece++;
		else if (mode == FSI_SPLIT_KERNEL)
			piece = first == 40 ? (n - off) : 4096; /* args, then data pages */
		first = 40;
	}
}

static void remember(uint32_t opcode, const struct iovec *rep, unsigned nrep, uint32_t len)
{
	uint8_t buf[sizeof(struct fuse_out_header) + sizeof(struct fuse_entry_out) +
		    sizeof(struct fuse_open_out)];
	size_t got = 0;

	for (unsigned i = 0; i < nrep && got < sizeof(buf); i++) {
		size_t k = rep[i].iov_len < sizeof(buf) - got ? rep[i].iov_len : sizeof(buf) - got;
		memcpy(buf + got, rep[i].iov_base, k);
		got += k;
	}
	if (got > len)
		got = len;
	const size_t h = sizeof(struct fuse_out_header);
	uint64_t v;
	switch (opcode) {
	case FUSE_LOOKUP:
	case FUSE_MKDIR:
	case FUSE_MKNOD:
	case FUSE_SYMLINK:
	case FUSE_LINK:
	case FUSE_CREATE:
		if (got >= h + 8) {
			memcpy(&v, buf + h, 8);
			recent_node[recent_n++ % 8] = v;
		}
		if (opcode == FUSE_CREATE && got >= h + sizeof(struct fuse_entry_out) + 8) {
			memcpy(&v, buf + h + sizeof(struct fuse_entry_out), 8);
			recent_fh[recent_f++ % 8] = v;
		}
		break;
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		if (got >= h + 8) {
			memcpy(&v, buf + h, 8);
			recent_fh[recent_f++ % 8] = v;
		}
		break;
	}
}

static void one_request(struct fs_server *s, uint8_t ctl, const uint8_t *req, size_t len,
			size_t rep_cap)
{
	struct iovec in[MAX_IOV], out[MAX_IOV];
	unsigned nin = 0, nout = 0;
	uint8_t *copy = malloc(len ? len : 1);
	struct fuse_in_header h = { 0 };

	memcpy(copy, req, len);
	if (len >= sizeof(h)) {
		memcpy(&h, copy, sizeof(h));
		if (!(ctl & FSI_KEEP_LEN))
			h.len = (uint32_t)len;
		if (ctl & FSI_RECENT_NODE)
			h.nodeid = h.nodeid < 2 ? h.nodeid : recent_node[h.nodeid % 8];
		if (h.opcode == FUSE_SETLKW)
			h.opcode = FUSE_SETLK;
		memcpy(copy, &h, sizeof(h));
		const size_t a = sizeof(h);
		if ((ctl & FSI_RECENT_FH) && len >= a + 8) {
			uint64_t fh = 0;
			memcpy(&fh, copy + a, 8);
			fh = recent_fh[fh % 8];
			memcpy(copy + a, &fh, 8);
		}
		/* Defuse requests that would allocate or copy a lot on the host. */
		if (h.opcode == FUSE_FALLOCATE && len >= a + sizeof(struct fuse_fallocate_in)) {
			struct fuse_fallocate_in f;
			memcpy(&f, copy + a, sizeof(f));
			f.length %= 1 << 20;
			memcpy(copy + a, &f, sizeof(f));
		}
		if (h.opcode == FUSE_COPY_FILE_RANGE &&
		    len >= a + sizeof(struct fuse_copy_file_range_in)) {
			struct fuse_copy_file_range_in c;
			memcpy(&c, copy + a, sizeof(c));
			c.len %= 1 << 20;
			memcpy(copy + a, &c, sizeof(c));
		}
	}
	cut(in, &nin, copy, len, FSI_REQ_SPLIT(ctl), sizeof(h));
	cut(out, &nout, NULL, rep_cap, FSI_REP_SPLIT(ctl), sizeof(struct fuse_out_header));

	uint32_t reply_len = 0xdeadbeef;
	int ret = fs_server_handle(s, in, nin, out, nout, &reply_len);

	/* The contract (fs_server.h). */
	size_t cap = 0;
	for (unsigned i = 0; i < nout; i++)
		cap += out[i].iov_len;
	bool noreply =
	    h.opcode == FUSE_FORGET || h.opcode == FUSE_BATCH_FORGET || h.opcode == FUSE_INTERRUPT;
	if (reply_len > cap)
		abort();
	if (ret == 0 && !noreply && reply_len < sizeof(struct fuse_out_header))
		abort(); /* a request that wants a reply got none */
	if (noreply && ret == 0 && reply_len != 0)
		abort();
	if (reply_len >= sizeof(struct fuse_out_header)) {
		struct fuse_out_header o;
		size_t got = 0;
		for (unsigned i = 0; i < nout && got < sizeof(o); i++) {
			size_t k =
			    out[i].iov_len < sizeof(o) - got ? out[i].iov_len : sizeof(o) - got;
			memcpy((uint8_t *)&o + got, out[i].iov_base, k);
			got += k;
		}
		if (o.len != reply_len || o.unique != h.unique || o.error > 0 || o.error <= -512)
			abort();
		if (o.error == 0 && ret == 0)
			remember(h.opcode, out, nout, reply_len);
	} else if (reply_len != 0) {
		abort();
	}
	for (unsigned i = 0; i < nin; i++)
		free(in[i].iov_base);
	for (unsigned i = 0; i < nout; i++)
		free(out[i].iov_base);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!servers[0])
		setup();
	if (size < 1)
		return 0;
	if (++runs % 256 == 0)
		build_tree();
	struct fs_server *s = servers[data[0] % NSERVERS];
	fs_server_reset(s);
	memset(recent_node, 0, sizeof(recent_node));
	memset(recent_fh, 0, sizeof(recent_fh));
	recent_n = recent_f = 0;
	if (data[0] & FSI_AUTO_INIT) {
		struct fuse_init_in init = { .major = 7, .minor = 36, .flags = 0xffffffff };
		uint8_t req[sizeof(struct fuse_in_header) + sizeof(init)];
		struct fuse_in_header h = { .len = sizeof(req), .opcode = FUSE_INIT, .unique = 1 };
		memcpy(req, &h, sizeof(h));
		memcpy(req + sizeof(h), &init, sizeof(init));
		one_request(s, FSI_SPLIT_ONE, req, sizeof(req), 256);
	}
	size_t off = 1;
	while (size - off >= FSI_RECORD_HDR) {
		uint8_t ctl = data[off];
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		size_t rep = (size_t)data[off + 3] | (size_t)data[off + 4] << 8;
		off += FSI_RECORD_HDR;
		if (len > size - off)
			len = size - off;
		one_request(s, ctl, data + off, len, rep);
		off += len;
	}
	if (!outside_untouched())
		abort(); /* something reached outside the share */
	return 0;
}
