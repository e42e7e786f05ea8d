/* aml_data.c - AML data objects: integers, strings, EisaId, ToUUID, buffers.
 *
 * Owns: the encodings of ComputationalData the DSDT uses (ACPI 6, 20.2.3),
 * plus the EisaId compression (ACPI 6, 19.6.35) and the ToUUID byte order
 * (19.6.136). */
#include "aml.h"

#include <errno.h>
#include <string.h>

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t enc[9];
	size_t n;

	if (v == 0 || v == 1) {
		aml_byte(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	if (v == UINT64_MAX) {
		aml_byte(a, AML_ONES); /* all ones in a revision 2 (64-bit) table */
		return;
	}
	if (v <= UINT8_MAX) {
		enc[0] = AML_BYTE_PREFIX, n = 1;
	} else if (v <= UINT16_MAX) {
		enc[0] = AML_WORD_PREFIX, n = 2;
	} else if (v <= UINT32_MAX) {
		enc[0] = AML_DWORD_PREFIX, n = 4;
	} else {
		enc[0] = AML_QWORD_PREFIX, n = 8;
	}
	for (size_t i = 0; i < n; i++)
		enc[1 + i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, enc, 1 + n);
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int aml_eisaid_value(const char *id, uint32_t *out)
{
	uint32_t letters = 0, digits = 0;

	if (strlen(id) != 7)
		return -EINVAL;
	/* Three upper-case letters, five bits each, then four hex digits
	 * (upper case, as the compressed form has no case). */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		letters = (letters << 5) | (uint32_t)(id[i] - 0x40);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0 || (id[i] >= 'a' && id[i] <= 'f'))
			return -EINVAL;
		digits = (digits << 4) | (uint32_t)d;
	}
	/* The five bytes' worth of data is stored big-endian: letters (16
	 * bits) then digits (16 bits); read back as a little-endian DWord. */
	*out = (letters >> 8) | (letters & 0xff) << 8 | (digits >> 8) << 16 | (digits & 0xff) << 24;
	return 0;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v;
	int r = aml_eisaid_value(id, &v);
	uint8_t enc[5] = { AML_DWORD_PREFIX, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			   (uint8_t)(v >> 24) };

	if (r < 0) {
		aml_fail(a, r);
		return;
	}
	aml_bytes(a, enc, sizeof(enc)); /* always a DWord, so it reads back as EisaId */
}

int aml_uuid_bytes(const char *uuid, uint8_t out[16])
{
	/* Order of the string's bytes in the buffer: the first three fields
	 * are little-endian, the last two are kept in string order. */
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t s[16];
	const char *p = uuid;

	if (strlen(uuid) != 36)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		int hi, lo;

		if (p - uuid == 8 || p - uuid == 13 || p - uuid == 18 || p - uuid == 23) {
			if (*p++ != '-')
				return -EINVAL;
		}
		hi = hex_digit(p[0]);
		lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		s[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	for (int i = 0; i < 16; i++)
		out[i] = s[order[i]];
	return 0;
}

void aml_uuid(struct aml *a, const char *uuid)
{
	uint8_t b[16];
	int r = aml_uuid_bytes(uuid, b);

	if (r < 0) {
		aml_fail(a, r);
		return;
	}
	aml_buffer(a, b, sizeof(b));
}

void aml_buffer(struct aml *a, const void *data, size_t n)
{
	size_t m;

	aml_byte(a, AML_BUFFER_OP);
	m = aml_begin(a);
	aml_integer(a, n);
	aml_bytes(a, data, n);
	aml_end(a, m);
}
