/* config-linux.c - config.json's linux object.
 *
 * Owns: namespaces, uid/gid mappings, cgroupsPath, sysctl, devices,
 * maskedPaths, readonlyPaths, rootfsPropagation and mountLabel; the
 * resources and seccomp members are resources.c's and seccomp.c's. Each
 * value is validated where it is read. */
#include "config-priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_namespaces(struct jp *p, json_object *arr, struct oci_linux *l)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	l->namespaces = calloc(n ? n : 1, sizeof(*l->namespaces));
	if (!l->namespaces)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_namespace *ns = &l->namespaces[i];
		char *type = NULL;
		size_t saved = jp_push_index(p, i);

		l->n_namespaces = i + 1;
		if (!e || !json_object_is_type(e, json_type_object))
			r = jp_fail(p, "must be an object");
		else if ((r = jp_string(p, e, "type", true, &type)) == 0) {
			int t = -1;
			for (int k = 0; k < OCI_NS__COUNT; k++)
				if (strcmp(type, oci_ns_name(k)) == 0)
					t = k;
			if (t < 0)
				r = jp_fail_at(p, "type", "unknown namespace type \"%s\"", type);
			for (size_t j = 0; r == 0 && j < i; j++)
				if ((int)l->namespaces[j].type == t)
					r = jp_fail_at(p, "type",
						       "namespace \"%s\" is listed twice", type);
			ns->type = (enum oci_ns_type)(t < 0 ? 0 : t);
			if (r == 0 && (r = jp_string(p, e, "path", false, &ns->path)) == 0 &&
			    ns->path && ns->path[0] != '/')
				r = jp_fail_at(p, "path", "must be an absolute path");
		}
		free(type);
		jp_pop(p, saved);
	}
	return r;
}

static int parse_idmaps(struct jp *p, json_object *l, const char *key, struct oci_idmap **out,
			size_t *count)
{
	json_object *arr;
	int r;

	if ((r = jp_array(p, l, key, false, &arr)) < 0 || !arr)
		return r;
	size_t n = json_object_array_length(arr);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return jp_nomem(p);
	size_t saved = jp_push(p, key);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		size_t s2 = jp_push_index(p, i);
		if (!e || !json_object_is_type(e, json_type_object))
			r = jp_fail(p, "must be an object");
		else if ((r = jp_u32(p, e, "containerID", true, &(*out)[i].container_id, NULL)) ==
			     0 &&
			 (r = jp_u32(p, e, "hostID", true, &(*out)[i].host_id, NULL)) == 0)
			r = jp_u32(p, e, "size", true, &(*out)[i].size, NULL);
		jp_pop(p, s2);
		*count = i + 1;
	}
	jp_pop(p, saved);
	return r;
}

static int parse_devices(struct jp *p, json_object *arr, struct oci_linux *l)
{
	size_t n = json_object_array_length(arr);
	int r = 0;

	l->devices = calloc(n ? n : 1, sizeof(*l->devices));
	if (!l->devices)
		return jp_nomem(p);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		struct oci_device *d = &l->devices[i];
		char *type = NULL;
		bool has_major = false, has_minor = false;
		size_t saved = jp_push_index(p, i);

		l->n_devices = i + 1;
		if (!e || !json_object_is_type(e, json_type_object)) {
			r = jp_fail(p, "must be an object");
		} else if ((r = jp_string(p, e, "path", true, &d->path)) == 0 &&
			   (r = jp_string(p, e, "type", true, &type)) == 0 &&
			   (r = jp_i64(p, e, "major", false, &d->major, &has_major)) == 0 &&
			   (r = jp_i64(p, e, "minor", false, &d->minor, &has_minor)) == 0 &&
			   (r = jp_u32(p, e, "fileMode", false, &d->file_mode,
				       &d->has_file_mode)) == 0 &&
			   (r = jp_u32(p, e, "uid", false, &d->uid, &d->has_uid)) == 0 &&
			   (r = jp_u32(p, e, "gid", false, &d->gid, &d->has_gid)) == 0) {
			if (d->path[0] != '/' || oci_path_has_dotdot(d->path))
				r = jp_fail_at(p, "path",
					       "must be an absolute path without \"..\"");
			else if (strlen(type) != 1 || !strchr("cbup", type[0]))
				r = jp_fail_at(p, "type", "must be \"c\", \"b\", \"u\" or \"p\"");
			else if (type[0] != 'p' && (!has_major || !has_minor))
				r = jp_fail(p, "a \"%s\" device needs major and minor", type);
			else if ((has_major && (d->major < 0 || d->major > 0xfff)) ||
				 (has_minor && (d->minor < 0 || d->minor > 0xfffff)))
				r = jp_fail(p, "major must be 0..4095 and minor 0..1048575");
			else if (d->has_file_mode && d->file_mode > 07777)
				r = jp_fail_at(p, "fileMode", "must be at most 07777 (4095)");
			d->type = type[0];
		}
		free(type);
		jp_pop(p, saved);
	}
	return r;
}

