/* update.c - `kvrun update`: new limits for a container. */
#include "agent-client-oci.h"
#include "agent-spec.h"
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
		"Change the resource limits of container ID: they are written to the container's\n"
		"cgroup in the guest (by the guest agent), and the CPU limits also to its VMM\n"
		"process's host cgroup. The VM keeps its number of vCPUs and its RAM: a memory\n"
		"limit above the VM's RAM has no further effect.\n"
		"\n"
		"Options:\n"
		"  -r, --resources FILE     a linux.resources JSON object (\"-\": stdin)\n"
		"  --cpu-period N           CFS period (us)\n"
		"  --cpu-quota N            CFS quota (us; -1 unlimited)\n"
		"  --cpu-share N            CPU shares\n"
		"  --cpuset-cpus LIST       CPUs, e.g. 0-2,4\n"
		"  --cpuset-mems LIST       memory nodes\n"
		"  --memory SIZE            memory limit (e.g. 100M; -1 unlimited)\n"
		"  --memory-reservation SIZE\n"
		"  --memory-swap SIZE       memory + swap (-1 unlimited)\n"
		"  --pids-limit N           (-1 unlimited)\n"
		"  --blkio-weight N         10..1000\n"
		"  --kernel-memory, --kernel-memory-tcp, --cpu-rt-period, --cpu-rt-runtime,\n"
		"  --l3-cache-schema, --mem-bw-schema\n"
		"                           refused: no such limit in the guest\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: 0; 1 failure (nothing is changed in the host cgroup when the\n"
		"guest refuses); 2 usage error.\n");
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

