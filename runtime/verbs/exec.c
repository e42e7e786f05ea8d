/* exec.c - `kvrun exec`: flags and the process; runtime/exec.c runs it. */
#include "agent-spec.h"
#include "container.h"
#include "exec.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void verb_exec_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] exec [OPTIONS] ID [COMMAND [ARG...]]\n"
		"\n"
		"Run a new process in container ID's VM, next to its init. It is represented on\n"
		"the host by a kvrun process (the one --pid-file names) that relays its stdio,\n"
		"signals and terminal size, and exits with its status (128+N for signal N).\n"
		"Without --process, the process is the container's config.json process with\n"
		"COMMAND as args and the changes the flags make.\n"
		"\n"
		"Options:\n"
		"  -p, --process FILE       the process as an OCI process JSON object\n"
		"  -t, --tty                give it a terminal (yours, or --console-socket's)\n"
		"  --console-socket PATH    send the terminal's master there (SCM_RIGHTS)\n"
		"  -d, --detach             return once it runs\n"
		"  --pid-file PATH          write the host process's pid there\n"
		"  --cwd DIR                working directory\n"
		"  -e, --env NAME=VALUE     set a variable (repeatable)\n"
		"  -u, --user UID[:GID]     user and group ids\n"
		"  -g, --additional-gids N  an additional group (repeatable)\n"
		"  -c, --cap CAP            add a capability (repeatable)\n"
		"  --no-new-privs           set no_new_privs\n"
		"  --preserve-fds N         only 0\n"
		"  --process-label, --apparmor, --cgroup  accepted and ignored\n"
		"  --ignore-paused          accepted; a paused VM cannot run anything\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: the process's; 1 (with a message) when it could not be started;\n"
		"2 usage error; 255 when the connection to the guest was lost.\n");
}

struct flags {
	const char *process_file, *cwd, *user, *console_socket, *pid_file;
	char **env;
	size_t n_env;
	char **caps;
	size_t n_caps;
	uint32_t *gids;
	size_t n_gids;
	bool tty, detach, no_new_privs;
};

static int push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (char *)s;
	nv[*n] = NULL;
	return 0;
}

/* base env with the -e entries replacing or adding NAME=... */
static int merge_env(char **base, size_t nb, char **add, size_t na, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < nb; i++) {
		size_t kl = strcspn(base[i], "=");
		bool replaced = false;
		for (size_t j = 0; j < na && !replaced; j++)
			replaced = strncmp(add[j], base[i], kl) == 0 && add[j][kl] == '=';
		if (!replaced && push(out, n, base[i]) < 0)
			return -ENOMEM;
	}
	for (size_t j = 0; j < na; j++)
		if (push(out, n, add[j]) < 0)
			return -ENOMEM;
	if (!*out)
		*out = calloc(1, sizeof(char *));
	return *out ? 0 : -ENOMEM;
}

