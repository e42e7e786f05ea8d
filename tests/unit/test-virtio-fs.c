/* Unit tests for virtio-fs through the device with the real FUSE server.
 *
 * A fake guest (vdev-harness.h) writes FUSE requests into descriptor chains
 * in guest memory - direct and indirect, arguments and replies cut into
 * several buffers - kicks the queues and reads the replies from the used
 * ring: INIT (max_write fits the queue), LOOKUP, GETATTR, OPEN and READ
 * (up to max_write in one chain of page-sized buffers), READDIRPLUS,
 * FORGET on the hiprio queue, many requests in flight on two request
 * queues, and a reset that forgets the guest's nodes. Hostile chains: names
 * that climb out (.., /, a symlink pointing outside), a header length that
 * disagrees with the chain, no room for a reply, unknown nodeids and
 * opcodes, a READ larger than max_write, a buffer outside guest RAM; none
 * of it reads the secret next to the share, and only the last breaks the
 * device (until a reset). test-virtio-fs-dev.c tests the device alone. */
#include "fs-test-util.h"
#include "tap.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET "kvrun-unit-secret-7d1f"

static struct harness h;
static struct virtio_dev *d;
static uint16_t used[3];
static uint64_t unique = 1;
static char top[PATH_MAX], share[PATH_MAX + 16];

/* One request through queue q. The arguments go in `pieces` readable
 * buffers after the header's, the reply payload room (cap bytes) in
 * `pieces` writable buffers after the out header's; indirect puts the chain
 * in an indirect table. hdr_len overrides fuse_in_header.len when nonzero.
 * Returns the reply's error (0 or -errno), 1 when no valid reply header came
 * back (then *olen is the used length). */
static int req_ex(unsigned q, uint32_t op, uint64_t nodeid, const void *args, size_t alen,
		  void *out, size_t cap, size_t *olen, unsigned pieces, bool indirect,
		  uint32_t hdr_len, bool no_reply)
{
	struct h_seg segs[4 + 2 * 300];
	unsigned n = 0;
	struct fuse_in_header in = { .len = hdr_len ? hdr_len : (uint32_t)(sizeof(in) + alen),
				     .opcode = op,
				     .unique = ++unique,
				     .nodeid = nodeid };
	uint64_t g = h_alloc(&h, sizeof(in));

	memcpy(h_hva(&h, g, sizeof(in)), &in, sizeof(in));
	segs[n++] = (struct h_seg){ g, sizeof(in), false };
	for (unsigned i = 0, off = 0; alen && i < pieces; i++) {
		size_t k = i + 1 == pieces ? alen - off : alen / pieces;
		if (!k)
			continue;
		g = h_alloc(&h, k);
		memcpy(h_hva(&h, g, k), (const uint8_t *)args + off, k);
		segs[n++] = (struct h_seg){ g, (uint32_t)k, false };
		off += (unsigned)k;
	}
	uint64_t oh = 0;
	struct {
		uint64_t gpa;
		size_t len;
	} pay[300];
	unsigned np = 0;
	if (!no_reply) {
		oh = h_alloc(&h, sizeof(struct fuse_out_header));
		segs[n++] = (struct h_seg){ oh, sizeof(struct fuse_out_header), true };
		for (unsigned i = 0, off = 0; cap && i < pieces; i++) {
			size_t k = i + 1 == pieces ? cap - off : cap / pieces;
			if (!k)
				continue;
			g = h_alloc(&h, k);
			segs[n++] = (struct h_seg){ g, (uint32_t)k, true };
			pay[np].gpa = g;
			pay[np++].len = k;
			off += (unsigned)k;
		}
	}
	h_chain(&h, q, segs, n, indirect);
	h_kick(&h, q);
	if (!h_wait_used(&h, q, ++used[q], 10000))
		return 2;
	uint32_t id = 0, len = 0;
	while (vqd_take_used(&h.drv[q], &id, &len))
		;
	if (olen)
		*olen = len;
	if (no_reply)
		return len == 0 ? 0 : 1;
	struct fuse_out_header o;
	memcpy(&o, h_hva(&h, oh, sizeof(o)), sizeof(o));
	if (len < sizeof(o) || o.len != len || o.unique != in.unique || o.error > 0 ||
	    o.error <= -4096 || len > sizeof(o) + cap)
		return 1;
	size_t plen = len - sizeof(o), got = 0;
	for (unsigned i = 0; out && i < np && got < plen; i++) {
		size_t k = pay[i].len < plen - got ? pay[i].len : plen - got;
		memcpy((uint8_t *)out + got, h_hva(&h, pay[i].gpa, k), k);
		got += k;
	}
	if (olen)
		*olen = plen;
	return o.error;
}

