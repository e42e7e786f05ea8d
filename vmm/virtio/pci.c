/* pci.c - virtio-pci modern transport: the PCI function, BAR 0, kicks, interrupts.
 *
 * Owns: building the function (ids, class, capabilities, BAR layout, MSI-X),
 * dispatching BAR 0 accesses to the common cfg, ISR, device cfg, notify
 * and MSI-X regions (offsets or sizes that fit no register read all-ones
 * and write nothing), the PCI_CFG capability's window into BAR 0, one
 * ioeventfd per queue at its notify address while the BAR decodes, the
 * kick handlers on the event loop, signal_used/signal_config, and
 * teardown. See virtio-pci.h for the layout and the contract. */
#include "virtio-pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio-pci-priv.h"
#include "vm.h"

static bool within(uint64_t off, unsigned len, uint64_t start, uint64_t size)
{
	return off >= start && off - start < size && len <= size - (off - start);
}

static void kick(struct vpci_queue *q)
{
	uint64_t one = 1;

	(void)!write(q->kick_fd, &one, sizeof(one));
}

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *d = vp->vdev;

	if (within(off, len, VPCI_COMMON_OFF, VPCI_COMMON_LEN)) {
		vpci_common_read(vp, off - VPCI_COMMON_OFF, data, len);
	} else if (off == VPCI_ISR_OFF && len == 1) {
		*(uint8_t *)data = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_ACQ_REL);
	} else if (within(off, len, VPCI_DEVCFG_OFF, d->config_size) &&
		   (len == 1 || len == 2 || len == 4 || len == 8)) {
		d->ops->config_read(d, (uint32_t)(off - VPCI_DEVCFG_OFF), data, len);
	} else if (within(off, len, VPCI_NOTIFY_OFF, (uint64_t)vp->nq * VPCI_NOTIFY_MULT)) {
		memset(data, 0, len);
	} else if (within(off, len, vp->table_off, msix_table_size(vp->msix.nvec))) {
		msix_table_read(&vp->msix, off - vp->table_off, data, len);
	} else if (within(off, len, vp->pba_off, msix_pba_size(vp->msix.nvec))) {
		msix_pba_read(&vp->msix, off - vp->pba_off, data, len);
	} else {
		memset(data, 0xff, len);
	}
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *d = vp->vdev;

	if (within(off, len, VPCI_COMMON_OFF, VPCI_COMMON_LEN)) {
		vpci_common_write(vp, off - VPCI_COMMON_OFF, data, len);
	} else if (within(off, len, VPCI_DEVCFG_OFF, d->config_size) &&
		   (len == 1 || len == 2 || len == 4 || len == 8)) {
		d->ops->config_write(d, (uint32_t)(off - VPCI_DEVCFG_OFF), data, len);
	} else if (within(off, len, VPCI_NOTIFY_OFF, (uint64_t)vp->nq * VPCI_NOTIFY_MULT)) {
		/* KVM's ioeventfd missed it (other size, or none bound): same path. */
		uint64_t rel = off - VPCI_NOTIFY_OFF;
		if (rel % VPCI_NOTIFY_MULT == 0)
			kick(&vp->q[rel / VPCI_NOTIFY_MULT]);
	} else if (within(off, len, vp->table_off, msix_table_size(vp->msix.nvec))) {
		msix_table_write(&vp->msix, off - vp->table_off, data, len);
	}
	/* ISR, PBA and gaps are read-only. */
}

static const struct io_ops bar_ops = { .read = bar_read, .write = bar_write };

/* --- PCI_CFG capability: a window into BAR 0 through config space. ------- */

#define PCICFG_BAR    4
#define PCICFG_OFFSET 8
#define PCICFG_LENGTH 12
#define PCICFG_DATA   16
#define PCICFG_LEN    20

static bool pcicfg_window(struct virtio_pci *vp, uint32_t *off, unsigned *len)
{
	unsigned cap = vp->pcicfg_cap;
	uint8_t bar = pci_cfg_get8(&vp->pci, cap + PCICFG_BAR);
	*off = pci_cfg_get32(&vp->pci, cap + PCICFG_OFFSET);
	uint32_t l = pci_cfg_get32(&vp->pci, cap + PCICFG_LENGTH);

	*len = (unsigned)l;
	return bar == VPCI_BAR && (l == 1 || l == 2 || l == 4) && *off % l == 0 &&
	       within(*off, *len, 0, vp->bar_size);
}

