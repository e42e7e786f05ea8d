/* net_int.h - virtio-net internals shared by net.c, net_rx.c, net_tx.c and
 * the tests.
 *
 * Owns: the device state (struct vnet), the feature bits and header layout
 * of virtio 1.2 section 5.1, the limits that bound the work per wakeup and
 * per packet, and the entry points between the device's files. The backend
 * is a tap fd with a 12-byte virtio-net header (common/tapdev.h); tests may
 * put a SOCK_SEQPACKET socket in its place (no tap ioctls are made then).
 *
 * Everything here runs on the event-loop thread except config_read (vCPU
 * threads), which only reads constant bytes and the atomic link status. */
#ifndef KVRUN_VMM_VIRTIO_NET_INT_H
#define KVRUN_VMM_VIRTIO_NET_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio.h"

struct vmm;
struct vmm_net;
struct kv_err;

/* Feature bits (virtio 1.2, 5.1.3). */
#define VIRTIO_NET_F_CSUM	0  /* device handles packets with partial checksum (tx) */
#define VIRTIO_NET_F_GUEST_CSUM 1  /* driver handles packets with partial checksum (rx) */
#define VIRTIO_NET_F_MTU	3  /* config mtu is valid */
#define VIRTIO_NET_F_MAC	5  /* config mac is valid */
#define VIRTIO_NET_F_GUEST_TSO4 7  /* driver takes TSOv4 (rx) */
#define VIRTIO_NET_F_GUEST_TSO6 8  /* driver takes TSOv6 (rx) */
#define VIRTIO_NET_F_GUEST_ECN	9  /* ... with ECN */
#define VIRTIO_NET_F_HOST_TSO4	11 /* device takes TSOv4 (tx) */
#define VIRTIO_NET_F_HOST_TSO6	12 /* device takes TSOv6 (tx) */
#define VIRTIO_NET_F_HOST_ECN	13 /* ... with ECN */
#define VIRTIO_NET_F_MRG_RXBUF	15 /* driver can merge receive buffers */
#define VIRTIO_NET_F_STATUS	16 /* config status is valid */

/* struct virtio_net_hdr_v1 (12 bytes, little-endian). */
#define VNET_HDR_SIZE		 12
#define VNET_HDR_F_NEEDS_CSUM	 1
#define VNET_HDR_F_DATA_VALID	 2
#define VNET_HDR_GSO_NONE	 0
#define VNET_HDR_GSO_TCPV4	 1
#define VNET_HDR_GSO_UDP	 3
#define VNET_HDR_GSO_TCPV6	 4
#define VNET_HDR_GSO_ECN	 0x80
#define VNET_HDR_NUM_BUFFERS_OFF 10
#define VIRTIO_NET_S_LINK_UP	 1
#define VNET_CONFIG_SIZE	 12 /* mac[6], status, max_virtqueue_pairs, mtu */
#define VNET_CONFIG_STATUS_OFF	 6
#define VNET_CONFIG_MTU_OFF	 10

struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VNET_RXQ 0
#define VNET_TXQ 1

/* Frames: an Ethernet header at least, and at most a 64 KiB GSO packet
 * with its Ethernet and VLAN headers (what the guest may send). */
#define VNET_MIN_FRAME 14
#define VNET_MAX_FRAME (65535 + 14 + 4)
/* What the tap may hand us: the kernel's 64 KiB GSO limit is on the
 * packet, so leave room for headers around it. Mergeable buffers take any
 * size; a frame that does not fit a guest's single buffer is dropped. */
#define VNET_MAX_RX_FRAME (65536 + 1024)
/* The receive bounce buffer: one header and the largest frame, plus room
 * to tell a frame that fits from one the tap had to cut. */
#define VNET_RX_BUF (VNET_HDR_SIZE + VNET_MAX_RX_FRAME + 1)
/* Work per wakeup: packets moved before the loop serves others. */
#define VNET_TX_BUDGET 128
#define VNET_RX_BUDGET 128
/* Entries per queue (the driver may choose fewer). */
#define VNET_QUEUE_SIZE 256
/* Descriptors per chain; more marks the queue broken (virtq_pop -E2BIG). */
#define VNET_TX_IOV 64
#define VNET_RX_IOV 64

