/* seccomp.c - linux.seccomp.
 *
 * Owns: parsing and validating the seccomp profile (default action,
 * architectures, flags, and each syscall rule with its argument
 * comparisons) into struct oci_seccomp. Syscall names are only checked to
 * be strings here: the guest's libseccomp resolves them for its kernel. */
#include "config-priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_action(struct jp *p, json_object *o, const char *key, bool required,
			enum oci_seccomp_action *out, bool *set)
{
	char *s = NULL;
	int r;

	if (set)
		*set = false;
	if ((r = jp_string(p, o, key, required, &s)) < 0 || !s)
		return r;
	for (int a = 0; a < OCI_SCMP_ACT__COUNT; a++)
		if (strcmp(s, oci_seccomp_action_name(a)) == 0) {
			*out = (enum oci_seccomp_action)a;
			if (set)
				*set = true;
			free(s);
			return 0;
		}
	r = jp_fail_at(p, key, "unknown seccomp action \"%s\"", s);
	free(s);
	return r;
}

static int parse_args(struct jp *p, json_object *arr, struct oci_seccomp_rule *rule)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	rule->args = calloc(n ? n : 1, sizeof(*rule->args));
	if (!rule->args)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct oci_seccomp_arg *a = &rule->args[i];
		char *op = NULL;
		size_t saved = jp_push_index(p, i);

		rule->n_args = i + 1;
		if (!o || !json_object_is_type(o, json_type_object)) {
			r = jp_fail(p, "must be an object");
		} else if ((r = jp_u32(p, o, "index", true, &a->index, NULL)) == 0 &&
			   (r = jp_u64(p, o, "value", true, &a->value, NULL)) == 0 &&
			   (r = jp_u64(p, o, "valueTwo", false, &a->value_two, NULL)) == 0 &&
			   (r = jp_string(p, o, "op", true, &op)) == 0) {
			if (a->index > 5)
				r = jp_fail_at(p, "index", "must be between 0 and 5");
			int found = -1;
			for (int k = 0; r == 0 && k < OCI_SCMP_CMP__COUNT; k++)
				if (strcmp(op, oci_seccomp_op_name(k)) == 0)
					found = k;
			if (r == 0 && found < 0)
				r = jp_fail_at(p, "op", "unknown operator \"%s\"", op);
			a->op = (enum oci_seccomp_op)(found < 0 ? 0 : found);
		}
		free(op);
		jp_pop(p, saved);
	}
	return r;
}

static int parse_rules(struct jp *p, json_object *arr, struct oci_seccomp *s)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	s->syscalls = calloc(n ? n : 1, sizeof(*s->syscalls));
	if (!s->syscalls)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *args;
		struct oci_seccomp_rule *rule = &s->syscalls[i];
		size_t saved = jp_push_index(p, i);

		s->n_syscalls = i + 1;
		if (!o || !json_object_is_type(o, json_type_object))
			r = jp_fail(p, "must be an object");
		else if ((r = jp_strv(p, o, "names", true, true, &rule->names, &rule->n_names)) ==
			     0 &&
			 (r = parse_action(p, o, "action", true, &rule->action, NULL)) == 0 &&
			 (r = jp_u32(p, o, "errnoRet", false, &rule->errno_ret,
				     &rule->has_errno_ret)) == 0 &&
			 (r = jp_array(p, o, "args", false, &args)) == 0 && args) {
			size_t s2 = jp_push(p, "args");
			r = parse_args(p, args, rule);
			jp_pop(p, s2);
		}
		jp_pop(p, saved);
	}
	return r;
}

int oci_parse_seccomp(struct jp *p, json_object *o, struct oci_seccomp *s)
{
	static const char *const flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
					     "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					     "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" };
	json_object *v;
	int r;

	if ((r = parse_action(p, o, "defaultAction", true, &s->default_action, NULL)) < 0 ||
	    (r = jp_u32(p, o, "defaultErrnoRet", false, &s->default_errno_ret,
			&s->has_default_errno_ret)) < 0 ||
	    (r = jp_strv(p, o, "architectures", false, false, &s->architectures,
			 &s->n_architectures)) < 0 ||
	    (r = jp_strv(p, o, "flags", false, false, &s->flags, &s->n_flags)) < 0 ||
	    (r = jp_string(p, o, "listenerPath", false, &s->listener_path)) < 0)
		return r;
	for (size_t i = 0; i < s->n_architectures; i++) {
		bool known = false;
		for (const char *const *a = oci_seccomp_archs; *a; a++)
			known = known || strcmp(*a, s->architectures[i]) == 0;
		if (!known) {
			size_t saved = jp_push(p, "architectures");
			jp_push_index(p, i);
			r = jp_fail(p, "unknown architecture \"%s\"", s->architectures[i]);
			jp_pop(p, saved);
			return r;
		}
	}
	for (size_t i = 0; i < s->n_flags; i++) {
		bool known = false;
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			known = known || strcmp(flags[k], s->flags[i]) == 0;
		if (!known) {
			size_t saved = jp_push(p, "flags");
			jp_push_index(p, i);
			r = jp_fail(p, "unknown seccomp flag \"%s\"", s->flags[i]);
			jp_pop(p, saved);
			return r;
		}
	}
	if ((r = jp_array(p, o, "syscalls", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "syscalls");
		r = parse_rules(p, v, s);
		jp_pop(p, saved);
	}
	return r;
}

void oci_seccomp_free(struct oci_seccomp *s)
{
	if (!s)
		return;
	jp_strv_free(s->architectures);
	jp_strv_free(s->flags);
	free(s->listener_path);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		jp_strv_free(s->syscalls[i].names);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
	free(s);
}
