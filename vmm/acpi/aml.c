/* aml.c - AML encoder core: the output buffer, package lengths, name
 * strings, named objects and blocks.
 *
 * Owns: aml_init/aml_byte(s)/aml_fail, PkgLength encoding and the
 * aml_begin/aml_end scopes, NameString encoding, and Name, Scope, Device,
 * Method, Package and If. Data objects are in aml_data.c, resource
 * descriptors in aml_res.c. Encodings follow ACPI 6, section 20.2. */
#include "aml.h"

#include <errno.h>
#include <string.h>

/* Largest PkgLength value encodable in 1, 2, 3 and 4 bytes. */
static const size_t pkglen_max[4] = { 0x3f, 0xfff, 0xfffff, AML_PKGLEN_MAX };

void aml_init(struct aml *a, void *buf, size_t cap)
{
	a->buf = buf;
	a->cap = cap;
	a->len = 0;
	a->err = 0;
}

void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

int aml_pkglen_encode(size_t value, uint8_t out[4])
{
	int n;

	if (value == 0 || value > AML_PKGLEN_MAX)
		return -ERANGE;
	for (n = 1; value > pkglen_max[n - 1]; n++)
		;
	if (n == 1) {
		out[0] = (uint8_t)value;
		return 1;
	}
	/* Lead byte: bits 7-6 count the following bytes, bits 3-0 hold the
	 * least significant nibble; each following byte adds 8 more bits. */
	out[0] = (uint8_t)(((n - 1) << 6) | (value & 0x0f));
	for (int i = 1; i < n; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return n;
}

size_t aml_begin(struct aml *a)
{
	static const uint8_t reserve[4];
	size_t mark = a->len;

	/* Reserve the largest encoding; aml_end() shrinks it. */
	aml_bytes(a, reserve, sizeof(reserve));
	return mark;
}

void aml_end(struct aml *a, size_t mark)
{
	uint8_t enc[4];
	size_t body;
	int n;

	if (a->err)
		return;
	if (mark > a->len || a->len - mark < 4) {
		aml_fail(a, -EINVAL);
		return;
	}
	body = a->len - mark - 4;
	for (n = 1; n <= 4 && body + (size_t)n > pkglen_max[n - 1]; n++)
		;
	if (n > 4 || aml_pkglen_encode(body + (size_t)n, enc) != n) {
		aml_fail(a, -ERANGE);
		return;
	}
	memmove(a->buf + mark + n, a->buf + mark + 4, body);
	memcpy(a->buf + mark, enc, (size_t)n);
	a->len = mark + (size_t)n + body;
}

static bool name_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_lead_char(c) || (c >= '0' && c <= '9');
}

/* Emit one NameSeg from s (up to '.' or the end); returns its length or -EINVAL. */
static int name_seg(struct aml *a, const char *s)
{
	uint8_t seg[4] = { '_', '_', '_', '_' };
	int n;

	for (n = 0; s[n] && s[n] != '.'; n++) {
		if (n == 4 || !(n == 0 ? name_lead_char(s[n]) : name_char(s[n])))
			return -EINVAL;
		seg[n] = (uint8_t)s[n];
	}
	if (n == 0)
		return -EINVAL;
	aml_bytes(a, seg, sizeof(seg));
	return n;
}

void aml_name_string(struct aml *a, const char *path)
{
	size_t nseg = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		for (; *p == '^'; p++)
			aml_byte(a, AML_PARENT_PREFIX);
	}
	if (*p == '\0') {
		aml_byte(a, AML_ZERO); /* NullName */
		return;
	}
	for (const char *q = p; *q; q++)
		nseg += *q == '.';
	nseg++;
	if (nseg > 255) {
		aml_fail(a, -EINVAL);
		return;
	}
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nseg);
	}
	for (size_t i = 0; i < nseg; i++) {
		int n = name_seg(a, p);

		if (n < 0) {
			aml_fail(a, n);
			return;
		}
		p += n + (i + 1 < nseg); /* skip the '.' */
	}
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	size_t m;

	aml_byte(a, AML_SCOPE_OP);
	m = aml_begin(a);
	aml_name_string(a, path);
	return m;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	size_t m;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_EXT_DEVICE_OP);
	m = aml_begin(a);
	aml_name_string(a, path);
	return m;
}

size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs, bool serialized)
{
	size_t m;

	if (nargs > 7)
		aml_fail(a, -EINVAL);
	aml_byte(a, AML_METHOD_OP);
	m = aml_begin(a);
	aml_name_string(a, name);
	/* MethodFlags: bits 2-0 argument count, bit 3 serialized, sync level 0. */
	aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
	return m;
}

size_t aml_package_begin(struct aml *a, uint8_t nelems)
{
	size_t m;

	aml_byte(a, AML_PACKAGE_OP);
	m = aml_begin(a);
	aml_byte(a, nelems);
	return m;
}

size_t aml_if_begin(struct aml *a)
{
	aml_byte(a, AML_IF_OP);
	return aml_begin(a);
}
