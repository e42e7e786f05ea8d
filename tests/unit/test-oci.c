/* test-oci.c - unit tests for oci/: config.json parsing and validation,
 * the standalone process and resources documents, state.json round trips,
 * and the documents kvrun writes (features, the default spec, events, log
 * lines), each parsed back with json-c. Prints TAP. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "oci.h"
#include "oci-state.h"
#include "tap.h"

#define MIN_HEAD "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
#define MIN_PROC "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}"

static struct oci_config *parse(const char *json, struct kv_err *err)
{
	struct oci_config *c = NULL;

	memset(err, 0, sizeof(*err));
	if (oci_config_parse(json, strlen(json), true, &c, err) < 0)
		return NULL;
	return c;
}

/* The config must fail with exactly this message. */
static void expect_error(const char *json, const char *want)
{
	struct kv_err err;
	struct oci_config *c = parse(json, &err);

	if (!ok(!c && strcmp(err.msg, want) == 0, "rejected: %s", want))
		diag("got %s: \"%s\"", c ? "success" : "error", err.msg);
	oci_config_free(c);
}

static void test_full(void)
{
	struct kv_err err;
	char *buf = NULL;
	size_t len;
	FILE *f = fopen(SRCDIR "/tests/fuzz/corpus/oci-config/full.json", "r");

	if (!ok(f != NULL, "open full.json"))
		return;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(len + 1);
	ok(fread(buf, 1, len, f) == len, "read full.json");
	buf[len] = 0;
	fclose(f);

	struct oci_config *c = NULL;
	int r = oci_config_parse(buf, len, true, &c, &err);
	free(buf);
	if (!ok(r == 0, "full.json parses (%s)", err.msg))
		return;
	struct oci_process *p = &c->process;
	ok(strcmp(c->oci_version, "1.0.2") == 0, "ociVersion");
	ok(p->n_args == 3 && strcmp(p->args[2], "echo hi") == 0 && p->args[3] == NULL,
	   "process.args, NULL-terminated");
	ok(p->n_env == 2 && strcmp(p->env[1], "X=y") == 0, "process.env");
	ok(strcmp(p->cwd, "/tmp") == 0, "process.cwd");
	ok(p->uid == 1000 && p->gid == 1000 && p->n_additional_gids == 2 &&
	       p->additional_gids[1] == 20,
	   "process.user uid/gid/additionalGids");
	ok(p->has_umask && p->umask == 18, "process.user.umask");
	ok(p->has_console_size && p->console_height == 24 && p->console_width == 80,
	   "process.consoleSize");
	ok(p->has_caps && p->caps.bounding == (1ull << 5) &&
	       p->caps.permitted == ((1ull << 5) | (1ull << 21)) && p->caps.ambient == 0,
	   "capabilities as masks");
	ok(p->n_unknown_caps == 1 && strcmp(p->unknown_caps[0], "CAP_NEW_THING") == 0,
	   "an unknown capability is kept aside, not an error (as runc)");
	ok(p->n_rlimits == 2 && p->rlimits[0].type == RLIMIT_NOFILE &&
	       p->rlimits[0].hard == UINT64_MAX && p->rlimits[0].soft == 1024 &&
	       p->rlimits[1].type == RLIMIT_CORE,
	   "rlimits, 2^64-1 kept");
	ok(p->no_new_privileges && p->has_oom_score_adj && p->oom_score_adj == -500,
	   "noNewPrivileges, oomScoreAdj");
	ok(strcmp(c->root_path, "rootfs") == 0 && c->root_readonly, "root");
	ok(strcmp(c->hostname, "box") == 0 && strcmp(c->domainname, "example.org") == 0,
	   "hostname, domainname");
	ok(c->n_mounts == 3 && strcmp(c->mounts[1].destination, "/etc/hosts") == 0 &&
	       c->mounts[1].n_options == 2 && strcmp(c->mounts[1].options[1], "ro") == 0,
	   "mounts");
	ok(c->n_hooks[OCI_HOOK_PRESTART] == 1 && c->n_hooks[OCI_HOOK_POSTSTOP] == 2 &&
	       c->n_hooks[OCI_HOOK_CREATE_RUNTIME] == 1 &&
	       c->hooks[OCI_HOOK_CREATE_RUNTIME][0].timeout == 5 &&
	       c->hooks[OCI_HOOK_CREATE_RUNTIME][0].n_args == 2 &&
	       c->n_hooks[OCI_HOOK_START_CONTAINER] == 0,
	   "hooks");
	ok(oci_annotation(c, "io.kvrun.vm.cpus") &&
	       strcmp(oci_annotation(c, "io.kvrun.vm.cpus"), "2") == 0 &&
	       !oci_annotation(c, "nope"),
	   "annotations");
	const struct oci_linux *l = &c->linux_;
	ok(l->n_namespaces == 3 && oci_namespace(c, OCI_NS_NETWORK) &&
	       strcmp(oci_namespace(c, OCI_NS_NETWORK)->path, "/run/netns/x") == 0 &&
	       !oci_namespace(c, OCI_NS_USER),
	   "namespaces");
	ok(l->n_uid_mappings == 1 && l->uid_mappings[0].host_id == 100000 && l->n_gid_mappings == 0,
	   "uidMappings");
	const struct oci_resources *res = &l->resources;
	ok(l->has_resources && res->has_mem_limit && res->mem_limit == 268435456 &&
	       res->has_mem_swap && res->mem_swap == -1 && res->mem_swappiness == 10,
	   "resources.memory");
	ok(res->has_cpu_quota && res->cpu_quota == 150000 && res->cpu_period == 100000 &&
	       res->cpu_shares == 1024 && strcmp(res->cpuset_cpus, "0-1") == 0,
	   "resources.cpu");
	ok(res->has_pids_limit && res->pids_limit == 100 && res->blkio_weight == 500,
	   "resources.pids, blockIO.weight");
	ok(res->n_devices == 2 && !res->devices[0].allow && res->devices[0].type == 'a' &&
	       res->devices[0].major == -1 && res->devices[1].type == 'c' &&
	       res->devices[1].minor == 3 && strcmp(res->devices[1].access, "rw") == 0,
	   "resources.devices");
	ok(res->n_unified == 1 && res->n_hugepage_limits == 1, "unified, hugepageLimits");
	ok(strcmp(l->cgroups_path, "/kvrun/test") == 0 && l->n_sysctl == 1 &&
	       strcmp(l->sysctl[0].value, "1") == 0,
	   "cgroupsPath, sysctl");
	ok(l->n_devices == 1 && l->devices[0].type == 'c' && l->devices[0].major == 10 &&
	       l->devices[0].file_mode == 438,
	   "devices");
	ok(l->seccomp && l->seccomp->default_action == OCI_SCMP_ACT_ERRNO &&
	       l->seccomp->default_errno_ret == 1 && l->seccomp->n_syscalls == 3 &&
	       l->seccomp->syscalls[1].n_args == 1 &&
	       l->seccomp->syscalls[1].args[0].op == OCI_SCMP_CMP_EQ &&
	       l->seccomp->syscalls[2].errno_ret == 13,
	   "seccomp");
	ok(l->n_masked_paths == 1 && l->n_readonly_paths == 1 &&
	       strcmp(l->rootfs_propagation, "rslave") == 0,
	   "maskedPaths, readonlyPaths, rootfsPropagation");
	oci_config_free(c);
}

