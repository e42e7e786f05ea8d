/* wire.h - little-endian loads and stores and a bounded write cursor.
 *
 * Owns: the byte-level primitives every KVAP encoder and decoder uses.
 * Internal to agent-proto/. The write cursor counts bytes past its capacity
 * without storing them, so one encoder serves both to measure a message and
 * to write it. */
#ifndef KVRUN_KVAP_WIRE_H
#define KVRUN_KVAP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t kvap_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t kvap_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t kvap_ld64(const uint8_t *p)
{
	return (uint64_t)kvap_ld32(p) | (uint64_t)kvap_ld32(p + 4) << 32;
}

static inline void kvap_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void kvap_st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void kvap_st64(uint8_t *p, uint64_t v)
{
	kvap_st32(p, (uint32_t)v);
	kvap_st32(p + 4, (uint32_t)(v >> 32));
}

/* Write cursor: buf may be NULL with cap 0 to only measure. */
struct kvap_wbuf {
	uint8_t *buf;
	size_t cap;
	size_t pos;
};

/* True when [pos, pos+n) lies inside the buffer. */
static inline int kvap_wb_fits(const struct kvap_wbuf *w, size_t at, size_t n)
{
	return w->buf && at <= w->cap && n <= w->cap - at;
}

static inline void kvap_wb_put(struct kvap_wbuf *w, const void *p, size_t n)
{
	if (n && kvap_wb_fits(w, w->pos, n))
		memcpy(w->buf + w->pos, p, n);
	w->pos += n;
}

static inline void kvap_wb_u8(struct kvap_wbuf *w, uint8_t v)
{
	kvap_wb_put(w, &v, 1);
}

static inline void kvap_wb_u16(struct kvap_wbuf *w, uint16_t v)
{
	uint8_t b[2];
	kvap_st16(b, v);
	kvap_wb_put(w, b, sizeof(b));
}

static inline void kvap_wb_u32(struct kvap_wbuf *w, uint32_t v)
{
	uint8_t b[4];
	kvap_st32(b, v);
	kvap_wb_put(w, b, sizeof(b));
}

static inline void kvap_wb_u64(struct kvap_wbuf *w, uint64_t v)
{
	uint8_t b[8];
	kvap_st64(b, v);
	kvap_wb_put(w, b, sizeof(b));
}

/* Store v at an earlier position (a length placeholder). */
static inline void kvap_wb_patch32(struct kvap_wbuf *w, size_t at, uint32_t v)
{
	if (kvap_wb_fits(w, at, 4))
		kvap_st32(w->buf + at, v);
}

#endif
