/* bus.h - the port-I/O and MMIO dispatch maps that vCPU exits are routed to.
 *
 * Owns: registration of address ranges with their handlers, and lookup. One
 * io_bus instance serves port I/O, another MMIO. Lookup is a binary search
 * over sorted, non-overlapping ranges under a read lock, so many vCPU threads
 * dispatch at once; registration (rare: setup and guest BAR moves) takes the
 * write lock. Handlers run without the bus lock (so one may re-register a
 * range, e.g. a BAR move) and do their own device locking; whatever ops and
 * opaque point to must live as long as the bus. */
#ifndef KVRUN_VMM_BUS_H
#define KVRUN_VMM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* offset is relative to the registered base; len is 1, 2, 4 or 8 (MMIO may
 * pass other sizes up to 8). A read handler must fill all len bytes. */
struct io_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

struct io_range {
	uint64_t base, len;
	const struct io_ops *ops;
	void *opaque;
};

struct io_bus {
	pthread_rwlock_t lock;
	struct io_range *ranges; /* sorted by base */
	unsigned n, cap;
};

int io_bus_init(struct io_bus *bus);
void io_bus_destroy(struct io_bus *bus);

/* -EINVAL for len 0 or wrap-around, -EEXIST when it overlaps a registered range. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const struct io_ops *ops,
		    void *opaque);
/* Remove the range registered at exactly base; -ENOENT if none. */
int io_bus_unregister(struct io_bus *bus, uint64_t base);

/* Route an access. Returns false when no range covers [addr, addr+len); reads
 * of unclaimed addresses then return all-ones, as on real hardware. An access
 * that straddles the end of a range is unclaimed. */
bool io_bus_access(struct io_bus *bus, uint64_t addr, void *data, unsigned len, bool is_write);

#endif