static bool touches_data(struct virtio_pci *vp, uint32_t off, unsigned len)
{
	uint32_t d = vp->pcicfg_cap + PCICFG_DATA;
	return off < d + 4 && d < off + len;
}

static void cfg_read(struct pci_dev *pd, uint32_t off, unsigned len)
{
	struct virtio_pci *vp = (struct virtio_pci *)pd;
	uint8_t buf[4];
	uint32_t woff;
	unsigned wlen;

	if (!touches_data(vp, off, len))
		return;
	memset(buf, 0xff, sizeof(buf));
	if (pcicfg_window(vp, &woff, &wlen)) {
		memset(buf, 0, sizeof(buf));
		bar_read(vp, woff, buf, wlen);
	}
	for (unsigned i = 0; i < 4; i++)
		pci_cfg_set8(pd, vp->pcicfg_cap + PCICFG_DATA + i, buf[i]);
}

static void cfg_write(struct pci_dev *pd, uint32_t off, unsigned len)
{
	struct virtio_pci *vp = (struct virtio_pci *)pd;
	uint8_t buf[4];
	uint32_t woff;
	unsigned wlen;

	msix_cfg_written(&vp->msix, pd, off, len);
	if (!touches_data(vp, off, len) || !pcicfg_window(vp, &woff, &wlen))
		return;
	for (unsigned i = 0; i < 4; i++)
		buf[i] = pci_cfg_get8(pd, vp->pcicfg_cap + PCICFG_DATA + i);
	bar_write(vp, woff, buf, wlen);
}

/* --- Notifications ------------------------------------------------------- */

static void bar_map(struct pci_dev *pd, unsigned bar, uint64_t addr, bool mapped)
{
	struct virtio_pci *vp = (struct virtio_pci *)pd;

	for (unsigned i = 0; i < vp->nq; i++) {
		struct vpci_queue *q = &vp->q[i];
		if (!mapped) {
			if (q->io_bound)
				(void)irq_ioeventfd_deassign(vp->vm->irq, q->kick_fd, &q->io);
			q->io_bound = false;
			continue;
		}
		/* Any-length match first (KVM's fast MMIO path), else 2 bytes:
		 * the driver writes the 16-bit queue index. */
		q->io = (struct irq_ioeventfd){
			.addr = addr + VPCI_NOTIFY_OFF + (uint64_t)i * VPCI_NOTIFY_MULT, .len = 0
		};
		int r = irq_ioeventfd_assign(vp->vm->irq, q->kick_fd, &q->io);
		if (r == -EINVAL) {
			q->io.len = 2;
			r = irq_ioeventfd_assign(vp->vm->irq, q->kick_fd, &q->io);
		}
		q->io_bound = r == 0; /* else the BAR handler kicks, slower */
	}
}

