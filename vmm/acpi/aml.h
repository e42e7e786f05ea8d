/* aml.h - a small encoder for ACPI Machine Language (ACPI 6, chapter 20).
 *
 * Owns: byte-level encoding of the AML the DSDT needs: package lengths, name
 * strings, named objects, scopes, devices, methods, packages and If blocks
 * (aml.c), integers, strings, EisaId and ToUUID values and buffers
 * (aml_data.c), and resource template descriptors (aml_res.c).
 *
 * Every call appends to a caller-provided buffer through struct aml. Errors
 * are sticky: the first failure (-ENOSPC when the buffer is full, -EINVAL for
 * a malformed name or id, -ERANGE for an unencodable length) is kept in
 * a->err, later calls do nothing, and the caller checks a->err once at the
 * end. Nothing is ever written past a->cap. */
#ifndef KVRUN_VMM_AML_H
#define KVRUN_VMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
};

/* Opcodes used by the DSDT builder (ACPI 6, 20.3). */
#define AML_ZERO	       0x00
#define AML_ONE		       0x01
#define AML_NAME_OP	       0x08
#define AML_BYTE_PREFIX	       0x0a
#define AML_WORD_PREFIX	       0x0b
#define AML_DWORD_PREFIX       0x0c
#define AML_STRING_PREFIX      0x0d
#define AML_QWORD_PREFIX       0x0e
#define AML_SCOPE_OP	       0x10
#define AML_BUFFER_OP	       0x11
#define AML_PACKAGE_OP	       0x12
#define AML_METHOD_OP	       0x14
#define AML_DUAL_NAME_PREFIX   0x2e
#define AML_MULTI_NAME_PREFIX  0x2f
#define AML_EXT_OP_PREFIX      0x5b
#define AML_EXT_DEVICE_OP      0x82
#define AML_ROOT_CHAR	       0x5c
#define AML_PARENT_PREFIX      0x5e
#define AML_LOCAL(n)	       (0x60 + (n))
#define AML_ARG(n)	       (0x68 + (n))
#define AML_OR_OP	       0x7d
#define AML_CREATE_DWORD_FIELD 0x8a
#define AML_LEQUAL_OP	       0x93
#define AML_IF_OP	       0xa0
#define AML_RETURN_OP	       0xa4
#define AML_ONES	       0xff

/* Largest PkgLength value (28 bits). */
#define AML_PKGLEN_MAX 0x0fffffffu

void aml_init(struct aml *a, void *buf, size_t cap);
void aml_fail(struct aml *a, int err); /* record err unless an error is already recorded */
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* Encode the PkgLength whose value (which counts the encoding's own bytes)
 * is `value` into out; returns the number of bytes, 1..4, or -ERANGE when
 * value is 0 or too large for the number of bytes it would need. */
int aml_pkglen_encode(size_t value, uint8_t out[4]);

/* Open a package-length scope: returns a mark to pass to aml_end() once the
 * contents are written; aml_end() writes the smallest PkgLength that covers
 * the contents. Scopes nest. */
size_t aml_begin(struct aml *a);
void aml_end(struct aml *a, size_t mark);

/* A NameString such as "_HID", "\\_SB.PCI0" or "^PCI0": optional root or
 * parent prefixes, then dot-separated segments of 1..4 characters ([A-Z_]
 * then [A-Z0-9_]) that are padded with '_'. "\\" alone is the root. */
void aml_name_string(struct aml *a, const char *path);

/* Data objects. */
void aml_integer(struct aml *a, uint64_t v); /* Zero, One, Ones or the smallest prefix */
void aml_string(struct aml *a, const char *s);
int aml_eisaid_value(const char *id, uint32_t *out);   /* "PNP0A08" -> 0x080ad041 */
void aml_eisaid(struct aml *a, const char *id);	       /* as a DWord integer */
int aml_uuid_bytes(const char *uuid, uint8_t out[16]); /* ToUUID byte order */
void aml_uuid(struct aml *a, const char *uuid);	       /* Buffer (16) {ToUUID} */
void aml_buffer(struct aml *a, const void *data, size_t n);

/* Named objects and blocks; every *_begin returns a mark for aml_end(). */
void aml_name(struct aml *a, const char *name); /* NameOp + name; the object follows */
size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs, bool serialized);
size_t aml_package_begin(struct aml *a, uint8_t nelems);
size_t aml_if_begin(struct aml *a); /* the predicate, then the body, follow */

/* Resource templates (aml_res.c). Build the descriptors in their own struct
 * aml, close with aml_res_end(), then emit the template as a Buffer with
 * aml_res_template(). Ranges are given as base and size (size >= 1). */
void aml_res_io(struct aml *r, uint16_t base, uint8_t size);	    /* IO (Decode16, fixed) */
void aml_res_irq_noflags(struct aml *r, uint8_t irq);		    /* IRQNoFlags () {irq} */
void aml_res_word_bus(struct aml *r, uint16_t base, uint32_t size); /* WordBusNumber producer */
void aml_res_word_io(struct aml *r, uint16_t base, uint32_t size);  /* WordIO producer */
void aml_res_dword_mem(struct aml *r, bool producer, uint32_t base, uint64_t size);
void aml_res_qword_mem(struct aml *r, bool producer, uint64_t base, uint64_t size);
void aml_res_end(struct aml *r); /* EndTag whose checksum makes the template sum to 0 */
void aml_res_template(struct aml *a, const struct aml *r);

#endif
