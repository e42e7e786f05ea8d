/* cgroup.c - the guest's cgroup v2 tree for containers.
 *
 * Owns: finding where containers' cgroups go (as PID 1: /sys/fs/cgroup/kvrun,
 * with every available controller enabled on the way; with --no-init: a
 * kvrun-<pid> directory under the agent's own cgroup, with whatever
 * controllers the host delegates there), creating and removing a
 * container's cgroup, writing its resources (the plan of cgroup-res.c),
 * freezing and thawing it, listing and signalling its processes, and
 * reading its statistics (cpu.stat, memory.*, pids.*, io.stat). */
#include "agent.h"
#include "cgroup-res.h"
#include "cleanup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INIT_CGROUP_ROOT "/sys/fs/cgroup"

static int write_file(const char *path, const char *value)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(value);

	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, value, n);
	if (w < 0)
		return -errno;
	return (size_t)w == n ? 0 : -EIO;
}

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return -errno;
	while (have < cap - 1) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return (ssize_t)have;
}

static int file_in(const char *dir, const char *file, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", dir, file);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Enable every controller dir's parent offers in dir's subtree. */
static void enable_controllers(const char *dir)
{
	char path[PATH_MAX], list[512], op[64];

	if (file_in(dir, "cgroup.controllers", path, sizeof(path)) < 0 ||
	    read_file(path, list, sizeof(list)) < 0 ||
	    file_in(dir, "cgroup.subtree_control", path, sizeof(path)) < 0)
		return;
	for (char *save, *c = strtok_r(list, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		snprintf(op, sizeof(op), "+%s", c);
		int r = write_file(path, op);
		if (r < 0)
			adebug("cgroup: enabling %s in %s: %s", c, dir, strerror(-r));
	}
}

/* Where cgroup2 is mounted and the agent's own cgroup in it. */
static int own_cgroup(char *out, size_t cap)
{
	char buf[4096], mnt[PATH_MAX] = "";
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");
		char point[PATH_MAX];
		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1) {
			snprintf(mnt, sizeof(mnt), "%s", point);
			break;
		}
	}
	if (!*mnt)
		return -ENOENT;
	if (read_file("/proc/self/cgroup", buf, sizeof(buf)) < 0)
		return -ENOENT;
	char *p = strstr(buf, "0::");
	if (!p)
		return -ENOENT;
	p += 3;
	p[strcspn(p, "\n")] = '\0';
	int n = snprintf(out, cap, "%s%s", mnt, strcmp(p, "/") ? p : "");
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* The directory containers' cgroups go in, made once; NULL when the guest
 * (or the host, with --no-init) has no cgroup2 we may use. */
static const char *cgroup_base(struct agent *a)
{
	char path[PATH_MAX];

	if (a->cg_tried)
		return a->cg_base;
	a->cg_tried = true;
	if (a->init_mode) {
		enable_controllers(INIT_CGROUP_ROOT); /* the root may hold processes */
		snprintf(path, sizeof(path), "%s/kvrun", INIT_CGROUP_ROOT);
	} else {
		char own[PATH_MAX - 32];
		int r = own_cgroup(own, sizeof(own));
		if (r < 0) {
			adebug("cgroup: no cgroup2 for containers: %s", strerror(-r));
			return NULL;
		}
		snprintf(path, sizeof(path), "%s/kvrun-%d", own, (int)getpid());
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		alog("cgroup: cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	enable_controllers(path);
	a->cg_base = strdup(path);
	return a->cg_base;
}

void cgroup_base_remove(struct agent *a)
{
	if (a->cg_base && !a->init_mode && rmdir(a->cg_base) < 0 && errno != ENOENT)
		alog("cgroup: removing %s: %s", a->cg_base, strerror(errno));
	free(a->cg_base);
	a->cg_base = NULL;
	a->cg_tried = false;
}

int cgroup_create(struct agent *a, const char *name, char **out, struct kv_err *err)
{
	const char *base = cgroup_base(a);
	char path[PATH_MAX];

	*out = NULL;
	if (!base)
		return kv_errf(err, -EOPNOTSUPP, "no cgroup v2 hierarchy for containers");
	if (snprintf(path, sizeof(path), "%s/%s", base, name) >= (int)sizeof(path))
		return kv_errf(err, -ENAMETOOLONG, "cgroup path too long");
	if (mkdir(path, 0755) < 0)
		return kv_errno(err, -errno, "creating the container's cgroup %s", path);
	*out = strdup(path);
	if (!*out) {
		rmdir(path);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int cgroup_apply(const char *cg, const struct kvap_resources *res, struct kv_err *err)
{
	struct cgres_plan plan = { 0 };
	char path[PATH_MAX];
	int r;

	if (file_in(cg, "io.bfq.weight", path, sizeof(path)) < 0)
		return kv_errf(err, -ENAMETOOLONG, "cgroup path too long");
	if ((r = cgres_plan_build(res, access(path, F_OK) == 0, &plan, err)) < 0)
		return r;
	for (size_t i = 0; i < plan.n; i++) {
		const struct cgres_write *w = &plan.w[i];
		if (file_in(cg, w->file, path, sizeof(path)) < 0) {
			r = kv_errf(err, -ENAMETOOLONG, "cgroup path too long");
			break;
		}
		r = write_file(path, w->value);
		if (r == -ENOENT) {
			int n = (int)strcspn(w->file, ".");
			r = kv_errf(err, -EOPNOTSUPP,
				    "cgroup: the guest has no %.*s controller for this container "
				    "(%s is missing)",
				    n, w->file, w->file);
			break;
		}
		if (r < 0) {
			r = kv_errno(err, r, "cgroup: writing '%s' to %s", w->value, w->file);
			break;
		}
		adebug("cgroup: %s = %s", w->file, w->value);
	}
	cgres_plan_free(&plan);
	return r;
}

/* The value of `key` in a "key value" file, or def. */
static uint64_t keyed(const char *text, const char *key, uint64_t def)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return def;
}

static bool events_say(const char *cg, const char *key, uint64_t want)
{
	char path[PATH_MAX], buf[512];

	return file_in(cg, "cgroup.events", path, sizeof(path)) == 0 &&
	       read_file(path, buf, sizeof(buf)) > 0 && keyed(buf, key, ~want) == want;
}

int cgroup_freeze(const char *cg, bool frozen, int timeout_ms, struct kv_err *err)
{
	char path[PATH_MAX];
	struct timespec t0, t;
	int r;

	if (file_in(cg, "cgroup.freeze", path, sizeof(path)) < 0)
		return kv_errf(err, -ENAMETOOLONG, "cgroup path too long");
	if ((r = write_file(path, frozen ? "1" : "0")) < 0)
		return kv_errno(err, r, "writing %s", path);
	if (!frozen)
		return 0;
	/* cgroup.events changes (POLLPRI) when the freeze completes. */
	if (file_in(cg, "cgroup.events", path, sizeof(path)) < 0)
		return kv_errf(err, -ENAMETOOLONG, "cgroup path too long");
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (events_say(cg, "frozen", 1))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = timeout_ms -
			    ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return kv_errf(err, -ETIMEDOUT,
				       "the container is not frozen after %d ms (a process may be "
				       "in an uninterruptible sleep); it will be once it can",
				       timeout_ms);
		if (fd >= 0) {
			char b[256];
			struct pollfd p = { .fd = fd, .events = POLLPRI };
			(void)pread(fd, b, sizeof(b), 0);
			(void)poll(&p, 1, left < 50 ? (int)left : 50);
		} else {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

/* Append the pids of cg and its descendants. */
static int collect_pids(const char *cg, pid_t **pids, size_t *n, size_t *cap, int depth)
{
	char path[PATH_MAX], line[32];

	if (depth > 32 || file_in(cg, "cgroup.procs", path, sizeof(path)) < 0)
		return -ELOOP;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 64;
			pid_t *np = realloc(*pids, c * sizeof(*np));
			if (!np)
				return -ENOMEM;
			*pids = np;
			*cap = c;
		}
		(*pids)[(*n)++] = (pid_t)atoi(line);
	}
	DIR *d = opendir(cg);
	struct dirent *de;
	int r = 0;
	while (d && (de = readdir(d)) && r == 0) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", cg, de->d_name) < (int)sizeof(path))
			r = collect_pids(path, pids, n, cap, depth + 1);
	}
	if (d)
		closedir(d);
	return r;
}

int cgroup_pids(const char *cg, pid_t **pids, size_t *n)
{
	size_t cap = 0;
	int r;

	*pids = NULL;
	*n = 0;
	if ((r = collect_pids(cg, pids, n, &cap, 0)) < 0) {
		free(*pids);
		*pids = NULL;
		*n = 0;
	}
	return r;
}

int cgroup_signal(const char *cg, int sig)
{
	pid_t *pids;
	size_t n;
	int r = cgroup_pids(cg, &pids, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (pids[i] > 0)
			(void)kill(pids[i], sig);
	free(pids);
	return 0;
}

/* Remove cg once its processes are gone; children first. */
void cgroup_remove(const char *cg)
{
	char path[PATH_MAX];
	DIR *d = opendir(cg);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", cg, de->d_name) < (int)sizeof(path))
			cgroup_remove(path);
	}
	if (d)
		closedir(d);
	for (int i = 0; i < 200; i++) {
		if (rmdir(cg) == 0 || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		(void)cgroup_signal(cg, SIGKILL);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	alog("cgroup: removing %s: %s", cg, strerror(errno));
}

static uint64_t read_u64(const char *cg, const char *file)
{
	char path[PATH_MAX], buf[64];

	if (file_in(cg, file, path, sizeof(path)) < 0 || read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	if (!strncmp(buf, "max", 3))
		return UINT64_MAX;
	return strtoull(buf, NULL, 10);
}

static void read_mem_stat(const char *cg, struct kvap_cgroup_stats *s)
{
	char path[PATH_MAX], line[256], name[KVAP_MAX_STAT_NAME + 1];
	unsigned long long v;

	if (file_in(cg, "memory.stat", path, sizeof(path)) < 0)
		return;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f || !(s->mem_stat = calloc(KVAP_MAX_MEM_STATS, sizeof(*s->mem_stat))))
		return;
	while (fgets(line, sizeof(line), f) && s->n_mem_stat < KVAP_MAX_MEM_STATS) {
		if (sscanf(line, "%63s %llu", name, &v) != 2)
			continue;
		struct kvap_stat_kv *kv = &s->mem_stat[s->n_mem_stat];
		if (!(kv->name = strdup(name)))
			break;
		kv->value = v;
		s->n_mem_stat++;
	}
}

static void read_io_stat(const char *cg, struct kvap_cgroup_stats *s)
{
	char path[PATH_MAX], line[512];

	if (file_in(cg, "io.stat", path, sizeof(path)) < 0)
		return;
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f || !(s->io = calloc(KVAP_MAX_IO_STATS, sizeof(*s->io))))
		return;
	while (fgets(line, sizeof(line), f) && s->n_io < KVAP_MAX_IO_STATS) {
		struct kvap_io_stat *e = &s->io[s->n_io];
		if (sscanf(line, "%u:%u", &e->major, &e->minor) != 2)
			continue;
		for (char *save, *t = strtok_r(strchr(line, ' '), " \n", &save); t;
		     t = strtok_r(NULL, " \n", &save)) {
			char *eq = strchr(t, '=');
			if (!eq)
				continue;
			uint64_t v = strtoull(eq + 1, NULL, 10);
			*eq = '\0';
			if (!strcmp(t, "rbytes"))
				e->rbytes = v;
			else if (!strcmp(t, "wbytes"))
				e->wbytes = v;
			else if (!strcmp(t, "rios"))
				e->rios = v;
			else if (!strcmp(t, "wios"))
				e->wios = v;
			else if (!strcmp(t, "dbytes"))
				e->dbytes = v;
			else if (!strcmp(t, "dios"))
				e->dios = v;
		}
		s->n_io++;
	}
}

void cgroup_stats(const char *cg, struct kvap_cgroup_stats *s)
{
	char path[PATH_MAX], buf[2048];

	*s = (struct kvap_cgroup_stats){ 0 };
	if (file_in(cg, "cpu.stat", path, sizeof(path)) == 0 &&
	    read_file(path, buf, sizeof(buf)) > 0) {
		s->cpu_usage_ns = keyed(buf, "usage_usec", 0) * 1000;
		s->cpu_user_ns = keyed(buf, "user_usec", 0) * 1000;
		s->cpu_system_ns = keyed(buf, "system_usec", 0) * 1000;
		s->cpu_periods = keyed(buf, "nr_periods", 0);
		s->cpu_throttled_periods = keyed(buf, "nr_throttled", 0);
		s->cpu_throttled_ns = keyed(buf, "throttled_usec", 0) * 1000;
	}
	s->mem_usage = read_u64(cg, "memory.current");
	s->mem_limit = read_u64(cg, "memory.max");
	s->mem_max_usage = read_u64(cg, "memory.peak");
	s->swap_usage = read_u64(cg, "memory.swap.current");
	s->swap_limit = read_u64(cg, "memory.swap.max");
	if (file_in(cg, "memory.events", path, sizeof(path)) == 0 &&
	    read_file(path, buf, sizeof(buf)) > 0) {
		s->mem_failcnt = keyed(buf, "max", 0);
		s->oom_events = keyed(buf, "oom", 0);
		s->oom_kill_events = keyed(buf, "oom_kill", 0);
	}
	s->pids_current = read_u64(cg, "pids.current");
	s->pids_limit = read_u64(cg, "pids.max");
	read_mem_stat(cg, s);
	read_io_stat(cg, s);
}
