/* events.c - `kvrun events`: runc's stats objects, from the guest. */
#include "agent-client-oci.h"
#include "container.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void verb_events_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: kvrun [GLOBAL OPTIONS] events [--stats] [--interval DURATION] ID\n"
	    "\n"
	    "Print {\"type\":\"stats\",\"id\":ID,\"data\":{...}} objects in runc's shape, one per\n"
	    "line: with --stats once, else every interval until the container stops (and\n"
	    "{\"type\":\"oom\",\"id\":ID} after an OOM kill in it). The figures are the\n"
	    "container's cgroup in the guest, read by the guest agent: cpu (usage, throttling),\n"
	    "memory (usage, limit, peak, memory.stat as raw), swap, pids, blkio.\n"
	    "\n"
	    "Options:\n"
	    "  --stats              print one object and exit\n"
	    "  --interval DURATION  between objects: 5s (default), 500ms, 1m, ...\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "Exit status: 0; 1 failure (not running, no such container); 2 usage error.\n");
}

/* Go-style durations: 500ms, 5s, 1m, 1h, 1m30s. */
static int parse_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || v < 0)
			return -1;
		uint64_t unit;
		if (!strncmp(end, "ms", 2)) {
			unit = 1, end += 2;
		} else if (*end == 's') {
			unit = 1000, end++;
		} else if (*end == 'm') {
			unit = 60000, end++;
		} else if (*end == 'h') {
			unit = 3600000, end++;
		} else {
			return -1;
		}
		total += (uint64_t)(v * (double)unit);
		s = end;
	}
	*ms = total;
	return total ? 0 : -1;
}

/* One stats object; with *oom_kills (the previous count, or UINT64_MAX the
 * first time), an "oom" event first when the container's OOM kills grew. */
static int stats_once(struct ctr *c, uint64_t *oom_kills, struct kv_err *err)
{
	struct agent_client *ac = NULL;
	struct agent_dialer d;
	struct kvap_stats ks;
	char *out = NULL;
	int r;

	if ((r = ctr_dialer(c, 3000, &d, err)) < 0 || (r = agent_client_connect(&d, &ac, err)) < 0)
		goto out;
	bool per_container = agent_client_features(ac) & KVAP_FEAT_CONTAINER;
	if ((r = per_container ? agent_client_stats_container(ac, c->id, &ks, err)
			       : agent_client_stats(ac, &ks, err)) < 0)
		goto out;
	struct oci_stats st = { 0 };
	struct oci_kv *raw = NULL;
	struct oci_blkio_stat *io = NULL;
	char(*num)[24] = NULL;
	if (per_container) {
		/* The container's cgroup in the guest, as runc reads its own. */
		const struct kvap_cgroup_stats *g = &ks.cgroup;
		st = (struct oci_stats){
			.cpu_total_ns = g->cpu_usage_ns,
			.cpu_kernel_ns = g->cpu_system_ns,
			.cpu_user_ns = g->cpu_user_ns,
			.cpu_periods = g->cpu_periods,
			.cpu_throttled_periods = g->cpu_throttled_periods,
			.cpu_throttled_ns = g->cpu_throttled_ns,
			.mem_usage = g->mem_usage,
			.mem_max_usage = g->mem_max_usage,
			.mem_limit = g->mem_limit ? g->mem_limit : ks.mem_total,
			.mem_failcnt = g->mem_failcnt,
			.swap_usage = g->swap_usage,
			.swap_limit = g->swap_limit,
			.pids_current = g->pids_current,
			.pids_limit = g->pids_limit,
			.oom_events = g->oom_events,
			.oom_kill_events = g->oom_kill_events,
		};
		raw = calloc(g->n_mem_stat + 1, sizeof(*raw));
		num = calloc(g->n_mem_stat + 1, sizeof(*num));
		io = calloc(4 * (size_t)g->n_io + 1, sizeof(*io));
		if (!raw || !num || !io) {
			r = kv_errf(err, -ENOMEM, "out of memory");
			goto free_out;
		}
		for (uint32_t i = 0; i < g->n_mem_stat; i++) {
			snprintf(num[i], sizeof(num[i]), "%llu",
				 (unsigned long long)g->mem_stat[i].value);
			raw[i] = (struct oci_kv){ .key = g->mem_stat[i].name, .value = num[i] };
			if (!strcmp(g->mem_stat[i].name, "file"))
				st.mem_cache = g->mem_stat[i].value;
		}
		st.mem_raw = raw;
		st.n_mem_raw = g->n_mem_stat;
		for (uint32_t i = 0; i < g->n_io; i++) {
			const struct kvap_io_stat *s = &g->io[i];
			io[2 * i] =
			    (struct oci_blkio_stat){ s->major, s->minor, "Read", s->rbytes };
			io[2 * i + 1] =
			    (struct oci_blkio_stat){ s->major, s->minor, "Write", s->wbytes };
			io[2 * g->n_io + 2 * i] =
			    (struct oci_blkio_stat){ s->major, s->minor, "Read", s->rios };
			io[2 * g->n_io + 2 * i + 1] =
			    (struct oci_blkio_stat){ s->major, s->minor, "Write", s->wios };
		}
		st.io_bytes = io;
		st.n_io_bytes = 2 * (size_t)g->n_io;
		st.io_ops = io + 2 * g->n_io;
		st.n_io_ops = 2 * (size_t)g->n_io;
	} else {
		/* A KVAP 1.0 agent: the whole VM's figures. */
		st = (struct oci_stats){
			.cpu_total_ns = ks.cpu_user_ns + ks.cpu_system_ns,
			.cpu_kernel_ns = ks.cpu_system_ns,
			.cpu_user_ns = ks.cpu_user_ns,
			.mem_usage =
			    ks.mem_total > ks.mem_available ? ks.mem_total - ks.mem_available : 0,
			.mem_limit = ks.mem_total,
			.pids_current = ks.nr_procs,
		};
	}
	if (oom_kills && *oom_kills != UINT64_MAX && st.oom_kill_events > *oom_kills &&
	    oci_event_write("oom", c->id, &out, err) == 0) {
		printf("%s\n", out);
		free(out);
		out = NULL;
	}
	if (oom_kills)
		*oom_kills = st.oom_kill_events;
	if ((r = oci_stats_event_write(c->id, &st, &out, err)) == 0) {
		printf("%s\n", out);
		fflush(stdout);
	}
free_out:
	free(out);
	free(raw);
	free(num);
	free(io);
	kvap_free_stats_reply(&ks);
out:
	agent_client_free(ac);
	return r;
}

