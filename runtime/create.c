/* create.c - `kvrun create`'s work: from a bundle to a created container.
 *
 * Owns: the create sequence and its unwinding. Everything that can be
 * checked without side effects is checked first (id, bundle, config.json,
 * flags, the VM plan); then, in order: the state directory (refusing a
 * duplicate id), a copy of config.json, the host cgroup, the VMM process
 * (forked; monitor.c) moved into the cgroup, the guest agent's answer, the
 * prestart, createRuntime and createContainer hooks, the container in the
 * guest, the state "created" and the pid file. Any failure kills the VMM
 * process and removes the cgroup and the state directory. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-spec.h"
#include "cgroup.h"
#include "cleanup.h"
#include "hooks.h"
#include "monitor.h"
#include "oci-state.h"
#include "sandbox.h"
#include "settings.h"
#include "sync.h"

static int set_str(char **dst, const char *s, struct kv_err *err)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : kv_errf(err, -ENOMEM, "out of memory");
}

static int copy_kv(struct oci_state *st, const struct oci_config *cfg, struct kv_err *err)
{
	if (!cfg->n_annotations)
		return 0;
	st->annotations = calloc(cfg->n_annotations, sizeof(*st->annotations));
	if (!st->annotations)
		return kv_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->n_annotations; i++) {
		st->annotations[i].key = strdup(cfg->annotations[i].key);
		st->annotations[i].value = strdup(cfg->annotations[i].value);
		st->n_annotations = i + 1;
		if (!st->annotations[i].key || !st->annotations[i].value)
			return kv_errf(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Move the cgroup's directory lists into the state (for update and delete). */
static int state_take_cgroup(struct oci_state *st, struct cgroup *cg)
{
	st->cgroup_dirs = cg->created;
	st->n_cgroup_dirs = cg->n_created;
	st->cgroup_leaves = cg->leaves;
	st->n_cgroup_leaves = cg->n_leaves;
	cg->created = cg->leaves = NULL;
	cg->n_created = cg->n_leaves = 0;
	if (!st->cgroup_dirs)
		st->cgroup_dirs = calloc(1, sizeof(char *));
	if (!st->cgroup_leaves)
		st->cgroup_leaves = calloc(1, sizeof(char *));
	return st->cgroup_dirs && st->cgroup_leaves ? 0 : -ENOMEM;
}

static int run_hooks(struct ctr *c, const struct oci_config *cfg, enum oci_hook_kind kind,
		     struct kv_err *err)
{
	cleanup_free char *json = NULL;
	int r;

	if (!cfg->n_hooks[kind])
		return 0;
	if ((r = ctr_hook_state(c, "creating", &json, err)) < 0)
		return r;
	return hooks_run(cfg, kind, json, err);
}

/* Wait for the VMM's answer; its death (EOF) is reported with its status. */
static int expect(int fd, pid_t vmm, const char *want, char *msg, size_t size, int timeout_ms,
		  struct kv_err *err)
{
	int r = sync_recv(fd, msg, size, timeout_ms);

	if (r == -ETIMEDOUT)
		return kv_errf(err, r,
			       "the VMM process did not answer within %d s (waiting for "
			       "\"%s\")",
			       timeout_ms / 1000, want);
	if (r < 0) {
		int status = 0;
		if (waitpid(vmm, &status, WNOHANG) == vmm)
			return kv_errf(err, -EPIPE, "the VMM process exited (%s %d) during create",
				       WIFSIGNALED(status) ? "signal" : "status",
				       WIFSIGNALED(status) ? WTERMSIG(status)
							   : WEXITSTATUS(status));
		return kv_errf(err, -EPIPE, "the VMM process closed its channel during create");
	}
	if (strncmp(msg, "error ", 6) == 0)
		return kv_errf(err, -EIO, "%s", msg + 6);
	if (strncmp(msg, want, strlen(want)) != 0)
		return kv_errf(err, -EPROTO, "the VMM process said \"%.64s\", not \"%s\"", msg,
			       want);
	return 0;
}

static void warn_unknown_caps(struct kvrun *g, const struct oci_config *cfg)
{
	for (size_t i = 0; i < cfg->process.n_unknown_caps; i++)
		kvrun_warn(g, "process.capabilities: unknown capability %s ignored",
			   cfg->process.unknown_caps[i]);
}

