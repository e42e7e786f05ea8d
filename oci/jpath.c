/* jpath.c - see jpath.h. */
#include "jpath.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(struct jp *p, const char *s)
{
	size_t room = sizeof(p->path) - p->len;
	size_t n = strlen(s);

	if (n < room) {
		memcpy(p->path + p->len, s, n + 1);
		p->len += n;
		return;
	}
	/* Cut: keep what fits and mark it. */
	if (room > 4) {
		memcpy(p->path + p->len, s, room - 4);
		memcpy(p->path + sizeof(p->path) - 4, "...", 4);
	}
	p->len = sizeof(p->path) - 1;
}

static bool plain_key(const char *key)
{
	if (!*key)
		return false;
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_'))
			return false;
	return true;
}

size_t jp_push(struct jp *p, const char *key)
{
	size_t saved = p->len;

	if (plain_key(key)) {
		if (p->len)
			append(p, ".");
		append(p, key);
	} else {
		char buf[96];
		/* Keys such as annotation names: quoted, cut to a readable size. */
		snprintf(buf, sizeof(buf), "[\"%.80s%s\"]", key, strlen(key) > 80 ? "..." : "");
		append(p, buf);
	}
	return saved;
}

size_t jp_push_index(struct jp *p, size_t i)
{
	size_t saved = p->len;
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	append(p, buf);
	return saved;
}

void jp_pop(struct jp *p, size_t saved)
{
	p->len = saved;
	p->path[saved] = '\0';
}

static int vfail(struct jp *p, const char *fmt, va_list ap)
{
	char msg[400];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return kv_errf(p->err, -EINVAL, "%s: %s", p->len ? p->path : "(document)", msg);
}

int jp_fail(struct jp *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, fmt, ap);
	va_end(ap);
	return r;
}

int jp_fail_at(struct jp *p, const char *key, const char *fmt, ...)
{
	size_t saved = jp_push(p, key);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, fmt, ap);
	va_end(ap);
	jp_pop(p, saved);
	return r;
}

int jp_nomem(struct jp *p)
{
	return kv_errf(p->err, -ENOMEM, "out of memory");
}

json_object *jp_member(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	return v; /* NULL for JSON null */
}

static int absent(struct jp *p, const char *key, bool required)
{
	return required ? jp_fail_at(p, key, "is required") : 0;
}

int jp_object(struct jp *p, json_object *obj, const char *key, bool required, json_object **out)
{
	json_object *v = jp_member(obj, key);

	*out = NULL;
	if (!v)
		return absent(p, key, required);
	if (!json_object_is_type(v, json_type_object))
		return jp_fail_at(p, key, "must be an object");
	*out = v;
	return 0;
}

int jp_array(struct jp *p, json_object *obj, const char *key, bool required, json_object **out)
{
	json_object *v = jp_member(obj, key);

	*out = NULL;
	if (!v)
		return absent(p, key, required);
	if (!json_object_is_type(v, json_type_array))
		return jp_fail_at(p, key, "must be an array");
	*out = v;
	return 0;
}

int jp_check_string(struct jp *p, json_object *v, char **out)
{
	if (!v || !json_object_is_type(v, json_type_string))
		return jp_fail(p, "must be a string");
	const char *s = json_object_get_string(v);
	int len = json_object_get_string_len(v);
	if (len < 0 || strlen(s) != (size_t)len)
		return jp_fail(p, "must not contain NUL characters");
	char *c = strdup(s);
	if (!c)
		return jp_nomem(p);
	free(*out);
	*out = c;
	return 0;
}

int jp_string(struct jp *p, json_object *obj, const char *key, bool required, char **out)
{
	json_object *v = jp_member(obj, key);

	if (!v)
		return absent(p, key, required);
	size_t saved = jp_push(p, key);
	int r = jp_check_string(p, v, out);
	jp_pop(p, saved);
	return r;
}

int jp_bool(struct jp *p, json_object *obj, const char *key, bool *out, bool *set)
{
	json_object *v = jp_member(obj, key);

	if (set)
		*set = false;
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return jp_fail_at(p, key, "must be true or false");
	*out = json_object_get_boolean(v);
	if (set)
		*set = true;
	return 0;
}

