/* events.c - the objects `kvrun events` prints, in runc's shape.
 *
 * Owns: {"type":"stats","id":ID,"data":{cpu, cpuset, memory, pids, blkio,
 * hugetlb, intel_rdt, network_interfaces}} with runc's member names and
 * omissions, filled from struct oci_stats, and other event objects. */
#include "jwrite.h"
#include "oci-state.h"

#include <stdlib.h>

static json_object *mem_entry(struct jw *w, uint64_t limit, uint64_t usage, uint64_t max,
			      uint64_t failcnt)
{
	json_object *o = jw_obj(w);

	jw_add(w, o, "limit", jw_u64(w, limit));
	if (usage)
		jw_add(w, o, "usage", jw_u64(w, usage));
	if (max)
		jw_add(w, o, "max", jw_u64(w, max));
	jw_add(w, o, "failcnt", jw_u64(w, failcnt));
	return o;
}

static json_object *blkio_list(struct jw *w, const struct oci_blkio_stat *e, size_t n)
{
	json_object *a = jw_arr(w);

	for (size_t i = 0; i < n; i++) {
		json_object *o = jw_obj(w);
		if (e[i].major)
			jw_add(w, o, "major", jw_u64(w, e[i].major));
		if (e[i].minor)
			jw_add(w, o, "minor", jw_u64(w, e[i].minor));
		jw_add(w, o, "op", jw_str(w, e[i].op));
		if (e[i].value)
			jw_add(w, o, "value", jw_u64(w, e[i].value));
		jw_push(w, a, o);
	}
	return a;
}

int oci_stats_event_write(const char *id, const struct oci_stats *st, char **out,
			  struct kv_err *err)
{
	struct jw w = { 0 };
	json_object *ev = jw_obj(&w), *data = jw_obj(&w);

	/* cpu: usage in ns; throttling is not measured (the VM has no host quota view). */
	json_object *cpu = jw_obj(&w), *usage = jw_obj(&w);
	if (st->cpu_total_ns)
		jw_add(&w, usage, "total", jw_u64(&w, st->cpu_total_ns));
	if (st->n_cpus) {
		json_object *pc = jw_arr(&w);
		for (size_t i = 0; i < st->n_cpus; i++)
			jw_push(&w, pc, jw_u64(&w, st->cpu_percpu_ns[i]));
		jw_add(&w, usage, "percpu", pc);
	}
	jw_add(&w, usage, "kernel", jw_u64(&w, st->cpu_kernel_ns));
	jw_add(&w, usage, "user", jw_u64(&w, st->cpu_user_ns));
	jw_add(&w, cpu, "usage", usage);
	json_object *thr = jw_obj(&w);
	if (st->cpu_periods)
		jw_add(&w, thr, "periods", jw_u64(&w, st->cpu_periods));
	if (st->cpu_throttled_periods)
		jw_add(&w, thr, "throttledPeriods", jw_u64(&w, st->cpu_throttled_periods));
	if (st->cpu_throttled_ns)
		jw_add(&w, thr, "throttledTime", jw_u64(&w, st->cpu_throttled_ns));
	jw_add(&w, cpu, "throttling", thr);
	jw_add(&w, data, "cpu", cpu);

	json_object *cpuset = jw_obj(&w);
	static const char *const zero_sets[] = { "cpu_exclusive",      "mem_hardwall",
						 "mem_exclusive",      "memory_migrate",
						 "memory_spread_page", "memory_spread_slab",
						 "memory_pressure",    "sched_load_balance" };
	for (size_t i = 0; i < sizeof(zero_sets) / sizeof(zero_sets[0]); i++)
		jw_add(&w, cpuset, zero_sets[i], jw_u64(&w, 0));
	jw_add(&w, cpuset, "sched_relax_domain_level", jw_i64(&w, 0));
	jw_add(&w, data, "cpuset", cpuset);

	json_object *mem = jw_obj(&w);
	if (st->mem_cache)
		jw_add(&w, mem, "cache", jw_u64(&w, st->mem_cache));
	jw_add(&w, mem, "usage",
	       mem_entry(&w, st->mem_limit, st->mem_usage, st->mem_max_usage, st->mem_failcnt));
	jw_add(&w, mem, "swap", mem_entry(&w, st->swap_limit, st->swap_usage, 0, 0));
	jw_add(&w, mem, "kernel", mem_entry(&w, 0, 0, 0, 0));
	jw_add(&w, mem, "kernelTCP", mem_entry(&w, 0, 0, 0, 0));
	if (st->n_mem_raw) {
		json_object *raw = jw_obj(&w);
		for (size_t i = 0; i < st->n_mem_raw; i++) {
			char *end;
			unsigned long long v = strtoull(st->mem_raw[i].value, &end, 10);
			if (*end == '\0')
				jw_add(&w, raw, st->mem_raw[i].key, jw_u64(&w, v));
		}
		jw_add(&w, mem, "raw", raw);
	}
	json_object *evc = jw_obj(&w);
	static const char *const counts[] = { "low", "high", "max", "oom", "oom_kill" };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		jw_add(&w, evc, counts[i],
		       jw_u64(&w, i == 3   ? st->oom_events
				  : i == 4 ? st->oom_kill_events
					   : 0));
	jw_add(&w, mem, "event_count", evc);
	jw_add(&w, data, "memory", mem);

	json_object *pids = jw_obj(&w);
	if (st->pids_current)
		jw_add(&w, pids, "current", jw_u64(&w, st->pids_current));
	if (st->pids_limit)
		jw_add(&w, pids, "limit", jw_u64(&w, st->pids_limit));
	jw_add(&w, data, "pids", pids);
	json_object *blkio = jw_obj(&w);
	if (st->n_io_bytes)
		jw_add(&w, blkio, "ioServiceBytesRecursive",
		       blkio_list(&w, st->io_bytes, st->n_io_bytes));
	if (st->n_io_ops)
		jw_add(&w, blkio, "ioServicedRecursive", blkio_list(&w, st->io_ops, st->n_io_ops));
	jw_add(&w, data, "blkio", blkio);
	jw_add(&w, data, "hugetlb", jw_obj(&w));
	jw_add(&w, data, "intel_rdt", jw_obj(&w));
	if (!w.failed)
		json_object_object_add(data, "network_interfaces", NULL);

	jw_add(&w, ev, "type", jw_str(&w, "stats"));
	jw_add(&w, ev, "id", jw_str(&w, id));
	jw_add(&w, ev, "data", data);
	return jw_finish(&w, ev, false, out, err);
}

int oci_event_write(const char *type, const char *id, char **out, struct kv_err *err)
{
	struct jw w = { 0 };
	json_object *ev = jw_obj(&w);

	jw_add(&w, ev, "type", jw_str(&w, type));
	jw_add(&w, ev, "id", jw_str(&w, id));
	return jw_finish(&w, ev, false, out, err);
}
