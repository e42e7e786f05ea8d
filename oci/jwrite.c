/* jwrite.c - see jwrite.h. */
#include "jwrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_object *check(struct jw *w, json_object *o)
{
	if (!o)
		w->failed = true;
	return o;
}

json_object *jw_obj(struct jw *w)
{
	return check(w, json_object_new_object());
}

json_object *jw_arr(struct jw *w)
{
	return check(w, json_object_new_array());
}

json_object *jw_str(struct jw *w, const char *s)
{
	return check(w, json_object_new_string(s ? s : ""));
}

json_object *jw_u64(struct jw *w, uint64_t v)
{
	return check(w, json_object_new_uint64(v));
}

json_object *jw_i64(struct jw *w, int64_t v)
{
	return check(w, json_object_new_int64(v));
}

json_object *jw_bool(struct jw *w, bool v)
{
	return check(w, json_object_new_boolean(v));
}

void jw_add(struct jw *w, json_object *o, const char *key, json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v) != 0) {
		w->failed = true;
		json_object_put(v);
	}
}

void jw_push(struct jw *w, json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) != 0) {
		w->failed = true;
		json_object_put(v);
	}
}

json_object *jw_strv(struct jw *w, const char *const *v, size_t n)
{
	json_object *a = jw_arr(w);

	for (size_t i = 0; i < n; i++)
		jw_push(w, a, jw_str(w, v[i]));
	return a;
}

int jw_finish(struct jw *w, json_object *root, bool pretty, char **out, struct kv_err *err)
{
	int flags =
	    JSON_C_TO_STRING_NOSLASHESCAPE |
	    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
	const char *s;

	*out = NULL;
	if (w->failed || !root) {
		json_object_put(root);
		return kv_errf(err, -ENOMEM, "out of memory");
	}
	s = json_object_to_json_string_ext(root, flags);
	*out = s ? strdup(s) : NULL;
	json_object_put(root);
	if (!*out)
		return kv_errf(err, -ENOMEM, "out of memory");
	return 0;
}
