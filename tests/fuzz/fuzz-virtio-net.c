/* fuzz-virtio-net.c - a fuzz target for virtio-net's request parsing.
 *
 * Owns: LLVMFuzzerTestOneInput, which turns arbitrary bytes (layout in
 * fuzz-virtio-net.h) into negotiated features, transmit and receive rings
 * in synthetic guest RAM, and frames arriving from the host; it then runs
 * the device as the event loop would - a transmit kick, the backend
 * becoming readable, a receive kick - with one end of a SOCK_SEQPACKET
 * socket pair as the tap. Checked besides what ASan and UBSan catch: every
 * frame the device writes to the backend has a valid size and a header
 * that passes the transmit checks for the negotiated features. Built as
 * the libFuzzer binary fuzz-virtio-net (`make fuzz`) and, with replay.c, as
 * the unit test that replays tests/fuzz/corpus/virtio-net. */
#include "fuzz-virtio-net.h"
#include "net_int.h"
#include "virtio_devs.h"
#include "vm.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmm vm;

struct cursor {
	const uint8_t *p;
	size_t left;
};

static uint32_t take(struct cursor *c, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (c->left) {
			v |= (uint32_t)*c->p << (8 * i);
			c->p++;
			c->left--;
		}
	}
	return v;
}

static uint64_t features_of(uint32_t f)
{
	static const struct {
		uint32_t in;
		unsigned bit;
	} map[] = {
		{ FZN_F_CSUM, VIRTIO_NET_F_CSUM },
		{ FZN_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_CSUM },
		{ FZN_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO4 },
		{ FZN_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_TSO6 },
		{ FZN_F_GUEST_ECN, VIRTIO_NET_F_GUEST_ECN },
		{ FZN_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO4 },
		{ FZN_F_HOST_TSO6, VIRTIO_NET_F_HOST_TSO6 },
		{ FZN_F_HOST_ECN, VIRTIO_NET_F_HOST_ECN },
		{ FZN_F_MRG_RXBUF, VIRTIO_NET_F_MRG_RXBUF },
		{ FZN_F_INDIRECT, VIRTIO_F_INDIRECT_DESC },
		{ FZN_F_EVENT_IDX, VIRTIO_F_EVENT_IDX },
	};
	uint64_t r =
	    1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f & map[i].in)
			r |= 1ULL << map[i].bit;
	return r;
}

static void fold(uint64_t table, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t a;
		memcpy(&a, vm.mem.base + table + 16 * i, 8);
		a %= FZN_RAM + 8192;
		memcpy(vm.mem.base + table + 16 * i, &a, 8);
	}
}

/* Every frame the device wrote must be one it was allowed to write. */
static void check_sent(int peer, uint64_t features)
{
	static uint8_t buf[VNET_RX_BUF + 16];
	struct vnet_hdr h;

	for (;;) {
		ssize_t n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		if ((size_t)n < VNET_HDR_SIZE + VNET_MIN_FRAME ||
		    (size_t)n > VNET_HDR_SIZE + VNET_MAX_FRAME)
			abort();
		vnet_hdr_decode(buf, &h);
		if (h.num_buffers != 0 ||
		    vnet_tx_check_hdr(&h, features, (uint32_t)n - VNET_HDR_SIZE) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	struct vmm_net cfg = { .mac_set = true, .mac = { 2, 0, 0, 0, 0, 1 }, .mtu = 1500 };
	struct virtio_dev *d = NULL;
	int sv[2];

	if (!vm.mem.base && guest_mem_init(&vm.mem, FZN_RAM, false) < 0)
		abort();
	uint32_t f = take(&c, 2);
	unsigned txs = 1u << (take(&c, 1) % 9), rxs = 1u << (take(&c, 1) % 9);
	uint16_t tx_avail = (uint16_t)take(&c, 2), rx_avail = (uint16_t)take(&c, 2);
	unsigned nframes = take(&c, 1) % (FZN_MAX_FRAMES + 1);
	const uint8_t *frames[FZN_MAX_FRAMES];
	size_t frame_len[FZN_MAX_FRAMES];
	for (unsigned i = 0; i < nframes; i++) {
		size_t len = take(&c, 2);
		if (len > c.left)
			len = c.left;
		frames[i] = c.p;
		frame_len[i] = len;
		c.p += len;
		c.left -= len;
	}
	memset(vm.mem.base, 0, FZN_WINDOW);
	memcpy(vm.mem.base, c.p, c.left < FZN_WINDOW ? c.left : FZN_WINDOW);
	if (f & FZN_F_FOLD) {
		fold(FZN_TX_DESC, txs);
		fold(FZN_RX_DESC, rxs);
	}
	memcpy(vm.mem.base + FZN_TX_AVAIL + 2, &tx_avail, 2);
	memcpy(vm.mem.base + FZN_RX_AVAIL + 2, &rx_avail, 2);

	if (evloop_init(&vm.loop) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    vnet_create_on_fd(&vm, sv[0], &cfg, &d, NULL) < 0)
		abort();
	struct virtqueue *vq = d->vqs;
	vq[VNET_TXQ].size = (uint16_t)txs;
	vq[VNET_TXQ].desc_gpa = FZN_TX_DESC;
	vq[VNET_TXQ].avail_gpa = FZN_TX_AVAIL;
	vq[VNET_TXQ].used_gpa = FZN_TX_USED;
	vq[VNET_RXQ].size = (uint16_t)rxs;
	vq[VNET_RXQ].desc_gpa = FZN_RX_DESC;
	vq[VNET_RXQ].avail_gpa = FZN_RX_AVAIL;
	vq[VNET_RXQ].used_gpa = FZN_RX_USED;
	vq[VNET_TXQ].enabled = vq[VNET_RXQ].enabled = true;
	d->driver_features = features_of(f) & (d->device_features | 1ULL << VIRTIO_F_VERSION_1);
	d->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
	if (d->ops->activate(d) == 0) {
		/* A transmit kick, then the host's frames, then a receive
		 * kick and another turn: waiting, resuming and the budget. */
		d->ops->queue_notify(d, VNET_TXQ);
		check_sent(sv[1], d->driver_features);
		for (unsigned i = 0; i < nframes; i++)
			(void)!send(sv[1], frames[i], frame_len[i], MSG_DONTWAIT);
		vnet_rx(d->priv);
		d->ops->queue_notify(d, VNET_RXQ);
		vnet_rx(d->priv);
		d->ops->queue_notify(d, VNET_TXQ);
		check_sent(sv[1], d->driver_features);
	}
	d->ops->reset(d);
	d->ops->destroy(d);
	close(sv[1]);
	evloop_destroy(&vm.loop);
	return 0;
}
