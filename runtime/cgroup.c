/* cgroup.c - see cgroup.h. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The v1 controllers kvrun joins (a named hierarchy without one of these is skipped). */
static const char *const v1_controllers[] = { "cpu",	 "cpuacct", "cpuset",	"memory",
					      "pids",	 "blkio",   "devices",	"freezer",
					      "hugetlb", "net_cls", "net_prio", "perf_event",
					      "rdma",	 "misc" };

static int read_text(const char *path, char **out)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *b = NULL;

	*out = NULL;
	if (fd < 0)
		return -errno;
	for (;;) {
		char *nb = realloc(b, cap + 1);
		if (!nb) {
			free(b);
			return -ENOMEM;
		}
		b = nb;
		ssize_t n = read(fd, b + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(b);
			return e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap)
			cap *= 2;
	}
	b[len] = '\0';
	*out = b;
	return 0;
}

static int write_text(const char *dir, const char *file, const char *val, struct kv_err *err)
{
	char path[4200];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return kv_errno(err, -errno, "cgroup %s", path);
	if ((r = write_full(fd, val, strlen(val))) < 0)
		return kv_errno(err, r, "cgroup %s: writing \"%s\"", path, val);
	return 0;
}

static bool is_v1_controller(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++)
		if (strcmp(v1_controllers[i], name) == 0)
			return true;
	return false;
}

/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS */
int cgroup_parse_mountinfo(const char *mountinfo, char **out, struct kv_err *err)
{
	size_t cap = 256, len = 0;
	char *res = malloc(cap);
	const char *line = mountinfo;

	if (!res)
		return kv_errf(err, -ENOMEM, "out of memory");
	res[0] = '\0';
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		char buf[4096];
		if (ll < sizeof(buf)) {
			memcpy(buf, line, ll);
			buf[ll] = '\0';
			char *f[6], *save = NULL, *sep = strstr(buf, " - ");
			int nf = 0;
			if (sep) {
				*sep = '\0';
				for (char *t = strtok_r(buf, " ", &save); t && nf < 6;
				     t = strtok_r(NULL, " ", &save))
					f[nf++] = t;
				char *type = strtok_r(sep + 3, " ", &save);
				(void)strtok_r(NULL, " ", &save); /* source */
				char *super = strtok_r(NULL, " ", &save);
				if (nf >= 5 && type && super && strcmp(type, "cgroup") == 0) {
					char ctl[512] = "";
					char *s2 = NULL;
					for (char *o = strtok_r(super, ",", &s2); o;
					     o = strtok_r(NULL, ",", &s2))
						if (is_v1_controller(o) &&
						    strlen(ctl) + strlen(o) + 2 < sizeof(ctl)) {
							if (ctl[0])
								strcat(ctl, ",");
							strcat(ctl, o);
						}
					size_t need = strlen(f[4]) + strlen(f[3]) + strlen(ctl) + 4;
					if (ctl[0]) {
						if (len + need >= cap) {
							char *nr =
							    realloc(res, cap = 2 * (len + need));
							if (!nr) {
								free(res);
								return kv_errf(err, -ENOMEM,
									       "out of memory");
							}
							res = nr;
						}
						len += (size_t)sprintf(res + len, "%s\t%s\t%s\n",
								       f[4], f[3], ctl);
					}
				}
			}
		}
		line = end ? end + 1 : NULL;
	}
	*out = res;
	return 0;
}