int verb_events(struct kvrun *g, int argc, char **argv)
{
	enum { O_STATS = 1, O_INTERVAL };
	static const struct option opts[] = { { "stats", no_argument, NULL, O_STATS },
					      { "interval", required_argument, NULL, O_INTERVAL },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	bool once = false;
	uint64_t interval = 5000;
	const char *id;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (ch) {
		case O_STATS:
			once = true;
			break;
		case O_INTERVAL:
			if (parse_duration(optarg, &interval) < 0)
				return verb_usage_error(g,
							"--interval: \"%s\" is not a duration such "
							"as 5s",
							optarg);
			break;
		case 'h':
			verb_events_usage(stdout);
			return 0;
		default:
			return verb_getopt_error(g, argc, argv);
		}
	}
	if ((ch = verb_one_id(g, argc, argv, &id)) != 0)
		return ch;
	uint64_t oom_kills = UINT64_MAX;
	for (bool first = true;; first = false) {
		struct ctr c;
		int r = state_open_unlocked(g->root, id, &c, &err);
		if (r == 0) {
			enum ctr_status s = ctr_status(&c);
			if (s == CTR_STOPPED && !first) {
				state_close(&c);
				return 0;
			}
			if (s != CTR_RUNNING && s != CTR_CREATED)
				r = kv_errf(&err, -EINVAL, "container %s is %s", id,
					    ctr_status_name(s));
			else
				r = stats_once(&c, once ? NULL : &oom_kills, &err);
		}
		state_close(&c);
		if (r < 0 && (first || once))
			return kvrun_fail(g, &err);
		if (once)
			return 0;
		struct timespec ts = { (time_t)(interval / 1000),
				       (long)(interval % 1000) * 1000000 };
		while (nanosleep(&ts, &ts) < 0)
			;
	}
}
