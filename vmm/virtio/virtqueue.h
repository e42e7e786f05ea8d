/* virtqueue.h - split virtqueues: the device side of the rings in guest RAM.
 *
 * Owns: queue state configured by the transport (size, ring addresses, MSI-X
 * vector, kick/call fds) and the device-side ring operations. Every
 * descriptor, index, address and length read from the rings is
 * bounds-checked against guest RAM and the queue size: a malformed chain
 * (out-of-range address, loop, over-long chain, bad indirect table) is
 * reported as an error, never followed.
 *
 * The parsing API (popping chains into iovecs, pushing used entries,
 * event-idx notification suppression) is declared below the state. */
#ifndef KVRUN_VMM_VIRTQUEUE_H
#define KVRUN_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtqueue {
	/* Written by the transport from the driver's configuration. */
	uint16_t size; /* number of entries; a power of two when enabled */
	bool enabled;
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd; /* ioeventfd, -1 when none */
	int call_fd; /* irqfd for msix_vector, -1 when none */

	/* Device-side ring state. */
	const struct guest_mem *mem;
	uint16_t last_avail; /* next avail ring index to consume */
	uint16_t used_idx;   /* next used ring index to fill */
	bool event_idx;	     /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	     /* VIRTIO_F_INDIRECT_DESC negotiated */
	bool broken;	     /* a malformed chain was seen; stop until reset */
};

#endif