static int req(uint32_t op, uint64_t nodeid, const void *args, size_t alen, void *out, size_t cap,
	       size_t *olen)
{
	return req_ex(1, op, nodeid, args, alen, out, cap, olen, 1, false, 0, false);
}

static int lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
	struct fuse_entry_out tmp;
	size_t n;
	int r = req(FUSE_LOOKUP, parent, name, strlen(name) + 1, e ? e : &tmp, sizeof(tmp), &n);
	return r == 0 && n != sizeof(tmp) ? 1 : r;
}

static int open_node(uint64_t nodeid, uint32_t op, uint64_t *fh)
{
	struct fuse_open_in in = { .flags = op == FUSE_OPENDIR ? O_DIRECTORY : O_RDONLY };
	struct fuse_open_out out;
	size_t n;
	int r = req(op, nodeid, &in, sizeof(in), &out, sizeof(out), &n);
	*fh = out.fh;
	return r == 0 && n != sizeof(out) ? 1 : r;
}

static uint32_t max_write;

static void setup(void)
{
	char p[PATH_MAX + 64];

	ok(ft_mkdtemp(top, "virtio-fs") == 0, "scratch directory %s", top);
	snprintf(share, sizeof(share), "%s/share", top);
	mkdir(share, 0755);
	ft_write(top, "secret", SECRET);
	ft_write(share, "hello", "hello, guest\n");
	snprintf(p, sizeof(p), "%s/sub", share);
	mkdir(p, 0755);
	ft_write(p, "inner", "inner\n");
	snprintf(p, sizeof(p), "%s/out", share);
	symlink("../secret", p);
	snprintf(p, sizeof(p), "%s/abs", share);
	char target[PATH_MAX + 64];
	snprintf(target, sizeof(target), "%s/secret", top);
	symlink(target, p);
	/* 2 MiB of a pattern. */
	uint8_t *big = malloc(2 << 20);
	for (size_t i = 0; i < 2 << 20; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 12));
	snprintf(p, sizeof(p), "%s/big", share);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	(void)!write(fd, big, 2 << 20);
	close(fd);
	free(big);
}

