/* procfs.c - PS and STATS, read from /proc (PS of a container: of its
 * cgroup's pids).
 *
 * Owns: building the process list (pid, ppid, uid, state, command line)
 * from /proc/PID/{stat,status,cmdline}, skipping kernel threads and
 * trimming to the protocol's limits with the truncated flag, and the
 * memory, CPU time and uptime numbers from /proc/meminfo and /proc/stat. */
#include "agent.h"
#include "cleanup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PF_KTHREAD_FLAG 0x00200000u
#define PS_BUDGET	(KVAP_MAX_PAYLOAD - 4096) /* wire bytes we allow the list */

static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return -errno;
	while (have < cap - 1) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return (ssize_t)have;
}

/* Fill pid's entry; -ENOENT when it is gone or a kernel thread. *cost is
 * an upper bound of its wire size. */
static int read_proc(pid_t pid, struct kvap_proc *e, size_t *cost, bool *cut)
{
	char path[64], buf[4096];
	unsigned flags = 0;
	int ppid = 0;
	char state = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	char *rp = strrchr(buf, ')'); /* comm may hold spaces and parens */
	if (!rp || sscanf(rp + 1, " %c %d %*d %*d %*d %*d %u", &state, &ppid, &flags) != 3)
		return -ENOENT;
	if (flags & PF_KTHREAD_FLAG)
		return -ENOENT;
	*e = (struct kvap_proc){ .pid = (uint32_t)pid,
				 .ppid = (uint32_t)ppid,
				 .state = (uint8_t)state };
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) > 0) {
		char *u = strstr(buf, "\nUid:");
		if (u)
			e->uid = (uint32_t)strtoul(u + 5, NULL, 10);
	}
	*cost = 64;
	static char cmd[KVAP_MAX_CMDLINE_ARGS * 64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	ssize_t n = read_small(path, cmd, sizeof(cmd));
	if (n <= 0)
		return 0;
	if ((size_t)n == sizeof(cmd) - 1)
		*cut = true;
	uint32_t count = 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1)
		count++;
	if (count > KVAP_MAX_CMDLINE_ARGS) {
		count = KVAP_MAX_CMDLINE_ARGS;
		*cut = true;
	}
	e->cmdline = calloc(count, sizeof(char *));
	if (!e->cmdline)
		return 0;
	ssize_t off = 0;
	for (uint32_t i = 0; i < count; i++) {
		size_t len = strlen(cmd + off);
		size_t keep = len > KVAP_MAX_CMDLINE_ARG ? KVAP_MAX_CMDLINE_ARG : len;
		*cut |= keep < len;
		e->cmdline[i] = strndup(cmd + off, keep);
		if (!e->cmdline[i])
			break;
		e->n_cmdline++;
		*cost += keep + 4;
		off += (ssize_t)len + 1;
	}
	return 0;
}

static bool listed(pid_t pid, const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int procfs_ps(bool filter, const pid_t *only, size_t n_only, struct kvap_ps *ps)
{
	cleanup_free struct kvap_proc *procs = NULL;
	size_t n = 0, cap = 0, budget = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;

	*ps = (struct kvap_ps){ 0 };
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (filter && !listed((pid_t)atoi(de->d_name), only, n_only))
			continue;
		if (n == KVAP_MAX_PROCS) {
			ps->truncated = true;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct kvap_proc *np = realloc(procs, cap * sizeof(*np));
			if (!np)
				break;
			procs = np;
		}
		size_t cost = 0;
		if (read_proc((pid_t)atoi(de->d_name), &procs[n], &cost, &ps->truncated) < 0)
			continue;
		if (budget + cost > PS_BUDGET) {
			ps->truncated = true;
			struct kvap_ps one = { .procs = &procs[n], .n_procs = 1 };
			kvap_free_ps_reply(&one);
			break;
		}
		budget += cost;
		n++;
	}
	closedir(d);
	ps->procs = steal_ptr(&procs);
	ps->n_procs = (uint32_t)n;
	return 0;
}

static uint64_t meminfo_field(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtoull(p + strlen(name), NULL, 10) * 1024 : 0;
}

int procfs_stats(struct kvap_stats *s)
{
	char buf[8192];
	struct timespec ts;

	*s = (struct kvap_stats){ 0 };
	if (read_small("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -errno;
	s->mem_total = meminfo_field(buf, "MemTotal:");
	s->mem_free = meminfo_field(buf, "MemFree:");
	s->mem_available = meminfo_field(buf, "MemAvailable:");
	if (read_small("/proc/stat", buf, sizeof(buf)) <= 0)
		return -errno;
	unsigned long long v[8] = { 0 };
	sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	       &v[4], &v[5], &v[6], &v[7]);
	uint64_t tick_ns = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	s->cpu_user_ns = (v[0] + v[1]) * tick_ns;	   /* user + nice */
	s->cpu_system_ns = (v[2] + v[5] + v[6]) * tick_ns; /* system + irq + softirq */
	s->cpu_idle_ns = (v[3] + v[4]) * tick_ns;	   /* idle + iowait */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	s->uptime_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	DIR *d = opendir("/proc");
	struct dirent *de;
	if (d) {
		while ((de = readdir(d)))
			s->nr_procs += isdigit((unsigned char)de->d_name[0]) != 0;
		closedir(d);
	}
	return 0;
}
