/* run.c - `kvrun run`: create, start, and (unless --detach) wait and delete. */
#include "container.h"
#include "foreground.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

void verb_run_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] run [OPTIONS] ID\n"
		"\n"
		"Create and start container ID (see `kvrun create --help`). Without --detach,\n"
		"wait for it, passing the signals this command gets on to its init, delete it,\n"
		"and exit with its exit status. With process.terminal and no --console-socket,\n"
		"the container uses this command's terminal.\n"
		"\n"
		"Options:\n"
		"  -b, --bundle DIR        the bundle (default: the current directory)\n"
		"  --console-socket PATH   as for create\n"
		"  -d, --detach            return once started\n"
		"  --pid-file PATH         write the VMM process's pid there\n"
		"  --keep                  do not delete the container after it stopped\n"
		"  --no-pivot              as for create\n"
		"  --no-subreaper, --no-new-keyring  accepted; no effect\n"
		"  --preserve-fds N        only 0\n"
		"  -h, --help              this text\n"
		"\n"
		"Exit status: the container's (128+N for signal N) in the foreground; 0 with\n"
		"--detach; 1 failure; 2 usage error.\n");
}

int verb_run(struct kvrun *g, int argc, char **argv)
{
	enum { O_CONSOLE = 1, O_PID, O_KEEP, O_NOOP, O_PRESERVE, O_NOPIVOT };
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, O_CONSOLE },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, O_PID },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "no-subreaper", no_argument, NULL, O_NOOP },
		{ "no-pivot", no_argument, NULL, O_NOPIVOT },
		{ "no-new-keyring", no_argument, NULL, O_NOOP },
		{ "preserve-fds", required_argument, NULL, O_PRESERVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct create_opts o = { 0 };
	struct kv_err err = { 0 };
	bool detach = false, keep = false;
	uint64_t v;
	pid_t vmm;
	int ch, r;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:b:dh", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			o.bundle = optarg;
			break;
		case O_CONSOLE:
			o.console_socket = optarg;
			break;
		case 'd':
			detach = true;
			break;
		case O_PID:
			o.pid_file = optarg;
			break;
		case O_KEEP:
			keep = true;
			break;
		case O_NOOP:
			break;
		case O_NOPIVOT:
			o.no_pivot = true;
			break;
		case O_PRESERVE:
			if (parse_u64(optarg, 1 << 20, &v) < 0)
				return verb_usage_error(g, "--preserve-fds: \"%s\" is not a number",
							optarg);
			o.preserve_fds = (unsigned)v;
			break;
		case 'h':
			verb_run_usage(stdout);
			return 0;
		default:
			return verb_getopt_error(g, argc, argv);
		}
	}
	if ((ch = verb_one_id(g, argc, argv, &o.id)) != 0)
		return ch;
	o.terminal_on_stdin = !detach && !o.console_socket && isatty(0);
	if (!detach)
		fg_block_signals();
	if (ctr_create(g, &o, &vmm, &err) < 0)
		return kvrun_fail(g, &err);

	struct ctr c;
	r = state_open(g->root, o.id, &c, &err);
	if (r == 0)
		r = ctr_start(g, &c, &err);
	state_close(&c);
	if (r < 0) {
		kvrun_error(g, "%s", err.msg);
		if (state_open(g->root, o.id, &c, &err) == 0)
			(void)ctr_destroy(g, &c, &err);
		state_close(&c);
		if (!detach)
			(void)waitpid(vmm, NULL, 0);
		return 1;
	}
	if (detach)
		return 0;
	struct fg_tty tty = { 0 };
	if (o.terminal_on_stdin)
		fg_tty_raw(&tty);
	int status = fg_wait(vmm);
	fg_tty_restore(&tty);
	if (!keep && state_open(g->root, o.id, &c, &err) == 0) {
		if (ctr_destroy(g, &c, &err) < 0)
			kvrun_warn(g, "%s", err.msg);
	}
	state_close(&c);
	return status;
}
