/* irq.c - see irq.h. GSI routing table, irqfd and ioeventfd bindings. */
#include "irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cleanup.h"
#include "layout.h"
#include "vm.h"

#define NMSI	     (LAYOUT_MAX_GSI - LAYOUT_MSI_GSI_BASE)
#define PIC_PINS     16 /* GSIs 0..15 also reach the two 8259s */
#define BASE_ENTRIES (LAYOUT_IOAPIC_PINS + PIC_PINS)

struct msi_route {
	bool allocated;
	bool valid; /* staged route present */
	uint64_t addr;
	uint32_t data;
};

struct committed_route {
	bool valid;
	uint64_t addr;
	uint32_t data;
};

struct irqfd_binding {
	int fd;
	unsigned gsi;
};

struct ioeventfd_binding {
	int fd;
	struct irq_ioeventfd io;
};

struct irq_router {
	int vm_fd; /* < 0: recording backend */
	pthread_mutex_t lock;
	bool dirty;
	unsigned commits;
	unsigned committed_n;
	struct msi_route msi[NMSI];
	struct committed_route committed[NMSI];
	struct irqfd_binding *irqfds;
	unsigned nirqfds, irqfds_cap;
	struct ioeventfd_binding *ioeventfds;
	unsigned nioeventfds, ioeventfds_cap;
};

int irq_router_create(int vm_fd, struct irq_router **out)
{
	struct irq_router *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->vm_fd = vm_fd;
	r->dirty = true; /* the first commit always installs the base table */
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void irq_router_free(struct irq_router *r)
{
	if (!r)
		return;
	free(r->irqfds);
	free(r->ioeventfds);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int irq_init(struct vmm *vm, struct kv_err *err)
{
	struct irq_router *r;
	int ret = irq_router_create(vm->vm_fd, &r);

	if (ret < 0)
		return kv_errno(err, ret, "irq: creating the GSI router");
	ret = irq_commit(r);
	if (ret < 0) {
		irq_router_free(r);
		return kv_errno(err, ret, "irq: KVM_SET_GSI_ROUTING (base table)");
	}
	vm->irq = r;
	return 0;
}

void irq_destroy(struct vmm *vm)
{
	irq_router_free(vm->irq);
	vm->irq = NULL;
}

static struct msi_route *msi_slot(struct irq_router *r, unsigned gsi)
{
	if (gsi < LAYOUT_MSI_GSI_BASE || gsi >= LAYOUT_MAX_GSI)
		return NULL;
	return &r->msi[gsi - LAYOUT_MSI_GSI_BASE];
}

int irq_msi_alloc(struct irq_router *r, unsigned *gsi)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < NMSI; i++) {
		if (!r->msi[i].allocated) {
			r->msi[i] = (struct msi_route){ .allocated = true };
			*gsi = LAYOUT_MSI_GSI_BASE + i;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_msi_free(struct irq_router *r, unsigned gsi)
{
	pthread_mutex_lock(&r->lock);
	struct msi_route *m = msi_slot(r, gsi);
	if (m && m->allocated) {
		if (m->valid)
			r->dirty = true;
		*m = (struct msi_route){ 0 };
	}
	pthread_mutex_unlock(&r->lock);
}

int irq_msi_set(struct irq_router *r, unsigned gsi, uint64_t addr, uint32_t data)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	struct msi_route *m = msi_slot(r, gsi);
	if (!m || !m->allocated) {
		ret = -EINVAL;
	} else if (!m->valid || m->addr != addr || m->data != data) {
		m->valid = true;
		m->addr = addr;
		m->data = data;
		r->dirty = true;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static void fill_base(struct kvm_irq_routing_entry *e)
{
	unsigned n = 0;

	for (unsigned pin = 0; pin < LAYOUT_IOAPIC_PINS; pin++) {
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = pin,
			.type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC, .pin = pin },
		};
		if (pin < PIC_PINS)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = pin,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER
								  : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = pin % 8 },
			};
	}
}

/* Send the staged table; called with the lock held and r->dirty set. */
static int commit_locked(struct irq_router *r)
{
	size_t max = BASE_ENTRIES + NMSI;
	cleanup_free struct kvm_irq_routing *t =
	    calloc(1, sizeof(*t) + max * sizeof(struct kvm_irq_routing_entry));

	if (!t)
		return -ENOMEM;
	fill_base(t->entries);
	unsigned n = BASE_ENTRIES;
	for (unsigned i = 0; i < NMSI; i++) {
		const struct msi_route *m = &r->msi[i];
		if (!m->allocated || !m->valid)
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = LAYOUT_MSI_GSI_BASE + i,
			.type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)m->addr,
				   .address_hi = (uint32_t)(m->addr >> 32),
				   .data = m->data },
		};
	}
	t->nr = n;
	if (r->vm_fd >= 0 && ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		return -errno;
	for (unsigned i = 0; i < NMSI; i++) {
		const struct msi_route *m = &r->msi[i];
		r->committed[i] = (struct committed_route){ .valid = m->allocated && m->valid,
							    .addr = m->addr,
							    .data = m->data };
	}
	r->committed_n = n;
	r->commits++;
	r->dirty = false;
	return 0;
}

