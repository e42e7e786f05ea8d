/* config.c - config.json: the document, process, root, mounts, hooks,
 * annotations.
 *
 * Owns: reading config.json (size-bounded), parsing it with json-c into
 * struct oci_config, validating every value it reads (each error names its
 * JSON path), and freeing the result. The linux object is config-linux.c's.
 * Unknown members are ignored. */
#include "config-priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* ---- small shared pieces ---- */

int oci_parse_kv_map(struct jp *p, json_object *obj, const char *key, struct oci_kv **out,
		     size_t *n)
{
	json_object *m;
	int r;

	if ((r = jp_object(p, obj, key, false, &m)) < 0 || !m)
		return r;
	size_t len = (size_t)json_object_object_length(m), i = 0;
	struct oci_kv *kv = calloc(len ? len : 1, sizeof(*kv));
	if (!kv)
		return jp_nomem(p);
	size_t saved = jp_push(p, key);
	json_object_object_foreach(m, k, v)
	{
		size_t s2 = jp_push(p, k);
		kv[i].key = strdup(k);
		if (!kv[i].key) {
			r = jp_nomem(p);
		} else if (!v || !json_object_is_type(v, json_type_string)) {
			r = jp_fail(p, "must be a string");
		} else {
			r = jp_check_string(p, v, &kv[i].value);
		}
		i++;
		jp_pop(p, s2);
		if (r < 0)
			break;
	}
	jp_pop(p, saved);
	if (r < 0) {
		oci_kv_free(kv, i);
		return r;
	}
	*out = kv;
	*n = len;
	return 0;
}

void oci_kv_free(struct oci_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

bool oci_path_has_dotdot(const char *path)
{
	for (const char *s = path; (s = strstr(s, "..")); s += 2)
		if ((s == path || s[-1] == '/') && (s[2] == '/' || !s[2]))
			return true;
	return false;
}

/* An absolute path without ".." components. */
static int check_abs_path(struct jp *p, const char *key, const char *path)
{
	if (path[0] != '/')
		return jp_fail_at(p, key, "must be an absolute path");
	if (oci_path_has_dotdot(path))
		return jp_fail_at(p, key, "must not contain \"..\"");
	return 0;
}

/* ---- process ---- */

static int parse_caps(struct jp *p, json_object *caps, struct oci_process *proc)
{
	static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted",
					    "ambient" };
	uint64_t *masks[] = { &proc->caps.bounding, &proc->caps.effective, &proc->caps.inheritable,
			      &proc->caps.permitted, &proc->caps.ambient };
	int r = 0;

	proc->has_caps = true;
	for (size_t s = 0; s < 5; s++) {
		char **names = NULL;
		size_t n = 0;
		if ((r = jp_strv(p, caps, sets[s], false, false, &names, &n)) < 0)
			return r;
		for (size_t i = 0; i < n && r == 0; i++) {
			int num = oci_cap_number(names[i]);
			if (num >= 0) {
				*masks[s] |= 1ull << num;
				continue;
			}
			/* runc ignores (and warns about) names it does not know. */
			char **u =
			    realloc(proc->unknown_caps, (proc->n_unknown_caps + 2) * sizeof(*u));
			if (!u) {
				r = jp_nomem(p);
				break;
			}
			proc->unknown_caps = u;
			u[proc->n_unknown_caps] = strdup(names[i]);
			if (!u[proc->n_unknown_caps]) {
				r = jp_nomem(p);
				break;
			}
			u[++proc->n_unknown_caps] = NULL;
		}
		jp_strv_free(names);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_rlimits(struct jp *p, json_object *arr, struct oci_process *proc)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	proc->rlimits = calloc(n ? n : 1, sizeof(*proc->rlimits));
	if (!proc->rlimits)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_rlimit *rl = &proc->rlimits[i];
		cleanup_free char *type = NULL;
		size_t saved = jp_push_index(p, i);

		if (!e || !json_object_is_type(e, json_type_object))
			r = jp_fail(p, "must be an object");
		else if ((r = jp_string(p, e, "type", true, &type)) == 0 &&
			 (r = jp_u64(p, e, "soft", true, &rl->soft, NULL)) == 0 &&
			 (r = jp_u64(p, e, "hard", true, &rl->hard, NULL)) == 0) {
			rl->type = oci_rlimit_number(type);
			if (rl->type < 0)
				r = jp_fail_at(p, "type", "unknown rlimit \"%s\"", type);
			else if (rl->soft > rl->hard)
				r = jp_fail(p, "soft limit %llu is above the hard limit %llu",
					    (unsigned long long)rl->soft,
					    (unsigned long long)rl->hard);
			for (size_t j = 0; r == 0 && j < i; j++)
				if (proc->rlimits[j].type == rl->type)
					r = jp_fail_at(p, "type", "%s is given twice", type);
		}
		proc->n_rlimits = i + 1;
		jp_pop(p, saved);
	}
	return r;
}

