/* schema-encode.c - writes a C struct as KVAP TLV fields (see schema.h).
 *
 * Owns: the encoder's half of the wire rules. It enforces the same limits
 * the decoder does, so a frame this side writes is never one the peer must
 * reject, and it omits fields holding their zero value (absent decodes as
 * zero), except required ones. */
#include "schema.h"

#include <errno.h>
#include <string.h>

#include "kvap-frame.h"

#define MEMBER(obj, off, type) ((type const *)((const char *)(obj) + (off)))

static int enc_invalid(struct kv_err *err, const struct kvap_schema *s, const struct kvap_field *f,
		       const char *why, size_t a, size_t b)
{
	return kv_errf(err, -EINVAL, "kvap: encode %s.%s: %s (%zu > %zu)", s->name, f->name, why, a,
		       b);
}

/* A u32 length placeholder; returns where the value starts. */
static size_t len_begin(struct kvap_wbuf *w)
{
	kvap_wb_u32(w, 0);
	return w->pos;
}

/* Patch the placeholder before start with the value's length. The value is
 * at most KVAP_MAX_PAYLOAD bytes (too_big() runs before it can grow past). */
static void len_end(struct kvap_wbuf *w, size_t start)
{
	kvap_wb_patch32(w, start - 4, (uint32_t)(w->pos - start));
}

static size_t field_begin(struct kvap_wbuf *w, uint16_t tag)
{
	kvap_wb_u16(w, tag);
	return len_begin(w);
}

static int too_big(const struct kvap_wbuf *w, struct kv_err *err)
{
	if (w->pos <= KVAP_MAX_PAYLOAD)
		return 0;
	return kv_errf(err, -EMSGSIZE, "kvap: message exceeds the %u-byte payload limit",
		       KVAP_MAX_PAYLOAD);
}

static int enc_str(const struct kvap_schema *s, const struct kvap_field *f, const char *str,
		   struct kvap_wbuf *w, struct kv_err *err)
{
	size_t n = strnlen(str, (size_t)f->max + 1);

	if (n > f->max)
		return enc_invalid(err, s, f, "string too long", n, f->max);
	kvap_wb_put(w, str, n);
	return 0;
}

static int enc_list(const struct kvap_schema *s, const struct kvap_field *f, const void *obj,
		    struct kvap_wbuf *w, struct kv_err *err)
{
	uint32_t n = *MEMBER(obj, f->count_off, uint32_t);
	const void *items = *MEMBER(obj, f->off, void *);
	size_t start = 0;
	int r;

	if (n == 0)
		return 0;
	if (n > f->max_count)
		return enc_invalid(err, s, f, "too many items", n, f->max_count);
	if (!items)
		return kv_errf(err, -EINVAL, "kvap: encode %s.%s: %u items but a NULL array",
			       s->name, f->name, n);
	kvap_wb_u32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		switch (f->kind) {
		case KVAP_K_STRLIST: {
			const char *str = ((const char *const *)items)[i];
			if (!str)
				return kv_errf(err, -EINVAL, "kvap: encode %s.%s[%u]: NULL string",
					       s->name, f->name, i);
			start = len_begin(w);
			r = enc_str(s, f, str, w, err);
			break;
		}
		case KVAP_K_U32LIST:
			kvap_wb_u32(w, ((const uint32_t *)items)[i]);
			r = 0;
			continue;
		default: /* KVAP_K_STRUCTLIST */
			start = len_begin(w);
			r = kvap_schema_encode(f->sub, (const char *)items + i * f->sub->size, w,
					       err);
			break;
		}
		if (r < 0)
			return r;
		len_end(w, start);
		r = too_big(w, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* 1 when the field holds its zero value and may be left out. */
static int is_zero(const struct kvap_field *f, const void *obj)
{
	const void *v = MEMBER(obj, f->off, char);
	static const uint8_t zeros[64];

	switch (f->kind) {
	case KVAP_K_BOOL:
		return !*(const bool *)v;
	case KVAP_K_U8:
		return !*(const uint8_t *)v;
	case KVAP_K_U16:
		return !*(const uint16_t *)v;
	case KVAP_K_U32:
		return !*(const uint32_t *)v;
	case KVAP_K_U64:
		return !*(const uint64_t *)v;
	case KVAP_K_S32:
		return !*(const int32_t *)v;
	case KVAP_K_S64:
		return !*(const int64_t *)v;
	case KVAP_K_STR:
		return !*(const char *const *)v;
	case KVAP_K_BYTES:
		return f->max <= sizeof(zeros) && !memcmp(v, zeros, f->max);
	case KVAP_K_STRUCT:
		return 0; /* decided after encoding it */
	default:
		return !*MEMBER(obj, f->count_off, uint32_t);
	}
}

static int enc_field(const struct kvap_schema *s, const struct kvap_field *f, const void *obj,
		     struct kvap_wbuf *w, struct kv_err *err)
{
	const void *v = MEMBER(obj, f->off, char);
	bool required = f->flags & KVAP_FIELD_REQUIRED;
	size_t at = w->pos, start;
	int r = 0;

	if (!required && is_zero(f, obj))
		return 0;
	if (f->kind == KVAP_K_STR && !*(const char *const *)v)
		return kv_errf(err, -EINVAL, "kvap: encode %s.%s: required string is NULL", s->name,
			       f->name);
	start = field_begin(w, f->tag);
	switch (f->kind) {
	case KVAP_K_BOOL:
		kvap_wb_u8(w, *(const bool *)v ? 1 : 0);
		break;
	case KVAP_K_U8:
		kvap_wb_u8(w, *(const uint8_t *)v);
		break;
	case KVAP_K_U16:
		kvap_wb_u16(w, *(const uint16_t *)v);
		break;
	case KVAP_K_U32:
		kvap_wb_u32(w, *(const uint32_t *)v);
		break;
	case KVAP_K_U64:
		kvap_wb_u64(w, *(const uint64_t *)v);
		break;
	case KVAP_K_S32:
		kvap_wb_u32(w, (uint32_t) * (const int32_t *)v);
		break;
	case KVAP_K_S64:
		kvap_wb_u64(w, (uint64_t) * (const int64_t *)v);
		break;
	case KVAP_K_STR:
		r = enc_str(s, f, *(const char *const *)v, w, err);
		break;
	case KVAP_K_BYTES:
		kvap_wb_put(w, v, f->max);
		break;
	case KVAP_K_STRUCT:
		r = kvap_schema_encode(f->sub, v, w, err);
		if (r == 0 && w->pos == start && !required) {
			w->pos = at; /* every member zero: leave the field out */
			return 0;
		}
		break;
	default:
		r = enc_list(s, f, obj, w, err);
		break;
	}
	if (r < 0)
		return r;
	len_end(w, start);
	return too_big(w, err);
}

int kvap_schema_encode(const struct kvap_schema *s, const void *obj, struct kvap_wbuf *w,
		       struct kv_err *err)
{
	int r;

	if (s->valid && !s->valid(obj))
		return kv_errf(err, -EINVAL, "kvap: encode %s: values break the type's rules",
			       s->name);
	for (size_t i = 0; i < s->n_fields; i++) {
		r = enc_field(s, &s->fields[i], obj, w, err);
		if (r < 0)
			return r;
	}
	return 0;
}