int irq_commit(struct irq_router *r)
{
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (r->dirty)
		ret = commit_locked(r);
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* Grow a binding array by one slot; 0 or -ENOMEM. */
static int grow(void **arr, unsigned *cap, unsigned n, size_t elem)
{
	if (n < *cap)
		return 0;
	unsigned ncap = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int kvm_irqfd(struct irq_router *r, int fd, unsigned gsi, uint32_t flags)
{
	struct kvm_irqfd a = { .fd = (uint32_t)fd, .gsi = gsi, .flags = flags };

	if (r->vm_fd >= 0 && ioctl(r->vm_fd, KVM_IRQFD, &a) < 0)
		return -errno;
	return 0;
}

int irq_irqfd_assign(struct irq_router *r, int fd, unsigned gsi)
{
	int ret;

	if (fd < 0 || gsi >= LAYOUT_MAX_GSI)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nirqfds; i++) {
		if (r->irqfds[i].fd == fd) {
			ret = -EBUSY;
			goto out;
		}
	}
	ret = grow((void **)&r->irqfds, &r->irqfds_cap, r->nirqfds, sizeof(*r->irqfds));
	if (ret < 0)
		goto out;
	ret = kvm_irqfd(r, fd, gsi, 0);
	if (ret < 0)
		goto out;
	r->irqfds[r->nirqfds++] = (struct irqfd_binding){ .fd = fd, .gsi = gsi };
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_irqfd_deassign(struct irq_router *r, int fd, unsigned gsi)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nirqfds; i++) {
		if (r->irqfds[i].fd == fd && r->irqfds[i].gsi == gsi) {
			ret = kvm_irqfd(r, fd, gsi, KVM_IRQFD_FLAG_DEASSIGN);
			if (ret < 0)
				break;
			r->irqfds[i] = r->irqfds[--r->nirqfds];
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static bool io_valid(const struct irq_ioeventfd *io)
{
	if (io->flags & ~(IRQ_IOEVENTFD_PIO | IRQ_IOEVENTFD_DATAMATCH))
		return false;
	if (io->len == 0)
		return !(io->flags & (IRQ_IOEVENTFD_PIO | IRQ_IOEVENTFD_DATAMATCH));
	return io->len == 1 || io->len == 2 || io->len == 4 || io->len == 8;
}

static bool io_same(const struct irq_ioeventfd *a, const struct irq_ioeventfd *b)
{
	bool dm = a->flags & IRQ_IOEVENTFD_DATAMATCH;

	return a->addr == b->addr && a->len == b->len && a->flags == b->flags &&
	       (!dm || a->data == b->data);
}

static int kvm_ioeventfd(struct irq_router *r, int fd, const struct irq_ioeventfd *io,
			 bool deassign)
{
	struct kvm_ioeventfd a = {
		.datamatch = (io->flags & IRQ_IOEVENTFD_DATAMATCH) ? io->data : 0,
		.addr = io->addr,
		.len = io->len,
		.fd = fd,
	};

	if (io->flags & IRQ_IOEVENTFD_PIO)
		a.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (io->flags & IRQ_IOEVENTFD_DATAMATCH)
		a.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (deassign)
		a.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (r->vm_fd >= 0 && ioctl(r->vm_fd, KVM_IOEVENTFD, &a) < 0)
		return -errno;
	return 0;
}

int irq_ioeventfd_assign(struct irq_router *r, int fd, const struct irq_ioeventfd *io)
{
	int ret;

	if (fd < 0 || !io_valid(io))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nioeventfds; i++) {
		if (io_same(&r->ioeventfds[i].io, io)) {
			ret = -EEXIST;
			goto out;
		}
	}
	ret = grow((void **)&r->ioeventfds, &r->ioeventfds_cap, r->nioeventfds,
		   sizeof(*r->ioeventfds));
	if (ret < 0)
		goto out;
	ret = kvm_ioeventfd(r, fd, io, false);
	if (ret < 0)
		goto out;
	r->ioeventfds[r->nioeventfds++] = (struct ioeventfd_binding){ .fd = fd, .io = *io };
out:
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq_ioeventfd_deassign(struct irq_router *r, int fd, const struct irq_ioeventfd *io)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nioeventfds; i++) {
		if (r->ioeventfds[i].fd == fd && io_same(&r->ioeventfds[i].io, io)) {
			ret = kvm_ioeventfd(r, fd, io, true);
			if (ret < 0)
				break;
			r->ioeventfds[i] = r->ioeventfds[--r->nioeventfds];
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

bool irq_msi_committed(struct irq_router *r, unsigned gsi, uint64_t *addr, uint32_t *data)
{
	bool valid = false;

	pthread_mutex_lock(&r->lock);
	if (gsi >= LAYOUT_MSI_GSI_BASE && gsi < LAYOUT_MAX_GSI) {
		const struct committed_route *c = &r->committed[gsi - LAYOUT_MSI_GSI_BASE];
		valid = c->valid;
		if (valid && addr)
			*addr = c->addr;
		if (valid && data)
			*data = c->data;
	}
	pthread_mutex_unlock(&r->lock);
	return valid;
}

unsigned irq_commit_count(struct irq_router *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned n = r->commits;
	pthread_mutex_unlock(&r->lock);
	return n;
}

unsigned irq_committed_entries(struct irq_router *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned n = r->committed_n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

int irq_irqfd_gsi(struct irq_router *r, int fd)
{
	int gsi = -1;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nirqfds; i++) {
		if (r->irqfds[i].fd == fd) {
			gsi = (int)r->irqfds[i].gsi;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

int irq_ioeventfd_fd(struct irq_router *r, uint64_t addr, bool pio)
{
	int fd = -1;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nioeventfds; i++) {
		const struct ioeventfd_binding *b = &r->ioeventfds[i];
		if (b->io.addr == addr && !!(b->io.flags & IRQ_IOEVENTFD_PIO) == pio) {
			fd = b->fd;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return fd;
}

unsigned irq_ioeventfd_count(struct irq_router *r)
{
	pthread_mutex_lock(&r->lock);
	unsigned n = r->nioeventfds;
	pthread_mutex_unlock(&r->lock);
	return n;
}