static void init_and_read(void)
{
	struct fuse_init_in in = { .major = 7,
				   .minor = 36,
				   .max_readahead = 131072,
				   .flags = FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS };
	struct fuse_init_out o = { 0 };
	size_t n;

	int r = req(FUSE_INIT, 0, &in, sizeof(in), &o, sizeof(o), &n);
	ok(r == 0 && n == sizeof(o) && o.major == 7, "INIT through the request queue: 7.%u",
	   o.minor);
	max_write = o.max_write;
	ok(o.max_write == 1U << 20 && (o.flags & FUSE_MAX_PAGES) && o.max_pages == 256 &&
	       o.max_pages <= VIRTIO_FS_QUEUE_SIZE - 4,
	   "max_write %u (max_pages %u): 1 MiB, fits a chain of the queue's %d descriptors",
	   o.max_write, o.max_pages, VIRTIO_FS_QUEUE_SIZE);

	struct fuse_entry_out e;
	ok(lookup(FUSE_ROOT_ID, "hello", &e) == 0 && e.attr.size == 13 && S_ISREG(e.attr.mode),
	   "LOOKUP hello: a 13-byte file");
	struct fuse_getattr_in gi = { 0 };
	struct fuse_attr_out ao;
	ok(req(FUSE_GETATTR, e.nodeid, &gi, sizeof(gi), &ao, sizeof(ao), &n) == 0 &&
	       ao.attr.ino == e.attr.ino,
	   "GETATTR of its nodeid");
	uint64_t fh;
	ok(open_node(e.nodeid, FUSE_OPEN, &fh) == 0, "OPEN hello");
	struct fuse_read_in ri = { .fh = fh, .offset = 0, .size = 4096 };
	char buf[4096] = { 0 };
	ok(req_ex(1, FUSE_READ, e.nodeid, &ri, sizeof(ri), buf, 4096, &n, 5, true, 0, false) == 0 &&
	       n == 13 && memcmp(buf, "hello, guest\n", 13) == 0,
	   "READ into 5 buffers of an indirect chain: the 13 bytes");
	struct fuse_release_in rel = { .fh = fh };
	ok(req(FUSE_RELEASE, e.nodeid, &rel, sizeof(rel), NULL, 0, &n) == 0, "RELEASE");

	/* max_write bytes of big in one chain of page-sized buffers. */
	ok(lookup(FUSE_ROOT_ID, "big", &e) == 0 && open_node(e.nodeid, FUSE_OPEN, &fh) == 0,
	   "LOOKUP and OPEN big");
	uint8_t *data = malloc(max_write);
	ri = (struct fuse_read_in){ .fh = fh, .offset = 4096, .size = max_write };
	r = req_ex(1, FUSE_READ, e.nodeid, &ri, sizeof(ri), data, max_write, &n, max_write / 4096,
		   true, 0, false);
	bool same = r == 0 && n == max_write;
	for (size_t i = 0; same && i < n; i++)
		same = data[i] == (uint8_t)((i + 4096) * 7 + ((i + 4096) >> 12));
	ok(same, "READ of max_write (%u bytes) into %u page buffers: the file's bytes", max_write,
	   max_write / 4096);
	ri.size = max_write + 4096;
	ok(req_ex(1, FUSE_READ, e.nodeid, &ri, sizeof(ri), NULL, max_write + 4096, &n, 4, false, 0,
		  false) < 0,
	   "READ of max_write + 4 KiB: an error reply");
	free(data);

	struct fuse_forget_in fi = { .nlookup = 1 };
	ok(req_ex(0, FUSE_FORGET, e.nodeid, &fi, sizeof(fi), NULL, 0, &n, 1, false, 0, true) == 0 &&
	       n == 0,
	   "FORGET on the hiprio queue: used length 0");
	ok(!(d->status & VIRTIO_STATUS_NEEDS_RESET), "the device is healthy");
}

static unsigned dir_count;

static void count_entry(const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off + FUSE_NAME_OFFSET_DIRENTPLUS <= len) {
		const struct fuse_direntplus *de = (const void *)(buf + off);
		off += FUSE_DIRENTPLUS_SIZE(de);
		dir_count++;
	}
}

