/* acpi_pm.c - see acpi_pm.h. Bit positions follow the ACPI 6.x
 * specification (sleep control register: SLP_TYPx bits 4:2, SLP_EN bit 5);
 * vmm/acpi/acpi.h decodes them. */
#include "acpi_pm.h"
#include "acpi/acpi.h"
#include "layout.h"
#include "vm.h"

#include <string.h>

_Static_assert(LAYOUT_ACPI_SLEEP_STS == LAYOUT_ACPI_SLEEP_CTL + 1 &&
		   LAYOUT_ACPI_RESET == LAYOUT_ACPI_SLEEP_CTL + 2,
	       "acpi_pm registers the three ports as one range");

static void pm_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len); /* no wake status, nothing pending */
}

static void pm_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct vmm *vm = opaque;
	uint8_t v = *(const uint8_t *)data;

	uint8_t slp_typ;

	switch (LAYOUT_ACPI_SLEEP_CTL + off) {
	case LAYOUT_ACPI_SLEEP_CTL:
		/* Only S5 is offered (the DSDT has no other \_Sx package). */
		if (acpi_sleep_ctl_decode(v, &slp_typ) && slp_typ == ACPI_S5_SLP_TYP)
			vm_request_exit(vm, VMM_EXIT_POWEROFF);
		break;
	case LAYOUT_ACPI_RESET:
		if (v == LAYOUT_ACPI_RESET_VAL)
			vm_request_exit(vm, VMM_EXIT_REBOOT);
		break;
	default: /* sleep status: write-1-to-clear bits we never set */
		break;
	}
}

static const struct io_ops pm_ops = { .read = pm_read, .write = pm_write };

int acpi_pm_attach(struct vmm *vm)
{
	return io_bus_register(&vm->pio, LAYOUT_ACPI_SLEEP_CTL, 3, &pm_ops, vm);
}
