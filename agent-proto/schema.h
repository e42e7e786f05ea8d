/* schema.h - the table-driven TLV codec behind every KVAP message.
 *
 * Owns: field descriptors (tag, wire kind, limits, where the value lives in
 * the C struct) and the generic encode, decode, free and compare walks over
 * them. Internal to agent-proto/: message tables use the KVAP_F_* macros,
 * which check at compile time that each member has the C type its kind
 * needs. The wire format itself is described in docs/agent-protocol.md.
 *
 * Field on the wire: tag (u16) | length (u32) | value[length]. A struct's
 * payload is a sequence of fields in any order; lists carry a u32 count. */
#ifndef KVRUN_KVAP_SCHEMA_H
#define KVRUN_KVAP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

enum kvap_kind {
	KVAP_K_BOOL = 1,   /* bool; 1 byte, 0 or 1 */
	KVAP_K_U8,	   /* uint8_t */
	KVAP_K_U16,	   /* uint16_t */
	KVAP_K_U32,	   /* uint32_t */
	KVAP_K_U64,	   /* uint64_t */
	KVAP_K_STR,	   /* char *, NUL-terminated copy; NULL = absent */
	KVAP_K_BYTES,	   /* uint8_t[max], exactly max bytes on the wire */
	KVAP_K_STRLIST,	   /* char **items + uint32_t count */
	KVAP_K_U32LIST,	   /* uint32_t *items + uint32_t count */
	KVAP_K_STRUCT,	   /* embedded struct, nested fields */
	KVAP_K_STRUCTLIST, /* struct *items + uint32_t count */
	KVAP_K_S32,	   /* int32_t; 4 bytes, two's complement (KVAP 1.1) */
	KVAP_K_S64,	   /* int64_t; 8 bytes, two's complement (KVAP 1.1) */
};

#define KVAP_FIELD_REQUIRED 0x1 /* always encoded; decoding fails without it */

/* Bit 15 of a tag marks a field a receiver must understand: an unknown
 * critical field fails the decode with -EOPNOTSUPP instead of being skipped.
 * In a field table, KVAP_CRITICAL(tag) makes this side send the field with
 * the bit set; the decoder matches tags without it, so a peer may send a
 * known field either way. */
#define KVAP_TAG_CRITICAL  0x8000u
#define KVAP_CRITICAL(tag) ((tag) | KVAP_TAG_CRITICAL)

#define KVAP_FIELD_HDR 6u /* tag + length */

struct kvap_schema;

struct kvap_field {
	const char *name;
	uint16_t tag;	    /* 1..0x7fff (| KVAP_TAG_CRITICAL), unique within a schema */
	uint8_t kind;	    /* enum kvap_kind */
	uint8_t flags;	    /* KVAP_FIELD_* */
	uint32_t max;	    /* STR/STRLIST item: max bytes; BYTES: exact size */
	uint32_t max_count; /* lists: max items */
	size_t off;	    /* value, or the items pointer of a list */
	size_t count_off;   /* lists: the uint32_t count */
	const struct kvap_schema *sub;
};

struct kvap_schema {
	const char *name;
	size_t size;
	const struct kvap_field *fields;
	size_t n_fields;		/* at most 64 */
	bool (*valid)(const void *obj); /* cross-field rule, or NULL */
};

/* Append obj's fields to w. -EINVAL (with err) when obj breaks a limit or
 * rule; the caller checks w->pos against its capacity and the frame limit. */
int kvap_schema_encode(const struct kvap_schema *s, const void *obj, struct kvap_wbuf *w,
		       struct kv_err *err);

/* Decode p[0..n) into obj, which the caller zeroed. On failure obj may hold
 * partial allocations: the caller runs kvap_schema_free(). */
int kvap_schema_decode(const struct kvap_schema *s, const uint8_t *p, size_t n, void *obj,
		       struct kv_err *err);

/* Free what decode allocated (or a caller built with malloc) and zero obj. */
void kvap_schema_free(const struct kvap_schema *s, void *obj);

bool kvap_schema_equal(const struct kvap_schema *s, const void *a, const void *b);

