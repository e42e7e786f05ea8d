/* cgroup.h - the host cgroup of a container's VMM process, v1 and v2.
 *
 * Owns: resolving linux.cgroupsPath in every hierarchy (cgroup v2 mounted
 * on /sys/fs/cgroup, or each cgroup v1 controller hierarchy in
 * /proc/self/mountinfo; a relative path is below this process's own cgroup,
 * an empty one is "<own>/<id>" as with runc), creating the directories
 * (recording which ones kvrun made), enabling the v2 controllers on the
 * way down, copying cpuset from the parent on v1, writing the limits,
 * moving the VMM process (all its threads) in, and removing what was
 * made. systemd paths ("slice:prefix:name") are refused: kvrun manages
 * cgroups through cgroupfs only. */
#ifndef KVRUN_RUNTIME_CGROUP_H
#define KVRUN_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct cgroup_limits {
	uint64_t memory;   /* bytes; 0: unlimited */
	int64_t cpu_quota; /* us per period; 0: leave, -1: unlimited */
	uint64_t cpu_period;
	uint64_t cpu_shares; /* 2..262144; 0: leave (v2: converted to cpu.weight) */
	const char *cpuset_cpus, *cpuset_mems;
};

struct cgroup {
	bool v2;
	char **leaves; /* the container's cgroup directory in each hierarchy */
	size_t n_leaves;
	char **created; /* directories made here, parents first */
	size_t n_created;
};

/* Create (or reuse) the cgroup for cgroups_path ("" or NULL: "<id>" below
 * our own) and apply lim. On failure nothing made here is left. */
int cgroup_setup(const char *cgroups_path, const char *id, const struct cgroup_limits *lim,
		 struct cgroup *cg, struct kv_err *err);
/* Move pid (with all its threads) into every leaf. */
int cgroup_attach(const struct cgroup *cg, pid_t pid, struct kv_err *err);
/* Apply limits to existing leaves (kvrun update). */
int cgroup_apply(char *const *leaves, size_t n, const struct cgroup_limits *lim,
		 struct kv_err *err);
/* Remove the directories made by setup, deepest first. A leaf still busy
 * after 2 s is an error; a parent that is not empty is left alone. */
int cgroup_remove(char *const *created, size_t n, struct kv_err *err);
void cgroup_free(struct cgroup *cg);

/* Parsers, exposed for the unit tests: the v1 controller hierarchies in a
 * mountinfo text ("mount point\troot\tcontrollers" lines into *out), and
 * our cgroup in a hierarchy from a /proc/self/cgroup text (controller ""
 * for the v2 line). */
int cgroup_parse_mountinfo(const char *mountinfo, char **out, struct kv_err *err);
int cgroup_own_path(const char *proc_cgroup, const char *controller, char *buf, size_t size);

#endif