struct vnet_stats {
	uint64_t tx_packets, tx_dropped, tx_errors; /* dropped: bad chain/header; errors: tap */
	uint64_t rx_packets, rx_dropped;	    /* dropped: bad buffers, no room, bad header */
};

struct vnet {
	struct virtio_dev dev;
	struct virtqueue vqs[2];
	int fd;	     /* the tap (or a test's packet socket); owned */
	bool is_tap; /* tap ioctls apply */
	int more_fd; /* eventfd: continue after a full budget (more_rx, more_tx) */
	bool more_rx, more_tx;
	uint8_t config[VNET_CONFIG_SIZE];
	uint16_t link_status; /* atomic: VIRTIO_NET_S_LINK_UP or 0 */

	bool active;
	bool mrg_rxbuf;	     /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool rx_wait;	     /* waiting for receive buffers (rx kick resumes) */
	bool tx_stalled;     /* the tap refused a write (EAGAIN): wait for EPOLLOUT */
	bool fd_dead;	     /* the tap reported an error or hang-up: stop using it */
	uint32_t fd_events;  /* what the loop watches on fd (0: not registered) */
	bool more_watched;   /* more_fd registered */
	uint32_t rx_pending; /* bytes of a packet read but not yet delivered */

	uint8_t *rx_buf;		      /* VNET_RX_BUF bytes */
	struct iovec tx_pop_iov[VNET_TX_IOV]; /* a popped transmit chain */
	struct iovec tx_iov[VNET_TX_IOV + 1]; /* header copy + frame, for writev */
	struct iovec rx_iov[VNET_RX_IOV];
	/* The packet being delivered: rx_off bytes of rx_pending copied into
	 * rx_held chains so far (mergeable buffers keep them across a wait for
	 * more buffers); the first chain's buffers, where num_buffers goes. */
	uint32_t rx_off;
	unsigned rx_held;
	struct iovec rx_first_iov[VNET_RX_IOV];
	unsigned rx_first_n;
	uint16_t rx_heads[VNET_QUEUE_SIZE]; /* the chains one packet fills */
	uint32_t rx_lens[VNET_QUEUE_SIZE];
	struct vnet_stats stats;
};

/* net.c: watch the right events on the backend fd (EPOLLIN unless waiting
 * for buffers, EPOLLOUT while tx is stalled); the link went away. */
void vnet_update_watch(struct vnet *n);
void vnet_link_lost(struct vnet *n);
/* Continue queue q's work on a later turn of the loop. */
void vnet_schedule(struct vnet *n, unsigned q);
/* Ring-level guest error: the device stops until reset. */
void vnet_break(struct vnet *n);

/* net_tx.c: check a transmit header against the negotiated features and
 * the frame length. 0 when the packet may go to the tap. */
int vnet_tx_check_hdr(const struct vnet_hdr *h, uint64_t features, uint32_t frame_len);
/* Move up to VNET_TX_BUDGET transmit chains to the tap. */
void vnet_tx(struct vnet *n);

/* net_rx.c: check a header read from the tap against what the driver
 * negotiated (the tap is told the same through TUNSETOFFLOAD). */
int vnet_rx_check_hdr(const struct vnet_hdr *h, uint64_t features, uint32_t frame_len);
/* Move up to VNET_RX_BUDGET packets from the backend into receive buffers. */
void vnet_rx(struct vnet *n);

void vnet_hdr_decode(const uint8_t raw[VNET_HDR_SIZE], struct vnet_hdr *h);

/* For tests and the fuzz target: the device on an fd that is not a tap
 * (e.g. one end of a SOCK_SEQPACKET socketpair; ownership passes to the
 * device). cfg's mac and mtu apply. */
int vnet_create_on_fd(struct vmm *vm, int fd, const struct vmm_net *cfg, struct virtio_dev **out,
		      struct kv_err *err);

#endif
