/* acpi_pm.h - the ACPI sleep and reset registers (hardware-reduced style).
 *
 * Owns: the FADT's SLEEP_CONTROL_REG, SLEEP_STATUS_REG and RESET_REG ports
 * (layout.h LAYOUT_ACPI_SLEEP_CTL/_STS/_RESET). Writing SLP_EN to the sleep
 * control register powers the VM off (the DSDT offers only S5); writing the
 * reset value to the reset register reboots it. Both end the VM through
 * vm_request_exit(): the VMM does not restart a guest itself. */
#ifndef KVRUN_VMM_DEVICES_ACPI_PM_H
#define KVRUN_VMM_DEVICES_ACPI_PM_H

struct vmm;

int acpi_pm_attach(struct vmm *vm);

#endif
