/* resources.c - linux.resources, in config.json or on its own.
 *
 * Owns: parsing and validating memory, cpu, pids, blockIO weight,
 * hugepageLimits, the device cgroup rules and unified, both inside
 * config.json and as the standalone document `kvrun update --resources`
 * reads. Members kvrun does not apply (blockIO device throttles, network,
 * rdma) are accepted and ignored like any unknown member. */
#include "config-priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_memory(struct jp *p, json_object *m, struct oci_resources *r)
{
	int e;

	if ((e = jp_i64(p, m, "limit", false, &r->mem_limit, &r->has_mem_limit)) < 0 ||
	    (e = jp_i64(p, m, "reservation", false, &r->mem_reservation, &r->has_mem_reservation)) <
		0 ||
	    (e = jp_i64(p, m, "swap", false, &r->mem_swap, &r->has_mem_swap)) < 0 ||
	    (e = jp_i64(p, m, "kernel", false, &r->mem_kernel, &r->has_mem_kernel)) < 0 ||
	    (e = jp_i64(p, m, "kernelTCP", false, &r->mem_kernel_tcp, &r->has_mem_kernel_tcp)) <
		0 ||
	    (e = jp_u64(p, m, "swappiness", false, &r->mem_swappiness, &r->has_mem_swappiness)) <
		0 ||
	    (e = jp_bool(p, m, "disableOOMKiller", &r->disable_oom_killer,
			 &r->has_disable_oom_killer)) < 0)
		return e;
	if (r->has_mem_limit && r->mem_limit < -1)
		return jp_fail_at(p, "limit", "must be -1 (unlimited) or a number of bytes");
	if (r->has_mem_limit && r->mem_limit >= 0 && r->mem_limit < 4096)
		return jp_fail_at(p, "limit", "%lld bytes is below the minimum of 4096",
				  (long long)r->mem_limit);
	if (r->has_mem_swap && r->mem_swap < -1)
		return jp_fail_at(p, "swap", "must be -1 (unlimited) or a number of bytes");
	if (r->has_mem_swappiness && r->mem_swappiness > 100)
		return jp_fail_at(p, "swappiness", "must be between 0 and 100");
	return 0;
}

static int parse_cpu(struct jp *p, json_object *c, struct oci_resources *r)
{
	int e;

	if ((e = jp_u64(p, c, "shares", false, &r->cpu_shares, &r->has_cpu_shares)) < 0 ||
	    (e = jp_i64(p, c, "quota", false, &r->cpu_quota, &r->has_cpu_quota)) < 0 ||
	    (e = jp_u64(p, c, "period", false, &r->cpu_period, &r->has_cpu_period)) < 0 ||
	    (e = jp_i64(p, c, "realtimeRuntime", false, &r->cpu_rt_runtime,
			&r->has_cpu_rt_runtime)) < 0 ||
	    (e = jp_u64(p, c, "realtimePeriod", false, &r->cpu_rt_period, &r->has_cpu_rt_period)) <
		0 ||
	    (e = jp_i64(p, c, "idle", false, &r->cpu_idle, &r->has_cpu_idle)) < 0 ||
	    (e = jp_string(p, c, "cpus", false, &r->cpuset_cpus)) < 0 ||
	    (e = jp_string(p, c, "mems", false, &r->cpuset_mems)) < 0)
		return e;
	if (r->has_cpu_quota && r->cpu_quota != -1 && r->cpu_quota != 0 && r->cpu_quota < 1000)
		return jp_fail_at(p, "quota", "must be -1 (unlimited) or at least 1000 (us)");
	if (r->has_cpu_period && r->cpu_period != 0 &&
	    (r->cpu_period < 1000 || r->cpu_period > 1000000))
		return jp_fail_at(p, "period", "must be between 1000 and 1000000 (us)");
	if (r->has_cpu_shares && r->cpu_shares != 0 &&
	    (r->cpu_shares < 2 || r->cpu_shares > 262144))
		return jp_fail_at(p, "shares", "must be between 2 and 262144");
	for (int i = 0; i < 2; i++) {
		const char *s = i ? r->cpuset_mems : r->cpuset_cpus;
		if (!s)
			continue;
		for (const char *q = s; *q; q++)
			if (!strchr("0123456789,-", *q))
				return jp_fail_at(p, i ? "mems" : "cpus",
						  "\"%s\" is not a list such as \"0-2,4\"", s);
	}
	return 0;
}