int ctr_create(struct kvrun *g, const struct create_opts *o, pid_t *vmm_pid, struct kv_err *err)
{
	cleanup_free char *bundle = NULL, *config_text = NULL, *cfg_path = NULL;
	struct oci_config *cfg = NULL;
	struct settings s;
	struct sandbox *sb = NULL;
	struct cgroup cg = { 0 };
	struct ctr c = { .dir_fd = -1 };
	bool have_state = false;
	pid_t vmm = -1;
	int sync[2] = { -1, -1 };
	char msg[SYNC_MSG_MAX];
	int r;

	*vmm_pid = -1;
	/* ---- checks without side effects ---- */
	if ((r = state_validate_id(o->id, err)) < 0)
		return r;
	if (o->preserve_fds)
		return kv_errf(err, -EOPNOTSUPP,
			       "--preserve-fds: host file descriptors cannot be passed into the "
			       "container's VM");
	bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!bundle)
		return kv_errno(err, -errno, "--bundle %s", o->bundle ? o->bundle : ".");
	if (asprintf(&cfg_path, "%s/config.json", bundle) < 0) {
		cfg_path = NULL;
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	/* One read: the copy kept in the state directory is what was parsed. */
	size_t text_len;
	if ((r = oci_read_file(cfg_path, OCI_CONFIG_MAX_BYTES, &config_text, &text_len, err)) < 0)
		return r;
	if ((r = oci_config_parse(config_text, text_len, true, &cfg, err)) < 0) {
		char m[sizeof(err->msg)];
		snprintf(m, sizeof(m), "%s", err->msg);
		return kv_errf(err, r, "%s: %s", cfg_path, m);
	}
	if (cfg->process.terminal && !o->console_socket && !o->terminal_on_stdin) {
		r = kv_errf(err, -EINVAL, "process.terminal is true: --console-socket is required");
		goto out;
	}
	if (!cfg->process.terminal && o->console_socket) {
		r = kv_errf(err, -EINVAL,
			    "--console-socket needs process.terminal to be true in config.json");
		goto out;
	}
	sb = calloc(1, sizeof(*sb));
	if (!sb) {
		r = kv_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = settings_load(&s, err)) < 0 ||
	    (r = sandbox_plan(cfg, bundle, &s, g->debug, sb, err)) < 0)
		goto out;
	warn_unknown_caps(g, cfg);

	/* ---- the state directory ---- */
	if ((r = state_create(g->root, o->id, &c, err)) < 0)
		goto out;
	have_state = true;
	char created[64];
	kvrun_time_now(created, sizeof(created), true);
	struct oci_state *st = &c.st;
	if ((r = set_str(&st->oci_version, OCI_VERSION, err)) < 0 ||
	    (r = set_str(&st->id, o->id, err)) < 0 ||
	    (r = set_str(&st->status, "creating", err)) < 0 ||
	    (r = set_str(&st->bundle, bundle, err)) < 0 ||
	    (r = set_str(&st->rootfs, sb->rootfs, err)) < 0 ||
	    (r = set_str(&st->created, created, err)) < 0 ||
	    (r = set_str(&st->owner, "", err)) < 0 || (r = copy_kv(st, cfg, err)) < 0)
		goto fail;
	if (g->log_path &&
	    ((r = set_str(&st->log_path, g->log_path, err)) < 0 ||
	     (r = set_str(&st->log_format, g->log_format == KVRUN_LOG_JSON ? "json" : "text",
			  err)) < 0))
		goto fail;
	st->vm_cpus = sb->vm.cpus;
	st->vm_memory = sb->vm.mem_bytes;
	if ((r = state_write_file(&c, "config.json", config_text, text_len, err)) < 0)
		goto fail;

	/* ---- host cgroup, then the VMM process ---- */
	if ((r = cgroup_setup(cfg->linux_.cgroups_path, o->id, &sb->host, &cg, err)) < 0)
		goto fail;
	if (state_take_cgroup(st, &cg) < 0) {
		r = kv_errf(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = state_save(&c, err)) < 0)
		goto fail;
	if ((r = sync_pair(sync)) < 0) {
		kv_errno(err, r, "socketpair");
		goto fail;
	}
	fflush(NULL);
	pid_t parent = getpid();
	vmm = fork();
	if (vmm == 0) {
		close(sync[0]);
		struct monitor_args a = { .g = g,
					  .cfg = cfg,
					  .id = o->id,
					  .sb = sb,
					  .settings = &s,
					  .c = &c,
					  .console_socket = o->console_socket,
					  .terminal_on_stdin = o->terminal_on_stdin,
					  .no_pivot = o->no_pivot,
					  .sync_fd = sync[1],
					  .parent = parent };
		/* The flock is on the directory's open file: the child's copy of the fd
		 * must not keep it after create returns, so it gets its own. */
		int fd = openat(c.dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			_exit(MONITOR_EXIT_NO_STATUS);
		close(c.dir_fd);
		c.dir_fd = fd;
		monitor_main(&a);
	}
	if (vmm < 0) {
		r = kv_errno(err, -errno, "fork");
		goto fail;
	}
	close(sync[1]);
	sync[1] = -1;
	unsigned long long start = 0;
	if ((r = proc_start_time(vmm, &start)) < 0) {
		kv_errno(err, r, "the VMM process %d", (int)vmm);
		goto fail;
	}
	st->pid = vmm;
	st->pid_start = start;
	if ((r = state_save(&c, err)) < 0)
		goto fail;
	struct cgroup attach = { .leaves = st->cgroup_leaves, .n_leaves = st->n_cgroup_leaves };
	if ((r = cgroup_attach(&attach, vmm, err)) < 0)
		goto fail;
	if ((r = sync_send(sync[0], "go")) < 0) {
		kv_errno(err, r, "the VMM process");
		goto fail;
	}
	int boot_ms = (int)sb->boot_timeout_s * 1000 + 30000;
	if ((r = expect(sync[0], vmm, "booted", msg, sizeof(msg), boot_ms, err)) < 0)
		goto fail;
	kvrun_debug(g, "%s: the guest agent answered", o->id);

	/* ---- hooks on the host, the container in the guest ---- */
	if ((r = run_hooks(&c, cfg, OCI_HOOK_PRESTART, err)) < 0 ||
	    (r = run_hooks(&c, cfg, OCI_HOOK_CREATE_RUNTIME, err)) < 0 ||
	    (r = run_hooks(&c, cfg, OCI_HOOK_CREATE_CONTAINER, err)) < 0)
		goto fail;
	if ((r = sync_send(sync[0], "create")) < 0) {
		kv_errno(err, r, "the VMM process");
		goto fail;
	}
	if ((r = expect(sync[0], vmm, "created ", msg, sizeof(msg), 60000, err)) < 0)
		goto fail;
	if ((r = set_str(&st->status, "created", err)) < 0 || (r = state_save(&c, err)) < 0)
		goto fail;
	if (o->pid_file && (r = write_pid_file(o->pid_file, vmm, err)) < 0)
		goto fail;
	if ((r = sync_send(sync[0], "commit")) < 0) {
		kv_errno(err, r, "the VMM process");
		goto fail;
	}
	if ((r = expect(sync[0], vmm, "ack", msg, sizeof(msg), 10000, err)) < 0)
		goto fail;
	kvrun_debug(g, "created %s: VMM pid %d, %u vCPUs, %llu MiB", o->id, (int)vmm, sb->vm.cpus,
		    (unsigned long long)(sb->vm.mem_bytes >> 20));
	*vmm_pid = vmm;
	r = 0;
	goto out;

fail:
	if (vmm > 0) {
		kill(vmm, SIGKILL);
		while (waitpid(vmm, NULL, 0) < 0 && errno == EINTR)
			;
		c.st.pid = 0;
	}
	if (have_state) {
		struct kv_err e2 = { 0 };
		if (c.st.n_cgroup_dirs &&
		    cgroup_remove(c.st.cgroup_dirs, c.st.n_cgroup_dirs, &e2) < 0)
			kvrun_warn(g, "%s", e2.msg);
		if (state_remove(&c, &e2) < 0)
			kvrun_warn(g, "%s", e2.msg);
	}
out:
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	cgroup_free(&cg);
	if (have_state)
		state_close(&c);
	free(sb);
	oci_config_free(cfg);
	return r;
}