static void test_errors(void)
{
	expect_error("", "not valid JSON: the document ends early");
	expect_error("{\"a\":", "not valid JSON: the document ends early");
	expect_error("[]", "the document must be a JSON object");
	expect_error(MIN_HEAD MIN_PROC "} x",
		     "not valid JSON: unexpected data after the value at byte 84");
	expect_error("{\"root\":{\"path\":\"r\"}}", "ociVersion: is required");
	expect_error("{\"ociVersion\":2}", "ociVersion: must be a string");
	expect_error("{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}",
		     "ociVersion: \"2.0.0\" is not a 1.x version of the runtime-spec (kvrun "
		     "supports 1.0.0 to " OCI_VERSION ")");
	expect_error("{\"ociVersion\":\"1.0.0\"}", "root: is required");
	expect_error("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"\"}}",
		     "root.path: must not be empty");
	expect_error(MIN_HEAD "\"hostname\":\"h\"}", "process: is required");
	expect_error(MIN_HEAD "\"process\":{\"cwd\":\"/\"}}",
		     "process.args: must be a non-empty array of strings");
	expect_error(MIN_HEAD "\"process\":{\"args\":[],\"cwd\":\"/\"}}",
		     "process.args: must be a non-empty array of strings");
	expect_error(MIN_HEAD "\"process\":{\"args\":\"sh\",\"cwd\":\"/\"}}",
		     "process.args: must be a non-empty array of strings");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\",3],\"cwd\":\"/\"}}",
		     "process.args: must be a non-empty array of strings");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"a\\u0000b\"],\"cwd\":\"/\"}}",
		     "process.args[0]: must not contain NUL characters");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"]}}", "process.cwd: is required");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"tmp\"}}",
		     "process.cwd: must be an absolute path");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":-1,"
			      "\"gid\":0}}}",
		     "process.user.uid: must be an integer between 0 and 4294967295");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"user\":{\"uid\":0}}}",
		     "process.user.gid: is required");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"terminal\":1}}",
		     "process.terminal: must be true or false");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
			      "\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}",
		     "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
			      "\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":1}]}}",
		     "process.rlimits[0]: soft limit 10 is above the hard limit 1");
	expect_error(MIN_HEAD "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"oomScoreAdj\":1001}}",
		     "process.oomScoreAdj: must be between -1000 and 1000");
	expect_error(MIN_HEAD MIN_PROC
		     ",\"mounts\":[{\"destination\":\"/a\"},{\"type\":\"tmpfs\"}]}",
		     "mounts[1].destination: is required");
	expect_error(MIN_HEAD MIN_PROC ",\"mounts\":[{\"destination\":\"a\"}]}",
		     "mounts[0].destination: must be an absolute path");
	expect_error(MIN_HEAD MIN_PROC ",\"mounts\":[{\"destination\":\"/a/../b\"}]}",
		     "mounts[0].destination: must not contain \"..\"");
	expect_error(MIN_HEAD MIN_PROC ",\"mounts\":[{\"destination\":\"/a\",\"options\":\"ro\"}]}",
		     "mounts[0].options: must be an array of strings");
	expect_error(MIN_HEAD MIN_PROC ",\"hooks\":{\"poststart\":[{\"path\":\"x\"}]}}",
		     "hooks.poststart[0].path: must be an absolute path");
	expect_error(MIN_HEAD MIN_PROC
		     ",\"hooks\":{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}}",
		     "hooks.prestart[0].timeout: must be between 1 and 86400 seconds");
	expect_error(MIN_HEAD MIN_PROC ",\"annotations\":{\"io.kvrun.vm.cpus\":2}}",
		     "annotations[\"io.kvrun.vm.cpus\"]: must be a string");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":"
				       "\"pid\"}]}}",
		     "linux.namespaces[1].type: namespace \"pid\" is listed twice");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
		     "linux.namespaces[0].type: unknown namespace type \"bogus\"");
	expect_error(MIN_HEAD MIN_PROC
		     ",\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1G\"}}}}",
		     "linux.resources.memory.limit: must be an integer");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"resources\":{\"cpu\":{\"period\":10}}}}",
		     "linux.resources.cpu.period: must be between 1000 and 1000000 (us)");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"resources\":{\"pids\":{}}}}",
		     "linux.resources.pids.limit: is required");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"resources\":{\"devices\":[{\"access\":"
				       "\"rwx\",\"allow\":true}]}}}",
		     "linux.resources.devices[0].access: must be made of the letters r, w and m");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":"
				       "\"c\"}]}}",
		     "linux.devices[0]: a \"c\" device needs major and minor");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"seccomp\":{}}}",
		     "linux.seccomp.defaultAction: is required");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_"
				       "ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
				       "\"SCMP_ACT_NOPE\"}]}}}",
		     "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_NOPE\"");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_"
				       "ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}}}",
		     "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"cgroupsPath\":\"/a/../../etc\"}}",
		     "linux.cgroupsPath: must not contain \"..\"");
	expect_error(MIN_HEAD MIN_PROC ",\"linux\":{\"rootfsPropagation\":\"sideways\"}}",
		     "linux.rootfsPropagation: \"sideways\" is not a propagation mode");
}

