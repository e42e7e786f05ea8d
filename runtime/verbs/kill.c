/* kill.c - `kvrun kill`. */
#include "container.h"
#include "util.h"
#include "verbs.h"

#include <errno.h>
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

void verb_kill_usage(FILE *out)
{
	fprintf(out,
		"usage: kvrun [GLOBAL OPTIONS] kill [--all] ID [SIGNAL]\n"
		"\n"
		"Send SIGNAL (a name like TERM, SIGKILL, or a number; default SIGTERM) to the\n"
		"init of container ID in its VM, through the guest agent. SIGKILL always works:\n"
		"when the agent does not take it (or the container is paused), the VMM process\n"
		"is killed, and the container's exit status is 137.\n"
		"\n"
		"Options:\n"
		"  -a, --all    signal every process of the container\n"
		"  -h, --help   this text\n"
		"\n"
		"Exit status: 0 sent; 1 failure (\"container not running\", no such container);\n"
		"2 usage error.\n");
}

static const struct {
	const char *name;
	int sig;
} sigs[] = {
	{ "HUP", SIGHUP },	 { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
	{ "TRAP", SIGTRAP },	 { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
	{ "FPE", SIGFPE },	 { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },	 { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },	 { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
	{ "XCPU", SIGXCPU },	 { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },	 { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

static int parse_signal(const char *s)
{
	uint64_t v;

	if (isdigit((unsigned char)s[0]))
		return parse_u64(s, 64, &v) == 0 && v >= 1 ? (int)v : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (strcasecmp(s, sigs[i].name) == 0)
			return sigs[i].sig;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		int base =
		    toupper((unsigned char)s[2]) == 'M' && toupper((unsigned char)s[3]) == 'I'
			? SIGRTMIN
			: SIGRTMAX;
		int off = 0;
		if (s[5] == '+' || s[5] == '-') {
			if (parse_u64(s + 6, 32, &v) < 0)
				return -1;
			off = s[5] == '+' ? (int)v : -(int)v;
		} else if (s[5]) {
			return -1;
		}
		int sig = base + off;
		return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
	}
	return -1;
}

int verb_kill(struct kvrun *g, int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct kv_err err = { 0 };
	bool all = false;
	struct ctr c;
	int ch, r, sig = SIGTERM;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+:ah", opts, NULL)) != -1) {
		if (ch == 'a') {
			all = true;
		} else if (ch == 'h') {
			verb_kill_usage(stdout);
			return 0;
		} else {
			return verb_getopt_error(g, argc, argv);
		}
	}
	if (optind >= argc)
		return verb_usage_error(g, "a container id is required");
	const char *id = argv[optind];
	if (optind + 1 < argc) {
		sig = parse_signal(argv[optind + 1]);
		if (sig < 0)
			return verb_usage_error(g, "unknown signal \"%s\"", argv[optind + 1]);
	}
	if (optind + 2 < argc)
		return verb_usage_error(g, "unexpected argument \"%s\"", argv[optind + 2]);
	r = state_open(g->root, id, &c, &err);
	if (r == 0)
		r = ctr_kill(g, &c, sig, all, &err);
	state_close(&c);
	return r < 0 ? kvrun_fail(g, &err) : 0;
}
