/* net.c - virtio-net: the device model on a tap.
 *
 * Owns: the network device (virtio 1.2, 5.1; device ID 1) as the transport
 * sees it - one receive and one transmit queue, the features offered (MAC,
 * STATUS, MTU, checksum offload both ways, TSO4/TSO6 with ECN both ways,
 * mergeable receive buffers), the config space (mac, status, mtu),
 * activation (TUNSETOFFLOAD from the negotiated guest features), reset,
 * and the event-loop plumbing: the tap's readability drives receive
 * (net_rx.c), transmit kicks arrive as queue notifications (net_tx.c), a
 * tap that cannot take a frame is waited for with EPOLLOUT, and an eventfd
 * continues transmission after a full budget so one busy queue never holds
 * the loop. Creation opens or checks the tap (common/tapdev.h). */
#include "net_int.h"
#include "tapdev.h"
#include "virtio_devs.h"
#include "vm.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#define F(bit) (1ULL << (bit))

#define VNET_FEATURES                                                                              \
	(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MAC) |                 \
	 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN) |     \
	 F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN) |        \
	 F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_F_INDIRECT_DESC) |          \
	 F(VIRTIO_F_EVENT_IDX))

#define VNET_MIN_MTU 68

static void vnet_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	struct vnet *n = d->priv;
	uint8_t cfg[VNET_CONFIG_SIZE];
	uint16_t st = htole16(__atomic_load_n(&n->link_status, __ATOMIC_RELAXED));

	memcpy(cfg, n->config, sizeof(cfg));
	memcpy(cfg + VNET_CONFIG_STATUS_OFF, &st, 2);
	virtio_config_copy(cfg, sizeof(cfg), off, data, len);
}

static void vnet_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
	/* Read-only for a modern driver (the MAC is writable only through a
	 * legacy interface or VIRTIO_NET_F_CTRL_MAC_ADDR, neither offered). */
}

static void on_fd(void *opaque, uint32_t events);

void vnet_update_watch(struct vnet *n)
{
	struct evloop *l = &n->dev.vm->loop;
	uint32_t want = 0;
	int r = 0;

	if (n->active && !n->fd_dead) {
		if (!n->rx_wait && n->vqs[VNET_RXQ].started)
			want |= EPOLLIN;
		if (n->tx_stalled)
			want |= EPOLLOUT;
	}
	if (want == n->fd_events)
		return;
	if (want == 0)
		(void)evloop_del(l, n->fd);
	else if (n->fd_events == 0)
		r = evloop_add(l, n->fd, want, on_fd, n);
	else
		r = evloop_mod(l, n->fd, want);
	n->fd_events = r < 0 ? 0 : want;
	if (r < 0)
		vnet_link_lost(n); /* cannot watch the tap (out of memory): give up on it */
}

void vnet_link_lost(struct vnet *n)
{
	if (n->fd_dead)
		return;
	n->fd_dead = true;
	n->tx_stalled = false;
	n->rx_pending = 0;
	__atomic_store_n(&n->link_status, 0, __ATOMIC_RELAXED);
	vnet_update_watch(n);
	/* The driver rereads status on a configuration-change interrupt. */
	if ((n->dev.status & VIRTIO_STATUS_DRIVER_OK) && n->dev.signal_config)
		n->dev.signal_config(&n->dev);
}

void vnet_break(struct vnet *n)
{
	virtio_dev_set_broken(&n->dev);
	n->active = false;
	n->rx_pending = 0;
	n->tx_stalled = false;
	vnet_update_watch(n);
}

static void on_fd(void *opaque, uint32_t events)
{
	struct vnet *n = opaque;

	if (events & (EPOLLERR | EPOLLHUP)) {
		/* The tap was deleted under us (or a test's peer hung up). */
		vnet_link_lost(n);
		return;
	}
	if (events & EPOLLOUT) {
		n->tx_stalled = false;
		vnet_tx(n);
	}
	if (events & EPOLLIN)
		vnet_rx(n);
}

void vnet_schedule(struct vnet *n, unsigned q)
{
	uint64_t one = 1;

	if (q == VNET_RXQ)
		n->more_rx = true;
	else
		n->more_tx = true;
	(void)!write(n->more_fd, &one, sizeof(one));
}

