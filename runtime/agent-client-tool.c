/* agent-client-tool.c - kvrun-agent-run: run one command through an agent.
 *
 * Owns: a small command line over agent_run_command(), for trying a VM's
 * agent by hand (the VMM's hybrid vsock socket, or an agent run with
 * --listen-unix) before and besides `kvrun vm --exec`, and as the example
 * of that one call. Exits with the command's status; 125 when the agent
 * could not run it (the message, printable text on one line, says why:
 * the agent's own words are escaped). --mount-fs has the agent mount
 * virtio-fs tags (MOUNT_FS) before the command runs. With --tty and a terminal on
 * stdin, that terminal is put in raw mode for the duration. */
#include "agent-client.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define MAX_ENV	   256
#define MAX_MOUNTS 16

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: kvrun-agent-run (--hybrid SOCKET | --unix DIR) [options] -- CMD [ARG...]\n"
	    "  --hybrid SOCKET   the VMM's hybrid vsock socket (CONNECT/OK)\n"
	    "  --unix DIR        an agent started with --listen-unix DIR\n"
	    "  -t, --tty         run CMD on a terminal\n"
	    "  --poweroff        run CMD as the container's init; the VM powers off after\n"
	    "  --rootfs-fs TAG   with --poweroff: the virtio-fs tag TAG is the container's root\n"
	    "  -w, --cwd DIR     working directory (default /)\n"
	    "  -u, --user UID[:GID]\n"
	    "  -e, --env NAME=VALUE   (repeatable; replaces the default PATH)\n"
	    "  --mount-fs TAG:DIR  mount virtio-fs TAG on the guest path DIR first (MOUNT_FS;\n"
	    "                    repeatable)\n"
	    "  --timeout MS      how long to wait for the agent to listen (default %d)\n",
	    AGENT_DIAL_TIMEOUT_MS);
}

static int parse_user(const char *s, uint32_t *uid, uint32_t *gid)
{
	char buf[32];
	uint64_t v;

	snprintf(buf, sizeof(buf), "%s", s);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	if (parse_u64(buf, UINT32_MAX, &v) < 0)
		return -1;
	*uid = *gid = (uint32_t)v;
	if (colon) {
		if (parse_u64(colon, UINT32_MAX, &v) < 0)
			return -1;
		*gid = (uint32_t)v;
	}
	return 0;
}

/* MOUNT_FS for each "TAG:DIR" (modified in place), on one connection. */
static int mount_all(const struct agent_dialer *d, char **mounts, unsigned n)
{
	struct agent_client *c;
	struct kv_err err = { 0 };
	char msg[4 * sizeof(err.msg)]; /* the agent's words, escaped */
	int r;

	if ((r = agent_client_connect(d, &c, &err)) < 0) {
		fprintf(stderr, "kvrun-agent-run: %s\n",
			kv_escape(msg, sizeof(msg), err.msg, sizeof(msg)));
		return r;
	}
	for (unsigned i = 0; i < n && r == 0; i++) {
		char *dir = strchr(mounts[i], ':');
		*dir++ = '\0';
		r = agent_client_mount_fs(c, mounts[i], dir, NULL, 0, &err);
		if (r < 0)
			fprintf(stderr, "kvrun-agent-run: mounting %s on %s: %s\n", mounts[i], dir,
				kv_escape(msg, sizeof(msg), err.msg, sizeof(msg)));
	}
	agent_client_free(c);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hybrid", required_argument, NULL, 'H' },
		{ "unix", required_argument, NULL, 'U' },
		{ "tty", no_argument, NULL, 't' },
		{ "poweroff", no_argument, NULL, 'P' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "env", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "mount-fs", required_argument, NULL, 'M' },
		{ "rootfs-fs", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct agent_run_opts o = AGENT_RUN_OPTS_DEFAULT;
	struct agent_dialer d;
	struct kv_err err = { 0 };
	const char *hybrid = NULL, *dir = NULL;
	char *env[MAX_ENV + 1];
	size_t n_env = 0;
	char *mounts[MAX_MOUNTS];
	unsigned n_mounts = 0;
	uint64_t timeout = AGENT_DIAL_TIMEOUT_MS;
	int c;

	while ((c = getopt_long(argc, argv, "+tw:u:e:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'H':
			hybrid = optarg;
			break;
		case 'U':
			dir = optarg;
			break;
		case 't':
			o.terminal = true;
			break;
		case 'P':
			o.poweroff = true;
			break;
		case 'w':
			o.cwd = optarg;
			break;
		case 'u':
			if (parse_user(optarg, &o.uid, &o.gid) < 0) {
				fprintf(stderr, "kvrun-agent-run: bad --user '%s'\n", optarg);
				return 125;
			}
			break;
		case 'e':
			if (n_env == MAX_ENV || !strchr(optarg, '=')) {
				fprintf(stderr, "kvrun-agent-run: bad --env '%s'\n", optarg);
				return 125;
			}
			env[n_env++] = optarg;
			break;
		case 'T':
			if (parse_u64(optarg, INT32_MAX, &timeout) < 0) {
				fprintf(stderr, "kvrun-agent-run: bad --timeout '%s'\n", optarg);
				return 125;
			}
			break;
		case 'R':
			o.rootfs_tag = optarg;
			break;
		case 'M':
			if (n_mounts == MAX_MOUNTS || !strchr(optarg, ':') || *optarg == ':') {
				fprintf(stderr, "kvrun-agent-run: bad --mount-fs '%s' (TAG:DIR)\n",
					optarg);
				return 125;
			}
			mounts[n_mounts++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 125;
		}
	}
	if (!!hybrid == !!dir || optind >= argc || (o.rootfs_tag && !o.poweroff)) {
		usage(stderr);
		return 125;
	}
	int r = hybrid ? agent_dialer_hybrid(&d, hybrid, &err) : agent_dialer_unix(&d, dir, &err);
	if (r < 0) {
		fprintf(stderr, "kvrun-agent-run: %s\n", err.msg);
		return 125;
	}
	d.timeout_ms = (int)timeout;
	if (n_env) {
		env[n_env] = NULL;
		o.env = env;
	}

	if (n_mounts && mount_all(&d, mounts, n_mounts) < 0)
		return 125;

	struct termios saved;
	bool raw = o.terminal && isatty(0) && tcgetattr(0, &saved) == 0;
	if (o.terminal && isatty(0)) {
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
			o.rows = ws.ws_row;
			o.cols = ws.ws_col;
		}
	}
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
	}
	int status = agent_run_command(&d, argv + optind, &o, &err);
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (status < 0) {
		/* One line of printable text, whatever the agent put into it. */
		char msg[4 * sizeof(err.msg)];
		fprintf(stderr, "kvrun-agent-run: %s\n",
			kv_escape(msg, sizeof(msg), err.msg, sizeof(msg)));
		return 125;
	}
	if (status > 255) { /* cannot happen: agent_run_command() returns 0..255 */
		fprintf(stderr, "kvrun-agent-run: exit status %d out of range\n", status);
		return 125;
	}
	return status;
}