static void test_lenient(void)
{
	struct kv_err err;
	struct oci_config *c;

	c = parse(MIN_HEAD MIN_PROC ",\"hostname\":null,\"linux\":null,\"x-unknown\":{\"a\":[1]}}",
		  &err);
	ok(c && !c->hostname, "null members count as absent; unknown members are ignored");
	oci_config_free(c);
	c = NULL;
	ok(oci_config_parse(MIN_HEAD "\"hostname\":\"h\"}", strlen(MIN_HEAD) + 15, false, &c,
			    &err) == 0 &&
	       !c->has_process,
	   "process is optional when not required (state, delete)");
	oci_config_free(c);
	c = parse(" \n" MIN_HEAD MIN_PROC "}\n\n", &err);
	ok(c != NULL, "blanks around the document");
	oci_config_free(c);
	/* Not NUL-terminated: the length bounds the parse. */
	char doc[] = MIN_HEAD MIN_PROC "}XYZ";
	c = NULL;
	ok(oci_config_parse(doc, strlen(doc) - 3, true, &c, &err) == 0, "parse honours len");
	oci_config_free(c);
}

static void test_standalone(void)
{
	struct kv_err err = { 0 };
	struct oci_process p;
	struct oci_resources r;
	const char *proc = "{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/\",\"terminal\":true,"
			   "\"env\":[\"A=1\"]}";
	const char *res = "{\"memory\":{\"limit\":1048576},\"cpu\":{\"quota\":20000,"
			  "\"period\":100000},\"pids\":{\"limit\":10}}";

	ok(oci_process_parse(proc, strlen(proc), &p, &err) == 0 && p.terminal && p.n_args == 2,
	   "exec --process document");
	oci_process_clear(&p);
	ok(oci_process_parse("{\"cwd\":\"/\"}", 11, &p, &err) < 0 &&
	       strcmp(err.msg, "args: must be a non-empty array of strings") == 0,
	   "a process without args: %s", err.msg);
	ok(oci_resources_parse(res, strlen(res), &r, &err) == 0 && r.mem_limit == 1048576 &&
	       r.cpu_quota == 20000 && r.pids_limit == 10 && !r.has_mem_swap,
	   "update --resources document");
	oci_resources_clear(&r);
	const char *badres = "{\"memory\":{\"limit\":true}}";
	ok(oci_resources_parse(badres, strlen(badres), &r, &err) < 0 &&
	       strcmp(err.msg, "memory.limit: must be an integer") == 0,
	   "bad resources: %s", err.msg);
}