static int parse_device_rules(struct jp *p, json_object *arr, struct oci_resources *r)
{
	size_t n = json_object_array_length(arr);
	int e = 0;

	r->devices = calloc(n ? n : 1, sizeof(*r->devices));
	if (!r->devices)
		return jp_nomem(p);
	for (size_t i = 0; i < n && e == 0; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct oci_device_rule *d = &r->devices[i];
		char *type = NULL, *access = NULL;
		bool has = false;
		size_t saved = jp_push_index(p, i);

		r->n_devices = i + 1;
		d->major = d->minor = -1;
		d->type = 'a';
		if (!o || !json_object_is_type(o, json_type_object)) {
			e = jp_fail(p, "must be an object");
		} else if ((e = jp_bool(p, o, "allow", &d->allow, &has)) == 0 && !has) {
			e = jp_fail_at(p, "allow", "is required");
		} else if (e == 0 && (e = jp_string(p, o, "type", false, &type)) == 0 &&
			   (e = jp_i64(p, o, "major", false, &d->major, NULL)) == 0 &&
			   (e = jp_i64(p, o, "minor", false, &d->minor, NULL)) == 0 &&
			   (e = jp_string(p, o, "access", false, &access)) == 0) {
			if (type && (strlen(type) != 1 || !strchr("abc", type[0])))
				e = jp_fail_at(p, "type", "must be \"a\", \"b\" or \"c\"");
			else if (type)
				d->type = type[0];
			if (e == 0 && access) {
				if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
					e = jp_fail_at(p, "access",
						       "must be made of the letters r, w and m");
				else
					strcpy(d->access, access);
			}
			if (e == 0 && (d->major < -1 || d->minor < -1))
				e = jp_fail(p, "major and minor must be -1 (any) or a number");
		}
		free(type);
		free(access);
		jp_pop(p, saved);
	}
	return e;
}

static int parse_hugepages(struct jp *p, json_object *arr, struct oci_resources *r)
{
	size_t n = json_object_array_length(arr);
	int e = 0;

	r->hugepage_limits = calloc(n ? n : 1, sizeof(*r->hugepage_limits));
	if (!r->hugepage_limits)
		return jp_nomem(p);
	for (size_t i = 0; i < n && e == 0; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		size_t saved = jp_push_index(p, i);
		r->n_hugepage_limits = i + 1;
		if (!o || !json_object_is_type(o, json_type_object))
			e = jp_fail(p, "must be an object");
		else if ((e = jp_string(p, o, "pageSize", true,
					&r->hugepage_limits[i].page_size)) == 0)
			e = jp_u64(p, o, "limit", true, &r->hugepage_limits[i].limit, NULL);
		jp_pop(p, saved);
	}
	return e;
}

/* Enter member key (an object) and run fn on it. */
static int sub(struct jp *p, json_object *o, const char *key,
	       int (*fn)(struct jp *, json_object *, struct oci_resources *),
	       struct oci_resources *r)
{
	json_object *v;
	int e;

	if ((e = jp_object(p, o, key, false, &v)) < 0 || !v)
		return e;
	size_t saved = jp_push(p, key);
	e = fn(p, v, r);
	jp_pop(p, saved);
	return e;
}

static int parse_pids(struct jp *p, json_object *o, struct oci_resources *r)
{
	return jp_i64(p, o, "limit", true, &r->pids_limit, &r->has_pids_limit);
}

/* blockIO device lists: [{major, minor, weight|rate}]. */
static int parse_blkio_devices(struct jp *p, json_object *o, const char *key, const char *value,
			       struct oci_blkio_device **out, size_t *count)
{
	json_object *arr;
	int e;

