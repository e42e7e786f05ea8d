/* irq.c - see irq.h. The router, MSI GSI allocation and the GSI routing table. */
#include "irq-priv.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "acpi/acpi.h"
#include "cleanup.h"
#include "layout.h"
#include "vm.h"

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

int irq_base_ioapic_pin(unsigned gsi)
{
	if (gsi == 0)
		return ACPI_PIT_GSI; /* the MADT's interrupt source override */
	if (gsi == ACPI_PIT_GSI || gsi >= LAYOUT_IOAPIC_PINS)
		return -1;
	return (int)gsi;
}

int irq_base_pic_pin(unsigned gsi)
{
	/* Master pin 2 is the cascade from the slave: no device drives it. */
	return gsi == 2 || gsi >= PIC_PINS ? -1 : (int)gsi;
}

static unsigned fill_base(struct kvm_irq_routing_entry *e)
{
	unsigned n = 0;
	int pin;

	for (unsigned gsi = 0; gsi < LAYOUT_IOAPIC_PINS; gsi++) {
		if ((pin = irq_base_ioapic_pin(gsi)) >= 0)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
					       .pin = (unsigned)pin },
			};
		if ((pin = irq_base_pic_pin(gsi)) >= 0)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi,
				.type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = pin < 8 ? KVM_IRQCHIP_PIC_MASTER
								  : KVM_IRQCHIP_PIC_SLAVE,
					       .pin = (unsigned)pin % 8 },
			};
	}
	return n;
}

/* Send the staged table; called with the lock held and r->dirty set. */
static int commit_locked(struct irq_router *r)
{
	size_t max = IRQ_BASE_ENTRIES + NMSI;
	cleanup_free struct kvm_irq_routing *t =
	    calloc(1, sizeof(*t) + max * sizeof(struct kvm_irq_routing_entry));

	if (!t)
		return -ENOMEM;
	unsigned n = fill_base(t->entries);
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