static void test_state(void)
{
	struct kv_err err = { 0 };
	char *dirs[] = { (char *)"/sys/fs/cgroup/memory/kvrun/c1", NULL };
	struct oci_kv ann[] = { { (char *)"k", (char *)"v" } };
	struct oci_state s = { .id = (char *)"c1",
			       .status = (char *)"running",
			       .pid = 4242,
			       .bundle = (char *)"/b",
			       .rootfs = (char *)"/b/rootfs",
			       .created = (char *)"2026-01-01T00:00:00.000000001Z",
			       .owner = (char *)"",
			       .annotations = ann,
			       .n_annotations = 1,
			       .pid_start = 987654321,
			       .cgroup_dirs = dirs,
			       .n_cgroup_dirs = 1,
			       .vm_cpus = 2,
			       .vm_memory = 1ull << 30,
			       .log_path = (char *)"/run/log.json",
			       .log_format = (char *)"json",
			       .started = true };
	struct oci_state back;
	char *out = NULL;

	ok(oci_state_write(&s, true, false, &out, &err) == 0, "write state.json");
	ok(oci_state_parse(out, strlen(out), &back, &err) == 0, "read it back (%s)", err.msg);
	ok(strcmp(back.id, "c1") == 0 && back.pid == 4242 && strcmp(back.status, "running") == 0 &&
	       back.pid_start == 987654321 && back.n_cgroup_dirs == 1 &&
	       strcmp(back.cgroup_dirs[0], dirs[0]) == 0 && back.vm_cpus == 2 &&
	       back.vm_memory == 1ull << 30 && back.started &&
	       strcmp(back.log_format, "json") == 0 && back.n_annotations == 1,
	   "every member survives");
	oci_state_clear(&back);
	free(out);

	ok(oci_state_write(&s, false, true, &out, &err) == 0, "write the public state");
	ok(strstr(out, "\"kvrun\"") == NULL && strstr(out, "\n  \"id\": \"c1\",\n") != NULL &&
	       strstr(out, "\"rootfs\": \"/b/rootfs\"") && strstr(out, "\"owner\": \"\""),
	   "public state: runc's members, two-space indent, no private members");
	ok(strstr(out, "\"bundle\": \"/b\"") != NULL, "slashes are not escaped");
	free(out);

	ok(oci_state_write_hook(&s, &out, &err) == 0 && !strstr(out, "rootfs") &&
	       !strstr(out, "owner") && strstr(out, "\"pid\":4242"),
	   "hook state: the runtime-spec members only");
	free(out);

	const struct oci_state *list[] = { &s, &s };
	ok(oci_state_write_list(list, 2, &out, &err) == 0 && out[0] == '[', "list json");
	json_object *a = json_tokener_parse(out);
	ok(a && json_object_array_length(a) == 2, "list json is an array of two");
	json_object_put(a);
	free(out);

	const char *bad = "{\"ociVersion\":\"1\",\"id\":\"c\",\"pid\":1,\"status\":\"exploded\","
			  "\"bundle\":\"/b\",\"kvrun\":{}}";
	ok(oci_state_parse(bad, strlen(bad), &back, &err) < 0 &&
	       strcmp(err.msg, "status: unknown status \"exploded\"") == 0,
	   "a corrupt state.json is refused: %s", err.msg);
}

