/* fs-guest.c - the guest half of bench/fs: file-system workloads, timed in the guest.
 *
 * Owns: running each workload of bench/fs on a mounted file system and printing
 * "FSBENCH-START <workload>", then "FSBENCH <workload> <seconds> <detail>" or
 * "FSBENCH-FAIL <workload> <what>: <errno text>" per workload on stdout (the serial
 * console). Static (the bench image has busybox and this program only). Every workload
 * that reads starts from a cold guest page cache (sync, then drop_caches), so each read
 * reaches the device.
 *
 *   fs-guest DIR WORKLOAD...
 *     seqwrite    write DIR/big: 256 MiB in 1 MiB writes, then fsync
 *     seqread     read DIR/big in 1 MiB reads
 *     randread    4096 reads of 4 KiB at random 4 KiB-aligned offsets of DIR/big
 *                 (POSIX_FADV_RANDOM: no readahead)
 *     smallfiles  create 2,000 files of 1 KiB in DIR/small, stat each, unlink each
 *     findstat    walk DIR/tree (5,000 entries) with lstat on each
 *     untar       busybox tar -xf DIR/tree.tar into DIR/untar, then sync */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG_BYTES  (256ULL << 20)
#define CHUNK	   (1U << 20)
#define RAND_READS 4096
#define SMALL	   2000

static const char *dir;
static char *buf;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *w, const char *what)
{
	printf("FSBENCH-FAIL %s %s: %s\n", w, what, strerror(errno));
	fflush(stdout);
	return -1;
}

static void drop_caches(void)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, "3", 1);
		close(fd);
	}
}

static char *at(const char *name)
{
	static char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static int seqwrite(double *t)
{
	int fd = open(at("big"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("seqwrite", "open");
	memset(buf, 0x5a, CHUNK);
	double t0 = now();
	for (uint64_t off = 0; off < BIG_BYTES; off += CHUNK) {
		buf[0] = (char)(off >> 20);
		if (write(fd, buf, CHUNK) != CHUNK)
			return fail("seqwrite", "write");
	}
	if (fsync(fd) < 0)
		return fail("seqwrite", "fsync");
	*t = now() - t0;
	close(fd);
	return 0;
}

static int seqread(double *t)
{
	drop_caches();
	int fd = open(at("big"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("seqread", "open");
	uint64_t total = 0;
	double t0 = now();
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0)
			return fail("seqread", "read");
		if (n == 0)
			break;
		total += (uint64_t)n;
	}
	*t = now() - t0;
	close(fd);
	if (total != BIG_BYTES) {
		errno = EIO;
		return fail("seqread", "short file");
	}
	return 0;
}

static int randread(double *t)
{
	drop_caches();
	int fd = open(at("big"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("randread", "open");
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	uint64_t x = 88172645463325252ULL;
	double t0 = now();
	for (unsigned i = 0; i < RAND_READS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		off_t off = (off_t)(x % (BIG_BYTES / 4096)) * 4096;
		if (pread(fd, buf, 4096, off) != 4096)
			return fail("randread", "pread");
	}
	*t = now() - t0;
	close(fd);
	return 0;
}

static int smallfiles(double *t)
{
	char p[4096];
	struct stat st;

	if (mkdir(at("small"), 0755) < 0 && errno != EEXIST)
		return fail("smallfiles", "mkdir");
	memset(buf, 'f', 1024);
	double t0 = now();
	for (unsigned i = 0; i < SMALL; i++) {
		snprintf(p, sizeof(p), "%s/small/f%04u", dir, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, buf, 1024) != 1024 || close(fd) < 0)
			return fail("smallfiles", "create");
	}
	for (unsigned i = 0; i < SMALL; i++) {
		snprintf(p, sizeof(p), "%s/small/f%04u", dir, i);
		if (stat(p, &st) < 0 || st.st_size != 1024)
			return fail("smallfiles", "stat");
	}
	for (unsigned i = 0; i < SMALL; i++) {
		snprintf(p, sizeof(p), "%s/small/f%04u", dir, i);
		if (unlink(p) < 0)
			return fail("smallfiles", "unlink");
	}
	*t = now() - t0;
	return 0;
}

static unsigned walked;

static int visit(const char *p, const struct stat *st, int type, struct FTW *f)
{
	walked++;
	return type == FTW_NS ? -1 : 0;
}

static int findstat(double *t, char *detail, size_t dlen)
{
	drop_caches();
	walked = 0;
	double t0 = now();
	if (nftw(at("tree"), visit, 64, FTW_PHYS) != 0)
		return fail("findstat", "nftw");
	*t = now() - t0;
	snprintf(detail, dlen, "%u entries", walked - 1);
	return 0;
}

static int untar(double *t)
{
	char dest[4096];

	snprintf(dest, sizeof(dest), "%s/untar", dir);
	if (mkdir(dest, 0755) < 0)
		return fail("untar", "mkdir");
	drop_caches();
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/busybox", "tar", "-xf", at("tree.tar"), "-C", dest, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = EIO;
		return fail("untar", "busybox tar");
	}
	sync();
	*t = now() - t0;
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: fs-guest DIR WORKLOAD...\n");
		return 2;
	}
	dir = argv[1];
	buf = aligned_alloc(4096, CHUNK);
	for (int i = 2; i < argc; i++) {
		char detail[64] = "";
		double t = 0;
		int r;
		const char *w = argv[i];
		printf("FSBENCH-START %s\n", w);
		fflush(stdout);
		if (!strcmp(w, "seqwrite"))
			r = seqwrite(&t), snprintf(detail, sizeof(detail), "256 MiB");
		else if (!strcmp(w, "seqread"))
			r = seqread(&t), snprintf(detail, sizeof(detail), "256 MiB");
		else if (!strcmp(w, "randread"))
			r = randread(&t),
			snprintf(detail, sizeof(detail), "%u x 4 KiB", RAND_READS);
		else if (!strcmp(w, "smallfiles"))
			r = smallfiles(&t), snprintf(detail, sizeof(detail), "%u files", SMALL);
		else if (!strcmp(w, "findstat"))
			r = findstat(&t, detail, sizeof(detail));
		else if (!strcmp(w, "untar"))
			r = untar(&t);
		else {
			errno = EINVAL;
			r = fail(w, "unknown workload");
		}
		if (r == 0)
			printf("FSBENCH %s %.6f %s\n", w, t, detail);
		else
			bad++;
		fflush(stdout);
	}
	return bad ? 1 : 0;
}
