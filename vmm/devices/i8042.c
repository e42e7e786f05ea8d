/* i8042.c - see i8042.h. */
#include "i8042.h"
#include "layout.h"
#include "vm.h"

#include <string.h>

#define I8042_CMD_RESET 0xfe

static void kbd_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0xff, len);
}

static void kbd_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	if (*(const uint8_t *)data == I8042_CMD_RESET)
		vm_request_exit(opaque, VMM_EXIT_REBOOT);
}

static const struct io_ops kbd_ops = { .read = kbd_read, .write = kbd_write };

int i8042_attach(struct vmm *vm)
{
	return io_bus_register(&vm->pio, LAYOUT_I8042_CMD_PORT, 1, &kbd_ops, vm);
}
