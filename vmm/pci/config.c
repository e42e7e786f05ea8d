/* config.c - one PCI function's type-0 config space: masks, BARs, capabilities.
 *
 * Owns: merging guest config writes through the writable and write-1-to-
 * clear masks, BAR sizing (a BAR's writable mask is its size mask, so writing
 * all-ones reads back ~(size-1) plus the type bits), and mapping each BAR on
 * the MMIO bus while the command register's memory bit is set. */
#include "pci.h"

#include <errno.h>
#include <string.h>

static bool overlaps(uint32_t off, unsigned len, uint32_t start, unsigned n)
{
	return off < start + n && start < off + len;
}

void pci_cfg_set8(struct pci_dev *d, uint32_t off, uint8_t v)
{
	if (off < PCI_CFG_SIZE)
		d->cfg[off] = v;
}

void pci_cfg_set16(struct pci_dev *d, uint32_t off, uint16_t v)
{
	pci_cfg_set8(d, off, (uint8_t)v);
	pci_cfg_set8(d, off + 1, (uint8_t)(v >> 8));
}

void pci_cfg_set32(struct pci_dev *d, uint32_t off, uint32_t v)
{
	pci_cfg_set16(d, off, (uint16_t)v);
	pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}

uint8_t pci_cfg_get8(const struct pci_dev *d, uint32_t off)
{
	return off < PCI_CFG_SIZE ? d->cfg[off] : 0;
}

uint16_t pci_cfg_get16(const struct pci_dev *d, uint32_t off)
{
	return (uint16_t)(pci_cfg_get8(d, off) | pci_cfg_get8(d, off + 1) << 8);
}

uint32_t pci_cfg_get32(const struct pci_dev *d, uint32_t off)
{
	return pci_cfg_get16(d, off) | (uint32_t)pci_cfg_get16(d, off + 2) << 16;
}

void pci_wmask_set8(struct pci_dev *d, uint32_t off, uint8_t m)
{
	if (off < PCI_CFG_SIZE)
		d->wmask[off] = m;
}

void pci_wmask_set16(struct pci_dev *d, uint32_t off, uint16_t m)
{
	pci_wmask_set8(d, off, (uint8_t)m);
	pci_wmask_set8(d, off + 1, (uint8_t)(m >> 8));
}

void pci_wmask_set32(struct pci_dev *d, uint32_t off, uint32_t m)
{
	pci_wmask_set16(d, off, (uint16_t)m);
	pci_wmask_set16(d, off + 2, (uint16_t)(m >> 16));
}

int pci_dev_init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
		 uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(d, 0, sizeof(*d));
	int r = pthread_mutex_init(&d->lock, NULL);
	if (r)
		return -r;
	pci_cfg_set16(d, PCI_REG_VENDOR, vendor);
	pci_cfg_set16(d, PCI_REG_DEVICE, device);
	pci_cfg_set8(d, PCI_REG_REVISION, revision);
	pci_cfg_set8(d, PCI_REG_CLASS, (uint8_t)class_code);
	pci_cfg_set8(d, PCI_REG_CLASS + 1, (uint8_t)(class_code >> 8));
	pci_cfg_set8(d, PCI_REG_CLASS + 2, (uint8_t)(class_code >> 16));
	pci_cfg_set8(d, PCI_REG_HEADER_TYPE, 0x00); /* type 0, single function */
	pci_cfg_set16(d, PCI_REG_SUBSYS_VEN, subsys_vendor);
	pci_cfg_set16(d, PCI_REG_SUBSYS_ID, subsys_id);
	pci_cfg_set8(d, PCI_REG_INT_PIN, 0); /* no INTx: MSI-X only */

	pci_wmask_set16(d, PCI_REG_COMMAND,
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			    PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
	/* Status: error bits are write-1-to-clear (we never set them). */
	d->w1cmask[PCI_REG_STATUS + 1] = 0xf9; /* bits 8, 11-15 */
	pci_wmask_set8(d, PCI_REG_CACHE_LINE, 0xff);
	pci_wmask_set8(d, PCI_REG_LATENCY, 0xff);
	pci_wmask_set8(d, PCI_REG_INT_LINE, 0xff);
	d->cap_end = PCI_CAP_START;
	return 0;
}

void pci_dev_fini(struct pci_dev *d)
{
	pthread_mutex_destroy(&d->lock);
}