static void test_written(void)
{
	struct kv_err err = { 0 };
	char *out = NULL;
	struct oci_config *c = NULL;
	const char *anns[] = { "io.kvrun.vm.cpus", "io.kvrun.vm.memory", NULL };
	struct oci_features_info fi = { .seccomp = false, .version = "0.1.0", .annotations = anns };

	ok(oci_default_spec_write(&out, &err) == 0, "default spec");
	ok(oci_config_parse(out, strlen(out), true, &c, &err) == 0 && c->process.terminal &&
	       strcmp(c->process.args[0], "sh") == 0 && c->n_mounts == 7 &&
	       c->linux_.n_namespaces == 5 && c->root_readonly,
	   "the default spec parses as a config (%s)", err.msg);
	oci_config_free(c);
	free(out);

	ok(oci_features_write(&fi, &out, &err) == 0, "features");
	json_object *f = json_tokener_parse(out), *v, *sc, *en;
	ok(f && json_object_object_get_ex(f, "hooks", &v) && json_object_array_length(v) == 6,
	   "features: six hooks");
	ok(json_object_object_get_ex(f, "linux", &v) &&
	       json_object_object_get_ex(v, "seccomp", &sc) &&
	       json_object_object_get_ex(sc, "enabled", &en) && !json_object_get_boolean(en),
	   "features: seccomp says what the guest does (not enabled)");
	ok(json_object_object_get_ex(f, "annotations", &v) &&
	       json_object_object_get_ex(v, "io.kvrun.annotations", &en) &&
	       strcmp(json_object_get_string(en), "io.kvrun.vm.cpus,io.kvrun.vm.memory") == 0,
	   "features: the annotations kvrun understands");
	json_object_put(f);
	free(out);

	uint64_t percpu[] = { 5, 6 };
	struct oci_kv raw[] = { { (char *)"cache", (char *)"12" } };
	struct oci_stats st = { .cpu_total_ns = 11,
				.cpu_kernel_ns = 5,
				.cpu_user_ns = 6,
				.cpu_percpu_ns = percpu,
				.n_cpus = 2,
				.mem_usage = 100,
				.mem_limit = 1000,
				.mem_raw = raw,
				.n_mem_raw = 1,
				.pids_current = 3 };
	ok(oci_stats_event_write("c1", &st, &out, &err) == 0, "stats event");
	const char *head = "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"cpu\":{\"usage\":{"
			   "\"total\":11,\"percpu\":[5,6],\"kernel\":5,\"user\":6}";
	ok(strncmp(out, head, strlen(head)) == 0 && strstr(out, "\"pids\":{\"current\":3}") &&
	       strstr(out, "\"usage\":{\"limit\":1000,\"usage\":100,\"failcnt\":0}") &&
	       strstr(out, "\"raw\":{\"cache\":12}") && strstr(out, "\"network_interfaces\":null"),
	   "stats event in runc's shape: %.160s", out);
	free(out);

	uint32_t pids[] = { 1, 7 };
	ok(oci_pids_write(pids, 2, &out, &err) == 0 && strcmp(out, "[1,7]") == 0, "ps json");
	free(out);
	int lr = oci_log_json_line("error", "a \"quoted\"\nline", "2026-01-01T00:00:00Z", &out);
	ok(lr == 0 &&
	       strcmp(out, "{\"level\":\"error\",\"msg\":\"a \\\"quoted\\\"\\nline\",\"time\":"
			   "\"2026-01-01T00:00:00Z\"}") == 0,
	   "log line: %s", out);
	free(out);
}

static void test_names(void)
{
	ok(oci_cap_number("CAP_SYS_ADMIN") == 21 &&
	       oci_cap_number("CAP_CHECKPOINT_RESTORE") == 40 && oci_cap_number("SYS_ADMIN") == -1,
	   "capability numbers");
	ok(strcmp(oci_cap_name(0), "CAP_CHOWN") == 0 && oci_cap_name(41) == NULL,
	   "capability names");
	ok(oci_rlimit_number("RLIMIT_NOFILE") == RLIMIT_NOFILE &&
	       strcmp(oci_rlimit_name(RLIMIT_AS), "RLIMIT_AS") == 0,
	   "rlimit names");
}

int main(void)
{
	test_full();
	test_errors();
	test_lenient();
	test_standalone();
	test_state();
	test_written();
	test_names();
	tap_plan(tap_n_);
	return tap_done();
}