/* /proc/self/cgroup: ID:CONTROLLERS:PATH; v2's line is "0::PATH". */
int cgroup_own_path(const char *proc_cgroup, const char *controller, char *buf, size_t size)
{
	const char *line = proc_cgroup;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);
		const char *c1 = memchr(line, ':', ll);
		const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			size_t cl = (size_t)(c2 - c1 - 1);
			bool match = false;
			if (!*controller) {
				match = cl == 0;
			} else {
				/* CONTROLLERS is a comma list, e.g. "cpu,cpuacct". */
				const char *p = c1 + 1;
				while (p < c2 && !match) {
					const char *comma = memchr(p, ',', (size_t)(c2 - p));
					const char *e = comma ? comma : c2;
					match = (size_t)(e - p) == strlen(controller) &&
						!strncmp(p, controller, (size_t)(e - p));
					p = e + 1;
				}
			}
			if (match) {
				size_t pl = ll - (size_t)(c2 + 1 - line);
				if (pl + 1 > size)
					return -ENAMETOOLONG;
				memcpy(buf, c2 + 1, pl);
				buf[pl] = '\0';
				return 0;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

static int add_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

void cgroup_free(struct cgroup *cg)
{
	for (size_t i = 0; i < cg->n_leaves; i++)
		free(cg->leaves[i]);
	free(cg->leaves);
	for (size_t i = 0; i < cg->n_created; i++)
		free(cg->created[i]);
	free(cg->created);
	memset(cg, 0, sizeof(*cg));
}

/* Join base + "/" + rel, collapsing duplicate slashes. */
static void join(char *buf, size_t size, const char *base, const char *own, const char *rel)
{
	snprintf(buf, size, "%s/%s/%s", base, own, rel);
	char *o = buf;
	for (const char *i = buf; *i; i++)
		if (!(*i == '/' && o > buf && o[-1] == '/'))
			*o++ = *i;
	*o = '\0';
	while (o > buf + 1 && o[-1] == '/')
		*--o = '\0';
}

/* v1 cpuset: a new cgroup has no CPUs or memory nodes until it gets its parent's. */
static int cpuset_inherit(const char *dir, struct kv_err *err)
{
	char parent[4200], path[4300];
	int r;

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "cpuset.mems" : "cpuset.cpus";
		cleanup_free char *val = NULL;
		snprintf(path, sizeof(path), "%s/%s", parent, f);
		if ((r = read_text(path, &val)) < 0)
			return kv_errno(err, r, "cgroup %s", path);
		char *nl = strchr(val, '\n');
		if (nl)
			*nl = '\0';
		if (!*val)
			continue;
		if ((r = write_text(dir, f, val, err)) < 0)
			return r;
	}
	return 0;
}

/* mkdir each missing component of dir below root; record the new ones. */
static int make_dirs(struct cgroup *cg, const char *root, const char *dir, bool cpuset, bool v2,
		     struct kv_err *err)
{
	char buf[4200];
	size_t rl = strlen(root);
	int r;

	if (strncmp(dir, root, rl) != 0)
		return kv_errf(err, -EINVAL, "cgroup %s is not below %s", dir, root);
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + rl + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (v2) {
			/* The controllers must be enabled in the parent's subtree_control. */
			char parent[4200], path[4300];
			snprintf(parent, sizeof(parent), "%s", buf);
			*strrchr(parent, '/') = '\0';
			snprintf(path, sizeof(path), "%s/cgroup.controllers", parent);
			cleanup_free char *avail = NULL;
			if (read_text(path, &avail) == 0) {
				static const char *const want[] = { "cpu", "cpuset", "memory",
								    "pids", "io" };
				for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
					char tok[16];
					snprintf(tok, sizeof(tok), " %s ", want[i]);
					char padded[1024];
					snprintf(padded, sizeof(padded), " %s ", avail);
					char *nl = strchr(padded, '\n');
					if (nl)
						*nl = ' ';
					if (!strstr(padded, tok))
						continue;
					snprintf(tok, sizeof(tok), "+%s", want[i]);
					/* Fails harmlessly when already enabled or the parent has
					 * processes of its own (the root may). */
					(void)write_text(parent, "cgroup.subtree_control", tok,
							 NULL);
				}
			}
		}
		if (mkdir(buf, 0755) == 0) {
			if ((r = add_str(&cg->created, &cg->n_created, buf)) < 0)
				return kv_errf(err, r, "out of memory");
			if (cpuset && (r = cpuset_inherit(buf, err)) < 0)
				return r;
		} else if (errno != EEXIST) {
			return kv_errno(err, -errno, "cgroup %s", buf);
		}
		if (!c)
			return 0;
		*p = c;
	}
}

