/* create.c - `kvrun create`: flags, then ctr_create() (runtime/create.c). */
#include "container.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

void verb_create_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] create [OPTIONS] ID\n"
		"\n"
		"Create the container ID from an OCI bundle: its VM boots, the guest agent sets\n"
		"the container up, and its process waits for `kvrun start`. The container's host\n"
		"process is the VMM: this command forks it (it survives this command and is\n"
		"reparented to the caller's subreaper) and returns once the container exists.\n"
		"The VMM process's stdin, stdout and stderr - this command's - are the\n"
		"container process's, relayed to the guest; it exits with the container's exit\n"
		"status (128+N for signal N).\n"
		"\n"
		"Options:\n"
		"  -b, --bundle DIR         the bundle (config.json and the root filesystem);\n"
		"                           default: the current directory\n"
		"  --console-socket PATH    with process.terminal: the Unix socket that receives\n"
		"                           the terminal's master (SCM_RIGHTS, as runc sends it)\n"
		"  --pid-file PATH          write the VMM process's pid there\n"
		"  --no-pivot               move the root instead of pivot_root (in the guest)\n"
		"  --no-new-keyring         accepted; no effect (the VM has its own keyrings)\n"
		"  --preserve-fds N         only 0: host fds cannot enter the VM\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: 0 created; 1 failure (one line on stderr and in --log says why,\n"
		"nothing is left behind); 2 usage error.\n");
}

int verb_create(struct kvrun *g, int argc, char **argv)
{
	enum { O_CONSOLE = 1, O_PID, O_NOPIVOT, O_KEYRING, O_PRESERVE };
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "pid-file", required_argument, NULL, O_PID },
		{ "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_KEYRING },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct create_opts o = { 0 };
	struct kv_err err = { 0 };
	uint64_t v;
	pid_t vmm;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.bundle = optarg;
			break;
		case O_CONSOLE:
			o.console_socket = optarg;
			break;
		case O_PID:
			o.pid_file = optarg;
			break;
		case O_NOPIVOT:
			o.no_pivot = true;
			break;
		case O_KEYRING:
			break;
		case O_PRESERVE:
			if (parse_u64(optarg, 1 << 20, &v) < 0)
				return verb_usage_error(g, "--preserve-fds: \"%s\" is not a number",
							optarg);
			o.preserve_fds = (unsigned)v;
			break;
		case 'h':
			verb_create_usage(stdout);
			return 0;
		default:
			return verb_getopt_error(g, argc, argv);
		}
	}
	if ((c = verb_one_id(g, argc, argv, &o.id)) != 0)
		return c;
	if (ctr_create(g, &o, &vmm, &err) < 0)
		return kvrun_fail(g, &err);
	return 0;
}
