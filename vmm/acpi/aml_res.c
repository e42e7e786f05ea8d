/* aml_res.c - resource template descriptors for _CRS (ACPI 6, section 6.4).
 *
 * Owns: the small (I/O port, IRQ, end tag) and large (Word/DWord/QWord
 * address space) resource descriptors the DSDT uses, and wrapping a finished
 * template in a Buffer. Address space descriptors are always emitted with
 * fixed minimum and maximum, positive decode, granularity 0, no translation. */
#include "aml.h"

#include <errno.h>

/* Small descriptor tags: type << 3 | length. */
#define RES_IRQ_NOFLAGS 0x22 /* type 0x04, 2 bytes */
#define RES_IO		0x47 /* type 0x08, 7 bytes */
#define RES_END_TAG	0x79 /* type 0x0f, 1 byte */
/* Large descriptor types. */
#define RES_DWORD_ADDR 0x87
#define RES_WORD_ADDR  0x88
#define RES_QWORD_ADDR 0x8a

/* Address space descriptor fields. */
#define ADDR_TYPE_MEM  0
#define ADDR_TYPE_IO   1
#define ADDR_TYPE_BUS  2
#define ADDR_CONSUMER  0x01 /* general flags bit 0: 1 consumes, 0 produces (a window) */
#define ADDR_MIN_FIXED 0x04
#define ADDR_MAX_FIXED 0x08
#define ADDR_MEM_RW    0x01 /* memory type flags: read-write, non-cacheable */
#define ADDR_IO_ENTIRE 0x03 /* I/O type flags: decodes ISA and non-ISA ranges */

static void put_le(struct aml *r, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		aml_byte(r, (uint8_t)(v >> (8 * i)));
}

void aml_res_io(struct aml *r, uint16_t base, uint8_t size)
{
	if (size == 0 || (uint32_t)base + size - 1 > UINT16_MAX) {
		aml_fail(r, -ERANGE);
		return;
	}
	aml_byte(r, RES_IO);
	aml_byte(r, 0x01);  /* 16-bit decode */
	put_le(r, base, 2); /* minimum */
	put_le(r, base, 2); /* maximum: fixed */
	aml_byte(r, 0x01);  /* alignment */
	aml_byte(r, size);
}

void aml_res_irq_noflags(struct aml *r, uint8_t irq)
{
	if (irq > 15) {
		aml_fail(r, -ERANGE);
		return;
	}
	aml_byte(r, RES_IRQ_NOFLAGS);
	put_le(r, 1u << irq, 2); /* edge triggered, active high, exclusive */
}

/* One Word/DWord/QWord address space descriptor of n-byte fields. */
static void addr_space(struct aml *r, uint8_t tag, int n, uint8_t type, bool producer,
		       uint8_t type_flags, uint64_t base, uint64_t size)
{
	uint64_t field_max = n == 8 ? UINT64_MAX : (1ull << (8 * n)) - 1;

	if (size == 0 || size > field_max || base > field_max || size - 1 > field_max - base) {
		aml_fail(r, -ERANGE);
		return;
	}
	aml_byte(r, tag);
	put_le(r, 3u + 5u * (unsigned)n, 2); /* length after the 3-byte header */
	aml_byte(r, type);
	aml_byte(r, (uint8_t)(ADDR_MIN_FIXED | ADDR_MAX_FIXED | (producer ? 0 : ADDR_CONSUMER)));
	aml_byte(r, type_flags);
	put_le(r, 0, n);	       /* granularity */
	put_le(r, base, n);	       /* minimum */
	put_le(r, base + size - 1, n); /* maximum */
	put_le(r, 0, n);	       /* translation offset */
	put_le(r, size, n);	       /* length */
}

void aml_res_word_bus(struct aml *r, uint16_t base, uint32_t size)
{
	addr_space(r, RES_WORD_ADDR, 2, ADDR_TYPE_BUS, true, 0, base, size);
}

void aml_res_word_io(struct aml *r, uint16_t base, uint32_t size)
{
	addr_space(r, RES_WORD_ADDR, 2, ADDR_TYPE_IO, true, ADDR_IO_ENTIRE, base, size);
}

void aml_res_dword_mem(struct aml *r, bool producer, uint32_t base, uint64_t size)
{
	addr_space(r, RES_DWORD_ADDR, 4, ADDR_TYPE_MEM, producer, ADDR_MEM_RW, base, size);
}

void aml_res_qword_mem(struct aml *r, bool producer, uint64_t base, uint64_t size)
{
	addr_space(r, RES_QWORD_ADDR, 8, ADDR_TYPE_MEM, producer, ADDR_MEM_RW, base, size);
}

void aml_res_end(struct aml *r)
{
	uint8_t sum = RES_END_TAG;

	if (r->err)
		return;
	for (size_t i = 0; i < r->len; i++)
		sum = (uint8_t)(sum + r->buf[i]);
	aml_byte(r, RES_END_TAG);
	aml_byte(r, (uint8_t)-sum);
}

void aml_res_template(struct aml *a, const struct aml *r)
{
	if (r->err) {
		aml_fail(a, r->err);
		return;
	}
	aml_buffer(a, r->buf, r->len);
}
