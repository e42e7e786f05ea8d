/* state-json.c - the container state document, in and out.
 *
 * Owns: writing struct oci_state as runc's `state` output (runtime-spec
 * state plus rootfs, created, owner; members in runc's order), as the
 * hooks' stdin (runtime-spec state only), as `list --format json`, and as
 * kvrun's own state.json with a "kvrun" object of private members; reading
 * state.json back with the same validation as config.json. */
#include "config-priv.h"
#include "jwrite.h"
#include "oci-state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_object *annotations(struct jw *w, const struct oci_state *s)
{
	json_object *a = jw_obj(w);

	for (size_t i = 0; i < s->n_annotations; i++)
		jw_add(w, a, s->annotations[i].key, jw_str(w, s->annotations[i].value));
	return a;
}

static json_object *build(struct jw *w, const struct oci_state *s, bool internal, bool hook)
{
	json_object *o = jw_obj(w);

	jw_add(w, o, "ociVersion", jw_str(w, s->oci_version ? s->oci_version : OCI_VERSION));
	jw_add(w, o, "id", jw_str(w, s->id));
	jw_add(w, o, "pid", jw_i64(w, s->pid));
	jw_add(w, o, "status", jw_str(w, s->status));
	jw_add(w, o, "bundle", jw_str(w, s->bundle));
	if (!hook) {
		jw_add(w, o, "rootfs", jw_str(w, s->rootfs));
		jw_add(w, o, "created", jw_str(w, s->created));
	}
	if (s->n_annotations || internal)
		jw_add(w, o, "annotations", annotations(w, s));
	if (!hook)
		jw_add(w, o, "owner", jw_str(w, s->owner));
	if (internal) {
		json_object *k = jw_obj(w);
		jw_add(w, k, "pidStart", jw_u64(w, s->pid_start));
		jw_add(w, k, "cgroupDirs",
		       jw_strv(w, (const char *const *)s->cgroup_dirs, s->n_cgroup_dirs));
		jw_add(w, k, "cgroupLeaves",
		       jw_strv(w, (const char *const *)s->cgroup_leaves, s->n_cgroup_leaves));
		jw_add(w, k, "vmCpus", jw_u64(w, s->vm_cpus));
		jw_add(w, k, "vmMemory", jw_u64(w, s->vm_memory));
		if (s->log_path)
			jw_add(w, k, "logPath", jw_str(w, s->log_path));
		if (s->log_format)
			jw_add(w, k, "logFormat", jw_str(w, s->log_format));
		jw_add(w, k, "started", jw_bool(w, s->started));
		jw_add(w, o, "kvrun", k);
	}
	return o;
}

int oci_state_write(const struct oci_state *s, bool internal, bool pretty, char **out,
		    struct kv_err *err)
{
	struct jw w = { 0 };

	return jw_finish(&w, build(&w, s, internal, false), pretty, out, err);
}

int oci_state_write_hook(const struct oci_state *s, char **out, struct kv_err *err)
{
	struct jw w = { 0 };

	return jw_finish(&w, build(&w, s, false, true), false, out, err);
}

int oci_state_write_list(const struct oci_state *const *s, size_t n, char **out, struct kv_err *err)
{
	struct jw w = { 0 };
	json_object *a = jw_arr(&w);

	for (size_t i = 0; i < n; i++)
		jw_push(&w, a, build(&w, s[i], false, false));
	return jw_finish(&w, a, false, out, err);
}

