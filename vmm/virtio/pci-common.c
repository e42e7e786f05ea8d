/* pci-common.c - virtio-pci common configuration: features, status, queues.
 *
 * Owns: the registers of struct virtio_pci_common_cfg and their rules.
 * Each field must be accessed at its own width (64-bit queue addresses as
 * two 32-bit halves or one 64-bit access); anything else reads all-ones and
 * writes nothing. Feature negotiation: the device offers its bits plus
 * VIRTIO_F_VERSION_1; FEATURES_OK sticks only when the driver accepted a
 * subset of the offer that includes VERSION_1. Queue sizes must be powers of
 * two no larger than the device's maximum; queue fields are frozen once the
 * queue is enabled or DRIVER_OK is set. DRIVER_OK validates every enabled
 * ring against guest RAM and activates the device on the loop thread;
 * writing 0 to device_status resets it there. */
#include <string.h>

#include "memory.h"
#include "virtio-pci-priv.h"
#include "vm.h"

static uint8_t status_get(struct virtio_pci *vp)
{
	return __atomic_load_n(&vp->vdev->status, __ATOMIC_ACQUIRE);
}

static void status_set(struct virtio_pci *vp, uint8_t v)
{
	__atomic_store_n(&vp->vdev->status, v, __ATOMIC_RELEASE);
}

/* Store a driver-written status while a device may set NEEDS_RESET from
 * the loop thread (virtio_dev_set_broken): keep that bit if it appears. */
