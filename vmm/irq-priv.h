/* irq-priv.h - struct irq_router, shared by irq.c (routing table) and
 * irqfd.c (eventfd bindings). Nothing outside those two files includes it. */
#ifndef KVRUN_VMM_IRQ_PRIV_H
#define KVRUN_VMM_IRQ_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "irq.h"
#include "layout.h"

#define NMSI	 (LAYOUT_MAX_GSI - LAYOUT_MSI_GSI_BASE)
#define PIC_PINS 16 /* GSIs 0..15 also reach the two 8259s */

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

#endif