static bool valid_propagation(const char *s)
{
	static const char *const ok[] = { "shared",  "slave",  "private",  "unbindable",
					  "rshared", "rslave", "rprivate", "runbindable" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return true;
	return false;
}

int oci_parse_linux(struct jp *p, json_object *o, struct oci_linux *l)
{
	json_object *v;
	int r;

	if ((r = jp_array(p, o, "namespaces", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "namespaces");
		r = parse_namespaces(p, v, l);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = parse_idmaps(p, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings)) < 0 ||
	    (r = parse_idmaps(p, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings)) < 0)
		return r;
	if ((r = jp_object(p, o, "resources", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "resources");
		r = oci_parse_resources(p, v, &l->resources);
		jp_pop(p, saved);
		if (r < 0)
			return r;
		l->has_resources = true;
	}
	if ((r = jp_string(p, o, "cgroupsPath", false, &l->cgroups_path)) < 0)
		return r;
	if (l->cgroups_path && oci_path_has_dotdot(l->cgroups_path))
		return jp_fail_at(p, "cgroupsPath", "must not contain \"..\"");
	if ((r = oci_parse_kv_map(p, o, "sysctl", &l->sysctl, &l->n_sysctl)) < 0)
		return r;
	if ((r = jp_array(p, o, "devices", false, &v)) < 0)
		return r;
	if (v) {
		size_t saved = jp_push(p, "devices");
		r = parse_devices(p, v, l);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = jp_object(p, o, "seccomp", false, &v)) < 0)
		return r;
	if (v) {
		l->seccomp = calloc(1, sizeof(*l->seccomp));
		if (!l->seccomp)
			return jp_nomem(p);
		size_t saved = jp_push(p, "seccomp");
		r = oci_parse_seccomp(p, v, l->seccomp);
		jp_pop(p, saved);
		if (r < 0)
			return r;
	}
	if ((r = jp_strv(p, o, "maskedPaths", false, false, &l->masked_paths, &l->n_masked_paths)) <
		0 ||
	    (r = jp_strv(p, o, "readonlyPaths", false, false, &l->readonly_paths,
			 &l->n_readonly_paths)) < 0)
		return r;
	for (int pass = 0; pass < 2; pass++) {
		char **paths = pass ? l->readonly_paths : l->masked_paths;
		size_t n = pass ? l->n_readonly_paths : l->n_masked_paths;
		for (size_t i = 0; i < n; i++)
			if (paths[i][0] != '/' || oci_path_has_dotdot(paths[i])) {
				size_t saved = jp_push(p, pass ? "readonlyPaths" : "maskedPaths");
				jp_push_index(p, i);
				r = jp_fail(p, "must be an absolute path without \"..\"");
				jp_pop(p, saved);
				return r;
			}
	}
	if ((r = jp_string(p, o, "rootfsPropagation", false, &l->rootfs_propagation)) < 0)
		return r;
	if (l->rootfs_propagation && !valid_propagation(l->rootfs_propagation))
		return jp_fail_at(p, "rootfsPropagation", "\"%s\" is not a propagation mode",
				  l->rootfs_propagation);
	return jp_string(p, o, "mountLabel", false, &l->mount_label);
}

void oci_linux_clear(struct oci_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	oci_resources_clear(&l->resources);
	free(l->cgroups_path);
	oci_kv_free(l->sysctl, l->n_sysctl);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	oci_seccomp_free(l->seccomp);
	jp_strv_free(l->masked_paths);
	jp_strv_free(l->readonly_paths);
	free(l->rootfs_propagation);
	free(l->mount_label);
	memset(l, 0, sizeof(*l));
}
