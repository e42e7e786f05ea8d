/* i8042.h - the keyboard controller's reset line, and nothing else.
 *
 * Owns: port LAYOUT_I8042_CMD_PORT. Writing the "pulse output port" command
 * 0xfe reboots the VM (vm_request_exit(REBOOT)): Linux uses it when the
 * ACPI reset register does not work or is absent. Reads return 0xff, as an
 * absent controller would, so the guest's i8042 driver finds no keyboard. */
#ifndef KVRUN_VMM_DEVICES_I8042_H
#define KVRUN_VMM_DEVICES_I8042_H

struct vmm;

int i8042_attach(struct vmm *vm);

#endif
