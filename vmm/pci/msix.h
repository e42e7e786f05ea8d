/* msix.h - an MSI-X capability with its table and pending-bit array.
 *
 * Owns: the capability registers (table size, function mask, enable), the
 * vector table the guest programs, the PBA, and turning each vector into a
 * KVM interrupt. Every vector has, for the device's lifetime, one eventfd
 * and one MSI GSI. A vector is live when MSI-X is enabled, the function is
 * not masked and the vector is not masked: its GSI then routes to the
 * guest's address/data and its eventfd is an irqfd on that GSI, so
 * msix_notify() (an eventfd write) reaches the guest without a userspace
 * hop. Masking a vector unbinds the irqfd; notifications then accumulate in
 * the eventfd counter, which is the vector's pending bit; unmasking rebinds
 * it and KVM injects at once when the counter is non-zero.
 *
 * The table and PBA live in a BAR the owning device decodes: it forwards
 * accesses with offsets relative to their start. Accesses must be 4 or 8
 * bytes, naturally aligned; anything else reads all-ones and writes nothing.
 *
 * Threading: table/PBA/config hooks run on vCPU threads under m->lock;
 * msix_notify() is lock-free and callable from any thread. */
#ifndef KVRUN_VMM_MSIX_H
#define KVRUN_VMM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct irq_router;
struct pci_dev;

#define MSIX_MAX_VECTORS 2048
#define MSIX_ENTRY_SIZE	 16
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_FMASK	 (1u << 14)
#define MSIX_VEC_MASKED	 1u

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	unsigned gsi;
	int efd;
	bool live; /* route programmed and irqfd bound */
};

struct msix {
	struct irq_router *irq;
	pthread_mutex_t lock;
	unsigned nvec;
	unsigned cap; /* config offset of the capability */
	bool enabled, fmask;
	struct msix_vector *vec;
};

static inline uint64_t msix_table_size(unsigned nvec)
{
	return (uint64_t)nvec * MSIX_ENTRY_SIZE;
}

static inline uint64_t msix_pba_size(unsigned nvec)
{
	return (((uint64_t)nvec + 63) / 64) * 8;
}

/* Add the capability to d (table at table_off and PBA at pba_off in BAR
 * bar, both 8-byte aligned) and allocate nvec vectors' eventfds and GSIs.
 * Call during device setup, before pci_register(). */
int msix_init(struct msix *m, struct pci_dev *d, struct irq_router *irq, unsigned nvec,
	      unsigned bar, uint32_t table_off, uint32_t pba_off);
/* Unbind and free every vector. */
void msix_destroy(struct msix *m);

/* The owning device's cfg_write hook calls this for every config write
 * (d's lock held): it picks up changes to enable and function mask. */
void msix_cfg_written(struct msix *m, struct pci_dev *d, uint32_t off, unsigned len);

void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned len);
void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned len);
void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned len);

/* Raise vector v. False when v is out of range (e.g. VIRTIO_MSI_NO_VECTOR). */
bool msix_notify(struct msix *m, unsigned v);
/* The eventfd behind vector v, or -1. */
int msix_vector_fd(const struct msix *m, unsigned v);
/* The GSI behind vector v, or -1. */
int msix_vector_gsi(const struct msix *m, unsigned v);
/* Whether vector v is live (see above). */
bool msix_vector_live(struct msix *m, unsigned v);

#endif