static int setup_v2(const char *path, const char *rel, struct cgroup *cg, struct kv_err *err)
{
	cleanup_free char *self = NULL;
	char own[2048] = "", dir[4200];
	int r;

	if (rel[0] != '/') {
		if ((r = read_text("/proc/self/cgroup", &self)) < 0)
			return kv_errno(err, r, "/proc/self/cgroup");
		if (cgroup_own_path(self, "", own, sizeof(own)) < 0)
			return kv_errf(err, -ENOENT, "no cgroup v2 entry in /proc/self/cgroup");
	}
	join(dir, sizeof(dir), CGROUP_ROOT, own, rel);
	if (strcmp(dir, CGROUP_ROOT) == 0)
		return kv_errf(err, -EINVAL, "linux.cgroupsPath \"%s\" is the root cgroup", path);
	if ((r = make_dirs(cg, CGROUP_ROOT, dir, false, true, err)) < 0)
		return r;
	if ((r = add_str(&cg->leaves, &cg->n_leaves, dir)) < 0)
		return kv_errf(err, r, "out of memory");
	return 0;
}

static int setup_v1(const char *path, const char *rel, struct cgroup *cg, struct kv_err *err)
{
	cleanup_free char *mi = NULL, *hier = NULL, *self = NULL;
	int r;

	if ((r = read_text("/proc/self/mountinfo", &mi)) < 0)
		return kv_errno(err, r, "/proc/self/mountinfo");
	if ((r = read_text("/proc/self/cgroup", &self)) < 0)
		return kv_errno(err, r, "/proc/self/cgroup");
	if ((r = cgroup_parse_mountinfo(mi, &hier, err)) < 0)
		return r;
	if (!*hier)
		return kv_errf(err, -ENOENT,
			       "no cgroup v1 hierarchy is mounted and %s is not "
			       "cgroup v2",
			       CGROUP_ROOT);
	for (char *save = NULL, *line = strtok_r(hier, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *mnt = line, *root = strchr(mnt, '\t'),
		     *ctls = root ? strchr(root + 1, '\t') : NULL;
		if (!ctls)
			continue;
		*root++ = '\0';
		*ctls++ = '\0';
		if (strncmp(mnt, CGROUP_ROOT "/", strlen(CGROUP_ROOT) + 1) != 0)
			continue; /* only the usual place: state files are checked against it */
		char own[2048] = "", first[64], dir[4200];
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(ctls, ","), ctls);
		if (rel[0] != '/') {
			if (cgroup_own_path(self, first, own, sizeof(own)) < 0)
				continue;
			/* Our path is relative to the hierarchy's root; the mount may show a subtree. */
			size_t rl = strlen(root);
			if (strcmp(root, "/") != 0 && strncmp(own, root, rl) == 0)
				memmove(own, own + rl, strlen(own + rl) + 1);
		}
		join(dir, sizeof(dir), mnt, own, rel);
		if (strcmp(dir, mnt) == 0)
			return kv_errf(err, -EINVAL, "linux.cgroupsPath \"%s\" is the root cgroup",
				       path);
		bool cpuset = strstr(ctls, "cpuset") != NULL;
		if ((r = make_dirs(cg, mnt, dir, cpuset, false, err)) < 0)
			return r;
		if ((r = add_str(&cg->leaves, &cg->n_leaves, dir)) < 0)
			return kv_errf(err, r, "out of memory");
	}
	if (!cg->n_leaves)
		return kv_errf(err, -ENOENT, "no cgroup v1 controller hierarchy under %s",
			       CGROUP_ROOT);
	return 0;
}