int oci_parse_process(struct jp *p, json_object *o, struct oci_process *proc)
{
	json_object *v;
	int64_t adj;
	bool set;
	int r;

	if ((r = jp_bool(p, o, "terminal", &proc->terminal, NULL)) < 0)
		return r;
	if ((r = jp_object(p, o, "consoleSize", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "consoleSize");
		if ((r = jp_u32(p, v, "height", true, &proc->console_height, NULL)) == 0)
			r = jp_u32(p, v, "width", true, &proc->console_width, NULL);
		jp_pop(p, saved);
		if (r < 0)
			return r;
		proc->has_console_size = true;
	}
	if ((r = jp_object(p, o, "user", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "user");
		if ((r = jp_u32(p, v, "uid", true, &proc->uid, NULL)) == 0 &&
		    (r = jp_u32(p, v, "gid", true, &proc->gid, NULL)) == 0 &&
		    (r = jp_u32(p, v, "umask", false, &proc->umask, &proc->has_umask)) == 0 &&
		    (r = jp_u32v(p, v, "additionalGids", &proc->additional_gids,
				 &proc->n_additional_gids)) == 0) {
			if (proc->has_umask && proc->umask > 0777)
				r = jp_fail_at(p, "umask", "must be at most 0777 (511)");
		}
		if (r == 0 && jp_member(v, "username"))
			r = jp_fail_at(p, "username", "is for Windows; use uid and gid");
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = jp_strv(p, o, "args", true, true, &proc->args, &proc->n_args)) < 0 ||
	    (r = jp_strv(p, o, "env", false, false, &proc->env, &proc->n_env)) < 0 ||
	    (r = jp_string(p, o, "cwd", true, &proc->cwd)) < 0)
		return r;
	if (proc->cwd[0] != '/')
		return jp_fail_at(p, "cwd", "must be an absolute path");
	if ((r = jp_object(p, o, "capabilities", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "capabilities");
		r = parse_caps(p, v, proc);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = jp_array(p, o, "rlimits", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "rlimits");
		r = parse_rlimits(p, v, proc);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = jp_bool(p, o, "noNewPrivileges", &proc->no_new_privileges, NULL)) < 0)
		return r;
	if ((r = jp_i64(p, o, "oomScoreAdj", false, &adj, &set)) < 0)
		return r;
	if (set) {
		if (adj < -1000 || adj > 1000)
			return jp_fail_at(p, "oomScoreAdj", "must be between -1000 and 1000");
		proc->has_oom_score_adj = true;
		proc->oom_score_adj = (int)adj;
	}
	if ((r = jp_string(p, o, "apparmorProfile", false, &proc->apparmor_profile)) < 0 ||
	    (r = jp_string(p, o, "selinuxLabel", false, &proc->selinux_label)) < 0)
		return r;
	return 0;
}

void oci_process_clear(struct oci_process *proc)
{
	free(proc->additional_gids);
	jp_strv_free(proc->args);
	jp_strv_free(proc->env);
	free(proc->cwd);
	jp_strv_free(proc->unknown_caps);
	free(proc->rlimits);
	free(proc->apparmor_profile);
	free(proc->selinux_label);
	memset(proc, 0, sizeof(*proc));
}

/* ---- mounts and hooks ---- */

static int parse_mounts(struct jp *p, json_object *arr, struct oci_config *c)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	c->mounts = calloc(n ? n : 1, sizeof(*c->mounts));
	if (!c->mounts)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_mount *m = &c->mounts[i];
		size_t saved = jp_push_index(p, i);

		c->n_mounts = i + 1;
		if (!e || !json_object_is_type(e, json_type_object))
			r = jp_fail(p, "must be an object");
		else if ((r = jp_string(p, e, "destination", true, &m->destination)) == 0 &&
			 (r = check_abs_path(p, "destination", m->destination)) == 0 &&
			 (r = jp_string(p, e, "source", false, &m->source)) == 0 &&
			 (r = jp_string(p, e, "type", false, &m->type)) == 0)
			r = jp_strv(p, e, "options", false, false, &m->options, &m->n_options);
		jp_pop(p, saved);
	}
	return r;
}

