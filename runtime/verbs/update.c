/* update.c - `kvrun update`: new limits for a container. */
#include "cgroup.h"
#include "container.h"
#include "oci-state.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void verb_update_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] update [OPTIONS] ID\n"
		"\n"
		"Change the resource limits of container ID. The CPU limits apply to its VMM\n"
		"process's host cgroup (the VM keeps its number of vCPUs). Memory, pids, block\n"
		"I/O and device limits belong to the guest's cgroup, which the guest agent does\n"
		"not manage yet: asking for them fails, and nothing is changed.\n"
		"\n"
		"Options:\n"
		"  -r, --resources FILE     a linux.resources JSON object (\"-\": stdin)\n"
		"  --cpu-period N           CFS period (us)\n"
		"  --cpu-quota N            CFS quota (us; -1 unlimited)\n"
		"  --cpu-share N            CPU shares\n"
		"  --cpuset-cpus LIST       CPUs, e.g. 0-2,4\n"
		"  --cpuset-mems LIST       memory nodes\n"
		"  --memory, --memory-reservation, --memory-swap, --kernel-memory,\n"
		"  --kernel-memory-tcp, --pids-limit, --blkio-weight N\n"
		"                           refused for now (see above)\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: 0; 1 failure; 2 usage error.\n");
}

