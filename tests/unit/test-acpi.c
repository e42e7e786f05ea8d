/* Unit tests for vmm/acpi: the AML encoder, config validation and the
 * generated tables (checksums, lengths, signatures, links, contents). */
#include "acpi-test-config.h"
#include "acpi.h"
#include "aml.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *memfind(const uint8_t *h, size_t hn, const void *n, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++)
		if (memcmp(h + i, n, nn) == 0)
			return h + i;
	return NULL;
}

/* --- AML encoder -------------------------------------------------------- */

/* Run the statements on a fresh encoder `a` and compare its output with the bytes. */
#define EMITS(stmts, ...)                                                                          \
	({                                                                                         \
		static const uint8_t want_[] = { __VA_ARGS__ };                                    \
		uint8_t buf_[64];                                                                  \
		struct aml a_, *a = &a_;                                                           \
		aml_init(a, buf_, sizeof(buf_));                                                   \
		stmts;                                                                             \
		a_.err == 0 && a_.len == sizeof(want_) && memcmp(buf_, want_, sizeof(want_)) == 0; \
	})

static int pkglen_is(size_t v, int n, const uint8_t *want)
{
	uint8_t out[4];

	return aml_pkglen_encode(v, out) == n && memcmp(out, want, (size_t)n) == 0;
}

/* Open a scope around body bytes and check the PkgLength aml_end() chose. */
static int scope_pkglen(size_t body, int want_n)
{
	size_t cap = body + 8, m;
	uint8_t *buf = calloc(1, cap), *zero = calloc(1, body ? body : 1), enc[4];
	struct aml a;
	int ok_;

	aml_init(&a, buf, cap);
	m = aml_begin(&a);
	aml_bytes(&a, zero, body);
	aml_end(&a, m);
	ok_ = a.err == 0 && m == 0 && a.len == body + (size_t)want_n &&
	      aml_pkglen_encode(body + (size_t)want_n, enc) == want_n &&
	      memcmp(buf, enc, (size_t)want_n) == 0;
	free(buf);
	free(zero);
	return ok_;
}

static int name_err(const char *path)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, path);
	return a.err == -EINVAL;
}

#define NAME(p) aml_name_string(a, p)
#define INT(v)	aml_integer(a, v)