static bool is_v2(void)
{
	struct statfs sf;

	return statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static bool exists(const char *dir, const char *file)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

int cgroup_apply(char *const *leaves, size_t n, const struct cgroup_limits *lim, struct kv_err *err)
{
	char v[64];
	int r;

	for (size_t i = 0; i < n; i++) {
		const char *d = leaves[i];
		bool v2 = exists(d, "cgroup.controllers");
		if (v2) {
			if (lim->memory && exists(d, "memory.max")) {
				snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->memory);
				if ((r = write_text(d, "memory.max", v, err)) < 0)
					return r;
			}
			if (lim->cpu_quota && exists(d, "cpu.max")) {
				uint64_t period = lim->cpu_period ? lim->cpu_period : 100000;
				if (lim->cpu_quota < 0)
					snprintf(v, sizeof(v), "max %llu",
						 (unsigned long long)period);
				else
					snprintf(v, sizeof(v), "%lld %llu",
						 (long long)lim->cpu_quota,
						 (unsigned long long)period);
				if ((r = write_text(d, "cpu.max", v, err)) < 0)
					return r;
			}
			if (lim->cpu_shares && exists(d, "cpu.weight")) {
				/* runc's conversion of shares (2..262144) to weight (1..10000). */
				uint64_t w = 1 + ((lim->cpu_shares - 2) * 9999) / 262142;
				snprintf(v, sizeof(v), "%llu", (unsigned long long)w);
				if ((r = write_text(d, "cpu.weight", v, err)) < 0)
					return r;
			}
		} else {
			if (lim->memory && exists(d, "memory.limit_in_bytes")) {
				snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->memory);
				if ((r = write_text(d, "memory.limit_in_bytes", v, err)) < 0)
					return r;
			}
			if (lim->cpu_quota && exists(d, "cpu.cfs_quota_us")) {
				if (lim->cpu_period) {
					snprintf(v, sizeof(v), "%llu",
						 (unsigned long long)lim->cpu_period);
					if ((r = write_text(d, "cpu.cfs_period_us", v, err)) < 0)
						return r;
				}
				snprintf(v, sizeof(v), "%lld",
					 (long long)(lim->cpu_quota < 0 ? -1 : lim->cpu_quota));
				if ((r = write_text(d, "cpu.cfs_quota_us", v, err)) < 0)
					return r;
			}
			if (lim->cpu_shares && exists(d, "cpu.shares")) {
				snprintf(v, sizeof(v), "%llu", (unsigned long long)lim->cpu_shares);
				if ((r = write_text(d, "cpu.shares", v, err)) < 0)
					return r;
			}
		}
		if (lim->cpuset_cpus && *lim->cpuset_cpus && exists(d, "cpuset.cpus") &&
		    (r = write_text(d, "cpuset.cpus", lim->cpuset_cpus, err)) < 0)
			return r;
		if (lim->cpuset_mems && *lim->cpuset_mems && exists(d, "cpuset.mems") &&
		    (r = write_text(d, "cpuset.mems", lim->cpuset_mems, err)) < 0)
			return r;
	}
	return 0;
}

int cgroup_setup(const char *cgroups_path, const char *id, const struct cgroup_limits *lim,
		 struct cgroup *cg, struct kv_err *err)
{
	const char *rel = cgroups_path && *cgroups_path ? cgroups_path : id;
	int r;

	memset(cg, 0, sizeof(*cg));
	if (rel[0] != '/' && strchr(rel, ':'))
		return kv_errf(err, -EINVAL,
			       "linux.cgroupsPath \"%s\" is a systemd slice path; kvrun manages "
			       "cgroups through cgroupfs (use the cgroupfs manager)",
			       rel);
	cg->v2 = is_v2();
	r = cg->v2 ? setup_v2(rel, rel, cg, err) : setup_v1(rel, rel, cg, err);
	if (r == 0)
		r = cgroup_apply(cg->leaves, cg->n_leaves, lim, err);
	if (r < 0) {
		(void)cgroup_remove(cg->created, cg->n_created, NULL);
		cgroup_free(cg);
	}
	return r;
}

int cgroup_attach(const struct cgroup *cg, pid_t pid, struct kv_err *err)
{
	char v[32];
	int r;

	snprintf(v, sizeof(v), "%d", (int)pid);
	for (size_t i = 0; i < cg->n_leaves; i++)
		if ((r = write_text(cg->leaves[i], "cgroup.procs", v, err)) < 0)
			return r;
	return 0;
}

static bool has_child_cgroups(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return found;
}

int cgroup_remove(char *const *created, size_t n, struct kv_err *err)
{
	int r = 0;

	/* Parents come first in the list, and leaves of several hierarchies
	 * interleave with them: going backwards removes children first. */
	for (size_t i = n; i-- > 0;) {
		for (int tries = 0;; tries++) {
			if (rmdir(created[i]) == 0 || errno == ENOENT)
				break;
			int e = errno;
			if (has_child_cgroups(created[i]))
				break; /* a parent shared with other containers stays */
			if (e == EBUSY && tries < 200) {
				/* The last task may still be on its way out. */
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
				continue;
			}
			if (r == 0)
				r = kv_errno(err, -e, "removing cgroup %s", created[i]);
			break;
		}
	}
	return r;
}
