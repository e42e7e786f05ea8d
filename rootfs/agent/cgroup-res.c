/* cgroup-res.c - see cgroup-res.h. */
#include "cgroup-res.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t cgres_shares_to_weight(uint64_t shares)
{
	return shares ? 1 + ((shares - 2) * 9999) / 262142 : 0;
}

uint64_t cgres_blkio_to_io_weight(uint64_t weight)
{
	return weight ? 1 + ((weight - 10) * 9999) / 990 : 0;
}

bool cgres_unified_key_ok(const char *key)
{
	const char *dot = strchr(key, '.');

	if (!dot || dot == key || !dot[1] || strncmp(key, "cgroup.", 7) == 0)
		return false;
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '.'))
			return false;
	return true;
}

__attribute__((format(printf, 3, 4))) static int add(struct cgres_plan *p, const char *file,
						     const char *fmt, ...)
{
	va_list ap;
	char *v;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct cgres_write *w = realloc(p->w, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		p->w = w;
		p->cap = cap;
	}
	va_start(ap, fmt);
	int n = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	snprintf(p->w[p->n].file, sizeof(p->w[p->n].file), "%s", file);
	p->w[p->n++].value = v;
	return 0;
}

void cgres_plan_free(struct cgres_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->w[i].value);
	free(p->w);
	*p = (struct cgres_plan){ 0 };
}

/* 0 is "not set", -1 "max", anything else must be positive. */
static int limit_str(int64_t v, const char *field, char *out, size_t cap, struct kv_err *err)
{
	if (v == -1)
		snprintf(out, cap, "max");
	else if (v > 0)
		snprintf(out, cap, "%" PRId64, v);
	else if (v == 0)
		out[0] = '\0';
	else
		return kv_errf(err, -EINVAL, "resources.%s %" PRId64 ": must be positive or -1",
			       field, v);
	return 0;
}

static bool cpuset_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == ',' || *s == '-'))
			return false;
	return true;
}

static int plan_cpu(const struct kvap_resources *r, struct cgres_plan *p, struct kv_err *err)
{
	int e = 0;

	if (r->cpu_shares) {
		if (r->cpu_shares < 2 || r->cpu_shares > 262144)
			return kv_errf(err, -EINVAL,
				       "resources.cpu_shares %" PRIu64 ": must be 2..262144",
				       r->cpu_shares);
		e = add(p, "cpu.weight", "%" PRIu64, cgres_shares_to_weight(r->cpu_shares));
	}
	if (!e && (r->cpu_quota || r->cpu_period)) {
		char quota[32] = "max";
		if (r->cpu_quota < -1)
			return kv_errf(err, -EINVAL,
				       "resources.cpu_quota %" PRId64 ": must be positive or -1",
				       r->cpu_quota);
		if (r->cpu_period && (r->cpu_period < 1000 || r->cpu_period > 1000000))
			return kv_errf(err, -EINVAL,
				       "resources.cpu_period %" PRIu64 ": must be 1000..1000000 us",
				       r->cpu_period);
		if (r->cpu_quota > 0)
			snprintf(quota, sizeof(quota), "%" PRId64, r->cpu_quota);
		if (r->cpu_period)
			e = add(p, "cpu.max", "%s %" PRIu64, quota, r->cpu_period);
		else
			e = add(p, "cpu.max", "%s", quota);
	}
	const char *sets[2][2] = { { "cpuset.cpus", r->cpuset_cpus },
				   { "cpuset.mems", r->cpuset_mems } };
	for (int i = 0; i < 2 && !e; i++) {
		if (!sets[i][1] || !*sets[i][1])
			continue;
		if (!cpuset_ok(sets[i][1]))
			return kv_errf(err, -EINVAL, "resources.%s '%s': not a CPU or node list",
				       i ? "cpuset_mems" : "cpuset_cpus", sets[i][1]);
		e = add(p, sets[i][0], "%s", sets[i][1]);
	}
	return e;
}