static void status_merge(struct virtio_pci *vp, uint8_t old, uint8_t v)
{
	while (!__atomic_compare_exchange_n(&vp->vdev->status, &old,
					    (uint8_t)(v | (old & VIRTIO_STATUS_NEEDS_RESET)), false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
}

static struct vpci_queue *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->nq ? &vp->q[vp->queue_select] : NULL;
}

/* Queue configuration is writable until the queue is enabled or the
 * device is live. */
static struct vpci_queue *selected_writable(struct virtio_pci *vp)
{
	struct vpci_queue *q = selected(vp);

	if (!q || q->enabled || (status_get(vp) & VIRTIO_STATUS_DRIVER_OK))
		return NULL;
	return q;
}

static uint16_t valid_vector(struct virtio_pci *vp, uint16_t v)
{
	return v < vp->msix.nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static void reset_vqs(struct virtio_pci *vp)
{
	struct virtio_dev *d = vp->vdev;

	for (unsigned i = 0; i < vp->nq; i++) {
		struct virtqueue *vq = &d->vqs[i];
		vq->size = d->queue_max_size;
		vq->enabled = false;
		vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
		vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
		vq->kick_fd = vp->q[i].kick_fd;
		vq->call_fd = -1;
		vq->mem = &vp->vm->mem;
		vq->last_avail = vq->used_idx = 0;
		vq->event_idx = vq->indirect = vq->broken = false;
	}
}

static void reset_registers(struct virtio_pci *vp)
{
	vp->guest_features = 0;
	vp->vdev->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	__atomic_store_n(&vp->msix_config, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->isr, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vp->nq; i++) {
		struct vpci_queue *q = &vp->q[i];
		q->size = vp->vdev->queue_max_size;
		q->enabled = false;
		__atomic_store_n(&q->msix_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
		q->desc = q->avail = q->used = 0;
	}
	status_set(vp, 0);
}

void vpci_reset_state(struct virtio_pci *vp)
{
	vp->activated = false;
	reset_vqs(vp);
	reset_registers(vp);
}

static void loop_reset(void *opaque)
{
	struct virtio_pci *vp = opaque;

	vp->vdev->ops->reset(vp->vdev);
	vp->activated = false;
	reset_vqs(vp);
}

void vpci_device_reset(struct virtio_pci *vp)
{
	(void)evloop_call_sync(&vp->vm->loop, loop_reset, vp);
	reset_registers(vp);
}

/* Called with DRIVER_OK set: tell the driver, once. */
static void needs_reset(struct virtio_pci *vp)
{
	uint8_t old =
	    __atomic_fetch_or(&vp->vdev->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_ACQ_REL);

	if (!(old & VIRTIO_STATUS_NEEDS_RESET))
		vpci_signal_config(vp->vdev);
}

static void loop_activate(void *opaque)
{
	struct virtio_pci *vp = opaque;
	struct virtio_dev *d = vp->vdev;

	for (unsigned i = 0; i < vp->nq; i++) {
		const struct vpci_queue *q = &vp->q[i];
		struct virtqueue *vq = &d->vqs[i];
		uint16_t v = __atomic_load_n(&q->msix_vector, __ATOMIC_ACQUIRE);
		vq->size = q->size;
		vq->enabled = q->enabled;
		vq->msix_vector = v;
		vq->desc_gpa = q->desc;
		vq->avail_gpa = q->avail;
		vq->used_gpa = q->used;
		vq->kick_fd = q->kick_fd;
		vq->call_fd = msix_vector_fd(&vp->msix, v);
		vq->mem = &vp->vm->mem;
		vq->last_avail = vq->used_idx = 0;
		vq->event_idx = virtio_has_feature(d, VIRTIO_F_EVENT_IDX);
		vq->indirect = virtio_has_feature(d, VIRTIO_F_INDIRECT_DESC);
		vq->broken = false;
	}
	vp->activated = true;
	if (d->ops->activate(d) < 0) {
		vp->activated = false;
		needs_reset(vp);
	}
}

/* Every enabled ring aligned and wholly inside guest RAM. */
static bool rings_valid(struct virtio_pci *vp)
{
	const struct guest_mem *mem = &vp->vm->mem;

	for (unsigned i = 0; i < vp->nq; i++) {
		const struct vpci_queue *q = &vp->q[i];
		uint64_t n = q->size;
		if (!q->enabled)
			continue;
		if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
			return false;
		if (!gpa_to_hva(mem, q->desc, 16 * n) || !gpa_to_hva(mem, q->avail, 6 + 2 * n) ||
		    !gpa_to_hva(mem, q->used, 6 + 8 * n))
			return false;
	}
	return true;
}

static void status_write(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = status_get(vp);

	if (val == 0) {
		vpci_device_reset(vp);
		return;
	}
	/* NEEDS_RESET is the device's; the driver never clears a bit. */
	val = (uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	if (old & ~val)
		return;
	if ((val & ~old & VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t g = vp->guest_features;
		if ((g & ~vp->offered) || !(g & (1ULL << VIRTIO_F_VERSION_1)))
			val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		else
			vp->vdev->driver_features = g;
	}
	bool go = val & ~old & VIRTIO_STATUS_DRIVER_OK;
	if (go && !(val & VIRTIO_STATUS_FEATURES_OK)) {
		val &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
		go = false;
	}
	status_merge(vp, old, val);
	if (!go || (status_get(vp) & VIRTIO_STATUS_NEEDS_RESET))
		return;
	if (!rings_valid(vp))
		needs_reset(vp);
	else
		(void)evloop_call_sync(&vp->vm->loop, loop_activate, vp);
}

/* Read the register at off with width len into *v; false when no register
 * has that offset and width. */
static bool reg_read(struct virtio_pci *vp, uint64_t off, unsigned len, uint64_t *v)
{
	struct vpci_queue *q = selected(vp);
	unsigned w = 0;

	switch (off) {
	case VPCI_DFSELECT:
		*v = vp->dfselect, w = 4;
		break;
	case VPCI_DF:
		*v = vp->dfselect < 2 ? (uint32_t)(vp->offered >> (32 * vp->dfselect)) : 0, w = 4;
		break;
	case VPCI_GFSELECT:
		*v = vp->gfselect, w = 4;
		break;
	case VPCI_GF:
		*v = vp->gfselect < 2 ? (uint32_t)(vp->guest_features >> (32 * vp->gfselect)) : 0;
		w = 4;
		break;
	case VPCI_MSIX:
		*v = __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE), w = 2;
		break;
	case VPCI_NUMQ:
		*v = vp->nq, w = 2;
		break;
	case VPCI_STATUS:
		*v = status_get(vp), w = 1;
		break;
	case VPCI_CFGGEN:
		*v = __atomic_load_n(&vp->generation, __ATOMIC_ACQUIRE), w = 1;
		break;
	case VPCI_QSELECT:
		*v = vp->queue_select, w = 2;
		break;
	case VPCI_QSIZE:
		*v = q ? q->size : 0, w = 2;
		break;
	case VPCI_QMSIX:
		*v = q ? __atomic_load_n(&q->msix_vector, __ATOMIC_ACQUIRE) : VIRTIO_MSI_NO_VECTOR;
		w = 2;
		break;
	case VPCI_QENABLE:
		*v = q ? q->enabled : 0, w = 2;
		break;
	case VPCI_QNOFF:
		*v = q ? q->index : 0, w = 2;
		break;
	case VPCI_QDESC:
	case VPCI_QAVAIL:
	case VPCI_QUSED:
	case VPCI_QDESC + 4:
	case VPCI_QAVAIL + 4:
	case VPCI_QUSED + 4: {
		uint64_t base = off & ~7ULL, a = 0;
		if (q)
			a = base == VPCI_QDESC ? q->desc : base == VPCI_QAVAIL ? q->avail : q->used;
		if (off & 4)
			*v = a >> 32, w = 4;
		else
			*v = len == 8 ? a : (uint32_t)a, w = len == 8 ? 8 : 4;
		break;
	}
	default:
		return false;
	}
	return len == w;
}

void vpci_common_read(struct virtio_pci *vp, uint64_t off, void *data, unsigned len)
{
	uint64_t v = 0;

	pthread_mutex_lock(&vp->lock);
	bool ok = reg_read(vp, off, len, &v);
	pthread_mutex_unlock(&vp->lock);
	if (ok)
		memcpy(data, &v, len); /* little-endian host */
	else
		memset(data, 0xff, len);
}

static void set_half(uint64_t *reg, uint64_t off, unsigned len, uint64_t v)
{
	if (len == 8)
		*reg = v;
	else if (off & 4)
		*reg = (*reg & 0xffffffffULL) | v << 32;
	else
		*reg = (*reg & ~0xffffffffULL) | (uint32_t)v;
}

static void reg_write(struct virtio_pci *vp, uint64_t off, unsigned len, uint64_t v)
{
	struct vpci_queue *q;

	switch (off) {
	case VPCI_DFSELECT:
		if (len == 4)
			vp->dfselect = (uint32_t)v;
		break;
	case VPCI_GFSELECT:
		if (len == 4)
			vp->gfselect = (uint32_t)v;
		break;
	case VPCI_GF:
		if (len == 4 && vp->gfselect < 2 && !(status_get(vp) & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;
			vp->guest_features =
			    (vp->guest_features & ~(0xffffffffULL << sh)) | v << sh;
		}
		break;
	case VPCI_MSIX:
		if (len == 2)
			__atomic_store_n(&vp->msix_config, valid_vector(vp, (uint16_t)v),
					 __ATOMIC_RELEASE);
		break;
	case VPCI_STATUS:
		if (len == 1)
			status_write(vp, (uint8_t)v);
		break;
	case VPCI_QSELECT:
		if (len == 2)
			vp->queue_select = (uint16_t)v;
		break;
	case VPCI_QSIZE:
		q = selected_writable(vp);
		if (len == 2 && q && v && !(v & (v - 1)) && v <= vp->vdev->queue_max_size)
			q->size = (uint16_t)v;
		break;
	case VPCI_QMSIX:
		q = selected(vp);
		if (len == 2 && q)
			__atomic_store_n(&q->msix_vector, valid_vector(vp, (uint16_t)v),
					 __ATOMIC_RELEASE);
		break;
	case VPCI_QENABLE:
		/* Only 1 is meaningful: disabling needs VIRTIO_F_RING_RESET. */
		q = selected_writable(vp);
		if (len == 2 && q && v == 1)
			q->enabled = true;
		break;
	case VPCI_QDESC:
	case VPCI_QAVAIL:
	case VPCI_QUSED:
	case VPCI_QDESC + 4:
	case VPCI_QAVAIL + 4:
	case VPCI_QUSED + 4: {
		uint64_t base = off & ~7ULL;
		q = selected_writable(vp);
		if (!q || !(len == 4 || (len == 8 && !(off & 4))))
			break;
		set_half(base == VPCI_QDESC    ? &q->desc
			 : base == VPCI_QAVAIL ? &q->avail
					       : &q->used,
			 off, len, v);
		break;
	}
	default: /* read-only or no register: ignored */
		break;
	}
}

void vpci_common_write(struct virtio_pci *vp, uint64_t off, const void *data, unsigned len)
{
	uint64_t v = 0;

	if (len > sizeof(v))
		return;
	memcpy(&v, data, len);
	pthread_mutex_lock(&vp->lock);
	reg_write(vp, off, len, v);
	pthread_mutex_unlock(&vp->lock);
}
