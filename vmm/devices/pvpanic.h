/* pvpanic.h - the pvpanic PCI device: the guest tells the VMM it panicked.
 *
 * Owns: a PCI function 1b36:0011 (class 08.80.00, system peripheral) with
 * one 4 KiB 32-bit memory BAR whose byte 0 reads the supported events
 * (PANICKED | CRASH_LOADED) and takes the guest's event writes. Linux binds
 * it with the pvpanic-pci driver (a module in Debian's kernel). PANICKED
 * stops the VM with VMM_EXIT_PANIC, so `kvrun vm` reports a panic rather
 * than a reboot; CRASH_LOADED (a kdump kernel is about to take over) is
 * acknowledged and ignored so the crash kernel can run. */
#ifndef KVRUN_VMM_PVPANIC_H
#define KVRUN_VMM_PVPANIC_H

#include "err.h"

struct vmm;

#define PVPANIC_VENDOR	     0x1b36
#define PVPANIC_DEVICE	     0x0011
#define PVPANIC_PANICKED     (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)

/* Add the device to bus 0 (after pci_init); pci_destroy() frees it. */
int pvpanic_add(struct vmm *vm, struct kv_err *err);

#endif
