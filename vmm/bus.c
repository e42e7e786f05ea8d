/* bus.c - see bus.h. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int io_bus_init(struct io_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void io_bus_destroy(struct io_bus *bus)
{
	free(bus->ranges);
	(void)pthread_rwlock_destroy(&bus->lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose base is > addr. */
static unsigned upper_bound(const struct io_bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const struct io_ops *ops,
		    void *opaque)
{
	int r = 0;

	if (len == 0 || base + len < base || !ops)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	unsigned i = upper_bound(bus, base);
	if (i > 0) {
		const struct io_range *prev = &bus->ranges[i - 1];
		if (prev->base + prev->len > base) {
			r = -EEXIST;
			goto out;
		}
	}
	if (i < bus->n && bus->ranges[i].base < base + len) {
		r = -EEXIST;
		goto out;
	}
	if (bus->n == bus->cap) {
		unsigned cap = bus->cap ? bus->cap * 2 : 16;
		struct io_range *n = realloc(bus->ranges, cap * sizeof(*n));
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->n - i) * sizeof(*bus->ranges));
	bus->ranges[i] =
	    (struct io_range){ .base = base, .len = len, .ops = ops, .opaque = opaque };
	bus->n++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base)
{
	int r = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	unsigned i = upper_bound(bus, base);
	if (i > 0 && bus->ranges[i - 1].base == base) {
		i--;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->n - i - 1) * sizeof(*bus->ranges));
		bus->n--;
		r = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, void *data, unsigned len, bool is_write)
{
	struct io_range hit = { 0 };
	bool found = false;

	/* Look up under the lock, call without it: a handler may move a range
	 * of this same bus (a guest reprogramming a BAR through ECAM). The
	 * objects behind ops/opaque live as long as the VM. */
	pthread_rwlock_rdlock(&bus->lock);
	unsigned i = upper_bound(bus, addr);
	if (i > 0) {
		const struct io_range *r = &bus->ranges[i - 1];
		uint64_t off = addr - r->base;
		if (off < r->len && len <= r->len - off) {
			hit = *r;
			found = true;
		}
	}
	pthread_rwlock_unlock(&bus->lock);

	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (hit.ops->write)
			hit.ops->write(hit.opaque, addr - hit.base, data, len);
	} else if (hit.ops->read) {
		hit.ops->read(hit.opaque, addr - hit.base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return true;
}
