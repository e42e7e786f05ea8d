/* net_rx.c - virtio-net receive: tap frames into the guest's buffers.
 *
 * Owns: reading the tap (one frame with its header per read, into a bounce
 * buffer) and spreading each frame over receive chains. With mergeable
 * buffers a frame takes as many chains as it needs and the first one's
 * header says how many (num_buffers); their used entries are published
 * together. Without, one chain must hold the whole frame. When the guest
 * has no buffer left, the frame waits (already copied chains are kept),
 * the tap is no longer watched, and the guest's next receive kick resumes:
 * frames then queue in the tap and the kernel drops what does not fit, so
 * a guest that stops reading costs the host nothing.
 *
 * A chain that cannot take a frame - device-readable buffers, no
 * writable byte, a first buffer shorter than the header, or (without
 * mergeable buffers) shorter than the frame - is returned with used length
 * 0 together with the chains already taken for that frame, which is
 * dropped. So is a frame larger than the whole queue can hold. A header
 * from the tap that asks for more than the driver negotiated (the tap is
 * configured not to send such frames) drops the frame as well. At most
 * VNET_RX_BUDGET frames per wakeup. */
#include "net_int.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

static bool has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

int vnet_rx_check_hdr(const struct vnet_hdr *h, uint64_t features, uint32_t frame_len)
{
	if (frame_len < VNET_MIN_FRAME || frame_len > VNET_MAX_RX_FRAME)
		return -EMSGSIZE;
	if (h->flags & ~(VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID))
		return -EINVAL;
	if (h->flags && !has(features, VIRTIO_NET_F_GUEST_CSUM))
		return -EINVAL;
	if ((h->flags & VNET_HDR_F_NEEDS_CSUM) &&
	    (uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
		return -EINVAL;
	uint8_t gso = h->gso_type & (uint8_t)~VNET_HDR_GSO_ECN;
	if ((h->gso_type & VNET_HDR_GSO_ECN) &&
	    (gso == VNET_HDR_GSO_NONE || !has(features, VIRTIO_NET_F_GUEST_ECN)))
		return -EINVAL;
	switch (gso) {
	case VNET_HDR_GSO_NONE:
		return 0;
	case VNET_HDR_GSO_TCPV4:
		if (!has(features, VIRTIO_NET_F_GUEST_TSO4))
			return -EINVAL;
		break;
	case VNET_HDR_GSO_TCPV6:
		if (!has(features, VIRTIO_NET_F_GUEST_TSO6))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return h->gso_size ? 0 : -EINVAL;
}

enum deliver_result { DELIVERED, WAIT, DROPPED, BROKEN };

static void frame_done(struct vnet *n)
{
	n->rx_pending = 0;
	n->rx_off = 0;
	n->rx_held = 0;
	n->rx_first_n = 0;
}

/* Give back every chain taken for the current frame, empty, and drop it. */
static enum deliver_result drop_frame(struct vnet *n)
{
	for (unsigned i = 0; i < n->rx_held; i++)
		n->rx_lens[i] = 0;
	(void)virtq_push_many(&n->vqs[VNET_RXQ], n->rx_heads, n->rx_lens, n->rx_held);
	n->stats.rx_dropped++;
	frame_done(n);
	return DROPPED;
}

/* Continue delivering the rx_pending bytes of rx_buf from rx_off. */
static enum deliver_result deliver(struct vnet *n)
{
	struct virtqueue *vq = &n->vqs[VNET_RXQ];
	uint32_t len = n->rx_pending;
	struct virtq_chain c;

	while (n->rx_off < len) {
		if (n->rx_held >= vq->size)
			return drop_frame(n); /* more than the whole ring can hold */
		int r = virtq_pop(vq, &c, n->rx_iov, VNET_RX_IOV);
		if (r < 0)
			return BROKEN;
		if (r == 0)
			return WAIT;
		n->rx_heads[n->rx_held] = c.head;
		n->rx_lens[n->rx_held] = 0;
		n->rx_held++;
		if (c.nout > 0 || c.in_bytes == 0 ||
		    (n->rx_held == 1 && c.in_bytes < VNET_HDR_SIZE) ||
		    (!n->mrg_rxbuf && c.in_bytes < len))
			return drop_frame(n);
		uint32_t k = len - n->rx_off;
		if (k > c.in_bytes)
			k = c.in_bytes;
		(void)iov_from_buf(c.iov, c.nin, 0, n->rx_buf + n->rx_off, k);
		if (n->rx_held == 1) {
			memcpy(n->rx_first_iov, c.iov, c.nin * sizeof(c.iov[0]));
			n->rx_first_n = c.nin;
		}
		n->rx_lens[n->rx_held - 1] = k;
		n->rx_off += k;
	}
	uint16_t nb = htole16((uint16_t)n->rx_held);
	(void)iov_from_buf(n->rx_first_iov, n->rx_first_n, VNET_HDR_NUM_BUFFERS_OFF, &nb, 2);
	(void)virtq_push_many(vq, n->rx_heads, n->rx_lens, n->rx_held);
	n->stats.rx_packets++;
	frame_done(n);
	return DELIVERED;
}

/* Read the next frame into rx_buf: 1 when there is one, 0 when the tap is
 * empty, -1 when the tap is gone. Frames that are too short, cut, or carry
 * a header the driver cannot take are dropped here. */
static int read_frame(struct vnet *n)
{
	struct vnet_hdr h;

	for (;;) {
		ssize_t r = read(n->fd, n->rx_buf, VNET_RX_BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return -1; /* EBADFD: the device went away; 0: a test's peer closed */
		if ((size_t)r < VNET_HDR_SIZE + VNET_MIN_FRAME || (size_t)r >= VNET_RX_BUF) {
			n->stats.rx_dropped++;
			return 2;
		}
		vnet_hdr_decode(n->rx_buf, &h);
		if (vnet_rx_check_hdr(&h, n->dev.driver_features, (uint32_t)r - VNET_HDR_SIZE) <
		    0) {
			n->stats.rx_dropped++;
			return 2;
		}
		n->rx_pending = (uint32_t)r;
		return 1;
	}
}

void vnet_rx(struct vnet *n)
{
	struct virtqueue *vq = &n->vqs[VNET_RXQ];
	unsigned budget = VNET_RX_BUDGET;

	if (!n->active || n->rx_wait || !vq->started)
		return;
again:
	while (budget > 0) {
		budget--;
		if (!n->rx_pending) {
			int r = read_frame(n);
			if (r == 0)
				break;
			if (r < 0) {
				virtq_signal(&n->dev, VNET_RXQ);
				vnet_link_lost(n);
				return;
			}
			if (r == 2)
				continue;
		}
		enum deliver_result d = deliver(n);
		if (d == BROKEN) {
			vnet_break(n);
			return;
		}
		if (d == WAIT) {
			n->rx_wait = true;
			break;
		}
	}
	virtq_signal(&n->dev, VNET_RXQ);
	if (n->rx_wait) {
		/* Kick me when buffers come; unless some came meanwhile. */
		if (virtq_notify_enable(vq)) {
			n->rx_wait = false;
			if (budget > 0)
				goto again;
			vnet_schedule(n, VNET_RXQ); /* the frame waits in rx_buf, not the tap */
		}
	} else {
		virtq_notify_disable(vq);
	}
	vnet_update_watch(n);
}