static void on_more(void *opaque, uint32_t events)
{
	struct vnet *n = opaque;
	bool rx = n->more_rx, tx = n->more_tx;
	uint64_t v;

	(void)!read(n->more_fd, &v, sizeof(v));
	n->more_rx = n->more_tx = false;
	if (tx)
		vnet_tx(n);
	if (rx)
		vnet_rx(n);
}

/* What the tap may hand us, from what the driver can take. */
static unsigned tap_offloads(const struct virtio_dev *d)
{
	unsigned off = 0;

	if (!virtio_has_feature(d, VIRTIO_NET_F_GUEST_CSUM))
		return 0; /* segmentation offload needs checksum offload */
	off |= TUN_F_CSUM;
	if (virtio_has_feature(d, VIRTIO_NET_F_GUEST_TSO4))
		off |= TUN_F_TSO4;
	if (virtio_has_feature(d, VIRTIO_NET_F_GUEST_TSO6))
		off |= TUN_F_TSO6;
	if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) && virtio_has_feature(d, VIRTIO_NET_F_GUEST_ECN))
		off |= TUN_F_TSO_ECN;
	return off;
}

static int vnet_activate(struct virtio_dev *d)
{
	struct vnet *n = d->priv;
	int r;

	if ((r = virtio_start_queues(d, n->vqs, 2)) < 0)
		return r;
	n->mrg_rxbuf = virtio_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	if (n->is_tap && ioctl(n->fd, TUNSETOFFLOAD, (unsigned long)tap_offloads(d)) < 0)
		return -errno;
	if (!n->more_watched) {
		r = evloop_add(&d->vm->loop, n->more_fd, EPOLLIN, on_more, n);
		if (r < 0)
			return r;
		n->more_watched = true;
	}
	n->active = true;
	n->rx_wait = false;
	n->tx_stalled = false;
	vnet_update_watch(n);
	return 0;
}

static void vnet_reset(struct virtio_dev *d)
{
	struct vnet *n = d->priv;
	uint64_t v;

	n->active = false;
	n->rx_wait = false;
	n->tx_stalled = false;
	n->rx_pending = 0;
	vnet_update_watch(n);
	if (n->more_watched) {
		(void)evloop_del(&d->vm->loop, n->more_fd);
		n->more_watched = false;
	}
	(void)!read(n->more_fd, &v, sizeof(v));
	n->more_rx = n->more_tx = false;
	if (n->is_tap && !n->fd_dead)
		(void)ioctl(n->fd, TUNSETOFFLOAD, 0UL);
	virtq_reset(&n->vqs[VNET_RXQ]);
	virtq_reset(&n->vqs[VNET_TXQ]);
}

static void vnet_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct vnet *n = d->priv;

	if (!n->active)
		return;
	if (q == VNET_TXQ) {
		vnet_tx(n);
	} else if (q == VNET_RXQ && n->rx_wait) {
		/* New receive buffers: deliver what waits, then read the tap again. */
		n->rx_wait = false;
		vnet_rx(n);
	}
}

static void vnet_destroy(struct virtio_dev *d)
{
	struct vnet *n = d->priv;

	if (n->fd >= 0)
		(void)close(n->fd);
	if (n->more_fd >= 0)
		(void)close(n->more_fd);
	free(n->rx_buf);
	free(n);
}

static const struct virtio_dev_ops vnet_ops = {
	.config_read = vnet_config_read,
	.config_write = vnet_config_write,
	.activate = vnet_activate,
	.reset = vnet_reset,
	.queue_notify = vnet_queue_notify,
	.destroy = vnet_destroy,
};

/* The device around an open backend fd (owned from here on, closed on
 * failure too). */
static int vnet_new(struct vmm *vm, int fd, bool is_tap, const uint8_t mac[6], uint32_t mtu,
		    struct virtio_dev **out)
{
	struct vnet *n = calloc(1, sizeof(*n));