/* OCI's swap is memory + swap; cgroup v2 limits swap alone (runc's rule). */
static int plan_memory(const struct kvap_resources *r, struct cgres_plan *p, struct kv_err *err)
{
	char mem[32], low[32];
	int64_t swap = r->memory_swap;
	int e;

	if ((e = limit_str(r->memory_limit, "memory_limit", mem, sizeof(mem), err)) < 0 ||
	    (e = limit_str(r->memory_reservation, "memory_reservation", low, sizeof(low), err)) < 0)
		return e;
	if (r->memory_limit == -1 && swap == 0)
		swap = -1; /* unlimited memory, swap not given: both unlimited */
	if (swap == -1) {
		if ((e = add(p, "memory.swap.max", "max")) < 0)
			return e;
	} else if (swap != 0) {
		if (r->memory_limit <= 0)
			return kv_errf(err, -EINVAL,
				       "resources.memory_swap %" PRId64
				       ": a swap limit needs a memory limit",
				       swap);
		if (swap < r->memory_limit)
			return kv_errf(err, -EINVAL,
				       "resources.memory_swap %" PRId64
				       ": memory+swap must be >= the memory limit %" PRId64,
				       swap, r->memory_limit);
		if ((e = add(p, "memory.swap.max", "%" PRId64, swap - r->memory_limit)) < 0)
			return e;
	}
	if (*mem && (e = add(p, "memory.max", "%s", mem)) < 0)
		return e;
	if (*low && (e = add(p, "memory.low", "%s", low)) < 0)
		return e;
	return 0;
}

static int plan_throttle(const struct kvap_throttle_device *d, uint32_t n, const char *key,
			 struct cgres_plan *p)
{
	for (uint32_t i = 0; i < n; i++) {
		int e = d[i].rate ? add(p, "io.max", "%u:%u %s=%" PRIu64, d[i].major, d[i].minor,
					key, d[i].rate)
				  : add(p, "io.max", "%u:%u %s=max", d[i].major, d[i].minor, key);
		if (e < 0)
			return e;
	}
	return 0;
}

static int plan_io(const struct kvap_resources *r, bool bfq, struct cgres_plan *p,
		   struct kv_err *err)
{
	int e = 0;

	if (r->blkio_weight) {
		if (r->blkio_weight < 10 || r->blkio_weight > 1000)
			return kv_errf(err, -EINVAL, "resources.blkio_weight %u: must be 10..1000",
				       r->blkio_weight);
		e = bfq ? add(p, "io.bfq.weight", "%u", r->blkio_weight)
			: add(p, "io.weight", "%" PRIu64,
			      cgres_blkio_to_io_weight(r->blkio_weight));
	}
	if (!e && r->n_blkio_weight_device && !bfq)
		return kv_errf(err, -EOPNOTSUPP,
			       "resources.blkio_weight_device: per-device weights need the BFQ "
			       "I/O scheduler in the guest (io.bfq.weight)");
	for (uint32_t i = 0; !e && i < r->n_blkio_weight_device; i++) {
		const struct kvap_weight_device *d = &r->blkio_weight_device[i];
		if (d->weight < 10 || d->weight > 1000)
			return kv_errf(err, -EINVAL,
				       "resources.blkio_weight_device %u:%u weight %u: must be "
				       "10..1000",
				       d->major, d->minor, d->weight);
		e = add(p, "io.bfq.weight", "%u:%u %u", d->major, d->minor, d->weight);
	}
	if (!e)
		e = plan_throttle(r->throttle_read_bps, r->n_throttle_read_bps, "rbps", p);
	if (!e)
		e = plan_throttle(r->throttle_write_bps, r->n_throttle_write_bps, "wbps", p);
	if (!e)
		e = plan_throttle(r->throttle_read_iops, r->n_throttle_read_iops, "riops", p);
	if (!e)
		e = plan_throttle(r->throttle_write_iops, r->n_throttle_write_iops, "wiops", p);
	return e;
}

int cgres_plan_build(const struct kvap_resources *r, bool bfq, struct cgres_plan *p,
		     struct kv_err *err)
{
	int e;

	if ((e = plan_cpu(r, p, err)) < 0 || (e = plan_memory(r, p, err)) < 0)
		goto fail;
	if (r->pids_limit && (e = r->pids_limit > 0 ? add(p, "pids.max", "%" PRId64, r->pids_limit)
						    : add(p, "pids.max", "max")) < 0)
		goto fail;
	if ((e = plan_io(r, bfq, p, err)) < 0)
		goto fail;
	for (uint32_t i = 0; i < r->n_unified; i++) {
		const struct kvap_keyval *u = &r->unified[i];
		if (!cgres_unified_key_ok(u->key)) {
			e = kv_errf(err, -EINVAL,
				    "resources.unified '%s': not a cgroup v2 controller file",
				    u->key);
			goto fail;
		}
		if ((e = add(p, u->key, "%s", u->value)) < 0)
			goto fail;
	}
	return 0;
fail:
	if (e == -ENOMEM)
		kv_errf(err, e, "out of memory");
	cgres_plan_free(p);
	return e;
}