static void readdir_and_parallel(void)
{
	uint64_t fh;
	size_t n;
	uint8_t buf[8192];

	ok(open_node(FUSE_ROOT_ID, FUSE_OPENDIR, &fh) == 0, "OPENDIR the root");
	struct fuse_read_in ri = { .fh = fh, .offset = 0, .size = sizeof(buf) };
	ok(req_ex(1, FUSE_READDIRPLUS, FUSE_ROOT_ID, &ri, sizeof(ri), buf, sizeof(buf), &n, 3,
		  false, 0, false) == 0 &&
	       n > 0,
	   "READDIRPLUS into 3 buffers");
	count_entry(buf, n);
	ok(dir_count >= 5, "it lists the share's entries (%u)", dir_count);

	/* 64 GETATTRs at once, spread over both request queues, indirect and
	 * direct. */
	struct fuse_getattr_in gi = { 0 };
	uint64_t outs[64], base = unique;
	for (unsigned i = 0; i < 64; i++) {
		unsigned q = 1 + i % 2;
		struct fuse_in_header in = { .len = sizeof(in) + sizeof(gi),
					     .opcode = FUSE_GETATTR,
					     .unique = base + 1 + i,
					     .nodeid = FUSE_ROOT_ID };
		uint64_t g = h_alloc(&h, sizeof(in) + sizeof(gi));
		memcpy(h_hva(&h, g, sizeof(in)), &in, sizeof(in));
		memcpy(h_hva(&h, g + sizeof(in), sizeof(gi)), &gi, sizeof(gi));
		outs[i] =
		    h_alloc(&h, sizeof(struct fuse_out_header) + sizeof(struct fuse_attr_out));
		struct h_seg s[2] = {
			{ g, sizeof(in) + sizeof(gi), false },
			{ outs[i], sizeof(struct fuse_out_header) + sizeof(struct fuse_attr_out),
			  true }
		};
		h_chain(&h, q, s, 2, i % 3 == 0);
	}
	unique = base + 64;
	h_kick(&h, 1);
	h_kick(&h, 2);
	used[1] += 32;
	used[2] += 32;
	bool all = h_wait_used(&h, 1, used[1], 10000) && h_wait_used(&h, 2, used[2], 10000);
	uint32_t id, len;
	for (unsigned q = 1; q <= 2; q++)
		while (vqd_take_used(&h.drv[q], &id, &len))
			all &= len == sizeof(struct fuse_out_header) + sizeof(struct fuse_attr_out);
	for (unsigned i = 0; i < 64; i++) {
		struct fuse_out_header o;
		memcpy(&o, h_hva(&h, outs[i], sizeof(o)), sizeof(o));
		all &= o.error == 0 && o.unique == base + 1 + i;
	}
	ok(all, "64 GETATTRs in flight on 2 request queues: all answered, each with its unique");
}

static bool reply_has_secret(const void *buf, size_t n)
{
	return n >= strlen(SECRET) && memmem(buf, n, SECRET, strlen(SECRET));
}