bool jp_is_int(json_object *v)
{
	return v && json_object_is_type(v, json_type_int);
}

int jp_u64(struct jp *p, json_object *obj, const char *key, bool required, uint64_t *out, bool *set)
{
	json_object *v = jp_member(obj, key);

	if (set)
		*set = false;
	if (!v)
		return absent(p, key, required);
	if (!jp_is_int(v) || json_object_get_int64(v) < 0)
		return jp_fail_at(p, key, "must be a non-negative integer");
	*out = json_object_get_uint64(v);
	if (set)
		*set = true;
	return 0;
}

int jp_u32(struct jp *p, json_object *obj, const char *key, bool required, uint32_t *out, bool *set)
{
	json_object *v = jp_member(obj, key);

	if (set)
		*set = false;
	if (!v)
		return absent(p, key, required);
	if (!jp_is_int(v) || json_object_get_int64(v) < 0 ||
	    json_object_get_int64(v) > (int64_t)UINT32_MAX)
		return jp_fail_at(p, key, "must be an integer between 0 and 4294967295");
	*out = (uint32_t)json_object_get_int64(v);
	if (set)
		*set = true;
	return 0;
}

int jp_i64(struct jp *p, json_object *obj, const char *key, bool required, int64_t *out, bool *set)
{
	json_object *v = jp_member(obj, key);

	if (set)
		*set = false;
	if (!v)
		return absent(p, key, required);
	if (!jp_is_int(v))
		return jp_fail_at(p, key, "must be an integer");
	*out = json_object_get_int64(v);
	if (set)
		*set = true;
	return 0;
}

void jp_strv_free(char **v)
{
	if (!v)
		return;
	for (char **s = v; *s; s++)
		free(*s);
	free(v);
}

int jp_strv(struct jp *p, json_object *obj, const char *key, bool required, bool non_empty,
	    char ***out, size_t *n)
{
	json_object *v = jp_member(obj, key);
	const char *what =
	    non_empty ? "must be a non-empty array of strings" : "must be an array of strings";

	if (!v)
		return (required || non_empty) ? jp_fail_at(p, key, "%s", what) : 0;
	if (!json_object_is_type(v, json_type_array))
		return jp_fail_at(p, key, "%s", what);
	size_t len = json_object_array_length(v);
	if (non_empty && len == 0)
		return jp_fail_at(p, key, "%s", what);
	char **arr = calloc(len + 1, sizeof(*arr));
	if (!arr)
		return jp_nomem(p);
	size_t saved = jp_push(p, key);
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		int r;
		if (!e || !json_object_is_type(e, json_type_string)) {
			r = jp_fail(p, "%s", what);
		} else {
			size_t s2 = jp_push_index(p, i);
			r = jp_check_string(p, e, &arr[i]);
			jp_pop(p, s2);
		}
		if (r < 0) {
			jp_pop(p, saved);
			jp_strv_free(arr);
			return r;
		}
	}
	jp_pop(p, saved);
	jp_strv_free(*out);
	*out = arr;
	*n = len;
	return 0;
}

int jp_u32v(struct jp *p, json_object *obj, const char *key, uint32_t **out, size_t *n)
{
	json_object *v = jp_member(obj, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return jp_fail_at(p, key, "must be an array of integers");
	size_t len = json_object_array_length(v);
	uint32_t *arr = calloc(len ? len : 1, sizeof(*arr));
	if (!arr)
		return jp_nomem(p);
	for (size_t i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!jp_is_int(e) || json_object_get_int64(e) < 0 ||
		    json_object_get_int64(e) > (int64_t)UINT32_MAX) {
			size_t saved = jp_push(p, key);
			jp_push_index(p, i);
			int r = jp_fail(p, "must be an integer between 0 and 4294967295");
			jp_pop(p, saved);
			free(arr);
			return r;
		}
		arr[i] = (uint32_t)json_object_get_int64(e);
	}
	free(*out);
	*out = arr;
	*n = len;
	return 0;
}
