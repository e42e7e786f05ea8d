/* Unit tests for vmm/devices/pvpanic.c: ids, the event register, and that
 * PANICKED (only) asks the VM to stop with VMM_EXIT_PANIC. */
#include "tap.h"

#include "fake-vm.h"
#include "pvpanic.h"

/* vm.c (the builder) is not linked into unit tests: record the request. */
static int exits, last_reason;

void vm_request_exit(struct vmm *vm, enum vmm_exit_reason why)
{
	exits++;
	last_reason = why;
}

int main(void)
{
	struct vmm vm;
	struct kv_err err = { 0 };

	tap_plan(9);
	if (!ok(fake_vm_init(&vm, 0) == 0, "fake VM"))
		return tap_done();
	ok(pvpanic_add(&vm, &err) == 0, "pvpanic_add");
	ok(ecam_rd(&vm, 1, 0, 4) == 0x00111b36, "1b36:0011 in slot 1");
	ok(ecam_rd(&vm, 1, 8, 4) >> 8 == 0x088000, "class 08.80.00");
	ecam_wr(&vm, 1, 0x10, 0xffffffff, 4);
	ok(ecam_rd(&vm, 1, 0x10, 4) == 0xfffff000, "one 4 KiB 32-bit memory BAR");
	ecam_wr(&vm, 1, 0x10, 0xc8000000, 4);
	ecam_wr(&vm, 1, 4, PCI_COMMAND_MEMORY, 2);
	ok(mmio_rd(&vm, 0xc8000000, 1) == 3 && mmio_rd(&vm, 0xc8000000, 4) == 3 &&
	       mmio_rd(&vm, 0xc8000001, 1) == 0,
	   "byte 0 reads PANICKED|CRASH_LOADED");
	mmio_wr(&vm, 0xc8000000, PVPANIC_CRASH_LOADED, 1);
	mmio_wr(&vm, 0xc8000004, PVPANIC_PANICKED, 1);
	ok(exits == 0, "CRASH_LOADED and writes elsewhere do not stop the VM");
	mmio_wr(&vm, 0xc8000000, PVPANIC_PANICKED, 1);
	ok(exits == 1 && last_reason == VMM_EXIT_PANIC, "PANICKED requests VMM_EXIT_PANIC");
	fake_vm_destroy(&vm);
	ok(vm.pci == NULL, "torn down by pci_destroy");
	return tap_done();
}
