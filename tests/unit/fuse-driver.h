/* fuse-driver.h - a fake virtiofs guest for the FUSE server's unit tests.
 *
 * Owns: building FUSE requests as the Linux virtiofs driver lays them out
 * in a descriptor chain (fuse_in_header in one buffer, the arguments in one
 * buffer or split at odd places, WRITE data in page-sized buffers; the
 * reply's fuse_out_header in one buffer and its payload in buffers of odd
 * sizes), calling fs_server_handle() with them, and checking every reply's
 * header (length, unique, error range) before handing the payload back.
 * Every buffer is a separate exact-size allocation, so ASan catches any
 * read or write past one. Header-only; each test program includes it. */
#ifndef KVRUN_TESTS_FUSE_DRIVER_H
#define KVRUN_TESTS_FUSE_DRIVER_H

#include <errno.h>
#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/uio.h>

#include "fs_server.h"
#include "sandbox.h"
#include "tap.h"

#define DRV_MAX_IOV 64

struct drv {
	struct fs_server *s;
	uint64_t unique;
	uint32_t uid, gid, pid;
	/* Layout: 0 = one buffer for the arguments and one for the reply
	 * payload; 1 = arguments and payload cut into 1, 2, 3, ... byte
	 * pieces (up to DRV_MAX_IOV buffers, the last takes the rest). */
	int split;
	/* The last call's result. */
	int ret;	    /* fs_server_handle's return */
	uint32_t reply_len; /* bytes written */
	int error;	    /* fuse_out_header.error, or 1 when there was no valid header */
	bool header_ok;
};

/* With KVRUN_TEST_FS_SECCOMP=1, requests run on confined threads, as in
 * the device (docs/security.md): each calling thread hands its requests to
 * a worker of its own that loaded the virtio-fs worker's seccomp filter
 * first, so a call the server makes that the filter does not allow kills
 * the test by SIGSYS, with a line naming the call. One worker per caller
 * (made again in a forked child) keeps the callers' concurrency. */
struct drv_job {
	struct fs_server *s;
	const struct iovec *req, *rep;
	unsigned nreq, nrep;
	uint32_t *reply_len;
	int ret;
};

struct drv_worker {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct drv_job *job; /* lock: to run; NULL once done */
	pid_t pid;	     /* the process it runs in */
};

static bool drv_confined_mode;
static __thread struct drv_worker *drv_my_worker;

static inline void drv_mode_init(void)
{
	const char *e = getenv("KVRUN_TEST_FS_SECCOMP");

	drv_confined_mode = e && !strcmp(e, "1");
	if (drv_confined_mode && seccomp_report_setup(STDERR_FILENO, "test: ", "", NULL) < 0) {
		printf("Bail out! cannot install the SIGSYS report\n");
		exit(1);
	}
}

static inline void *drv_worker_main(void *arg)
{
	struct drv_worker *w = arg;
	const struct seccomp_ids ids = { .vm_fd = -1, .vcpu_fd = -1 };
	struct kv_err err = { 0 };

	if (fs_server_thread_init() < 0 || seccomp_load_role(VMM_ROLE_FS_WORKER, &ids, &err) < 0) {
		printf("Bail out! cannot confine a request thread: %s\n", err.msg);
		exit(1);
	}
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->job)
			pthread_cond_wait(&w->cv, &w->lock);
		struct drv_job *j = w->job;
		pthread_mutex_unlock(&w->lock);
		j->ret = fs_server_handle(j->s, j->req, j->nreq, j->rep, j->nrep, j->reply_len);
		pthread_mutex_lock(&w->lock);
		w->job = NULL;
		pthread_cond_broadcast(&w->cv);
	}
	return NULL;
}

static inline int drv_handle(struct fs_server *s, const struct iovec *req, unsigned nreq,
			     const struct iovec *rep, unsigned nrep, uint32_t *reply_len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct drv_job j = { s, req, rep, nreq, nrep, reply_len, 0 };
	struct drv_worker *w = drv_my_worker;
	pthread_t t;

	pthread_once(&once, drv_mode_init);
	if (!drv_confined_mode)
		return fs_server_handle(s, req, nreq, rep, nrep, reply_len);
	if (!w || w->pid != getpid()) {
		w = calloc(1, sizeof(*w));
		if (!w) {
			printf("Bail out! out of memory\n");
			exit(1);
		}
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cv, NULL);
		w->pid = getpid();
		if (pthread_create(&t, NULL, drv_worker_main, w) != 0) {
			printf("Bail out! pthread_create\n");
			exit(1);
		}
		pthread_detach(t);
		drv_my_worker = w;
	}
	pthread_mutex_lock(&w->lock);
	w->job = &j;
	pthread_cond_broadcast(&w->cv);
	while (w->job)
		pthread_cond_wait(&w->cv, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return j.ret;
}