static bool valid_status(const char *s)
{
	static const char *const ok[] = { "creating", "created", "running", "paused", "stopped" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return true;
	return false;
}

static int parse(struct jp *p, json_object *doc, struct oci_state *s)
{
	json_object *k;
	int64_t pid;
	uint64_t v;
	int r;

	if (!json_object_is_type(doc, json_type_object))
		return kv_errf(p->err, -EINVAL, "the state must be a JSON object");
	if ((r = jp_string(p, doc, "ociVersion", true, &s->oci_version)) < 0 ||
	    (r = jp_string(p, doc, "id", true, &s->id)) < 0 ||
	    (r = jp_i64(p, doc, "pid", true, &pid, NULL)) < 0 ||
	    (r = jp_string(p, doc, "status", true, &s->status)) < 0 ||
	    (r = jp_string(p, doc, "bundle", true, &s->bundle)) < 0 ||
	    (r = jp_string(p, doc, "rootfs", false, &s->rootfs)) < 0 ||
	    (r = jp_string(p, doc, "created", false, &s->created)) < 0 ||
	    (r = jp_string(p, doc, "owner", false, &s->owner)) < 0 ||
	    (r = oci_parse_kv_map(p, doc, "annotations", &s->annotations, &s->n_annotations)) < 0)
		return r;
	if (pid < 0 || pid > 0x400000)
		return jp_fail_at(p, "pid", "must be a process id");
	s->pid = (int)pid;
	if (!valid_status(s->status))
		return jp_fail_at(p, "status", "unknown status \"%s\"", s->status);
	if ((r = jp_object(p, doc, "kvrun", true, &k)) < 0)
		return r;
	size_t saved = jp_push(p, "kvrun");
	if ((r = jp_u64(p, k, "pidStart", false, &s->pid_start, NULL)) == 0 &&
	    (r = jp_strv(p, k, "cgroupDirs", false, false, &s->cgroup_dirs, &s->n_cgroup_dirs)) ==
		0 &&
	    (r = jp_strv(p, k, "cgroupLeaves", false, false, &s->cgroup_leaves,
			 &s->n_cgroup_leaves)) == 0 &&
	    (r = jp_u64(p, k, "vmCpus", false, &v, NULL)) == 0 &&
	    (s->vm_cpus = (unsigned)v, r = jp_u64(p, k, "vmMemory", false, &s->vm_memory, NULL)) ==
		0 &&
	    (r = jp_string(p, k, "logPath", false, &s->log_path)) == 0 &&
	    (r = jp_string(p, k, "logFormat", false, &s->log_format)) == 0)
		r = jp_bool(p, k, "started", &s->started, NULL);
	jp_pop(p, saved);
	for (size_t i = 0; r == 0 && i < s->n_cgroup_dirs + s->n_cgroup_leaves; i++) {
		const char *d = i < s->n_cgroup_dirs ? s->cgroup_dirs[i]
						     : s->cgroup_leaves[i - s->n_cgroup_dirs];
		if (strncmp(d, "/sys/fs/cgroup/", 15) != 0 || oci_path_has_dotdot(d))
			r = jp_fail(p, "kvrun: \"%s\" is not a directory under /sys/fs/cgroup", d);
	}
	return r;
}

int oci_state_parse(const char *json, size_t len, struct oci_state *out, struct kv_err *err)
{
	struct jp p = { .err = err };
	json_object *doc;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = oci_parse_json(&p, json, len, &doc)) < 0)
		return r;
	r = parse(&p, doc, out);
	json_object_put(doc);
	if (r < 0)
		oci_state_clear(out);
	return r;
}

void oci_state_clear(struct oci_state *s)
{
	free(s->oci_version);
	free(s->id);
	free(s->status);
	free(s->bundle);
	free(s->rootfs);
	free(s->created);
	free(s->owner);
	oci_kv_free(s->annotations, s->n_annotations);
	jp_strv_free(s->cgroup_dirs);
	jp_strv_free(s->cgroup_leaves);
	free(s->log_path);
	free(s->log_format);
	memset(s, 0, sizeof(*s));
}

int oci_pids_write(const uint32_t *pids, size_t n, char **out, struct kv_err *err)
{
	struct jw w = { 0 };
	json_object *a = jw_arr(&w);

	for (size_t i = 0; i < n; i++)
		jw_push(&w, a, jw_u64(&w, pids[i]));
	return jw_finish(&w, a, false, out, err);
}

int oci_log_json_line(const char *level, const char *msg, const char *time, char **out)
{
	struct jw w = { 0 };
	json_object *o = jw_obj(&w);

	jw_add(&w, o, "level", jw_str(&w, level));
	jw_add(&w, o, "msg", jw_str(&w, msg));
	jw_add(&w, o, "time", jw_str(&w, time));
	return jw_finish(&w, o, false, out, NULL);
}
