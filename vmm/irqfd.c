/* irqfd.c - see irq.h. eventfd bindings: KVM_IRQFD and KVM_IOEVENTFD, with
 * the bookkeeping that enforces KVM's uniqueness rules in both backends. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "irq-priv.h"

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