static inline void drv_init(struct drv *d, struct fs_server *s)
{
	memset(d, 0, sizeof(*d));
	d->s = s;
	d->unique = 100;
	d->pid = 42;
}

/* Cut len bytes into buffers per d->split, appending to iov[*n]. */
static inline void drv_cut(const struct drv *d, struct iovec *iov, unsigned *n, size_t len,
			   unsigned max)
{
	size_t piece = d->split ? 1 : len;

	while (len && *n < max) {
		size_t k = (*n + 1 == max || piece > len) ? len : piece;
		iov[*n].iov_base = malloc(k);
		memset(iov[*n].iov_base, 0xa5, k);
		iov[*n].iov_len = k;
		(*n)++;
		len -= k;
		if (d->split)
			piece++;
	}
}

static inline size_t drv_iov_copy(struct iovec *iov, unsigned n, size_t off, const void *src,
				  size_t len, bool to_iov, void *dst)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		if (to_iov)
			memcpy((char *)iov[i].iov_base + off, (const char *)src + done, k);
		else
			memcpy((char *)dst + done, (char *)iov[i].iov_base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

/* Send one request: args (alen bytes) then data (dlen bytes, in 4 KiB
 * buffers), with room for out_cap reply payload bytes; the payload is
 * copied to out (*out_len bytes). hdr_len overrides fuse_in_header.len when
 * nonzero. Returns the reply's error (0, a negative errno), or 1 when no
 * valid reply header came back. */
static inline int drv_call_ex(struct drv *d, uint32_t opcode, uint64_t nodeid, const void *args,
			      size_t alen, const void *data, size_t dlen, void *out, size_t out_cap,
			      size_t *out_len, uint32_t hdr_len)
{
	struct iovec req[2 * DRV_MAX_IOV + 1], rep[DRV_MAX_IOV + 1];
	unsigned nreq = 0, nrep = 0;
	struct fuse_in_header h = {
		.len = hdr_len ? hdr_len : (uint32_t)(sizeof(h) + alen + dlen),
		.opcode = opcode,
		.unique = ++d->unique,
		.nodeid = nodeid,
		.uid = d->uid,
		.gid = d->gid,
		.pid = d->pid,
	};

	req[nreq].iov_base = malloc(sizeof(h));
	memcpy(req[nreq].iov_base, &h, sizeof(h));
	req[nreq++].iov_len = sizeof(h);
	unsigned first = nreq;
	drv_cut(d, req, &nreq, alen, first + DRV_MAX_IOV);
	(void)drv_iov_copy(req + first, nreq - first, 0, args, alen, true, NULL);
	for (size_t off = 0; off < dlen && nreq < 2 * DRV_MAX_IOV + 1; off += 4096) {
		size_t k = dlen - off < 4096 ? dlen - off : 4096;
		if (nreq + 1 == 2 * DRV_MAX_IOV + 1)
			k = dlen - off;
		req[nreq].iov_base = malloc(k);
		memcpy(req[nreq].iov_base, (const char *)data + off, k);
		req[nreq++].iov_len = k;
	}
	rep[nrep].iov_base = malloc(sizeof(struct fuse_out_header));
	memset(rep[nrep].iov_base, 0xa5, sizeof(struct fuse_out_header));
	rep[nrep++].iov_len = sizeof(struct fuse_out_header);
	drv_cut(d, rep, &nrep, out_cap, DRV_MAX_IOV + 1);

	d->reply_len = 0;
	d->ret = drv_handle(d->s, req, nreq, rep, nrep, &d->reply_len);

	struct fuse_out_header o;
	memcpy(&o, rep[0].iov_base, sizeof(o));
	d->header_ok = d->reply_len >= sizeof(o) && o.len == d->reply_len && o.unique == h.unique &&
		       o.error <= 0 && o.error > -4096 && d->reply_len <= sizeof(o) + out_cap;
	d->error = d->header_ok ? o.error : 1;
	size_t plen = d->header_ok ? d->reply_len - sizeof(o) : 0;
	if (out && plen)
		(void)drv_iov_copy(rep + 1, nrep - 1, 0, NULL, plen < out_cap ? plen : out_cap,
				   false, out);
	if (out_len)
		*out_len = plen;
	for (unsigned i = 0; i < nreq; i++)
		free(req[i].iov_base);
	for (unsigned i = 0; i < nrep; i++)
		free(rep[i].iov_base);
	return d->error;
}

static inline int drv_call(struct drv *d, uint32_t opcode, uint64_t nodeid, const void *args,
			   size_t alen, void *out, size_t out_cap, size_t *out_len)
{
	return drv_call_ex(d, opcode, nodeid, args, alen, NULL, 0, out, out_cap, out_len, 0);
}

/* Arguments: a fixed struct followed by up to two NUL-terminated strings
 * and raw bytes, concatenated as the kernel does. */
struct drv_args {
	uint8_t b[8192 + 65536];
	size_t n;
};

static inline void da_reset(struct drv_args *a)
{
	a->n = 0;
}

static inline void da_put(struct drv_args *a, const void *p, size_t len)
{
	if (len)
		memcpy(a->b + a->n, p, len);
	a->n += len;
}

static inline void da_str(struct drv_args *a, const char *s)
{
	da_put(a, s, strlen(s) + 1);
}

/* ---- common requests -------------------------------------------------------- */

static inline int drv_fuse_init(struct drv *d, uint32_t flags, struct fuse_init_out *out)
{
	struct fuse_init_in in = {
		.major = 7, .minor = 36, .max_readahead = 131072, .flags = flags
	};
	struct fuse_init_out o;
	size_t n;
	int e = drv_call(d, FUSE_INIT, 0, &in, 16, &o, sizeof(o), &n);
	if (out)
		*out = o;
	return e == 0 && n != sizeof(o) ? 1 : e;
}

static inline int drv_lookup(struct drv *d, uint64_t parent, const char *name,
			     struct fuse_entry_out *e)
{
	struct fuse_entry_out tmp;
	size_t n;
	int err =
	    drv_call(d, FUSE_LOOKUP, parent, name, strlen(name) + 1, e ? e : &tmp, sizeof(tmp), &n);
	return err == 0 && n != sizeof(tmp) ? 1 : err;
}

static inline void drv_forget(struct drv *d, uint64_t nodeid, uint64_t n)
{
	struct fuse_forget_in in = { .nlookup = n };
	(void)drv_call(d, FUSE_FORGET, nodeid, &in, sizeof(in), NULL, 0, NULL);
}

static inline int drv_getattr(struct drv *d, uint64_t nodeid, struct fuse_attr *a)
{
	struct fuse_getattr_in in = { 0 };
	struct fuse_attr_out out;
	size_t n;
	int e = drv_call(d, FUSE_GETATTR, nodeid, &in, sizeof(in), &out, sizeof(out), &n);
	if (e == 0 && a)
		*a = out.attr;
	return e == 0 && n != sizeof(out) ? 1 : e;
}

static inline int drv_open(struct drv *d, uint32_t op, uint64_t nodeid, uint32_t flags,
			   uint64_t *fh, uint32_t *open_flags)
{
	struct fuse_open_in in = { .flags = flags };
	struct fuse_open_out out;
	size_t n;
	int e = drv_call(d, op, nodeid, &in, sizeof(in), &out, sizeof(out), &n);
	if (e == 0) {
		*fh = out.fh;
		if (open_flags)
			*open_flags = out.open_flags;
	}
	return e == 0 && n != sizeof(out) ? 1 : e;
}

static inline int drv_release(struct drv *d, uint32_t op, uint64_t nodeid, uint64_t fh)
{
	struct fuse_release_in in = { .fh = fh };
	return drv_call(d, op, nodeid, &in, sizeof(in), NULL, 0, NULL);
}

/* READ into buf: returns the error; *got bytes. */
static inline int drv_read(struct drv *d, uint64_t nodeid, uint64_t fh, uint64_t off, uint32_t size,
			   void *buf, size_t *got)
{
	struct fuse_read_in in = { .fh = fh, .offset = off, .size = size };
	return drv_call(d, FUSE_READ, nodeid, &in, sizeof(in), buf, size, got);
}

static inline int drv_write(struct drv *d, uint64_t nodeid, uint64_t fh, uint64_t off,
			    const void *data, uint32_t size, uint32_t *written)
{
	struct fuse_write_in in = { .fh = fh, .offset = off, .size = size };
	struct fuse_write_out out = { 0 };
	size_t n;
	int e = drv_call_ex(d, FUSE_WRITE, nodeid, &in, sizeof(in), data, size, &out, sizeof(out),
			    &n, 0);
	if (written)
		*written = out.size;
	return e == 0 && n != sizeof(out) ? 1 : e;
}

/* Walk a READDIR(PLUS) reply: calls fn for each entry; returns the count,
 * or -1 when an entry runs past the reply. */
static inline int drv_dirents(const uint8_t *buf, size_t len, bool plus,
			      void (*fn)(const struct fuse_entry_out *e,
					 const struct fuse_dirent *de, void *opaque),
			      void *opaque)
{
	size_t off = 0;
	int count = 0;
	size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	while (off < len) {
		if (len - off < hdr)
			return -1;
		const struct fuse_dirent *de =
		    (const void *)(buf + off + (plus ? sizeof(struct fuse_entry_out) : 0));
		size_t size = FUSE_DIRENT_ALIGN(hdr + de->namelen);
		if (size > len - off || de->namelen > 255)
			return -1;
		if (fn)
			fn(plus ? (const void *)(buf + off) : NULL, de, opaque);
		off += size;
		count++;
	}
	return count;
}

#endif
