/* config-priv.h - what the parts of the config.json parser share.
 *
 * Owns: the internal entry points between config.c (the document, process,
 * mounts, hooks), config-linux.c (the linux object) and resources.c
 * (linux.resources), plus small helpers. Internal to oci/. */
#ifndef KVRUN_OCI_CONFIG_PRIV_H
#define KVRUN_OCI_CONFIG_PRIV_H

#include "jpath.h"
#include "oci.h"

/* Parse text into a json-c value: bounded size, nesting depth 64, nothing
 * but blanks after the value. */
int oci_parse_json(struct jp *p, const char *json, size_t len, json_object **out);

int oci_parse_process(struct jp *p, json_object *o, struct oci_process *proc);
int oci_parse_linux(struct jp *p, json_object *o, struct oci_linux *l);
void oci_linux_clear(struct oci_linux *l);
int oci_parse_resources(struct jp *p, json_object *o, struct oci_resources *r);
int oci_parse_seccomp(struct jp *p, json_object *o, struct oci_seccomp *s);
void oci_seccomp_free(struct oci_seccomp *s);

/* An object of string values (annotations, sysctl, unified). */
int oci_parse_kv_map(struct jp *p, json_object *obj, const char *key, struct oci_kv **out,
		     size_t *n);
void oci_kv_free(struct oci_kv *kv, size_t n);

bool oci_path_has_dotdot(const char *path);

#endif
