/* cgroup-res.h - OCI linux.resources to cgroup v2 file writes.
 *
 * Owns: the conversion runc does from OCI resource values (as KVAP 1.1
 * carries them: 0 = not set, -1 = unlimited) to the cgroup v2 files and
 * the values written there: cpu.weight from shares, cpu.max, cpuset,
 * memory.max / memory.swap.max (from OCI's memory+swap) / memory.low,
 * pids.max, io weights and io.max throttles, and the "unified" files.
 * Pure: no I/O, so the rules are unit-tested on the host (test-agent-parse);
 * cgroup.c writes the plan into a container's cgroup. */
#ifndef KVRUN_AGENT_CGROUP_RES_H
#define KVRUN_AGENT_CGROUP_RES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kvap-msg.h"

struct cgres_write {
	char file[KVAP_MAX_KEY + 1]; /* "memory.max", relative to the cgroup */
	char *value;		     /* malloc'd */
};

/* The writes, in the order they must happen. */
struct cgres_plan {
	struct cgres_write *w;
	size_t n, cap;
};

/* Fill p (zeroed by the caller) with the writes r asks for. bfq: the guest's
 * block devices use BFQ (io.bfq.weight exists), so weights go there as
 * runc does. -EINVAL with err naming the field for a value OCI or cgroup v2
 * does not allow; -EOPNOTSUPP for what the guest cannot do; -ENOMEM. */
int cgres_plan_build(const struct kvap_resources *r, bool bfq, struct cgres_plan *p,
		     struct kv_err *err);
void cgres_plan_free(struct cgres_plan *p);

/* runc's conversions: cpu shares (2..262144) to cpu.weight (1..10000), and
 * blkio weight (10..1000) to io.weight (1..10000). */
uint64_t cgres_shares_to_weight(uint64_t shares);
uint64_t cgres_blkio_to_io_weight(uint64_t weight);

/* A "unified" key may name a cgroup v2 interface file: controller.name,
 * lowercase, no '/', and not one of the cgroup core files ("cgroup.*"),
 * which would let a config move processes or kill the container. */
bool cgres_unified_key_ok(const char *key);

#endif
