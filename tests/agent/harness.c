/* harness.c - see harness.h. */
#include "harness.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int agent_h_start(struct agent_h *h, const char *agent_path)
{
	return agent_h_start_with(h, agent_path, NULL, NULL);
}

int agent_h_start_with(struct agent_h *h, const char *agent_path,
		       int (*before)(struct agent_h *h, void *arg), void *arg)
{
	char p1[128], p2[128], run[96];
	int r;

	memset(h, 0, sizeof(*h));
	strcpy(h->dir, "/tmp/kvrun-agent-test.XXXXXX");
	if (!mkdtemp(h->dir))
		return -errno;
	snprintf(h->log, sizeof(h->log), "%s/agent.log", h->dir);
	snprintf(run, sizeof(run), "%s/run", h->dir);
	if (before && (r = before(h, arg)) < 0)
		return r;
	h->pid = fork();
	if (h->pid < 0)
		return -errno;
	if (h->pid == 0) {
		int fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl(agent_path, agent_path, "--listen-unix", h->dir, "--no-init", "--verbose",
		      "--run-dir", run, (char *)NULL);
		_exit(127);
	}
	snprintf(p1, sizeof(p1), "%s/1024", h->dir);
	snprintf(p2, sizeof(p2), "%s/1025", h->dir);
	for (int i = 0; i < 500; i++) {
		if (access(p1, F_OK) == 0 && access(p2, F_OK) == 0)
			break;
		if (!agent_h_alive(h))
			return -ECHILD;
		sleep_ms(10);
	}
	if (agent_dialer_unix(&h->d, h->dir, NULL) < 0)
		return -EINVAL;
	h->d.timeout_ms = 2000;
	h->d.io_timeout_ms = 20000;
	return access(p2, F_OK) == 0 ? 0 : -ETIMEDOUT;
}

bool agent_h_alive(struct agent_h *h)
{
	int st;

	if (h->pid <= 0)
		return false;
	if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
		h->status = st;
		h->pid = -1;
		return false;
	}
	return true;
}

int agent_h_stop(struct agent_h *h)
{
	int st = h->status;
	char cmd[160];

	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		for (int i = 0; i < 1000; i++) {
			if (waitpid(h->pid, &st, WNOHANG) == h->pid)
				break;
			if (i == 999) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, &st, 0);
			}
			sleep_ms(10);
		}
		h->pid = -1;
	}
	if (st != 0)
		agent_h_dump_log(h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd) != 0)
		diag("could not remove %s", h->dir);
	return st;
}

void agent_h_dump_log(const struct agent_h *h)
{
	FILE *f = fopen(h->log, "re");
	char line[512];
	int n = 0;

	if (!f)
		return;
	diag("--- agent log (last lines) ---");
	while (fgets(line, sizeof(line), f))
		n++;
	rewind(f);
	for (int i = 0; fgets(line, sizeof(line), f); i++)
		if (i >= n - 40) {
			line[strcspn(line, "\n")] = '\0';
			diag("%s", line);
		}
	fclose(f);
}

int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("kvrun-test", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (len && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

char *memfd_read(int fd, size_t *len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

void run_cmd(const struct agent_dialer *d, char *const argv[], const void *in, size_t in_len,
	     const struct agent_run_opts *base, struct run_result *res)
{
	struct agent_run_opts o = AGENT_RUN_OPTS_DEFAULT;
	int in_fd = -1, out_fd = memfd_with(NULL, 0), err_fd = memfd_with(NULL, 0);

	memset(res, 0, sizeof(*res));
	if (base)
		o = *base;
	if (in)
		in_fd = memfd_with(in, in_len);
	o.in_fd = in_fd;
	o.out_fd = out_fd;
	o.err_fd = o.terminal ? -1 : err_fd;
	res->status = agent_run_command(d, argv, &o, &res->e);
	res->out = memfd_read(out_fd, &res->out_len);
	res->err = memfd_read(err_fd, &res->err_len);
	if (in_fd >= 0)
		close(in_fd);
	close(out_fd);
	close(err_fd);
}

void run_result_free(struct run_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

int mkdir_all(const char *path)
{
	char buf[512];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

int rootfs_make(const char *dir)
{
	static const char *const sub[] = { "bin", "proc", "dev", "sys", "tmp", "etc" };
	char path[512];

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, sub[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/bin/busybox", dir);
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n = 0;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	int e = in < 0 || out < 0 || n < 0 ? -errno : 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (e < 0)
		return e;
	snprintf(path, sizeof(path), "%s/bin/sh", dir);
	if (symlink("busybox", path) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int ctr_run(struct agent_h *h, struct kvap_create *spec, char **out, struct kv_err *err)
{
	struct agent_client *c;
	struct agent_proc *p;
	struct kvap_exit st;
	uint32_t streams = spec->process.terminal ? KVAP_STREAM_BIT(KVAP_STREAM_TTY)
						  : KVAP_STREAM_BIT(KVAP_STREAM_STDOUT) |
							KVAP_STREAM_BIT(KVAP_STREAM_STDERR);
	int r = agent_client_connect(&h->d, &c, err);

	*out = NULL;
	if (r < 0)
		return r;
	r = agent_proc_create_start(c, spec, streams, &p, err);
	if (r == 0) {
		int o = memfd_with(NULL, 0);
		size_t n;
		r = agent_proc_forward(p, -1, o, o, &st, err);
		*out = memfd_read(o, &n);
		close(o);
		agent_proc_free(p);
		if (r == 0)
			r = agent_exit_status(&st);
	}
	agent_client_free(c);
	return r;
}

unsigned long long fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned long long h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

const char *show(const char *s)
{
	static char bufs[4][160];
	static int next;
	char *b = bufs[next++ % 4];
	size_t n = 0;

	if (!s)
		return "(null)";
	for (; *s && n < 60; s++) {
		if (*s == '\n' || *s == '\r') {
			b[n++] = '\\';
			b[n++] = *s == '\n' ? 'n' : 'r';
		} else {
			b[n++] = (*s >= 32 && *s < 127) ? *s : '?';
		}
	}
	b[n] = '\0';
	return b;
}
