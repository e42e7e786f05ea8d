/* main.c - kvrun-agent: the guest agent's entry point and event loop.
 *
 * Owns: the command line, the start-up order as PID 1 (mounts, console
 * log, stdio, kernel modules, loopback, listeners), the --no-init mode that
 * runs the agent as an ordinary process for tests, signals (SIGCHLD reaps;
 * as PID 1 nothing else stops the agent), and the single-threaded epoll
 * loop that drives every connection, pipe and child. PID 1 never returns
 * from main: a fatal error powers the VM off (log.c). */
#include "agent.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MODULE_LIST "/lib/modules/load.list"
#define DEFAULT_RUN_DIR	    "/run/kvrun"

struct options {
	const char *listen_dir;
	const char *modules;
	const char *run_dir;
	bool no_init;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kvrun-agent [options]\n"
		"The kvrun guest agent: PID 1 of a kvrun VM, serving the KVAP protocol on\n"
		"vsock ports %u (control) and %u (stdio streams).\n\n"
		"  --listen-unix DIR  listen on Unix sockets DIR/%u and DIR/%u instead of vsock\n"
		"  --no-init          do not act as PID 1 (no mounts, no modules, no poweroff);\n"
		"                     implied when the agent is not PID 1\n"
		"  --modules FILE     kernel module list (default " DEFAULT_MODULE_LIST ")\n"
		"  --run-dir DIR      where virtio-fs tags and container roots are mounted\n"
		"                     (default " DEFAULT_RUN_DIR ")\n"
		"  -v, --verbose      log connections and process events\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n",
		KVAP_PORT_CONTROL, KVAP_PORT_STREAM, KVAP_PORT_CONTROL, KVAP_PORT_STREAM);
}

/* As PID 1 the kernel hands over the command line words it does not know:
 * those must not stop the VM, so unknown arguments are only logged. */
static int parse_args(int argc, char **argv, struct options *o, bool pid1)
{
	static const struct option longopts[] = {
		{ "listen-unix", required_argument, NULL, 'u' },
		{ "no-init", no_argument, NULL, 'n' },
		{ "modules", required_argument, NULL, 'm' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	opterr = !pid1;
	while ((c = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			o->listen_dir = optarg;
			break;
		case 'n':
			o->no_init = true;
			break;
		case 'm':
			o->modules = optarg;
			break;
		case 'r':
			o->run_dir = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			if (pid1)
				break; /* PID 1 must not exit */
			usage(stdout);
			exit(0);
		case 'V':
			if (pid1)
				break;
			printf("%s (KVAP %u.%u)\n", AGENT_SOFTWARE, KVAP_VERSION_MAJOR,
			       KVAP_VERSION_MINOR);
			exit(0);
		default:
			if (pid1)
				break;
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc && !pid1) {
		fprintf(stderr, "kvrun-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void on_signal(struct agent *a, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* reaped below, once for all */
		if (a->init_mode) {
			alog("ignoring signal %u", si.ssi_signo);
			continue;
		}
		adebug("signal %u: stopping", si.ssi_signo);
		proc_kill_all(a, SIGKILL);
		a->quit = true;
	}
	proc_reap(a);
}

static void setup_signals(struct agent *a)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		agent_fatal(a, "signalfd: %s", strerror(errno));
	a->sig = (struct watch){ .fd = fd, .fn = on_signal, .owner = a };
	if (watch_set(a, &a->sig, EPOLLIN) < 0)
		agent_fatal(a, "cannot watch signals");
}

static void setup_listeners(struct agent *a, const struct options *o)
{
	int ctl = -1, stream = -1, r;

	if (o->listen_dir) {
		if ((r = listen_unix(o->listen_dir, KVAP_PORT_CONTROL, &ctl)) < 0 ||
		    (r = listen_unix(o->listen_dir, KVAP_PORT_STREAM, &stream)) < 0)
			agent_fatal(a, "listening on %s/%u: %s", o->listen_dir,
				    ctl < 0 ? KVAP_PORT_CONTROL : KVAP_PORT_STREAM, strerror(-r));
	} else {
		if ((r = listen_vsock(KVAP_PORT_CONTROL, &ctl)) < 0 ||
		    (r = listen_vsock(KVAP_PORT_STREAM, &stream)) < 0)
			agent_fatal(a,
				    "listening on vsock port %u: %s (is the virtio-vsock "
				    "device there and its driver loaded?)",
				    ctl < 0 ? KVAP_PORT_CONTROL : KVAP_PORT_STREAM, strerror(-r));
	}
	listen_register(a, ctl, stream);
	alog("listening on %s%s ports %u and %u (%s)", o->listen_dir ? o->listen_dir : "vsock",
	     o->listen_dir ? "/" : "", KVAP_PORT_CONTROL, KVAP_PORT_STREAM, AGENT_SOFTWARE);
}

static void loop(struct agent *a)
{
	struct epoll_event ev[64];

	while (!a->quit) {
		int n = epoll_wait(a->epfd, ev, 64, power_timeout(a));
		if (n < 0 && errno != EINTR)
			agent_fatal(a, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;
			w->fn(a, w, ev[i].events);
		}
		agent_run_deferred(a);
		power_tick(a);
		agent_run_deferred(a);
	}
}

/* --no-init: the container's processes are gone (reaped) before its
 * cgroup and directories are removed. At most 2 s. */
static void stop_processes(struct agent *a)
{
	proc_kill_all(a, SIGKILL);
	for (int i = 0; i < 200 && proc_live_count(a); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		proc_reap(a);
	}
}

/* --no-init only: free everything so leak checkers see a clean exit. */
static void teardown(struct agent *a)
{
	stop_processes(a);
	while (a->conns)
		conn_close(a, a->conns);
	while (a->sconns) {
		struct sconn *sc = a->sconns;
		a->sconns = sc->next;
		watch_close(a, &sc->w);
		free(sc->payload);
		free(sc);
	}
	proc_free_all(a);
	req_container_failed(a);
	cgroup_base_remove(a);
	if (a->own_pidns_fd >= 0)
		close(a->own_pidns_fd);
	agent_run_deferred(a);
	watch_close(a, &a->lctl);
	watch_close(a, &a->lstream);
	watch_close(a, &a->sig);
	close(a->epfd);
	free(a->defer_fn);
	free(a->defer_ptr);
}

int main(int argc, char **argv)
{
	static struct agent agent;
	struct agent *a = &agent;
	struct options o = { .modules = DEFAULT_MODULE_LIST, .run_dir = DEFAULT_RUN_DIR };
	bool pid1 = getpid() == 1;

	if (parse_args(argc, argv, &o, pid1) < 0)
		return 2;
	const char *v = getenv("KVRUN_AGENT_VERBOSE");
	log_set_verbose(o.verbose || (v && *v && strcmp(v, "0") != 0));
	a->init_mode = pid1 && !o.no_init;
	a->run_dir = o.run_dir;
	a->own_pidns_fd = -1;
	if (a->init_mode) {
		log_open(true); /* the initramfs's /dev/console node, if it has one */
		init_root_mount();
		init_mounts();
		log_open(true); /* devtmpfs's, if that failed */
		init_stdio();
		modules_load(o.modules);
		init_loopback();
	} else {
		if (!o.no_init)
			alog("not PID 1: running as with --no-init");
		/* Orphans of our processes come back to us to be reaped. */
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
		a->own_ns = geteuid() == 0 && init_private_ns() == 0;
	}
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		agent_fatal(a, "epoll_create1: %s", strerror(errno));
	setup_signals(a);
	setup_listeners(a, &o);
	loop(a);
	teardown(a);
	alog("stopped");
	return 0;
}