	if (!n || !(n->rx_buf = malloc(VNET_RX_BUF))) {
		free(n);
		(void)close(fd);
		return -ENOMEM;
	}
	n->fd = fd;
	n->is_tap = is_tap;
	n->more_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->more_fd < 0) {
		int r = -errno;
		(void)close(fd);
		free(n->rx_buf);
		free(n);
		return r;
	}
	for (unsigned q = 0; q < 2; q++)
		n->vqs[q] = (struct virtqueue){ .kick_fd = -1,
						.call_fd = -1,
						.msix_vector = VIRTIO_MSI_NO_VECTOR };
	memcpy(n->config, mac, 6);
	uint16_t mtu16 = htole16((uint16_t)mtu);
	memcpy(n->config + VNET_CONFIG_MTU_OFF, &mtu16, 2);
	n->link_status = VIRTIO_NET_S_LINK_UP;
	n->dev = (struct virtio_dev){
		.ops = &vnet_ops,
		.priv = n,
		.vm = vm,
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.device_features = VNET_FEATURES | (mtu ? F(VIRTIO_NET_F_MTU) : 0),
		.config_size = VNET_CONFIG_SIZE,
		.num_queues = 2,
		.queue_max_size = VNET_QUEUE_SIZE,
		.vqs = n->vqs,
	};
	*out = &n->dev;
	return 0;
}

/* The MAC the guest gets: the configured one, else a random locally
 * administered unicast address. */
static int pick_mac(const struct vmm_net *cfg, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (cfg->mac_set) {
		if ((cfg->mac[0] & 1) || !memcmp(cfg->mac, zero, 6))
			return -EINVAL;
		memcpy(mac, cfg->mac, 6);
		return 0;
	}
	if (getrandom(mac, 6, 0) != 6)
		return -EIO;
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
	return 0;
}

int vnet_create_on_fd(struct vmm *vm, int fd, const struct vmm_net *cfg, struct virtio_dev **out,
		      struct kv_err *err)
{
	uint8_t mac[6];
	int r = pick_mac(cfg, mac);

	if (r < 0) {
		(void)close(fd);
		return kv_errf(err, r, "virtio-net: bad MAC address");
	}
	r = vnet_new(vm, fd, false, mac, cfg->mtu, out);
	return r < 0 ? kv_errno(err, r, "virtio-net") : 0;
}

int virtio_net_create(struct vmm *vm, const struct vmm_net *cfg, unsigned index,
		      struct virtio_dev **out, struct kv_err *err)
{
	char name[IFNAMSIZ];
	uint32_t mtu = cfg->mtu;
	uint8_t mac[6];
	int fd, r;

	if (mtu && (mtu < VNET_MIN_MTU || mtu > 65535))
		return kv_errf(err, -EINVAL, "net[%u]: mtu %u is not between %d and 65535", index,
			       mtu, VNET_MIN_MTU);
	if (pick_mac(cfg, mac) < 0)
		return kv_errf(
		    err, -EINVAL,
		    "net[%u]: MAC %02x:%02x:%02x:%02x:%02x:%02x is not a unicast address", index,
		    cfg->mac[0], cfg->mac[1], cfg->mac[2], cfg->mac[3], cfg->mac[4], cfg->mac[5]);
	if (cfg->tap) {
		fd = tap_open(cfg->tap, false);
		if (fd < 0)
			return kv_errno(err, fd, "net[%u]: cannot open tap %s%s", index, cfg->tap,
					fd == -EBUSY	? " (in use by another process)"
					: fd == -EINVAL ? " (not a tap with a vnet header?)"
							: "");
		if (!mtu && (r = tap_get_mtu(cfg->tap, &mtu)) < 0) {
			(void)close(fd);
			return kv_errno(err, r, "net[%u]: tap %s: cannot read its MTU", index,
					cfg->tap);
		}
		if (mtu < VNET_MIN_MTU || mtu > 65535)
			mtu = 0; /* not offered: the guest uses its default */
	} else {
		if (cfg->fd < 0)
			return kv_errf(err, -EBADF, "net[%u]: neither a tap name nor an fd", index);
		fd = fcntl(cfg->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return kv_errno(err, -errno, "net[%u]: fd %d", index, cfg->fd);
		r = tap_check_fd(fd, name);
		if (r < 0) {
			(void)close(fd);
			return kv_errno(
			    err, r, "net[%u]: fd %d is not a usable tap%s", index, cfg->fd,
			    r == -EINVAL ? " (it needs IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)" : "");
		}
	}
	r = vnet_new(vm, fd, true, mac, mtu, out);
	return r < 0 ? kv_errno(err, r, "net[%u]: virtio-net", index) : 0;
}