static int parse_hook_list(struct jp *p, json_object *arr, struct oci_hook **out, size_t *count)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_hook *h = &(*out)[i];
		bool set;
		int64_t t;
		size_t saved = jp_push_index(p, i);

		*count = i + 1;
		if (!e || !json_object_is_type(e, json_type_object))
			r = jp_fail(p, "must be an object");
		else if ((r = jp_string(p, e, "path", true, &h->path)) == 0 &&
			 (r = check_abs_path(p, "path", h->path)) == 0 &&
			 (r = jp_strv(p, e, "args", false, false, &h->args, &h->n_args)) == 0 &&
			 (r = jp_strv(p, e, "env", false, false, &h->env, &h->n_env)) == 0 &&
			 (r = jp_i64(p, e, "timeout", false, &t, &set)) == 0 && set) {
			if (t <= 0 || t > 86400)
				r = jp_fail_at(p, "timeout", "must be between 1 and 86400 seconds");
			else
				h->timeout = (uint32_t)t;
		}
		jp_pop(p, saved);
	}
	return r;
}

static int parse_hooks(struct jp *p, json_object *hooks, struct oci_config *c)
{
	for (int k = 0; k < OCI_HOOK__COUNT; k++) {
		json_object *arr;
		int r = jp_array(p, hooks, oci_hook_name(k), false, &arr);
		if (r < 0)
			return r;
		if (!arr)
			continue;
		size_t saved = jp_push(p, oci_hook_name(k));
		r = parse_hook_list(p, arr, &c->hooks[k], &c->n_hooks[k]);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the document ---- */

int oci_parse_json(struct jp *p, const char *json, size_t len, json_object **out)
{
	struct json_tokener *tok;

	*out = NULL;
	if (len > OCI_CONFIG_MAX_BYTES)
		return kv_errf(p->err, -EFBIG, "the document is larger than %u bytes",
			       OCI_CONFIG_MAX_BYTES);
	if (len > INT32_MAX)
		return kv_errf(p->err, -EFBIG, "the document is too large");
	tok = json_tokener_new_ex(64);
	if (!tok)
		return jp_nomem(p);
	json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		if (je == json_tokener_continue)
			return kv_errf(p->err, -EINVAL, "not valid JSON: the document ends early");
		return kv_errf(p->err, -EINVAL, "not valid JSON: %s at byte %zu",
			       json_tokener_error_desc(je), end);
	}
	for (size_t i = end; i < len; i++)
		if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
			json_object_put(o);
			return kv_errf(
			    p->err, -EINVAL,
			    "not valid JSON: unexpected data after the value at byte %zu", i);
		}
	*out = o;
	return 0;
}

static int parse_config(struct jp *p, json_object *doc, bool need_process, struct oci_config *c)
{
	json_object *v;
	int r;

	if (!json_object_is_type(doc, json_type_object))
		return kv_errf(p->err, -EINVAL, "the document must be a JSON object");
	if ((r = jp_string(p, doc, "ociVersion", true, &c->oci_version)) < 0)
		return r;
	if (strncmp(c->oci_version, "1.", 2) != 0)
		return jp_fail_at(p, "ociVersion",
				  "\"%s\" is not a 1.x version of the runtime-spec (kvrun supports "
				  "%s to %s)",
				  c->oci_version, OCI_VERSION_MIN, OCI_VERSION);
	if ((r = jp_object(p, doc, "root", true, &v)) < 0)
		return r;
	size_t saved = jp_push(p, "root");
	if ((r = jp_string(p, v, "path", true, &c->root_path)) == 0 && !c->root_path[0])
		r = jp_fail_at(p, "path", "must not be empty");
	if (r == 0)
		r = jp_bool(p, v, "readonly", &c->root_readonly, NULL);
	jp_pop(p, saved);
	if (r < 0)
		return r;

	if ((r = jp_object(p, doc, "process", need_process, &v)) < 0)
		return r;
	if (v) {
		saved = jp_push(p, "process");
		r = oci_parse_process(p, v, &c->process);
		jp_pop(p, saved);
		if (r < 0)
			return r;
		c->has_process = true;
	}
	if ((r = jp_string(p, doc, "hostname", false, &c->hostname)) < 0 ||
	    (r = jp_string(p, doc, "domainname", false, &c->domainname)) < 0)
		return r;
	if (c->hostname && strlen(c->hostname) > 64)
		return jp_fail_at(p, "hostname", "is longer than 64 bytes");
	if (c->domainname && strlen(c->domainname) > 64)
		return jp_fail_at(p, "domainname", "is longer than 64 bytes");
	if ((r = jp_array(p, doc, "mounts", false, &v)) < 0)
		return r;
	if (v) {
		saved = jp_push(p, "mounts");
		r = parse_mounts(p, v, c);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = jp_object(p, doc, "hooks", false, &v)) < 0)
		return r;
	if (v) {
		saved = jp_push(p, "hooks");
		r = parse_hooks(p, v, c);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = oci_parse_kv_map(p, doc, "annotations", &c->annotations, &c->n_annotations)) < 0)
		return r;
	if ((r = jp_object(p, doc, "linux", false, &v)) < 0)
		return r;
	if (v) {
		saved = jp_push(p, "linux");
		r = oci_parse_linux(p, v, &c->linux_);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	return 0;
}