int pci_dev_add_bar(struct pci_dev *d, unsigned bar, enum pci_bar_type type, uint64_t size,
		    const struct io_ops *ops, void *opaque)
{
	unsigned nslots = type == PCI_BAR_MEM64 ? 2 : 1;

	if (type == PCI_BAR_NONE || bar + nslots > PCI_NUM_BARS || !ops)
		return -EINVAL;
	if (size < 16 || (size & (size - 1)) || (type == PCI_BAR_MEM32 && size > (1ULL << 31)))
		return -EINVAL;
	for (unsigned i = bar; i < bar + nslots; i++) {
		if (d->bars[i].type != PCI_BAR_NONE || d->bars[i].size)
			return -EINVAL;
	}
	if (bar > 0 && d->bars[bar - 1].type == PCI_BAR_MEM64)
		return -EINVAL; /* the upper half of the previous BAR */

	d->bars[bar] = (struct pci_bar){ .type = type, .size = size, .ops = ops, .opaque = opaque };
	uint32_t reg = PCI_REG_BAR0 + 4 * bar;
	uint64_t mask = ~(size - 1);
	pci_cfg_set32(d, reg, type == PCI_BAR_MEM64 ? PCI_BAR_MEM_64 : 0);
	pci_wmask_set32(d, reg, (uint32_t)mask & ~0xfu);
	if (type == PCI_BAR_MEM64) {
		pci_cfg_set32(d, reg + 4, 0);
		pci_wmask_set32(d, reg + 4, (uint32_t)(mask >> 32));
	}
	return 0;
}

int pci_dev_add_cap(struct pci_dev *d, uint8_t id, unsigned len)
{
	unsigned off = (d->cap_end + 3u) & ~3u;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	pci_cfg_set8(d, off, id);
	pci_cfg_set8(d, off + 1, 0);
	if (d->cap_last)
		pci_cfg_set8(d, d->cap_last + 1u, (uint8_t)off);
	else
		pci_cfg_set8(d, PCI_REG_CAP_PTR, (uint8_t)off);
	pci_cfg_set16(d, PCI_REG_STATUS, pci_cfg_get16(d, PCI_REG_STATUS) | PCI_STATUS_CAP_LIST);
	d->cap_last = (uint8_t)off;
	d->cap_end = (uint8_t)(off + len < PCI_CFG_SIZE ? off + len : PCI_CFG_SIZE - 1);
	return (int)off;
}

uint64_t pci_bar_addr(struct pci_dev *d, unsigned bar)
{
	if (bar >= PCI_NUM_BARS || d->bars[bar].type == PCI_BAR_NONE)
		return 0;
	uint32_t reg = PCI_REG_BAR0 + 4 * bar;
	uint64_t a = pci_cfg_get32(d, reg) & ~0xfull;
	if (d->bars[bar].type == PCI_BAR_MEM64)
		a |= (uint64_t)pci_cfg_get32(d, reg + 4) << 32;
	return a;
}

/* Make each BAR's MMIO registration match the command register and the BAR
 * value. A range the bus refuses (overlap, wrap-around) stays unmapped: a
 * guest that programs nonsense loses the device, nothing else. */
static void update_bars(struct pci_dev *d)
{
	if (!d->bus)
		return;
	bool mem_on = pci_cfg_get16(d, PCI_REG_COMMAND) & PCI_COMMAND_MEMORY;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];
		if (b->type == PCI_BAR_NONE)
			continue;
		uint64_t addr = pci_bar_addr(d, i);
		if (b->mapped && (!mem_on || b->mapped_addr != addr)) {
			(void)io_bus_unregister(d->bus->mmio, b->mapped_addr);
			b->mapped = false;
			if (d->ops && d->ops->bar_map)
				d->ops->bar_map(d, i, b->mapped_addr, false);
		}
		if (mem_on && !b->mapped &&
		    io_bus_register(d->bus->mmio, addr, b->size, b->ops, b->opaque) == 0) {
			b->mapped = true;
			b->mapped_addr = addr;
			if (d->ops && d->ops->bar_map)
				d->ops->bar_map(d, i, addr, true);
		}
	}
}

void pci_dev_unmap_bars(struct pci_dev *d)
{
	pthread_mutex_lock(&d->lock);
	pci_cfg_set16(d, PCI_REG_COMMAND,
		      pci_cfg_get16(d, PCI_REG_COMMAND) & (uint16_t)~PCI_COMMAND_MEMORY);
	update_bars(d);
	pthread_mutex_unlock(&d->lock);
}

void pci_dev_cfg_read(struct pci_dev *d, uint32_t reg, void *data, unsigned len)
{
	uint8_t *out = data;

	pthread_mutex_lock(&d->lock);
	if (d->ops && d->ops->cfg_read)
		d->ops->cfg_read(d, reg, len);
	for (unsigned i = 0; i < len; i++)
		out[i] = pci_cfg_get8(d, reg + i);
	pthread_mutex_unlock(&d->lock);
}

void pci_dev_cfg_write(struct pci_dev *d, uint32_t reg, const void *data, unsigned len)
{
	const uint8_t *in = data;

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < len && reg + i < PCI_CFG_SIZE; i++) {
		uint32_t o = reg + i;
		uint8_t v = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (in[i] & d->wmask[o]));
		d->cfg[o] = (uint8_t)(v & ~(in[i] & d->w1cmask[o]));
	}
	if (overlaps(reg, len, PCI_REG_COMMAND, 2) || overlaps(reg, len, PCI_REG_BAR0, 24))
		update_bars(d);
	if (d->ops && d->ops->cfg_write)
		d->ops->cfg_write(d, reg, len);
	pthread_mutex_unlock(&d->lock);
}
