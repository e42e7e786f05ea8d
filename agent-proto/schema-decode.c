/* schema-decode.c - reads KVAP TLV fields into a C struct (see schema.h).
 *
 * Owns: the decoder's half of the wire rules. Every length and count is
 * checked against the bytes that remain before anything is read or
 * allocated; strings are copied NUL-terminated and may not contain NUL;
 * a field may appear once; unknown fields are skipped unless critical. */
#include "schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER(obj, off, type) ((type *)((char *)(obj) + (off)))

struct dctx {
	const struct kvap_schema *s;
	const struct kvap_field *f;
	struct kv_err *err;
};

__attribute__((format(printf, 2, 3))) static int bad(const struct dctx *c, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return kv_errf(c->err, -EBADMSG, "kvap: %s.%s: %s", c->s->name, c->f ? c->f->name : "-",
		       what);
}

static int nomem(const struct dctx *c)
{
	return kv_errf(c->err, -ENOMEM, "kvap: %s.%s: out of memory", c->s->name, c->f->name);
}

static int dec_str(const struct dctx *c, const uint8_t *p, size_t n, char **out)
{
	char *s;

	if (n > c->f->max)
		return bad(c, "string of %zu bytes exceeds the %u-byte limit", n, c->f->max);
	if (memchr(p, 0, n))
		return bad(c, "string contains a NUL byte");
	s = malloc(n + 1);
	if (!s)
		return nomem(c);
	if (n)
		memcpy(s, p, n);
	s[n] = 0;
	*out = s;
	return 0;
}

static int dec_num(const struct dctx *c, const uint8_t *p, size_t n, void *v)
{
	static const uint8_t width[] = {
		[KVAP_K_BOOL] = 1, [KVAP_K_U8] = 1,  [KVAP_K_U16] = 2, [KVAP_K_U32] = 4,
		[KVAP_K_U64] = 8,  [KVAP_K_S32] = 4, [KVAP_K_S64] = 8
	};
	uint8_t kind = c->f->kind;

	if (n != width[kind])
		return bad(c, "%zu bytes for a %u-byte number", n, width[kind]);
	switch (kind) {
	case KVAP_K_BOOL:
		if (p[0] > 1)
			return bad(c, "boolean value %u", p[0]);
		*(bool *)v = p[0];
		break;
	case KVAP_K_U8:
		*(uint8_t *)v = p[0];
		break;
	case KVAP_K_U16:
		*(uint16_t *)v = kvap_ld16(p);
		break;
	case KVAP_K_U32:
		*(uint32_t *)v = kvap_ld32(p);
		break;
	case KVAP_K_S32:
		*(int32_t *)v = (int32_t)kvap_ld32(p);
		break;
	case KVAP_K_S64:
		*(int64_t *)v = (int64_t)kvap_ld64(p);
		break;
	default:
		*(uint64_t *)v = kvap_ld64(p);
		break;
	}
	return 0;
}

/* Lists: u32 count, then items. Each string or struct item is a u32 length
 * and its bytes (4 bytes at least), each u32 item 4 bytes: so a count above
 * (remaining / 4) cannot be honest and is rejected before allocating. */
