/* net_tx.c - virtio-net transmit: guest frames to the tap.
 *
 * Owns: the transmit queue walk and the checks each chain passes before
 * its frame is written. A chain must be device-readable only, hold the
 * 12-byte header and a frame of 14..65553 bytes, and carry a header that
 * asks only for what was negotiated (checksum offload with CSUM and a
 * checksum field inside the frame; TCPv4/TCPv6 segmentation with
 * HOST_TSO4/HOST_TSO6, a non-zero segment size and NEEDS_CSUM; ECN with
 * HOST_ECN). Anything else drops that packet and returns the chain: the
 * device goes on. The header is copied out of guest RAM once, checked, and
 * that copy is what the tap gets, so a guest rewriting it meanwhile
 * changes nothing; the frame is written from guest RAM (one writev, no
 * copy). At most VNET_TX_BUDGET chains per wakeup; the rest waits for the
 * next turn of the loop. */
#include "net_int.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

void vnet_hdr_decode(const uint8_t raw[VNET_HDR_SIZE], struct vnet_hdr *h)
{
	uint16_t v[5];

	memcpy(v, raw + 2, sizeof(v));
	h->flags = raw[0];
	h->gso_type = raw[1];
	h->hdr_len = le16toh(v[0]);
	h->gso_size = le16toh(v[1]);
	h->csum_start = le16toh(v[2]);
	h->csum_offset = le16toh(v[3]);
	h->num_buffers = le16toh(v[4]);
}

static bool has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

int vnet_tx_check_hdr(const struct vnet_hdr *h, uint64_t features, uint32_t frame_len)
{
	if (frame_len < VNET_MIN_FRAME || frame_len > VNET_MAX_FRAME)
		return -EMSGSIZE;
	if (h->flags & ~VNET_HDR_F_NEEDS_CSUM)
		return -EINVAL; /* DATA_VALID and RSC_INFO are for the receive side */
	if (h->flags & VNET_HDR_F_NEEDS_CSUM) {
		if (!has(features, VIRTIO_NET_F_CSUM))
			return -EINVAL;
		if ((uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return -EINVAL;
	}
	uint8_t gso = h->gso_type & (uint8_t)~VNET_HDR_GSO_ECN;
	if (h->gso_type & VNET_HDR_GSO_ECN) {
		if (gso == VNET_HDR_GSO_NONE || !has(features, VIRTIO_NET_F_HOST_ECN))
			return -EINVAL;
	}
	switch (gso) {
	case VNET_HDR_GSO_NONE:
		return 0;
	case VNET_HDR_GSO_TCPV4:
		if (!has(features, VIRTIO_NET_F_HOST_TSO4))
			return -EINVAL;
		break;
	case VNET_HDR_GSO_TCPV6:
		if (!has(features, VIRTIO_NET_F_HOST_TSO6))
			return -EINVAL;
		break;
	default:
		return -EINVAL; /* UDP fragmentation and USO are not offered */
	}
	if (h->gso_size == 0 || !(h->flags & VNET_HDR_F_NEEDS_CSUM))
		return -EINVAL;
	return 0;
}

/* One chain: 0 when it is done with (sent or dropped), -EAGAIN when the
 * tap cannot take it now. */
static int tx_one(struct vnet *n, const struct virtq_chain *c)
{
	uint8_t raw[VNET_HDR_SIZE];
	struct vnet_hdr h;

	if (c->nin > 0 || c->out_bytes < VNET_HDR_SIZE)
		goto drop; /* device-writable buffers, or no room for the header */
	uint32_t frame_len = c->out_bytes - VNET_HDR_SIZE;
	if (iov_to_buf(c->iov, c->nout, 0, raw, sizeof(raw)) != sizeof(raw))
		goto drop;
	vnet_hdr_decode(raw, &h);
	if (vnet_tx_check_hdr(&h, n->dev.driver_features, frame_len) < 0)
		goto drop;
	if (n->fd_dead)
		goto drop;
	memset(raw + VNET_HDR_NUM_BUFFERS_OFF, 0, 2); /* the device ignores it on transmit */
	n->tx_iov[0] = (struct iovec){ .iov_base = raw, .iov_len = sizeof(raw) };
	int k = iov_slice(c->iov, c->nout, VNET_HDR_SIZE, frame_len, n->tx_iov + 1, VNET_TX_IOV);
	if (k < 0)
		goto drop;
	for (;;) {
		ssize_t w = writev(n->fd, n->tx_iov, k + 1);
		if (w >= 0) {
			if ((size_t)w == VNET_HDR_SIZE + (size_t)frame_len)
				n->stats.tx_packets++;
			else
				n->stats.tx_errors++;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return -EAGAIN;
		/* EIO (the tap is down), EINVAL (the kernel refused the
		 * header), ...: this frame is lost, the device goes on. */
		n->stats.tx_errors++;
		return 0;
	}
drop:
	n->stats.tx_dropped++;
	return 0;
}

void vnet_tx(struct vnet *n)
{
	struct virtqueue *vq = &n->vqs[VNET_TXQ];
	struct virtq_chain c;
	unsigned done = 0;
	int r = 0;

	if (!n->active || n->tx_stalled || !vq->started)
		return;
	do {
		virtq_notify_disable(vq);
		while (done < VNET_TX_BUDGET &&
		       (r = virtq_pop(vq, &c, n->tx_pop_iov, VNET_TX_IOV)) > 0) {
			if (tx_one(n, &c) == -EAGAIN) {
				/* Wait for EPOLLOUT with kicks still off. */
				virtq_unpop(vq);
				n->tx_stalled = true;
				goto out;
			}
			(void)virtq_push(vq, c.head, 0);
			done++;
		}
		if (r < 0) {
			vnet_break(n);
			return;
		}
		if (done >= VNET_TX_BUDGET) {
			/* Give the loop back; on_more picks up where we stopped. */
			vnet_schedule(n, VNET_TXQ);
			goto out;
		}
	} while (virtq_notify_enable(vq));
out:
	virtq_signal(&n->dev, VNET_TXQ);
	vnet_update_watch(n);
}