/* Descriptor macros. KVAP_CHECK_ yields 0, or fails to compile. */
#define KVAP_CHECK_(cond)      (0 * sizeof(char[(cond) ? 1 : -1]))
#define KVAP_MTYPE_(st, m)     __typeof__(((st *)0)->m)
#define KVAP_IS_(st, m, type)  __builtin_types_compatible_p(KVAP_MTYPE_(st, m), type)
#define KVAP_OFF_(st, m, type) (offsetof(st, m) + KVAP_CHECK_(KVAP_IS_(st, m, type)))

#define KVAP_F_NUM_(st, m, tag_, kind_, type, fl)                                                  \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = (kind_), .flags = (fl),                         \
		.off = KVAP_OFF_(st, m, type)                                                      \
	}
#define KVAP_F_BOOL(st, m, tag_)    KVAP_F_NUM_(st, m, tag_, KVAP_K_BOOL, bool, 0)
#define KVAP_F_U8(st, m, tag_, fl)  KVAP_F_NUM_(st, m, tag_, KVAP_K_U8, uint8_t, fl)
#define KVAP_F_U16(st, m, tag_, fl) KVAP_F_NUM_(st, m, tag_, KVAP_K_U16, uint16_t, fl)
#define KVAP_F_U32(st, m, tag_, fl) KVAP_F_NUM_(st, m, tag_, KVAP_K_U32, uint32_t, fl)
#define KVAP_F_U64(st, m, tag_, fl) KVAP_F_NUM_(st, m, tag_, KVAP_K_U64, uint64_t, fl)
#define KVAP_F_S32(st, m, tag_, fl) KVAP_F_NUM_(st, m, tag_, KVAP_K_S32, int32_t, fl)
#define KVAP_F_S64(st, m, tag_, fl) KVAP_F_NUM_(st, m, tag_, KVAP_K_S64, int64_t, fl)
#define KVAP_F_STR(st, m, tag_, max_, fl)                                                          \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = KVAP_K_STR, .flags = (fl), .max = (max_),       \
		.off = KVAP_OFF_(st, m, char *)                                                    \
	}
#define KVAP_F_BYTES(st, m, tag_, fl)                                                              \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = KVAP_K_BYTES, .flags = (fl),                    \
		.max = sizeof(((st *)0)->m),                                                       \
		.off = KVAP_OFF_(st, m, uint8_t[sizeof(((st *)0)->m)])                             \
	}
#define KVAP_F_STRLIST(st, m, cnt, tag_, max_count_, max_)                                         \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = KVAP_K_STRLIST, .max = (max_),                  \
		.max_count = (max_count_), .off = KVAP_OFF_(st, m, char **),                       \
		.count_off = KVAP_OFF_(st, cnt, uint32_t)                                          \
	}
#define KVAP_F_U32LIST(st, m, cnt, tag_, max_count_)                                               \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = KVAP_K_U32LIST, .max_count = (max_count_),      \
		.off = KVAP_OFF_(st, m, uint32_t *), .count_off = KVAP_OFF_(st, cnt, uint32_t)     \
	}
/* sub_ is the schema of subtype, the member's (or list item's) C type. */
#define KVAP_F_STRUCT(st, m, tag_, subtype, sub_, fl)                                              \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = KVAP_K_STRUCT, .flags = (fl),                   \
		.off = KVAP_OFF_(st, m, subtype), .sub = &(sub_)                                   \
	}
#define KVAP_F_STRUCTLIST(st, m, cnt, tag_, max_count_, subtype, sub_)                             \
	{                                                                                          \
		.name = #m, .tag = (tag_), .kind = KVAP_K_STRUCTLIST, .max_count = (max_count_),   \
		.off = KVAP_OFF_(st, m, subtype *), .count_off = KVAP_OFF_(st, cnt, uint32_t),     \
		.sub = &(sub_)                                                                     \
	}

#define KVAP_SCHEMA(var, st, fields_, valid_)                                                      \
	const struct kvap_schema var = { .name = #st,                                              \
					 .size = sizeof(st),                                       \
					 .fields = fields_,                                        \
					 .n_fields = sizeof(fields_) / sizeof((fields_)[0]),       \
					 .valid = (valid_) }

#endif
