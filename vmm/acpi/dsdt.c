/* dsdt.c - the Differentiated System Description Table (ACPI 6, 5.2.11.1).
 *
 * Owns: the AML namespace the guest sees:
 *   \_SB.PCI0  PCIe host bridge (PNP0A08, compatible PNP0A03), segment 0,
 *              _CRS with its bus range, the 0xCF8 config ports and the I/O,
 *              32-bit and 64-bit MMIO windows, and an _OSC that hands every
 *              PCIe feature the OS asks for to the OS;
 *   \_SB.MRES  motherboard resources (PNP0C02) reserving the ECAM range, which
 *              Linux on x86 requires before it uses MMCONFIG;
 *   \_SB.COM1  16550 UART at 0x3F8, IRQ 4 (only when cfg->com1);
 *   \_S5       the soft-off sleep type, ACPI_S5_SLP_TYP.
 * There is no _PRT: every PCI device interrupts through MSI-X. See docs/acpi.md. */
#include "aml.h"
#include "tables.h"

#include <errno.h>

#define DSDT_REVISION 2 /* 64-bit AML integers */

/* PCI Firmware Specification: the PCI host bridge _OSC UUID. */
#define PCI_HOST_BRIDGE_OSC_UUID "33db4d5b-1ff7-401c-9657-7441c03dd766"
#define OSC_UNRECOGNIZED_UUID	 0x4 /* status DWORD bit 2 */

#define PCI_CONFIG_PORT 0xcf8
#define COM1_PORT	0x3f8

static void name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

static void name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisaid(a, id);
}

static uint64_t ecam_start(const struct acpi_config *cfg)
{
	return cfg->ecam_base + ((uint64_t)cfg->bus_start << 20);
}

static uint64_t ecam_size(const struct acpi_config *cfg)
{
	return (uint64_t)(cfg->bus_end - cfg->bus_start + 1) << 20;
}

/* Method (_OSC, 4, Serialized) {
 *     CreateDWordField (Arg3, Zero, CDW1)
 *     If (Arg0 == ToUUID (PCI host bridge)) { Return (Arg3) }
 *     CDW1 |= 4
 *     Return (Arg3)
 * }
 * Returning the capabilities buffer unchanged grants every control the OS
 * requests (there is no firmware to keep any); another UUID is refused. */
static void pci0_osc(struct aml *a)
{
	size_t m = aml_method_begin(a, "_OSC", 4, true), mif;

	aml_byte(a, AML_CREATE_DWORD_FIELD);
	aml_byte(a, AML_ARG(3));
	aml_integer(a, 0);
	aml_name_string(a, "CDW1");

	mif = aml_if_begin(a);
	aml_byte(a, AML_LEQUAL_OP);
	aml_byte(a, AML_ARG(0));
	aml_uuid(a, PCI_HOST_BRIDGE_OSC_UUID);
	aml_byte(a, AML_RETURN_OP);
	aml_byte(a, AML_ARG(3));
	aml_end(a, mif);

	aml_byte(a, AML_OR_OP);
	aml_name_string(a, "CDW1");
	aml_integer(a, OSC_UNRECOGNIZED_UUID);
	aml_name_string(a, "CDW1");
	aml_byte(a, AML_RETURN_OP);
	aml_byte(a, AML_ARG(3));
	aml_end(a, m);
}

static void pci0(struct aml *a, const struct acpi_config *cfg)
{
	uint8_t tmpl[160];
	struct aml r;
	size_t m = aml_device_begin(a, "PCI0");

	name_eisaid(a, "_HID", "PNP0A08");
	name_eisaid(a, "_CID", "PNP0A03");
	name_int(a, "_SEG", 0);
	name_int(a, "_BBN", cfg->bus_start);
	name_int(a, "_UID", 0);

	aml_init(&r, tmpl, sizeof(tmpl));
	aml_res_word_bus(&r, cfg->bus_start, (uint32_t)(cfg->bus_end - cfg->bus_start + 1));
	aml_res_io(&r, PCI_CONFIG_PORT, 8);
	aml_res_word_io(&r, cfg->pci_io_base, cfg->pci_io_size);
	aml_res_dword_mem(&r, true, (uint32_t)cfg->pci_mmio32_base, cfg->pci_mmio32_size);
	aml_res_qword_mem(&r, true, cfg->pci_mmio64_base, cfg->pci_mmio64_size);
	aml_res_end(&r);
	aml_name(a, "_CRS");
	aml_res_template(a, &r);

	pci0_osc(a);
	aml_end(a, m);
}

static void mres(struct aml *a, const struct acpi_config *cfg)
{
	uint8_t tmpl[64];
	struct aml r;
	size_t m = aml_device_begin(a, "MRES");

	name_eisaid(a, "_HID", "PNP0C02");
	name_int(a, "_UID", 0);
	aml_init(&r, tmpl, sizeof(tmpl));
	aml_res_qword_mem(&r, false, ecam_start(cfg), ecam_size(cfg));
	aml_res_end(&r);
	aml_name(a, "_CRS");
	aml_res_template(a, &r);
	aml_end(a, m);
}

static void com1(struct aml *a)
{
	uint8_t tmpl[16];
	struct aml r;
	size_t m = aml_device_begin(a, "COM1");

	name_eisaid(a, "_HID", "PNP0501");
	name_int(a, "_UID", 1);
	aml_init(&r, tmpl, sizeof(tmpl));
	aml_res_io(&r, COM1_PORT, 8);
	aml_res_irq_noflags(&r, ACPI_COM1_IRQ);
	aml_res_end(&r);
	aml_name(a, "_CRS");
	aml_res_template(a, &r);
	aml_end(a, m);
}

/* Name (_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 }): hardware-reduced
 * platforms use SLP_TYPa only; SLP_TYPb is 0. */
static void s5(struct aml *a)
{
	size_t m;

	aml_name(a, "_S5");
	m = aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a, m);
}

int acpi_dsdt_write(uint8_t *p, size_t avail, const struct acpi_config *cfg, size_t *len)
{
	struct aml a;
	size_t sb;

	if (avail < ACPI_SDT_HEADER_SIZE)
		return -ENOSPC;
	aml_init(&a, p + ACPI_SDT_HEADER_SIZE, avail - ACPI_SDT_HEADER_SIZE);
	sb = aml_scope_begin(&a, "\\_SB");
	pci0(&a, cfg);
	mres(&a, cfg);
	if (cfg->com1)
		com1(&a);
	aml_end(&a, sb);
	s5(&a);
	if (a.err)
		return a.err;
	acpi_sdt_header(p, "DSDT", (uint32_t)(ACPI_SDT_HEADER_SIZE + a.len), DSDT_REVISION);
	acpi_sdt_finish(p);
	*len = ACPI_SDT_HEADER_SIZE + a.len;
	return 0;
}