	if ((e = jp_array(p, o, key, false, &arr)) < 0 || !arr)
		return e;
	size_t n = json_object_array_length(arr);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return jp_nomem(p);
	size_t saved = jp_push(p, key);
	for (size_t i = 0; i < n && e == 0; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		struct oci_blkio_device *b = &(*out)[i];
		size_t s2 = jp_push_index(p, i);
		*count = i + 1;
		if (!d || !json_object_is_type(d, json_type_object))
			e = jp_fail(p, "must be an object");
		else if ((e = jp_i64(p, d, "major", true, &b->major, NULL)) == 0 &&
			 (e = jp_i64(p, d, "minor", true, &b->minor, NULL)) == 0 &&
			 (e = jp_u64(p, d, value, true, &b->rate, NULL)) == 0 &&
			 (b->major < 0 || b->major > 0xfff || b->minor < 0 || b->minor > 0xfffff))
			e = jp_fail(p, "major must be 0..4095 and minor 0..1048575");
		else if (e == 0 && !strcmp(value, "weight") && (b->rate < 10 || b->rate > 1000))
			e = jp_fail_at(p, "weight", "must be between 10 and 1000");
		jp_pop(p, s2);
	}
	jp_pop(p, saved);
	return e;
}

static int parse_blkio(struct jp *p, json_object *o, struct oci_resources *r)
{
	static const char *const throttle[4] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
						 "throttleReadIOPSDevice",
						 "throttleWriteIOPSDevice" };
	int e = jp_u32(p, o, "weight", false, &r->blkio_weight, &r->has_blkio_weight);

	if (e == 0 && r->has_blkio_weight && r->blkio_weight != 0 &&
	    (r->blkio_weight < 10 || r->blkio_weight > 1000))
		return jp_fail_at(p, "weight", "must be between 10 and 1000");
	if (e == 0)
		e = parse_blkio_devices(p, o, "weightDevice", "weight", &r->blkio_weight_devices,
					&r->n_blkio_weight_devices);
	for (int i = 0; e == 0 && i < 4; i++)
		e = parse_blkio_devices(p, o, throttle[i], "rate", &r->blkio_throttle[i],
					&r->n_blkio_throttle[i]);
	return e;
}

int oci_parse_resources(struct jp *p, json_object *o, struct oci_resources *r)
{
	json_object *v;
	int e;

	if ((e = sub(p, o, "memory", parse_memory, r)) < 0 ||
	    (e = sub(p, o, "cpu", parse_cpu, r)) < 0 ||
	    (e = sub(p, o, "pids", parse_pids, r)) < 0 ||
	    (e = sub(p, o, "blockIO", parse_blkio, r)) < 0)
		return e;
	if ((e = jp_array(p, o, "devices", false, &v)) < 0)
		return e;
	if (v) {
		size_t saved = jp_push(p, "devices");
		e = parse_device_rules(p, v, r);
		jp_pop(p, saved);
		if (e < 0)
			return e;
	}
	if ((e = jp_array(p, o, "hugepageLimits", false, &v)) < 0)
		return e;
	if (v) {
		size_t saved = jp_push(p, "hugepageLimits");
		e = parse_hugepages(p, v, r);
		jp_pop(p, saved);
		if (e < 0)
			return e;
	}
	return oci_parse_kv_map(p, o, "unified", &r->unified, &r->n_unified);
}

void oci_resources_clear(struct oci_resources *r)
{
	free(r->cpuset_cpus);
	free(r->cpuset_mems);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	free(r->devices);
	free(r->blkio_weight_devices);
	for (int i = 0; i < 4; i++)
		free(r->blkio_throttle[i]);
	oci_kv_free(r->unified, r->n_unified);
	memset(r, 0, sizeof(*r));
}

int oci_resources_parse(const char *json, size_t len, struct oci_resources *out, struct kv_err *err)
{
	struct jp p = { .err = err };
	json_object *doc;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = oci_parse_json(&p, json, len, &doc)) < 0)
		return r;
	if (!json_object_is_type(doc, json_type_object))
		r = kv_errf(err, -EINVAL, "the resources must be a JSON object");
	else
		r = oci_parse_resources(&p, doc, out);
	json_object_put(doc);
	if (r < 0)
		oci_resources_clear(out);
	return r;
}
