/* Unit tests for vmm/bus.c: registration overlap rules, dispatch offsets,
 * straddling and unclaimed accesses. */
#include "bus.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

static uint64_t last_off;
static uint8_t last_write;

static void rd(void *opaque, uint64_t off, void *data, unsigned len)
{
	last_off = off;
	memset(data, *(int *)opaque, len);
}

static void wr(void *opaque, uint64_t off, const void *data, unsigned len)
{
	last_off = off;
	last_write = *(const uint8_t *)data;
}

static const struct io_ops ops = { .read = rd, .write = wr };

int main(void)
{
	struct io_bus bus;
	int a = 0xaa, b = 0xbb;
	uint32_t v = 0;
	uint8_t w = 0x5a;

	tap_plan(15);
	ok(io_bus_init(&bus) == 0, "init");
	ok(io_bus_register(&bus, 0x100, 0x10, &ops, &a) == 0, "register 0x100-0x10f");
	ok(io_bus_register(&bus, 0x200, 0x10, &ops, &b) == 0, "register 0x200-0x20f");
	ok(io_bus_register(&bus, 0x108, 0x10, &ops, &b) == -EEXIST, "overlap at the end rejected");
	ok(io_bus_register(&bus, 0xf8, 0x10, &ops, &b) == -EEXIST, "overlap at the start rejected");
	ok(io_bus_register(&bus, 0x0, 0x1000, &ops, &b) == -EEXIST, "enclosing range rejected");
	ok(io_bus_register(&bus, 0x110, 0, &ops, &b) == -EINVAL, "len 0 rejected");
	ok(io_bus_register(&bus, UINT64_MAX - 1, 4, &ops, &b) == -EINVAL, "wrap-around rejected");
	ok(io_bus_register(&bus, 0x110, 0xf0, &ops, &b) == 0, "adjacent range accepted");
	ok(io_bus_access(&bus, 0x104, &v, 4, false) && v == 0xaaaaaaaa && last_off == 4,
	   "read dispatched with the offset");
	ok(io_bus_access(&bus, 0x20f, &w, 1, true) && last_write == 0x5a && last_off == 0xf,
	   "write dispatched");
	v = 0;
	ok(!io_bus_access(&bus, 0x20e, &v, 4, false) && v == 0xffffffff,
	   "access straddling the end is unclaimed and reads all-ones");
	ok(!io_bus_access(&bus, 0x300, &v, 2, false) && (v & 0xffff) == 0xffff,
	   "unclaimed read is all-ones");
	ok(io_bus_unregister(&bus, 0x100) == 0 && !io_bus_access(&bus, 0x100, &v, 1, false),
	   "unregister");
	ok(io_bus_unregister(&bus, 0x104) == -ENOENT, "unregister needs the exact base");
	io_bus_destroy(&bus);
	return tap_done();
}