int verb_exec(struct kvrun *g, int argc, char **argv)
{
	enum { O_CONSOLE = 1, O_PID, O_CWD, O_NNP, O_PRESERVE, O_IGNORED, O_IGNORE_PAUSED };
	static const struct option opts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "pid-file", required_argument, NULL, O_PID },
		{ "cwd", required_argument, NULL, O_CWD },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "cap", required_argument, NULL, 'c' },
		{ "no-new-privs", no_argument, NULL, O_NNP },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "process-label", required_argument, NULL, O_IGNORED },
		{ "apparmor", required_argument, NULL, O_IGNORED },
		{ "cgroup", required_argument, NULL, O_IGNORED },
		{ "ignore-paused", no_argument, NULL, O_IGNORE_PAUSED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct flags f = { 0 };
	struct kv_err err = { 0 };
	uint64_t v;
	int ch, rc = 1;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:p:tde:u:g:c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			f.process_file = optarg;
			break;
		case 't':
			f.tty = true;
			break;
		case 'd':
			f.detach = true;
			break;
		case O_CONSOLE:
			f.console_socket = optarg;
			break;
		case O_PID:
			f.pid_file = optarg;
			break;
		case O_CWD:
			if (optarg[0] != '/')
				return verb_usage_error(g, "--cwd: \"%s\" is not absolute", optarg);
			f.cwd = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return verb_usage_error(g, "--env: \"%s\" is not NAME=VALUE",
							optarg);
			if (push(&f.env, &f.n_env, optarg) < 0)
				return 1;
			break;
		case 'u':
			f.user = optarg;
			break;
		case 'g':
			if (parse_u64(optarg, UINT32_MAX, &v) < 0)
				return verb_usage_error(g, "--additional-gids: \"%s\" is not a gid",
							optarg);
			{
				uint32_t *ng = realloc(f.gids, (f.n_gids + 1) * sizeof(*ng));
				if (!ng)
					return 1;
				f.gids = ng;
				f.gids[f.n_gids++] = (uint32_t)v;
			}
			break;
		case 'c':
			if (oci_cap_number(optarg) < 0)
				return verb_usage_error(g, "--cap: unknown capability \"%s\"",
							optarg);
			if (push(&f.caps, &f.n_caps, optarg) < 0)
				return 1;
			break;
		case O_NNP:
			f.no_new_privs = true;
			break;
		case O_PRESERVE:
			if (parse_u64(optarg, 1 << 20, &v) < 0)
				return verb_usage_error(g, "--preserve-fds: \"%s\" is not a number",
							optarg);
			if (v) {
				kv_errf(
				    &err, -EOPNOTSUPP,
				    "--preserve-fds: host file descriptors cannot enter the VM");
				return kvrun_fail(g, &err);
			}
			break;
		case O_IGNORED:
		case O_IGNORE_PAUSED:
			break;
		case 'h':
			verb_exec_usage(stdout);
			return 0;
		default:
			return verb_getopt_error(g, argc, argv);
		}
	}
	if (optind >= argc)
		return verb_usage_error(g, "a container id is required");
	const char *id = argv[optind++];
	if (!f.process_file && optind >= argc)
		return verb_usage_error(g, "a command (or --process) is required");
	if (f.process_file && optind < argc)
		return verb_usage_error(g, "--process and a command exclude each other");

	struct ctr c;
	struct oci_config *cfg = NULL;
	struct oci_process pfile = { 0 };
	struct kvap_process kp = { 0 };
	char **env = NULL;
	size_t n_env = 0;
	int keep_fd = -1, r;

	r = state_open(g->root, id, &c, &err);
	if (r == 0) {
		enum ctr_status s = ctr_status(&c);
		if (s == CTR_STOPPED)
			r = kv_errf(&err, -EINVAL, "cannot exec in a stopped container");
		else if (s == CTR_PAUSED)
			r = kv_errf(&err, -EINVAL, "cannot exec in a paused container");
		else if (s == CTR_CREATING)
			r = kv_errf(&err, -EINVAL, "cannot exec in a container being created");
	}
	if (r == 0 && f.process_file) {
		char *buf = NULL;
		size_t len;
		r = oci_read_file(f.process_file, OCI_CONFIG_MAX_BYTES, &buf, &len, &err);
		if (r == 0) {
			r = oci_process_parse(buf, len, &pfile, &err);
			if (r < 0) {
				char m[sizeof(err.msg)];
				snprintf(m, sizeof(m), "%s", err.msg);
				kv_errf(&err, r, "--process %s: %s", f.process_file, m);
			}
			free(buf);
		}
		if (r == 0)
			r = agent_spec_process(&pfile, KVAP_FEATURES_V1_1, &kp, &err);
	} else if (r == 0 && (r = ctr_config(&c, &cfg, &err)) == 0 &&
		   (r = agent_spec_process(&cfg->process, KVAP_FEATURES_V1_1, &kp, &err)) == 0) {
		/* runc's rules: args from the command line, the rest from the config. */
		kp.args = &argv[optind];
		kp.n_args = (uint32_t)(argc - optind);
		kp.terminal = f.tty;
		kp.console = (struct kvap_winsize){ 0 };
		if (merge_env(cfg->process.env, cfg->process.n_env, f.env, f.n_env, &env, &n_env) <
		    0) {
			r = kv_errf(&err, -ENOMEM, "out of memory");
		} else {
			kp.env = env;
			kp.n_env = (uint32_t)n_env;
		}
		if (f.cwd)
			kp.cwd = (char *)f.cwd;
		if (f.user) {
			char *end;
			unsigned long uid = strtoul(f.user, &end, 10), gid = 0;
			if (end == f.user || (*end && *end != ':'))
				r = kv_errf(&err, -EINVAL, "--user: \"%s\" is not UID[:GID]",
					    f.user);
			if (r == 0 && *end == ':') {
				char *e2;
				gid = strtoul(end + 1, &e2, 10);
				if (e2 == end + 1 || *e2)
					r = kv_errf(&err, -EINVAL,
						    "--user: \"%s\" is not UID[:GID]", f.user);
			}
			kp.uid = (uint32_t)uid;
			kp.gid = (uint32_t)gid;
		}
		if (f.n_gids) {
			kp.gids = f.gids;
			kp.n_gids = (uint32_t)f.n_gids;
		}
		for (size_t i = 0; i < f.n_caps; i++) {
			uint64_t bit = 1ull << oci_cap_number(f.caps[i]);
			if (!kp.caps_set) {
				/* No capabilities object: the process had all; --cap adds to
				 * nothing then, as with runc, which starts from the config's. */
				kp.caps = (struct kvap_caps){ 0 };
				kp.caps_set = true;
			}
			kp.caps.bounding |= bit;
			kp.caps.effective |= bit;
			kp.caps.permitted |= bit;
		}
		kp.no_new_privileges = kp.no_new_privileges || f.no_new_privs;
	}
	if (r == 0 && f.process_file && f.tty)
		kp.terminal = true;
	struct exec_req x = { .container_id = id,
			      .proc = &kp,
			      .console_socket = f.console_socket,
			      .pid_file = f.pid_file,
			      .detach = f.detach };
	if (r == 0) {
		/* A path through our own fd of the state directory, which outlives the
		 * lock: an exec may run for days while other verbs use the container. */
		keep_fd = openat(c.dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char path[108];
		snprintf(path, sizeof(path), "/proc/self/fd/%d/vsock.sock", keep_fd);
		if (keep_fd < 0)
			r = kv_errno(&err, -errno, "%s", c.dir);
		else if ((r = agent_dialer_hybrid(&x.dialer, path, &err)) == 0) {
			x.dialer.timeout_ms = 3000;
			x.keep_fd = keep_fd;
		}
	}
	state_close(&c);
	if (r == 0) {
		int status = exec_run(g, &x, &err);
		rc = status < 0 ? kvrun_fail(g, &err) : status;
	} else {
		rc = kvrun_fail(g, &err);
	}
	if (keep_fd >= 0)
		close(keep_fd);
	agent_spec_process_free(&kp);
	free(env);
	oci_process_clear(&pfile);
	oci_config_free(cfg);
	free(f.env);
	free(f.caps);
	free(f.gids);
	return rc;
}