static int read_stdin(char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= OCI_CONFIG_MAX_BYTES) {
				free(b);
				return -EFBIG;
			}
			char *nb = realloc(b, (cap *= 2) + 1);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		ssize_t r = read(0, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(b);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

int verb_update(struct kvrun *g, int argc, char **argv)
{
	enum {
		O_PERIOD = 1,
		O_QUOTA,
		O_SHARE,
		O_CPUS,
		O_MEMS,
		O_GUEST, /* limits of the guest's cgroup */
		O_IGNORED,
	};
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "cpu-period", required_argument, NULL, O_PERIOD },
		{ "cpu-quota", required_argument, NULL, O_QUOTA },
		{ "cpu-share", required_argument, NULL, O_SHARE },
		{ "cpuset-cpus", required_argument, NULL, O_CPUS },
		{ "cpuset-mems", required_argument, NULL, O_MEMS },
		{ "memory", required_argument, NULL, O_GUEST },
		{ "memory-reservation", required_argument, NULL, O_GUEST },
		{ "memory-swap", required_argument, NULL, O_GUEST },
		{ "kernel-memory", required_argument, NULL, O_GUEST },
		{ "kernel-memory-tcp", required_argument, NULL, O_GUEST },
		{ "pids-limit", required_argument, NULL, O_GUEST },
		{ "blkio-weight", required_argument, NULL, O_GUEST },
		{ "cpu-rt-period", required_argument, NULL, O_GUEST },
		{ "cpu-rt-runtime", required_argument, NULL, O_GUEST },
		{ "l3-cache-schema", required_argument, NULL, O_IGNORED },
		{ "mem-bw-schema", required_argument, NULL, O_IGNORED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct oci_resources res = { 0 };
	struct kv_err err = { 0 };
	const char *file = NULL, *guest_opt = NULL;
	bool have_flags = false;
	uint64_t v;
	int ch, idx = 0;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:r:h", opts, &idx)) != -1) {
		switch (ch) {
		case 'r':
			file = optarg;
			break;
		case O_PERIOD:
			if (parse_u64(optarg, 1000000, &v) < 0 || v < 1000)
				return verb_usage_error(
				    g, "--cpu-period: \"%s\" is not 1000..1000000", optarg);
			res.has_cpu_period = true, res.cpu_period = v, have_flags = true;
			break;
		case O_QUOTA:
			if (!strcmp(optarg, "-1")) {
				res.cpu_quota = -1;
			} else if (parse_u64(optarg, INT64_MAX, &v) < 0 || v < 1000) {
				return verb_usage_error(
				    g, "--cpu-quota: \"%s\" is not -1 or >= 1000", optarg);
			} else {
				res.cpu_quota = (int64_t)v;
			}
			res.has_cpu_quota = true, have_flags = true;
			break;
		case O_SHARE:
			if (parse_u64(optarg, 262144, &v) < 0 || v < 2)
				return verb_usage_error(g, "--cpu-share: \"%s\" is not 2..262144",
							optarg);
			res.has_cpu_shares = true, res.cpu_shares = v, have_flags = true;
			break;
		case O_CPUS:
		case O_MEMS:
			free(ch == O_CPUS ? res.cpuset_cpus : res.cpuset_mems);
			*(ch == O_CPUS ? &res.cpuset_cpus : &res.cpuset_mems) = strdup(optarg);
			have_flags = true;
			break;
		case O_GUEST:
			guest_opt = opts[idx].name;
			break;
		case O_IGNORED:
			oci_resources_clear(&res);
			return verb_usage_error(g, "--%s: Intel RDT is not supported",
						opts[idx].name);
		case 'h':
			verb_update_usage(stdout);
			return 0;
		default:
			oci_resources_clear(&res);
			return verb_getopt_error(g, argc, argv);
		}
	}
	const char *id;
	if ((ch = verb_one_id(g, argc, argv, &id)) != 0) {
		oci_resources_clear(&res);
		return ch;
	}
	if (guest_opt) {
		oci_resources_clear(&res);
		kv_errf(&err, -EOPNOTSUPP,
			"--%s: limits of the guest's cgroup cannot be changed yet (the guest agent "
			"does not manage it)",
			guest_opt);
		return kvrun_fail(g, &err);
	}
	if (file) {
		char *buf = NULL;
		size_t len;
		int r = !strcmp(file, "-")
			    ? read_stdin(&buf, &len)
			    : oci_read_file(file, OCI_CONFIG_MAX_BYTES, &buf, &len, &err);
		if (r < 0 && !strcmp(file, "-"))
			kv_errno(&err, r, "reading the resources from stdin");
		if (r == 0) {
			if (have_flags) {
				free(buf);
				oci_resources_clear(&res);
				return verb_usage_error(g,
							"--resources and the limit flags exclude "
							"each other");
			}
			r = oci_resources_parse(buf, len, &res, &err);
			free(buf);
		}
		if (r < 0) {
			oci_resources_clear(&res);
			return kvrun_fail(g, &err);
		}
		const char *bad =
		    res.has_mem_limit || res.has_mem_reservation || res.has_mem_swap ||
			    res.has_mem_kernel || res.has_mem_kernel_tcp || res.has_mem_swappiness
			? "memory"
		    : res.has_pids_limit			      ? "pids"
		    : res.has_blkio_weight			      ? "blockIO"
		    : res.n_devices				      ? "devices"
		    : res.n_unified				      ? "unified"
		    : res.n_hugepage_limits			      ? "hugepageLimits"
		    : res.has_cpu_rt_runtime || res.has_cpu_rt_period ? "cpu.realtime*"
								      : NULL;
		if (bad) {
			oci_resources_clear(&res);
			kv_errf(
			    &err, -EOPNOTSUPP,
			    "--resources: %s: limits of the guest's cgroup cannot be changed yet "
			    "(the guest agent does not manage it)",
			    bad);
			return kvrun_fail(g, &err);
		}
	}
	struct ctr c;
	int r = state_open(g->root, id, &c, &err);
	if (r == 0 && ctr_status(&c) == CTR_STOPPED)
		r = kv_errf(&err, -EINVAL, "container %s is stopped", id);
	if (r == 0) {
		struct cgroup_limits lim = { .cpu_quota = res.has_cpu_quota ? res.cpu_quota : 0,
					     .cpu_period = res.has_cpu_period ? res.cpu_period : 0,
					     .cpu_shares = res.has_cpu_shares ? res.cpu_shares : 0,
					     .cpuset_cpus = res.cpuset_cpus,
					     .cpuset_mems = res.cpuset_mems };
		if (res.has_cpu_period && !res.has_cpu_quota)
			r = kv_errf(&err, -EINVAL, "a CPU period needs a CPU quota with it");
		else
			r = cgroup_apply(c.st.cgroup_leaves, c.st.n_cgroup_leaves, &lim, &err);
	}
	state_close(&c);
	oci_resources_clear(&res);
	return r < 0 ? kvrun_fail(g, &err) : 0;
}