static void on_kick(void *opaque, uint32_t events)
{
	struct vpci_queue *q = opaque;
	struct virtio_pci *vp = q->vp;
	struct virtio_dev *d = vp->vdev;
	uint64_t n;

	if (read(q->kick_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	uint8_t st = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
	if (!vp->activated || !(st & VIRTIO_STATUS_DRIVER_OK) || (st & VIRTIO_STATUS_NEEDS_RESET) ||
	    !d->vqs[q->index].enabled)
		return;
	d->ops->queue_notify(d, q->index);
}

/* --- Interrupts ---------------------------------------------------------- */

static void signal_used(struct virtio_dev *d, unsigned qi)
{
	struct virtio_pci *vp = d->transport;

	if (qi >= vp->nq)
		return;
	__atomic_or_fetch(&vp->isr, VPCI_ISR_QUEUE, __ATOMIC_ACQ_REL);
	(void)msix_notify(&vp->msix, __atomic_load_n(&vp->q[qi].msix_vector, __ATOMIC_ACQUIRE));
}

void vpci_signal_config(struct virtio_dev *d)
{
	struct virtio_pci *vp = d->transport;

	__atomic_add_fetch(&vp->generation, 1, __ATOMIC_ACQ_REL);
	__atomic_or_fetch(&vp->isr, VPCI_ISR_CONFIG, __ATOMIC_ACQ_REL);
	(void)msix_notify(&vp->msix, __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE));
}

/* --- Lifetime ------------------------------------------------------------ */

static void vp_free(struct virtio_pci *vp, bool own_dev)
{
	struct virtio_dev *d = vp->vdev;

	for (unsigned i = 0; vp->q && i < vp->nq; i++) {
		struct vpci_queue *q = &vp->q[i];
		if (q->kick_watched)
			(void)evloop_del(&vp->vm->loop, q->kick_fd);
		if (q->io_bound)
			(void)irq_ioeventfd_deassign(vp->vm->irq, q->kick_fd, &q->io);
	}
	if (own_dev) {
		pthread_mutex_lock(&vp->lock);
		vpci_device_reset(vp);
		pthread_mutex_unlock(&vp->lock);
		d->ops->destroy(d);
	} else {
		/* Leave dev as the caller gave it, less our fds. */
		for (unsigned i = 0; vp->q && i < vp->nq; i++)
			d->vqs[i].kick_fd = d->vqs[i].call_fd = -1;
		d->transport = NULL;
		d->signal_used = NULL;
		d->signal_config = NULL;
	}
	if (vp->msix_ready)
		msix_destroy(&vp->msix);
	for (unsigned i = 0; vp->q && i < vp->nq; i++) {
		if (vp->q[i].kick_fd >= 0)
			(void)close(vp->q[i].kick_fd);
	}
	pci_dev_fini(&vp->pci);
	pthread_mutex_destroy(&vp->lock);
	free(vp->q);
	free(vp);
}

static void destroy(struct pci_dev *pd)
{
	vp_free((struct virtio_pci *)pd, true);
}

static const struct pci_dev_ops vpci_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_map = bar_map,
	.destroy = destroy,
};

static uint32_t class_code(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network: Ethernet */
	case VIRTIO_ID_BLOCK:
	case VIRTIO_ID_FS:
		return 0x018000; /* mass storage: other */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication: other */
	case VIRTIO_ID_VSOCK:
		return 0x028000; /* network: other */
	default:
		return 0xff0000; /* no defined class (rng, ...) */
	}
}

static uint64_t page_up(uint64_t v)
{
	return (v + VPCI_PAGE - 1) & ~(uint64_t)(VPCI_PAGE - 1);
}

/* Append a virtio vendor capability for [off, off+len) of BAR 0. */
static int add_vcap(struct virtio_pci *vp, uint8_t type, unsigned caplen, uint32_t off,
		    uint32_t len)
{
	int c = pci_dev_add_cap(&vp->pci, PCI_CAP_ID_VNDR, caplen);

	if (c < 0)
		return c;
	pci_cfg_set8(&vp->pci, (unsigned)c + 2, (uint8_t)caplen);
	pci_cfg_set8(&vp->pci, (unsigned)c + 3, type);
	pci_cfg_set8(&vp->pci, (unsigned)c + 4, VPCI_BAR);
	pci_cfg_set32(&vp->pci, (unsigned)c + 8, off);
	pci_cfg_set32(&vp->pci, (unsigned)c + 12, len);
	return c;
}

