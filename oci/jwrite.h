/* jwrite.h - building json-c documents without checking every call.
 *
 * Owns: a builder that records the first allocation failure, so a writer
 * adds all its members and checks once at the end (jw_finish), and the
 * serialisation flags kvrun uses (no "\/" escaping; compact or runc-style
 * two-space indentation). Internal to oci/. */
#ifndef KVRUN_OCI_JWRITE_H
#define KVRUN_OCI_JWRITE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct jw {
	bool failed;
};

json_object *jw_obj(struct jw *w);
json_object *jw_arr(struct jw *w);
json_object *jw_str(struct jw *w, const char *s); /* NULL s: "" */
json_object *jw_u64(struct jw *w, uint64_t v);
json_object *jw_i64(struct jw *w, int64_t v);
json_object *jw_bool(struct jw *w, bool v);
/* Add v (consumed) to object o as key / to array a. */
void jw_add(struct jw *w, json_object *o, const char *key, json_object *v);
void jw_push(struct jw *w, json_object *a, json_object *v);
/* An array of strings. */
json_object *jw_strv(struct jw *w, const char *const *v, size_t n);

/* Serialise root (consumed) into *out; -ENOMEM if anything failed. */
int jw_finish(struct jw *w, json_object *root, bool pretty, char **out, struct kv_err *err);

#endif