int oci_config_parse(const char *json, size_t len, bool need_process, struct oci_config **out,
		     struct kv_err *err)
{
	struct jp p = { .err = err };
	json_object *doc;
	int r;

	*out = NULL;
	if ((r = oci_parse_json(&p, json, len, &doc)) < 0)
		return r;
	struct oci_config *c = calloc(1, sizeof(*c));
	if (!c) {
		json_object_put(doc);
		return jp_nomem(&p);
	}
	r = parse_config(&p, doc, need_process, c);
	json_object_put(doc);
	if (r < 0) {
		oci_config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

int oci_read_file(const char *path, size_t max, char **buf, size_t *len, struct kv_err *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	*buf = NULL;
	if (fd < 0)
		return kv_errno(err, -errno, "%s", path);
	if (fstat(fd, &st) < 0)
		return kv_errno(err, -errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return kv_errf(err, -EINVAL, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return kv_errf(err, -EFBIG, "%s: larger than %zu bytes", path, max);
	char *b = malloc((size_t)st.st_size + 1);
	if (!b)
		return kv_errf(err, -ENOMEM, "out of memory");
	size_t got = 0;
	while (got < (size_t)st.st_size + 1) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(b);
			return kv_errno(err, e, "%s", path);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		free(b);
		return kv_errf(err, -EFBIG, "%s: grew while being read", path);
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

int oci_config_load(const char *path, bool need_process, struct oci_config **out,
		    struct kv_err *err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r;

	*out = NULL;
	if ((r = oci_read_file(path, OCI_CONFIG_MAX_BYTES, &buf, &len, err)) < 0)
		return r;
	if ((r = oci_config_parse(buf, len, need_process, out, err)) < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		kv_errf(err, r, "%s: %s", path, msg);
	}
	return r;
}

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	free(c->oci_version);
	oci_process_clear(&c->process);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].source);
		free(c->mounts[i].type);
		jp_strv_free(c->mounts[i].options);
	}
	free(c->mounts);
	for (int k = 0; k < OCI_HOOK__COUNT; k++) {
		for (size_t i = 0; i < c->n_hooks[k]; i++) {
			free(c->hooks[k][i].path);
			jp_strv_free(c->hooks[k][i].args);
			jp_strv_free(c->hooks[k][i].env);
		}
		free(c->hooks[k]);
	}
	oci_kv_free(c->annotations, c->n_annotations);
	oci_linux_clear(&c->linux_);
	free(c);
}

const char *oci_annotation(const struct oci_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_annotations; i++)
		if (strcmp(c->annotations[i].key, key) == 0)
			return c->annotations[i].value;
	return NULL;
}

const struct oci_namespace *oci_namespace(const struct oci_config *c, enum oci_ns_type t)
{
	for (size_t i = 0; i < c->linux_.n_namespaces; i++)
		if (c->linux_.namespaces[i].type == t)
			return &c->linux_.namespaces[i];
	return NULL;
}

int oci_process_parse(const char *json, size_t len, struct oci_process *out, struct kv_err *err)
{
	struct jp p = { .err = err };
	json_object *doc;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = oci_parse_json(&p, json, len, &doc)) < 0)
		return r;
	if (!json_object_is_type(doc, json_type_object))
		r = kv_errf(err, -EINVAL, "the process must be a JSON object");
	else
		r = oci_parse_process(&p, doc, out);
	json_object_put(doc);
	if (r < 0)
		oci_process_clear(out);
	return r;
}
