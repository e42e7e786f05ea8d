/* jpath.h - typed reads from json-c objects that name the JSON path on error.
 *
 * Owns: the cursor (struct jp) that remembers where in the document a
 * parser is ("linux.resources.memory.limit", "mounts[2].options[0]"), and
 * the typed getters every oci/ parser uses. Each getter takes the parent
 * object and a member name, treats a missing member and JSON null alike as
 * "absent", and on a wrong type fills the caller's struct kv_err with
 * "<path>: must be <what>" and returns -EINVAL. Internal to oci/. */
#ifndef KVRUN_OCI_JPATH_H
#define KVRUN_OCI_JPATH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct jp {
	char path[480];
	size_t len;
	struct kv_err *err;
};

/* Enter member `key` / element `i`; returns the length to restore with
 * jp_pop(). A path too long for the buffer is cut with "...". */
size_t jp_push(struct jp *p, const char *key);
size_t jp_push_index(struct jp *p, size_t i);
void jp_pop(struct jp *p, size_t saved);

/* "<path>: <msg>" into p->err; returns -EINVAL. */
__attribute__((format(printf, 2, 3))) int jp_fail(struct jp *p, const char *fmt, ...);
/* The same for member key of the current object, without entering it. */
__attribute__((format(printf, 3, 4))) int jp_fail_at(struct jp *p, const char *key, const char *fmt,
						     ...);
int jp_nomem(struct jp *p);

/* The member, or NULL when it is absent or null. */
json_object *jp_member(json_object *obj, const char *key);

/* Getters: return 0 and leave *out untouched (and *set false) when the
 * member is absent and not required; "<path>.<key>: is required" when it
 * is. *set may be NULL. */
int jp_object(struct jp *p, json_object *obj, const char *key, bool required, json_object **out);
int jp_array(struct jp *p, json_object *obj, const char *key, bool required, json_object **out);
int jp_string(struct jp *p, json_object *obj, const char *key, bool required, char **out);
int jp_bool(struct jp *p, json_object *obj, const char *key, bool *out, bool *set);
int jp_u32(struct jp *p, json_object *obj, const char *key, bool required, uint32_t *out,
	   bool *set);
int jp_u64(struct jp *p, json_object *obj, const char *key, bool required, uint64_t *out,
	   bool *set);
int jp_i64(struct jp *p, json_object *obj, const char *key, bool required, int64_t *out, bool *set);

/* An array of strings (NULL-terminated copy in *out, count in *n). With
 * non_empty, an absent or empty array is "must be a non-empty array of
 * strings". */
int jp_strv(struct jp *p, json_object *obj, const char *key, bool required, bool non_empty,
	    char ***out, size_t *n);
/* An array of u32 values. */
int jp_u32v(struct jp *p, json_object *obj, const char *key, uint32_t **out, size_t *n);

/* Value checks on the current element (used after a getter). */
int jp_check_string(struct jp *p, json_object *v, char **out); /* copies; no NUL bytes */
bool jp_is_int(json_object *v);

void jp_strv_free(char **v);

#endif