static int build(struct virtio_pci *vp)
{
	struct virtio_dev *d = vp->vdev;
	unsigned nvec = vp->nq + 1;
	int r, c;

	vp->table_off = page_up(VPCI_NOTIFY_OFF + (uint64_t)vp->nq * VPCI_NOTIFY_MULT);
	vp->pba_off = page_up(vp->table_off + msix_table_size(nvec));
	uint64_t end = page_up(vp->pba_off + msix_pba_size(nvec));
	for (vp->bar_size = VPCI_PAGE; vp->bar_size < end; vp->bar_size <<= 1)
		;
	uint16_t id = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + d->device_id);
	r = pci_dev_init(&vp->pci, VIRTIO_PCI_VENDOR, id, class_code(d->device_id), 1,
			 VIRTIO_PCI_VENDOR, id);
	if (r < 0)
		return r;
	vp->pci.ops = &vpci_ops;
	r = pci_dev_add_bar(&vp->pci, VPCI_BAR, PCI_BAR_MEM64, vp->bar_size, &bar_ops, vp);
	if (r < 0)
		return r;
	if ((c = add_vcap(vp, VIRTIO_PCI_CAP_COMMON_CFG, 16, VPCI_COMMON_OFF, VPCI_COMMON_LEN)) <
		0 ||
	    (c = add_vcap(vp, VIRTIO_PCI_CAP_ISR_CFG, 16, VPCI_ISR_OFF, 1)) < 0 ||
	    (c = add_vcap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VPCI_NOTIFY_OFF,
			  vp->nq * VPCI_NOTIFY_MULT)) < 0)
		return c;
	pci_cfg_set32(&vp->pci, (unsigned)c + 16, VPCI_NOTIFY_MULT);
	if (d->config_size && (c = add_vcap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VPCI_DEVCFG_OFF,
					    (uint32_t)d->config_size)) < 0)
		return c;
	if ((c = add_vcap(vp, VIRTIO_PCI_CAP_PCI_CFG, PCICFG_LEN, 0, 0)) < 0)
		return c;
	vp->pcicfg_cap = (unsigned)c;
	pci_wmask_set8(&vp->pci, (unsigned)c + PCICFG_BAR, 0xff);
	pci_wmask_set32(&vp->pci, (unsigned)c + PCICFG_OFFSET, 0xffffffff);
	pci_wmask_set32(&vp->pci, (unsigned)c + PCICFG_LENGTH, 0xffffffff);
	pci_wmask_set32(&vp->pci, (unsigned)c + PCICFG_DATA, 0xffffffff);
	r = msix_init(&vp->msix, &vp->pci, vp->vm->irq, nvec, VPCI_BAR, (uint32_t)vp->table_off,
		      (uint32_t)vp->pba_off);
	if (r < 0)
		return r;
	vp->msix_ready = true;
	return 0;
}

static bool dev_valid(const struct virtio_dev *d)
{
	const struct virtio_dev_ops *o = d->ops;
	unsigned qmax = d->queue_max_size;

	return o && o->activate && o->reset && o->queue_notify && o->destroy && d->vqs &&
	       d->num_queues >= 1 && d->num_queues <= VIRTIO_PCI_MAX_QUEUES && qmax &&
	       qmax <= 32768 && !(qmax & (qmax - 1)) && d->config_size <= VPCI_DEVCFG_MAX &&
	       (!d->config_size || (o->config_read && o->config_write));
}

int virtio_pci_add(struct vmm *vm, struct virtio_dev *dev, struct kv_err *err)
{
	const char *name = dev->name ? dev->name : "virtio";
	int r;

	if (!dev_valid(dev))
		return kv_errf(err, -EINVAL, "%s: invalid virtio device description", name);
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	if (!vp)
		return kv_errno(err, -ENOMEM, "%s: allocating virtio-pci state", name);
	vp->vm = vm;
	vp->vdev = dev;
	vp->nq = dev->num_queues;
	pthread_mutex_init(&vp->lock, NULL);
	vp->q = calloc(vp->nq, sizeof(*vp->q));
	if (!vp->q) {
		r = kv_errno(err, -ENOMEM, "%s: allocating queues", name);
		goto fail;
	}
	for (unsigned i = 0; i < vp->nq; i++)
		vp->q[i] = (struct vpci_queue){ .vp = vp, .index = i, .kick_fd = -1 };
	r = build(vp);
	if (r < 0) {
		kv_errno(err, r, "%s: building the virtio-pci function", name);
		goto fail;
	}
	vp->offered =
	    (dev->device_features & ~VPCI_UNSUPPORTED_FEATURES) | (1ULL << VIRTIO_F_VERSION_1);
	for (unsigned i = 0; i < vp->nq; i++) {
		struct vpci_queue *q = &vp->q[i];
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0) {
			r = kv_errno(err, -errno, "%s: queue %u eventfd", name, i);
			goto fail;
		}
		r = evloop_add(&vm->loop, q->kick_fd, EPOLLIN, on_kick, q);
		if (r < 0) {
			kv_errno(err, r, "%s: watching queue %u", name, i);
			goto fail;
		}
		q->kick_watched = true;
	}
	dev->vm = vm;
	dev->transport = vp;
	dev->signal_used = signal_used;
	dev->signal_config = vpci_signal_config;
	vpci_reset_state(vp);
	r = pci_register(vm->pci, &vp->pci, err);
	if (r < 0)
		goto fail;
	return 0;
fail:
	vp_free(vp, false);
	return r;
}