static void hostile(void)
{
	struct fuse_entry_out e;
	size_t n;
	char buf[4096];
	uint64_t fh;

	ok(lookup(FUSE_ROOT_ID, "..", NULL) < 0 && lookup(FUSE_ROOT_ID, "../secret", NULL) < 0 &&
	       lookup(FUSE_ROOT_ID, "/etc", NULL) < 0 && lookup(FUSE_ROOT_ID, ".", NULL) < 0,
	   "LOOKUP .., ../secret, /etc and .: refused");
	bool leak = false;
	const char *links[] = { "out", "abs" };
	for (unsigned i = 0; i < 2; i++) {
		if (lookup(FUSE_ROOT_ID, links[i], &e) != 0) {
			leak = true;
			continue;
		}
		leak |= S_ISREG(e.attr.mode) || e.attr.size == strlen(SECRET);
		if (open_node(e.nodeid, FUSE_OPEN, &fh) == 0) {
			struct fuse_read_in ri = { .fh = fh, .size = sizeof(buf) };
			leak |=
			    req(FUSE_READ, e.nodeid, &ri, sizeof(ri), buf, sizeof(buf), &n) == 0 &&
			    reply_has_secret(buf, n);
		}
		leak |= lookup(e.nodeid, "x", NULL) == 0;
	}
	ok(!leak, "symlinks out of the share: seen as links, never followed to the secret");

	/* A header that claims more than the chain holds, and less. */
	struct fuse_getattr_in gi = { 0 };
	struct fuse_attr_out ao;
	int r = req_ex(1, FUSE_GETATTR, FUSE_ROOT_ID, &gi, sizeof(gi), &ao, sizeof(ao), &n, 1,
		       false, 4000, false);
	ok(r != 0 && !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "a header length past the chain: no success reply, device not broken");
	r = req_ex(1, FUSE_GETATTR, FUSE_ROOT_ID, &gi, sizeof(gi), &ao, sizeof(ao), &n, 1, false, 8,
		   false);
	ok(r != 0, "a header length shorter than the header: no success reply");
	/* No room for a reply. */
	ok(req_ex(1, FUSE_GETATTR, FUSE_ROOT_ID, &gi, sizeof(gi), NULL, 0, &n, 1, false, 0, true) ==
		   0 &&
	       n == 0,
	   "GETATTR without writable buffers: returned with used length 0");
	ok(req(FUSE_GETATTR, 0xdeadbeef00ULL, &gi, sizeof(gi), &ao, sizeof(ao), &n) < 0 &&
	       req(FUSE_GETATTR, 0, &gi, sizeof(gi), &ao, sizeof(ao), &n) < 0,
	   "unknown nodeids: error replies");
	ok(req(4242, FUSE_ROOT_ID, NULL, 0, buf, sizeof(buf), &n) == -ENOSYS,
	   "unknown opcode: ENOSYS");
	struct fuse_forget_in fi = { .nlookup = 1000 };
	ok(req_ex(0, FUSE_FORGET, 0x1234567ULL, &fi, sizeof(fi), NULL, 0, &n, 1, false, 0, true) ==
		   0 &&
	       lookup(FUSE_ROOT_ID, "hello", NULL) == 0,
	   "FORGET of an unknown node: ignored; the server goes on");
	ok(!(d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 0,
	   "none of this broke the device");

	/* Reset: the guest's nodes are forgotten, INIT is expected again. */
	struct fuse_entry_out keep;
	lookup(FUSE_ROOT_ID, "sub", &keep);
	h_reset(&h);
	h_attach(&h, d, 1024, ~0ULL);
	memset(used, 0, sizeof(used));
	struct fuse_init_in in = { .major = 7, .minor = 36, .max_readahead = 131072 };
	struct fuse_init_out o = { 0 };
	ok(req(FUSE_GETATTR, keep.nodeid, &gi, sizeof(gi), &ao, sizeof(ao), &n) < 0,
	   "after a reset, a nodeid from before is unknown");
	ok(req(FUSE_INIT, 0, &in, sizeof(in), &o, sizeof(o), &n) == 0 &&
	       lookup(FUSE_ROOT_ID, "hello", NULL) == 0,
	   "INIT again, and LOOKUP works");

	/* A buffer outside guest RAM breaks this device only. */
	struct h_seg far[2] = { { 1ULL << 40, 40, false }, { h_alloc(&h, 64), 64, true } };
	h_chain(&h, 1, far, 2, false);
	h_kick(&h, 1);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1,
	   "a buffer past guest RAM: NEEDS_RESET, one config interrupt");
	h_reset(&h);
	h_attach(&h, d, 1024, ~0ULL);
	memset(used, 0, sizeof(used));
	ok(req(FUSE_INIT, 0, &in, sizeof(in), &o, sizeof(o), &n) == 0 &&
	       lookup(FUSE_ROOT_ID, "hello", NULL) == 0 && !(d->status & VIRTIO_STATUS_NEEDS_RESET),
	   "after a reset the device serves again");
}

int main(void)
{
	struct kv_err err = { 0 };

	tap_plan(32);
	if (h_init(&h, 256) < 0) {
		diag("harness");
		return 1;
	}
	setup();
	struct vmm_fs fs = { .tag = "share", .path = share };
	struct virtio_fs_opts o = { .request_queues = 2 };
	if (!ok(virtio_fs_create(&h.vm, &fs, &o, &d, &err) == 0, "virtio-fs on %s %s", share,
		err.msg))
		return tap_done();
	ok(h_attach(&h, d, 1024, ~0ULL) == 0, "driver ready: hiprio and 2 request queues of 1024");
	init_and_read();
	readdir_and_parallel();
	hostile();
	h_reset(&h);
	d->ops->destroy(d);
	h_fini(&h);
	ft_rmrf(top);
	return tap_done();
}
