/* main.c - the kvrun binary: global options and the command table.
 *
 * Owns: runc's global options (--root, --log, --log-format, --debug,
 * --systemd-cgroup, --rootless; those kvrun cannot honour fail clearly),
 * dispatching `kvrun [GLOBAL OPTIONS] VERB ...` to the verb's function (one
 * row per verb below), `kvrun --help`, `kvrun help VERB`, `kvrun --version`. */
#include "kvrun.h"
#include "oci.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KVRUN_VERSION
#define KVRUN_VERSION "unknown"
#endif

static int run_vm(struct kvrun *g, int argc, char **argv)
{
	(void)g;
	return verb_vm(argc, argv);
}

#define ROW(n, s)                                                                                  \
	{                                                                                          \
#n, s, verb_##n, verb_##n##_usage                                                  \
	}
static const struct verb verbs[] = {
	ROW(create, "create a container (its VM boots; the process waits for start)"),
	ROW(start, "start the process of a created container"),
	ROW(run, "create and start a container, and wait for it unless --detach"),
	ROW(state, "print the state of a container (JSON)"),
	ROW(kill, "send a signal to the container's init (or all its processes)"),
	ROW(delete, "delete a container and everything it left"),
	ROW(exec, "run a new process in a running container"),
	ROW(ps, "list the processes of a container (in its VM)"),
	ROW(list, "list containers"),
	ROW(pause, "stop every vCPU of a container's VM"),
	ROW(resume, "let a paused container's VM run again"),
	ROW(update, "change a container's resource limits"),
	ROW(events, "print container statistics (JSON), once or at an interval"),
	ROW(features, "print what this kvrun supports (runtime-spec features JSON)"),
	ROW(spec, "write a default config.json"),
	ROW(checkpoint, "not supported"),
	ROW(restore, "not supported"),
	{ "vm", "boot a kernel in a micro-VM directly (the VMM's own front end)", run_vm,
	  verb_vm_usage },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] VERB [ARGS...]\n\n"
		"kvrun runs OCI containers, each in its own KVM micro-VM, with runc's command "
		"line.\n\nGlobal options:\n"
		"  --root DIR            state directories (default %s)\n"
		"  --log PATH            append log entries (errors, warnings, --debug) to PATH\n"
		"  --log-format FORMAT   text (default) or json, as runc writes them\n"
		"  --debug               log debug messages too\n"
		"  --systemd-cgroup      refused: kvrun manages cgroups through cgroupfs\n"
		"  --rootless VALUE      false or auto (as root); true is refused\n"
		"  -h, --help            this text\n"
		"  -v, --version         the version\n\nVerbs:\n",
		KVRUN_DEFAULT_ROOT);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(out, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\nRun `kvrun VERB --help` for a verb's options and exit statuses.\n"
		     "docs/runtime.md describes the lifecycle, state, hooks and VM sizing.\n");
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when it is not name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	*missing = false;
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int version(void)
{
	printf("kvrun version %s\nspec: %s\n", KVRUN_VERSION, OCI_VERSION);
	return 0;
}

/* A closed fd 0, 1 or 2 would be taken by the first file opened, and then
 * taken for stdio: /dev/null stands in for it, as for a daemon. */
static void stdio_open(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				(void)dup2(n, fd);
				close(n);
			}
		}
}

int main(int argc, char **argv)
{
	struct kvrun g = { .root = KVRUN_DEFAULT_ROOT, .log_fd = -1 };
	struct kv_err err = { 0 };
	const struct verb *v;
	int i;

	stdio_open();

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *val;
		bool missing;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-v"))
			return version();
		if (!strcmp(a, "--debug")) {
			g.debug = true;
		} else if (!strcmp(a, "--systemd-cgroup")) {
			fprintf(stderr, "kvrun: --systemd-cgroup is not supported: kvrun manages "
					"cgroups through cgroupfs (use the cgroupfs manager)\n");
			return 1;
		} else if ((val = opt_value(argc, argv, &i, "--root", &missing)) || missing) {
			if (missing || !*val || val[0] != '/') {
				fprintf(stderr, "kvrun: --root needs an absolute directory\n");
				return KVRUN_EXIT_USAGE;
			}
			g.root = val;
		} else if ((val = opt_value(argc, argv, &i, "--log", &missing)) || missing) {
			if (missing) {
				fprintf(stderr, "kvrun: --log needs a path\n");
				return KVRUN_EXIT_USAGE;
			}
			g.log_path = val;
		} else if ((val = opt_value(argc, argv, &i, "--log-format", &missing)) || missing) {
			if (!missing && !strcmp(val, "json")) {
				g.log_format = KVRUN_LOG_JSON;
			} else if (!missing && !strcmp(val, "text")) {
				g.log_format = KVRUN_LOG_TEXT;
			} else {
				fprintf(stderr, "kvrun: --log-format: \"%s\" is not text or json\n",
					missing ? "" : val);
				return KVRUN_EXIT_USAGE;
			}
		} else if ((val = opt_value(argc, argv, &i, "--rootless", &missing)) || missing ||
			   !strcmp(a, "--rootless")) {
			if (!val || !strcmp(val, "true")) {
				fprintf(stderr,
					"kvrun: --rootless%s: rootless containers are not "
					"supported (kvrun runs as root)\n",
					val ? "=true" : "");
				return 1;
			}
			if (strcmp(val, "false") && strcmp(val, "auto")) {
				fprintf(stderr,
					"kvrun: --rootless: \"%s\" is not true, false or auto\n",
					val);
				return KVRUN_EXIT_USAGE;
			}
		} else if ((val = opt_value(argc, argv, &i, "--criu", &missing)) || missing) {
			/* Accepted like runc; checkpoint and restore are not supported. */
		} else {
			fprintf(stderr, "kvrun: unknown global option \"%s\" (see kvrun --help)\n",
				a);
			return KVRUN_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return KVRUN_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		v = find_verb(argv[i + 1]);
		if (!v) {
			fprintf(stderr, "kvrun: unknown verb \"%s\" (see kvrun --help)\n",
				argv[i + 1]);
			return KVRUN_EXIT_USAGE;
		}
		v->usage(stdout);
		return 0;
	}
	v = find_verb(argv[i]);
	if (!v) {
		fprintf(stderr, "kvrun: unknown verb \"%s\" (see kvrun --help)\n", argv[i]);
		return KVRUN_EXIT_USAGE;
	}
	g.verb = v->name;
	if (kvrun_log_open(&g, &err) < 0) {
		fprintf(stderr, "kvrun %s: %s\n", v->name, err.msg);
		return 1;
	}
	return v->run(&g, argc - i, argv + i);
}