/* The document of --resources into res; a usage-style failure message. */
static int load_resources(const char *file, struct oci_resources *res, struct kv_err *err)
{
	char *buf = NULL;
	size_t len;
	int r = !strcmp(file, "-") ? read_stdin(&buf, &len)
				   : oci_read_file(file, OCI_CONFIG_MAX_BYTES, &buf, &len, err);

	if (r < 0 && !strcmp(file, "-"))
		return kv_errno(err, r, "reading the resources from stdin");
	if (r < 0)
		return r;
	r = oci_resources_parse(buf, len, res, err);
	free(buf);
	if (r < 0)
		return r;
	const char *bad = res->n_devices				      ? "devices"
			  : res->n_hugepage_limits			      ? "hugepageLimits"
			  : res->has_cpu_rt_runtime || res->has_cpu_rt_period ? "cpu.realtime*"
			  : res->has_mem_kernel || res->has_mem_kernel_tcp    ? "memory.kernel*"
									      : NULL;
	if (bad)
		return kv_errf(err, -EOPNOTSUPP, "--resources: %s: not supported in the guest",
			       bad);
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
		O_MEM,
		O_MEMRES,
		O_MEMSWAP,
		O_PIDS,
		O_BLKIO,
		O_REFUSED,
	};
	static const struct option opts[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "cpu-period", required_argument, NULL, O_PERIOD },
		{ "cpu-quota", required_argument, NULL, O_QUOTA },
		{ "cpu-share", required_argument, NULL, O_SHARE },
		{ "cpuset-cpus", required_argument, NULL, O_CPUS },
		{ "cpuset-mems", required_argument, NULL, O_MEMS },
		{ "memory", required_argument, NULL, O_MEM },
		{ "memory-reservation", required_argument, NULL, O_MEMRES },
		{ "memory-swap", required_argument, NULL, O_MEMSWAP },
		{ "pids-limit", required_argument, NULL, O_PIDS },
		{ "blkio-weight", required_argument, NULL, O_BLKIO },
		{ "kernel-memory", required_argument, NULL, O_REFUSED },
		{ "kernel-memory-tcp", required_argument, NULL, O_REFUSED },
		{ "cpu-rt-period", required_argument, NULL, O_REFUSED },
		{ "cpu-rt-runtime", required_argument, NULL, O_REFUSED },
		{ "l3-cache-schema", required_argument, NULL, O_REFUSED },
		{ "mem-bw-schema", required_argument, NULL, O_REFUSED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct oci_resources res = { 0 };
	struct kv_err err = { 0 };
	const char *file = NULL, *refused = NULL;
	bool have_flags = false;
	uint64_t v;
	int64_t b;
	int ch, idx = 0, rc = KVRUN_EXIT_USAGE;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:r:h", opts, &idx)) != -1) {
		switch (ch) {
		case 'r':
			file = optarg;
			break;
		case O_PERIOD:
			if (parse_u64(optarg, 1000000, &v) < 0 || v < 1000) {
				verb_usage_error(g, "--cpu-period: \"%s\" is not 1000..1000000",
						 optarg);
				goto out;
			}
			res.has_cpu_period = true, res.cpu_period = v, have_flags = true;
			break;
		case O_QUOTA:
			if (!strcmp(optarg, "-1")) {
				res.cpu_quota = -1;
			} else if (parse_u64(optarg, INT64_MAX, &v) < 0 || v < 1000) {
				verb_usage_error(g, "--cpu-quota: \"%s\" is not -1 or >= 1000",
						 optarg);
				goto out;
			} else {
				res.cpu_quota = (int64_t)v;
			}
			res.has_cpu_quota = true, have_flags = true;
			break;
		case O_SHARE:
			if (parse_u64(optarg, 262144, &v) < 0 || v < 2) {
				verb_usage_error(g, "--cpu-share: \"%s\" is not 2..262144", optarg);
				goto out;
			}
			res.has_cpu_shares = true, res.cpu_shares = v, have_flags = true;
			break;
		case O_CPUS:
		case O_MEMS: {
			char **dst = ch == O_CPUS ? &res.cpuset_cpus : &res.cpuset_mems;
			free(*dst);
			*dst = strdup(optarg);
			have_flags = true;
			break;
		}
		case O_MEM:
		case O_MEMRES:
		case O_MEMSWAP:
			if (!strcmp(optarg, "-1")) {
				b = -1;
			} else if (parse_size(optarg, 1, &v) < 0 || v > INT64_MAX || v < 4096) {
				verb_usage_error(g, "--%s: \"%s\" is not -1 or a size such as 100M",
						 opts[idx].name, optarg);
				goto out;
			} else {
				b = (int64_t)v;
			}
			if (ch == O_MEM)
				res.has_mem_limit = true, res.mem_limit = b;
			else if (ch == O_MEMRES)
				res.has_mem_reservation = true, res.mem_reservation = b;
			else
				res.has_mem_swap = true, res.mem_swap = b;
			have_flags = true;
			break;
		case O_PIDS:
			if (!strcmp(optarg, "-1")) {
				res.pids_limit = -1;
			} else if (parse_u64(optarg, INT64_MAX, &v) < 0) {
				verb_usage_error(g, "--pids-limit: \"%s\" is not a number", optarg);
				goto out;
			} else {
				res.pids_limit = (int64_t)v;
			}
			res.has_pids_limit = true, have_flags = true;
			break;
		case O_BLKIO:
			if (parse_u64(optarg, 1000, &v) < 0 || v < 10) {
				verb_usage_error(g, "--blkio-weight: \"%s\" is not 10..1000",
						 optarg);
				goto out;
			}
			res.has_blkio_weight = true, res.blkio_weight = (uint32_t)v,
			have_flags = true;
			break;
		case O_REFUSED:
			refused = opts[idx].name;
			break;
		case 'h':
			verb_update_usage(stdout);
			rc = 0;
			goto out;
		default:
			rc = verb_getopt_error(g, argc, argv);
			goto out;
		}
	}
	const char *id;
	if ((rc = verb_one_id(g, argc, argv, &id)) != 0)
		goto out;
	rc = 1;
	if (refused) {
		kv_errf(&err, -EOPNOTSUPP, "--%s: not supported (no such limit in the guest)",
			refused);
		kvrun_fail(g, &err);
		goto out;
	}
	if (file && have_flags) {
		rc = verb_usage_error(g, "--resources and the limit flags exclude each other");
		goto out;
	}
	if (file && load_resources(file, &res, &err) < 0) {
		kvrun_fail(g, &err);
		goto out;
	}

	struct ctr c;
	int r = state_open(g->root, id, &c, &err);
	enum ctr_status st = r == 0 ? ctr_status(&c) : CTR_STOPPED;
	if (r == 0 && st != CTR_RUNNING && st != CTR_CREATED)
		r = kv_errf(&err, -EINVAL, "container %s is %s", id, ctr_status_name(st));
	if (r == 0 && res.has_cpu_period && !res.has_cpu_quota)
		r = kv_errf(&err, -EINVAL, "a CPU period needs a CPU quota with it");
	/* The guest's cgroup first: the agent validates the whole set. */
	struct agent_client *ac = NULL;
	struct agent_dialer d;
	struct kvap_resources kr;
	if (r == 0 && (r = ctr_dialer(&c, 3000, &d, &err)) == 0 &&
	    (r = agent_client_connect(&d, &ac, &err)) == 0 &&
	    (r = agent_spec_resources(&res, &kr, &err)) == 0) {
		if (agent_client_features(ac) & KVAP_FEAT_CONTAINER)
			r = agent_client_update(ac, id, &kr, &err);
		else
			r = kv_errf(&err, -EOPNOTSUPP,
				    "the guest agent (%s) cannot change the container's limits",
				    agent_client_software(ac));
		agent_spec_resources_free(&kr);
	}
	agent_client_free(ac);
	/* Then the VMM's host cgroup: its CPU limits (its memory is the VM's size). */
	if (r == 0) {
		struct cgroup_limits lim = { .cpu_quota = res.has_cpu_quota ? res.cpu_quota : 0,
					     .cpu_period = res.has_cpu_period ? res.cpu_period : 0,
					     .cpu_shares = res.has_cpu_shares ? res.cpu_shares : 0,
					     .cpuset_cpus = res.cpuset_cpus,
					     .cpuset_mems = res.cpuset_mems };
		r = cgroup_apply(c.st.cgroup_leaves, c.st.n_cgroup_leaves, &lim, &err);
	}
	state_close(&c);
	rc = r < 0 ? kvrun_fail(g, &err) : 0;
out:
	oci_resources_clear(&res);
	return rc;
}