static int dec_list(const struct dctx *c, const uint8_t *p, size_t n, void *obj)
{
	const struct kvap_field *f = c->f;
	uint32_t *cnt = MEMBER(obj, f->count_off, uint32_t);
	void **items = MEMBER(obj, f->off, void *);
	size_t isize;
	uint32_t count;
	int r;

	if (n < 4)
		return bad(c, "list of %zu bytes has no count", n);
	count = kvap_ld32(p);
	p += 4;
	n -= 4;
	if (count > f->max_count)
		return bad(c, "%u items exceed the limit of %u", count, f->max_count);
	if (count > n / 4)
		return bad(c, "%u items cannot fit in %zu bytes", count, n);
	if (f->kind == KVAP_K_U32LIST && n != (size_t)count * 4)
		return bad(c, "%zu bytes for %u u32 items", n, count);
	if (count == 0)
		return n ? bad(c, "%zu bytes after an empty list", n) : 0;
	isize = f->kind == KVAP_K_STRLIST   ? sizeof(char *)
		: f->kind == KVAP_K_U32LIST ? sizeof(uint32_t)
					    : f->sub->size;
	*items = calloc(count, isize);
	if (!*items)
		return nomem(c);
	for (uint32_t i = 0; i < count; i++) {
		if (f->kind == KVAP_K_U32LIST) {
			((uint32_t *)*items)[i] = kvap_ld32(p + 4 * (size_t)i);
			(*cnt)++;
			continue;
		}
		if (n < 4)
			return bad(c, "item %u: no length", i);
		size_t len = kvap_ld32(p);
		p += 4;
		n -= 4;
		if (len > n)
			return bad(c, "item %u: %zu bytes, %zu remain", i, len, n);
		(*cnt)++; /* counted first, so a failed item is still freed */
		if (f->kind == KVAP_K_STRLIST)
			r = dec_str(c, p, len, &((char **)*items)[i]);
		else
			r = kvap_schema_decode(f->sub, p, len, (char *)*items + i * isize, c->err);
		if (r < 0)
			return r;
		p += len;
		n -= len;
	}
	if (f->kind != KVAP_K_U32LIST && n)
		return bad(c, "%zu bytes after the last item", n);
	return 0;
}

static int dec_field(const struct dctx *c, const uint8_t *p, size_t n, void *obj)
{
	const struct kvap_field *f = c->f;
	void *v = MEMBER(obj, f->off, char);

	switch (f->kind) {
	case KVAP_K_STR:
		return dec_str(c, p, n, (char **)v);
	case KVAP_K_BYTES:
		if (n != f->max)
			return bad(c, "%zu bytes, expected %u", n, f->max);
		memcpy(v, p, n);
		return 0;
	case KVAP_K_STRUCT:
		return kvap_schema_decode(f->sub, p, n, v, c->err);
	case KVAP_K_STRLIST:
	case KVAP_K_U32LIST:
	case KVAP_K_STRUCTLIST:
		return dec_list(c, p, n, obj);
	default:
		return dec_num(c, p, n, v);
	}
}

static const struct kvap_field *find_field(const struct kvap_schema *s, uint16_t tag)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if ((s->fields[i].tag & ~KVAP_TAG_CRITICAL) == tag)
			return &s->fields[i];
	return NULL;
}

int kvap_schema_decode(const struct kvap_schema *s, const uint8_t *p, size_t n, void *obj,
		       struct kv_err *err)
{
	struct dctx c = { .s = s, .err = err };
	uint64_t seen = 0;
	int r;

	if (s->n_fields > 64)
		return kv_errf(err, -EINVAL, "kvap: schema %s has too many fields", s->name);
	while (n) {
		c.f = NULL;
		if (n < KVAP_FIELD_HDR)
			return bad(&c, "%zu stray bytes after the last field", n);
		uint16_t tag = kvap_ld16(p);
		size_t len = kvap_ld32(p + 2);
		p += KVAP_FIELD_HDR;
		n -= KVAP_FIELD_HDR;
		if (len > n)
			return bad(&c, "field tag %#x claims %zu bytes, %zu remain", tag, len, n);
		c.f = find_field(s, (uint16_t)(tag & ~KVAP_TAG_CRITICAL));
		if (!c.f) {
			if (tag & KVAP_TAG_CRITICAL)
				return kv_errf(err, -EOPNOTSUPP,
					       "kvap: %s: unknown critical field tag %#x", s->name,
					       tag);
		} else {
			uint64_t bit = 1ull << (c.f - s->fields);
			if (seen & bit)
				return bad(&c, "field appears twice");
			seen |= bit;
			r = dec_field(&c, p, len, obj);
			if (r < 0)
				return r;
		}
		p += len;
		n -= len;
	}
	for (size_t i = 0; i < s->n_fields; i++) {
		c.f = &s->fields[i];
		if ((c.f->flags & KVAP_FIELD_REQUIRED) && !(seen & (1ull << i)))
			return bad(&c, "required field is missing");
	}
	c.f = NULL;
	if (s->valid && !s->valid(obj))
		return bad(&c, "values break the type's rules");
	return 0;
}