static void test_aml(void)
{
	uint8_t uuid[16], *small;
	uint32_t v = 0;
	struct aml s;

	ok(pkglen_is(1, 1, (uint8_t[]){ 0x01 }) && pkglen_is(63, 1, (uint8_t[]){ 0x3f }),
	   "pkglen: 1 and 63 take one byte");
	ok(pkglen_is(64, 2, (uint8_t[]){ 0x40, 0x04 }) &&
	       pkglen_is(4095, 2, (uint8_t[]){ 0x4f, 0xff }),
	   "pkglen: 64 and 4095 take two bytes");
	ok(pkglen_is(4096, 3, (uint8_t[]){ 0x80, 0x00, 0x01 }) &&
	       pkglen_is(0xfffff, 3, (uint8_t[]){ 0x8f, 0xff, 0xff }),
	   "pkglen: 4096 and 2^20-1 take three bytes");
	ok(pkglen_is(0x100000, 4, (uint8_t[]){ 0xc0, 0x00, 0x00, 0x01 }) &&
	       pkglen_is(0xfffffff, 4, (uint8_t[]){ 0xcf, 0xff, 0xff, 0xff }),
	   "pkglen: 2^20 and 2^28-1 take four bytes");
	ok(aml_pkglen_encode(0x10000000, (uint8_t[4]){ 0 }) == -ERANGE &&
	       aml_pkglen_encode(0, (uint8_t[4]){ 0 }) == -ERANGE,
	   "pkglen: 0 and 2^28 are rejected");
	ok(scope_pkglen(0, 1) && scope_pkglen(62, 1) && scope_pkglen(63, 2),
	   "scope: a 62-byte body fits a 1-byte pkglen, 63 needs 2 (the length counts itself)");
	ok(scope_pkglen(4093, 2) && scope_pkglen(4094, 3), "scope: 2/3-byte pkglen boundary");
	ok(scope_pkglen(0xffffc, 3) && scope_pkglen(0xffffd, 4), "scope: 3/4-byte pkglen boundary");

	ok(EMITS((NAME("_HID")), '_', 'H', 'I', 'D'), "name: single segment");
	ok(EMITS((NAME("_S5")), '_', 'S', '5', '_'), "name: short segment is padded with _");
	ok(EMITS((NAME("\\_SB.PCI0")), 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'),
	   "name: rooted dual name path");
	ok(EMITS((NAME("\\_SB.PCI0.COM1")), 0x5c, 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		 'C', 'O', 'M', '1'),
	   "name: multi name path");
	ok(EMITS((NAME("^^PCI0")), 0x5e, 0x5e, 'P', 'C', 'I', '0') &&
	       EMITS((NAME("\\")), 0x5c, 0x00),
	   "name: parent prefixes, and the bare root as NullName");
	ok(name_err("pci0") && name_err("ABCDE") && name_err("1ABC") && name_err("A..B") &&
	       name_err("\\_SB.") && name_err("\\^A"),
	   "name: lower case, long, digit-first, empty segments and \\^ are rejected");

	ok(EMITS((INT(0)), 0x00) && EMITS((INT(1)), 0x01) && EMITS((INT(UINT64_MAX)), 0xff),
	   "integer: Zero, One, Ones");
	ok(EMITS((INT(2)), 0x0a, 0x02) && EMITS((INT(0xff)), 0x0a, 0xff), "integer: BytePrefix");
	ok(EMITS((INT(0x100)), 0x0b, 0x00, 0x01) && EMITS((INT(0xffff)), 0x0b, 0xff, 0xff),
	   "integer: WordPrefix");
	ok(EMITS((INT(0x10000)), 0x0c, 0x00, 0x00, 0x01, 0x00) &&
	       EMITS((INT(0xffffffff)), 0x0c, 0xff, 0xff, 0xff, 0xff),
	   "integer: DWordPrefix");
	ok(EMITS((INT(0x100000000ull)), 0x0e, 0, 0, 0, 0, 1, 0, 0, 0) &&
	       EMITS((INT(0xfffffffffffffffeull)), 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		     0xff),
	   "integer: QWordPrefix");
	ok(EMITS((aml_string(a, "ab")), 0x0d, 'a', 'b', 0x00), "string: prefix and NUL");

	ok(aml_eisaid_value("PNP0A08", &v) == 0 && v == 0x080ad041, "EisaId(PNP0A08) = 0x080AD041");
	ok(aml_eisaid_value("PNP0501", &v) == 0 && v == 0x0105d041 &&
	       aml_eisaid_value("PNP0C02", &v) == 0 && v == 0x020cd041,
	   "EisaId(PNP0501) and EisaId(PNP0C02)");
	ok(EMITS((aml_eisaid(a, "PNP0A03")), 0x0c, 0x41, 0xd0, 0x0a, 0x03),
	   "EisaId is emitted as a DWord");
	ok(aml_eisaid_value("pnp0a08", &v) == -EINVAL &&
	       aml_eisaid_value("PNP0A0", &v) == -EINVAL &&
	       aml_eisaid_value("PNP0a08", &v) == -EINVAL,
	   "EisaId: malformed ids are rejected");
	ok(aml_uuid_bytes("33db4d5b-1ff7-401c-9657-7441c03dd766", uuid) == 0 &&
	       memcmp(uuid,
		      (uint8_t[]){ 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40, 0x96, 0x57, 0x74,
				   0x41, 0xc0, 0x3d, 0xd7, 0x66 },
		      16) == 0,
	   "ToUUID byte order");
	ok(aml_uuid_bytes("33db4d5b-1ff7-401c-9657-7441c03dd76", uuid) == -EINVAL &&
	       aml_uuid_bytes("33db4d5b+1ff7-401c-9657-7441c03dd766", uuid) == -EINVAL,
	   "ToUUID: malformed strings are rejected");
	ok(EMITS((aml_buffer(a, "\x01\x02", 2)), 0x11, 0x05, 0x0a, 0x02, 0x01, 0x02),
	   "Buffer: BufferOp, PkgLength, BufferSize, bytes");
	ok(EMITS(({
			 size_t m = aml_method_begin(a, "_OSC", 4, true);
			 aml_end(a, m);
		 }),
		 0x14, 0x06, '_', 'O', 'S', 'C', 0x0c),
	   "Method: flags carry the argument count and Serialized");
	ok(EMITS(({
			 size_t m = aml_package_begin(a, 2);
			 INT(5);
			 INT(0);
			 aml_end(a, m);
		 }),
		 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00),
	   "Package: NumElements then elements");
	ok(EMITS(({
			 size_t m = aml_device_begin(a, "COM1");
			 aml_end(a, m);
		 }),
		 0x5b, 0x82, 0x05, 'C', 'O', 'M', '1'),
	   "Device: ExtOpPrefix DeviceOp");

	ok(EMITS((aml_res_io(a, 0x3f8, 8)), 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08) &&
	       EMITS((aml_res_irq_noflags(a, 4)), 0x22, 0x10, 0x00),
	   "resource: IO (Decode16) and IRQNoFlags");
	ok(EMITS((aml_res_word_bus(a, 0, 256)), 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0,
		 0xff, 0x00, 0, 0, 0x00, 0x01),
	   "resource: WordBusNumber producer, MinFixed MaxFixed");
	{
		uint8_t buf[64];
		struct aml r;

		aml_init(&r, buf, sizeof(buf));
		aml_res_io(&r, 0x3f8, 8);
		aml_res_irq_noflags(&r, 4);
		aml_res_dword_mem(&r, true, 0xc0000000, 0x20000000);
		aml_res_end(&r);
		ok(r.err == 0 && r.len == 8 + 3 + 26 + 2 && buf[r.len - 2] == 0x79 &&
		       sum8(buf, r.len) == 0,
		   "resource: end tag checksum makes the template sum to zero");
		ok(buf[11] == 0x87 && le32(buf + 11 + 10) == 0xc0000000 &&
		       le32(buf + 11 + 14) == 0xdfffffff && le32(buf + 11 + 22) == 0x20000000,
		   "resource: DWordMemory min, max and length");
	}
	{
		uint8_t buf[64];
		struct aml r;

		aml_init(&r, buf, sizeof(buf));
		aml_res_word_io(&r, 0xf000, 0x2000);
		aml_res_io(&r, 0xfffc, 8);
		aml_res_irq_noflags(&r, 16);
		aml_res_dword_mem(&r, false, 0, 0x100000000ull);
		ok(r.err == -ERANGE && r.len == 0,
		   "resource: out-of-range descriptors are refused");
	}

	small = malloc(3); /* exact size, so ASan sees any overrun */
	aml_init(&s, small, 3);
	aml_integer(&s, 0x10000);
	ok(s.err == -ENOSPC && s.len == 0, "overflow: -ENOSPC and nothing written");
	aml_byte(&s, 1);
	ok(s.err == -ENOSPC && s.len == 0, "overflow: the error is sticky");
	free(small);
}

/* --- configuration -------------------------------------------------------- */

static int build_err(struct acpi_config c)
{
	uint8_t *buf = malloc(ACPI_TABLES_MAX_SIZE);
	uint64_t rsdp = 0;
	size_t used = 0;
	int r = acpi_build(&c, buf, ACPI_TABLES_MAX_SIZE, TEST_ACPI_GPA, &rsdp, &used);

	free(buf);
	return r;
}

#define BAD(field_assignment, what)                                                                \
	do {                                                                                       \
		struct acpi_config c = acpi_test_config(2);                                        \
		c.field_assignment;                                                                \
		ok(build_err(c) == -EINVAL && acpi_config_check(&c) == -EINVAL, "EINVAL: %s",      \
		   what);                                                                          \
	} while (0)

static void test_config(void)
{
	struct acpi_config c255 = acpi_test_config(255);
	uint8_t buf[64];
	uint64_t rsdp;
	size_t used;

	ok(build_err(acpi_test_config(2)) == 0 && acpi_config_check(&c255) == 0,
	   "the test configuration is valid");
	BAD(ncpus = 0, "no CPUs");
	BAD(ncpus = 256, "256 CPUs");
	BAD(ioapic_id = 1, "IOAPIC ID equal to a CPU's APIC ID");
	c255.ioapic_id = 254;
	ok(acpi_config_check(&c255) == -EINVAL, "EINVAL: IOAPIC ID 254 with 255 CPUs");
	BAD(ioapic_gsi_base = 24, "IOAPIC GSI base not 0");
	BAD(lapic_addr = 0xfee00800, "unaligned local APIC");
	BAD(ioapic_addr = 0x100000000ull, "IOAPIC above 4 GiB");
	BAD(ioapic_addr = 0xfee00000, "IOAPIC on the local APIC");
	BAD(bus_start = 5; c.bus_end = 4, "bus_start > bus_end");
	BAD(ecam_base = 0xe0080000, "unaligned ECAM");
	BAD(pci_io_size = 0, "empty I/O window");
	BAD(pci_io_base = 0x800, "I/O window in the ISA range");
	BAD(pci_io_base = 0xf800, "I/O window past 0xffff");
	BAD(pci_mmio32_size = 0, "empty 32-bit window");
	BAD(pci_mmio32_size = 0x30000000, "32-bit window over the ECAM");
	BAD(pci_mmio32_base = 0xfe000000;
	    c.pci_mmio32_size = 0x1000000, "32-bit window over the APICs");
	BAD(pci_mmio32_base = 0xffff0000, "32-bit window crossing 4 GiB");
	BAD(pci_mmio64_size = 0, "empty 64-bit window");
	BAD(pci_mmio64_base = 0x80000000, "64-bit window below 4 GiB");
	BAD(pci_mmio64_base = UINT64_MAX, "64-bit window wrapping");
	BAD(sleep_ctl_port = 0, "no sleep control port");
	BAD(sleep_sts_port = 0x2000, "sleep status port in the PCI I/O window");
	BAD(reset_port = 0xcf9, "reset port in the PCI config ports");
	BAD(reset_port = 0x3f9, "reset port in COM1");
	BAD(reset_port = 0x600; c.reset_value = 0x34, "reset value that reads as an S5 request");
	BAD(reset_port = 0x601; c.reset_value = 0x80, "reset value equal to the WAK_STS clear");

	ok(acpi_config_check(NULL) == -EINVAL &&
	       acpi_build(NULL, buf, sizeof(buf), 0, &rsdp, &used) == -EINVAL,
	   "EINVAL: no config");
	{
		struct acpi_config c = acpi_test_config(1);

		ok(acpi_build(&c, buf, sizeof(buf), 0xe0008, &rsdp, &used) == -EINVAL,
		   "EINVAL: RSDP address not 16-byte aligned");
		c.reset_port = c.sleep_ctl_port;
		ok(acpi_config_check(&c) == 0, "one port may serve as sleep control and reset");
	}
}

/* --- generated tables ----------------------------------------------------- */

struct built {
	uint8_t *buf;
	size_t used;
};

/* The table at gpa with signature sig, inside the used part of the buffer. */
static const uint8_t *table_at(const struct built *b, uint64_t gpa, const char *sig)
{
	uint64_t off = gpa - TEST_ACPI_GPA;
	const uint8_t *t;

	if (gpa < TEST_ACPI_GPA || off + ACPI_SDT_HEADER_SIZE > b->used)
		return NULL;
	t = b->buf + off;
	if (memcmp(t, sig, 4) != 0 || le32(t + 4) < ACPI_SDT_HEADER_SIZE ||
	    off + le32(t + 4) > b->used)
		return NULL;
	return t;
}

static int sdt_ok(const uint8_t *t, uint32_t len, uint8_t rev)
{
	return t && le32(t + 4) == len && t[8] == rev && sum8(t, len) == 0;
}

static int gpa_aligned(const struct built *b, const uint8_t *t)
{
	return t && (TEST_ACPI_GPA + (uint64_t)(t - b->buf)) % ACPI_TABLE_ALIGN == 0;
}

static int gas_io8(const uint8_t *g, uint16_t port)
{
	return g[0] == 1 && g[1] == 8 && g[2] == 0 && g[3] == 1 && le64(g + 4) == port;
}

static void test_tables(uint32_t ncpus)
{
	struct acpi_config cfg = acpi_test_config(ncpus);
	struct built b = { malloc(ACPI_TABLES_MAX_SIZE), 0 };
	const uint8_t *x = NULL, *f = NULL, *d = NULL, *m = NULL, *mc = NULL;
	uint64_t rsdp = 0;
	int r = acpi_build(&cfg, b.buf, ACPI_TABLES_MAX_SIZE, TEST_ACPI_GPA, &rsdp, &b.used);
	uint32_t nlapic = 0, nioapic = 0, niso = 0, ids_ok = 1;

	diag("ncpus=%u: %zu bytes", ncpus, b.used);
	ok(r == 0 && rsdp == TEST_ACPI_GPA && b.used > 0 && b.used <= ACPI_TABLES_MAX_SIZE,
	   "ncpus=%u: built, RSDP at buf_gpa, fits in 128 KiB", ncpus);
	ok(memcmp(b.buf, "RSD PTR ", 8) == 0 && b.buf[15] == 2 && le32(b.buf + 20) == 36 &&
	       sum8(b.buf, 20) == 0 && sum8(b.buf, 36) == 0 && rsdp % 16 == 0,
	   "ncpus=%u: RSDP revision 2, both checksums, 16-byte aligned", ncpus);
	if (r == 0)
		x = table_at(&b, le64(b.buf + 24), "XSDT");
	ok(sdt_ok(x, ACPI_XSDT_SIZE(3), 1) && gpa_aligned(&b, x), "ncpus=%u: XSDT", ncpus);
	if (x) {
		f = table_at(&b, le64(x + 36), "FACP");
		m = table_at(&b, le64(x + 44), "APIC");
		mc = table_at(&b, le64(x + 52), "MCFG");
	}
	ok(f && m && mc, "ncpus=%u: XSDT points at FACP, APIC, MCFG in the buffer", ncpus);

	ok(sdt_ok(f, ACPI_FADT_SIZE, 6) && gpa_aligned(&b, f) && f && f[131] == 5,
	   "ncpus=%u: FADT revision 6.5, checksum", ncpus);
	if (f)
		d = table_at(&b, le64(f + 140), "DSDT");
	ok(d && sum8(d, le32(d + 4)) == 0 && d[8] == 2 && gpa_aligned(&b, d) &&
	       le32(f + 40) == le64(f + 140),
	   "ncpus=%u: X_DSDT (and DSDT) point at a valid DSDT", ncpus);
	ok(f && (le32(f + 112) & (1u << 20)) && (le32(f + 112) & (1u << 10)) &&
	       gas_io8(f + 116, cfg.reset_port) && f[128] == cfg.reset_value,
	   "ncpus=%u: FADT hardware-reduced, reset register", ncpus);
	ok(f && gas_io8(f + 244, cfg.sleep_ctl_port) && gas_io8(f + 256, cfg.sleep_sts_port) &&
	       le32(f + 36) == 0 && le64(f + 132) == 0,
	   "ncpus=%u: FADT sleep control/status registers, no FACS", ncpus);
	ok(f && !(f[109] & 0x02) && (f[109] & 0x04) && (f[109] & 0x20) && !(f[109] & 0x08),
	   "ncpus=%u: IA-PC boot flags: no 8042, no VGA, no CMOS RTC, MSI allowed", ncpus);

	ok(sdt_ok(m, ACPI_MADT_SIZE(ncpus), 5) && gpa_aligned(&b, m) &&
	       le32(m + 36) == 0xfee00000 && (le32(m + 40) & 1),
	   "ncpus=%u: MADT length, checksum, LAPIC address, PCAT_COMPAT", ncpus);
	if (m) {
		const uint8_t *e = m + 44, *end = m + le32(m + 4);

		for (; e + 2 <= end && e[1] >= 2 && e + e[1] <= end; e += e[1]) {
			if (e[0] == 0 && e[1] == 8) {
				ids_ok &= e[2] == nlapic && e[3] == nlapic && le32(e + 4) == 1;
				nlapic++;
			} else if (e[0] == 1 && e[1] == 12) {
				ids_ok &= e[2] == cfg.ioapic_id && le32(e + 4) == 0xfec00000 &&
					  le32(e + 8) == 0;
				nioapic++;
			} else if (e[0] == 2 && e[1] == 10) {
				ids_ok &= e[2] == 0 && e[3] == 0 && le32(e + 4) == 2;
				niso++;
			}
		}
		ids_ok &= e == end;
	}
	ok(nlapic == ncpus && nioapic == 1 && niso == 1 && ids_ok,
	   "ncpus=%u: MADT has %u enabled LAPICs (IDs 0..n-1), one IOAPIC, IRQ0->GSI2", ncpus,
	   nlapic);

	ok(sdt_ok(mc, ACPI_MCFG_SIZE, 1) && gpa_aligned(&b, mc) && le64(mc + 44) == cfg.ecam_base &&
	       mc[52] == 0 && mc[53] == 0 && mc[54] == cfg.bus_start && mc[55] == cfg.bus_end,
	   "ncpus=%u: MCFG allocation", ncpus);
	ok(x && f && d && m && mc && x < f && f + le32(f + 4) <= d && d + le32(d + 4) <= m &&
	       m + le32(m + 4) <= mc && mc + le32(mc + 4) == b.buf + b.used,
	   "ncpus=%u: tables laid out in order without overlap", ncpus);
	if (d) {
		size_t dl = le32(d + 4);
		const uint8_t *s5 = memfind(d, dl, "\x08_S5_\x12", 6);

		ok(memfind(d, dl, "\x5b\x82", 2) && memfind(d, dl, "PCI0", 4) &&
		       memfind(d, dl, "COM1", 4) && memfind(d, dl, "_CRS", 4) &&
		       memfind(d, dl, "_OSC", 4) && memfind(d, dl, "MRES", 4),
		   "ncpus=%u: DSDT names PCI0, COM1, MRES, _CRS, _OSC", ncpus);
		ok(s5 && s5 + 10 <= d + dl && s5[7] == 4 && s5[8] == 0x0a &&
		       s5[9] == ACPI_S5_SLP_TYP,
		   "ncpus=%u: \\_S5 package starts with SLP_TYP %u", ncpus, ACPI_S5_SLP_TYP);
	} else {
		ok(0, "ncpus=%u: DSDT names", ncpus);
		ok(0, "ncpus=%u: \\_S5", ncpus);
	}
	free(b.buf);
}

/* --- buffer bounds -------------------------------------------------------- */

static void test_bounds(void)
{
	struct acpi_config c = acpi_test_config(2);
	uint8_t *big = malloc(ACPI_TABLES_MAX_SIZE + 64);
	uint64_t rsdp;
	size_t used = 0, u2;
	int all_enospc = 1, untouched = 1;

	ok(acpi_build(&c, big, ACPI_TABLES_MAX_SIZE, TEST_ACPI_GPA, &rsdp, &used) == 0,
	   "bounds: reference build");
	for (size_t size = 0; size < used; size++) {
		uint8_t *exact = size ? malloc(size) : NULL; /* ASan flags any write past size */

		all_enospc &= acpi_build(&c, exact, size, TEST_ACPI_GPA, &rsdp, &u2) == -ENOSPC;
		free(exact);
	}
	ok(all_enospc, "bounds: every size below %zu bytes gives -ENOSPC", used);
	{
		uint8_t *exact = malloc(used);

		ok(acpi_build(&c, exact, used, TEST_ACPI_GPA, &rsdp, &u2) == 0 && u2 == used,
		   "bounds: exactly %zu bytes is enough", used);
		free(exact);
	}
	memset(big, 0xa5, ACPI_TABLES_MAX_SIZE + 64);
	ok(acpi_build(&c, big, ACPI_TABLES_MAX_SIZE + 64, TEST_ACPI_GPA, &rsdp, &u2) == 0,
	   "bounds: a bigger buffer works");
	for (size_t i = ACPI_TABLES_MAX_SIZE; i < ACPI_TABLES_MAX_SIZE + 64; i++)
		untouched &= big[i] == 0xa5;
	ok(untouched, "bounds: nothing past 128 KiB is touched");
	free(big);

	c = acpi_test_config(255);
	big = malloc(ACPI_TABLES_MAX_SIZE);
	ok(acpi_build(&c, big, ACPI_TABLES_MAX_SIZE, TEST_ACPI_GPA, &rsdp, &used) == 0 &&
	       acpi_build(&c, big, used - 1, TEST_ACPI_GPA, &rsdp, &u2) == -ENOSPC,
	   "bounds: 255 CPUs, one byte short gives -ENOSPC");
	free(big);
}

static void test_sleep_decode(void)
{
	uint8_t typ = 0;

	ok(acpi_sleep_ctl_decode(ACPI_S5_SLEEP_CTL, &typ) && typ == ACPI_S5_SLP_TYP &&
	       ACPI_S5_SLEEP_CTL == 0x34,
	   "sleep decode: 0x34 is S5");
	ok(!acpi_sleep_ctl_decode(ACPI_WAK_STS, &typ) && !acpi_sleep_ctl_decode(0x14, &typ),
	   "sleep decode: writes without SLP_EN are not requests");
}

int main(void)
{
	tap_plan(37 + 30 + 3 * 15 + 6 + 2);
	test_aml();
	test_config();
	test_tables(1);
	test_tables(2);
	test_tables(255);
	test_bounds();
	test_sleep_decode();
	return tap_done();
}
