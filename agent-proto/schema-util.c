/* schema-util.c - freeing and comparing schema-described structs (see schema.h). */
#include "schema.h"

#include <stdlib.h>
#include <string.h>

#define MEMBER(obj, off, type)	((type *)((char *)(obj) + (off)))
#define CMEMBER(obj, off, type) ((type const *)((const char *)(obj) + (off)))

static void free_field(const struct kvap_field *f, void *obj)
{
	void *v = MEMBER(obj, f->off, char);
	uint32_t n;

	switch (f->kind) {
	case KVAP_K_STR:
		free(*(char **)v);
		break;
	case KVAP_K_STRUCT:
		kvap_schema_free(f->sub, v);
		break;
	case KVAP_K_STRLIST:
	case KVAP_K_U32LIST:
	case KVAP_K_STRUCTLIST:
		n = *MEMBER(obj, f->count_off, uint32_t);
		if (*(void **)v) {
			for (uint32_t i = 0; i < n && f->kind == KVAP_K_STRLIST; i++)
				free((*(char ***)v)[i]);
			for (uint32_t i = 0; i < n && f->kind == KVAP_K_STRUCTLIST; i++)
				kvap_schema_free(f->sub, *(char **)v + i * f->sub->size);
		}
		free(*(void **)v);
		break;
	default:
		break;
	}
}

void kvap_schema_free(const struct kvap_schema *s, void *obj)
{
	for (size_t i = 0; i < s->n_fields; i++)
		free_field(&s->fields[i], obj);
	memset(obj, 0, s->size);
}

static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool list_equal(const struct kvap_field *f, const void *a, const void *b)
{
	uint32_t n = *CMEMBER(a, f->count_off, uint32_t);
	const void *ia = *CMEMBER(a, f->off, void *);
	const void *ib = *CMEMBER(b, f->off, void *);

	if (n != *CMEMBER(b, f->count_off, uint32_t))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		bool same;
		switch (f->kind) {
		case KVAP_K_STRLIST:
			same =
			    str_equal(((const char *const *)ia)[i], ((const char *const *)ib)[i]);
			break;
		case KVAP_K_U32LIST:
			same = ((const uint32_t *)ia)[i] == ((const uint32_t *)ib)[i];
			break;
		default:
			same = kvap_schema_equal(f->sub, (const char *)ia + i * f->sub->size,
						 (const char *)ib + i * f->sub->size);
			break;
		}
		if (!same)
			return false;
	}
	return true;
}

static bool field_equal(const struct kvap_field *f, const void *a, const void *b)
{
	const void *va = CMEMBER(a, f->off, char), *vb = CMEMBER(b, f->off, char);

	switch (f->kind) {
	case KVAP_K_BOOL:
		return *(const bool *)va == *(const bool *)vb;
	case KVAP_K_U8:
		return *(const uint8_t *)va == *(const uint8_t *)vb;
	case KVAP_K_U16:
		return *(const uint16_t *)va == *(const uint16_t *)vb;
	case KVAP_K_U32:
		return *(const uint32_t *)va == *(const uint32_t *)vb;
	case KVAP_K_U64:
		return *(const uint64_t *)va == *(const uint64_t *)vb;
	case KVAP_K_S32:
		return *(const int32_t *)va == *(const int32_t *)vb;
	case KVAP_K_S64:
		return *(const int64_t *)va == *(const int64_t *)vb;
	case KVAP_K_STR:
		return str_equal(*(const char *const *)va, *(const char *const *)vb);
	case KVAP_K_BYTES:
		return !memcmp(va, vb, f->max);
	case KVAP_K_STRUCT:
		return kvap_schema_equal(f->sub, va, vb);
	default:
		return list_equal(f, a, b);
	}
}

bool kvap_schema_equal(const struct kvap_schema *s, const void *a, const void *b)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (!field_equal(&s->fields[i], a, b))
			return false;
	return true;
}
