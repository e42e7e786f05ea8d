/* vsock.c - virtio-vsock: the device model.
 *
 * Owns: the socket device (virtio 1.2, 5.10; device ID 19) as the transport
 * sees it - three queues (rx, tx, event), the guest CID in config space, no
 * device features (stream sockets only) - plus activation, reset, the tx
 * queue walk, the deadline timer and creation/destruction. The state
 * machine is in vsock_conn.c, the rx pump in vsock_rx.c, the Unix-socket
 * side in vsock_host.c, the header codec in vsock_pkt.c.
 *
 * The tx queue is shared by every connection, so it never waits for one
 * host socket: guest bytes a slow host reader cannot take are buffered, at
 * most the credit advertised per connection. The only thing that stops the
 * tx walk is a full queue of RSTs for unknown flows (the rx queue must
 * drain first; virtio 1.2, 5.10.6.3). The event queue's buffers are kept
 * and never used: TRANSPORT_RESET is not sent (docs/vsock.md). */
#include "vm.h"
#include "vsock_int.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

uint64_t vsock_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vsock_timer_update(struct vsock *vs)
{
	uint64_t next = vs->listen_paused ? vs->listen_retry : 0;
	struct itimerspec it = { 0 };

	for (struct vsock_conn *c = vs->conns; c; c = c->next)
		if (c->deadline && (!next || c->deadline < next))
			next = c->deadline;
	if (next == vs->timer_at)
		return;
	it.it_value.tv_sec = (time_t)(next / 1000000000ULL);
	it.it_value.tv_nsec = (long)(next % 1000000000ULL);
	/* Absolute, so a deadline already past fires at once; 0 disarms. */
	if (timerfd_settime(vs->timer_fd, TFD_TIMER_ABSTIME, &it, NULL) == 0)
		vs->timer_at = next;
}

static void on_timer(void *opaque, uint32_t events)
{
	struct vsock *vs = opaque;
	uint64_t now = vsock_now(), ticks;
	struct vsock_conn *c, *next;

	(void)!read(vs->timer_fd, &ticks, sizeof(ticks));
	vs->timer_at = 0;
	for (c = vs->conns; c; c = next) {
		next = c->next;
		if (!c->deadline || c->deadline > now)
			continue;
		c->deadline = 0;
		/* A client that never finished its CONNECT line, a guest that
		 * never answered our REQUEST or never acknowledged a close. */
		if (c->state == VSOCK_HANDSHAKE)
			vsock_conn_free(c);
		else
			vsock_conn_reset(c);
	}
	if (vs->listen_paused && vs->listen_retry <= now)
		vsock_uds_resume(vs);
	vsock_timer_update(vs);
	vsock_run(vs);
}

void vsock_break(struct vsock *vs)
{
	virtio_dev_set_broken(&vs->dev);
	vs->active = false;
	vsock_close_all(vs);
}

/* One tx chain: a header and, for RW, its payload. */
static void tx_one(struct vsock *vs, const struct virtq_chain *c)
{
	struct vsock_hdr h;
	struct iovec *payload;
	unsigned npayload;

	switch (vsock_pkt_parse(vs, c, &h, &payload, &npayload)) {
	case VSOCK_PKT_OK:
		vsock_handle_pkt(vs, &h, payload, npayload);
		break;
	case VSOCK_PKT_RST: {
		struct vsock_conn *conn = vsock_conn_find(vs, h.dst_port, h.src_port);
		if (conn && conn->guest_knows && h.dst_cid == VSOCK_HOST_CID)
			vsock_conn_reset(conn);
		else
			vsock_rst_reply(vs, &h);
		break;
	}
	case VSOCK_PKT_DROP:
		break;
	}
}

static void vsock_tx(struct vsock *vs)
{
	struct virtqueue *vq = &vs->vqs[VSOCK_TXQ];
	struct virtq_chain c;
	int n;

	if (!vs->active)
		return;
	vs->tx_stalled = false;
	do {
		virtq_notify_disable(vq);
		for (;;) {
			if (vs->rst_count == VSOCK_RST_QUEUE) {
				vs->tx_stalled = true; /* resumed by vsock_run() */
				goto out;
			}
			n = virtq_pop(vq, &c, vs->tx_iov, VIRTQ_MAX_CHAIN_DESCS);
			if (n < 0) {
				vsock_break(vs);
				return;
			}
			if (n == 0)
				break;
			tx_one(vs, &c);
			(void)virtq_push(vq, c.head, 0);
		}
	} while (virtq_notify_enable(vq));
out:
	virtq_signal(&vs->dev, VSOCK_TXQ);
}

void vsock_run(struct vsock *vs)
{
	vsock_rx_pump(vs);
	if (vs->tx_stalled && vs->rst_count < VSOCK_RST_QUEUE) {
		vsock_tx(vs);
		vsock_rx_pump(vs);
	}
}

static void vsock_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	struct vsock *vs = d->priv;

	virtio_config_copy(vs->config, sizeof(vs->config), off, data, len);
}

static void vsock_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
	/* guest_cid is read-only. */
}

static int vsock_activate(struct virtio_dev *d)
{
	struct vsock *vs = d->priv;

	int r = virtio_start_queues(d, vs->vqs, 3);
	if (r < 0)
		return r;
	/* Reset left nothing behind, so nothing stale can be sent now. */
	vs->rx_starved = vs->tx_stalled = false;
	vs->active = vs->vqs[VSOCK_RXQ].started && vs->vqs[VSOCK_TXQ].started;
	vsock_tx(vs);
	vsock_run(vs);
	return 0;
}

static void vsock_reset(struct virtio_dev *d)
{
	struct vsock *vs = d->priv;

	vs->active = false;
	vsock_close_all(vs); /* every relay and every client: they see EOF */
	for (unsigned q = 0; q < 3; q++)
		virtq_reset(&vs->vqs[q]);
	vs->rx_starved = vs->tx_stalled = false;
	vsock_timer_update(vs);
}

static void vsock_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct vsock *vs = d->priv;

	if (!vs->active)
		return;
	if (q == VSOCK_RXQ) {
		vs->rx_starved = false;
		vsock_run(vs);
	} else if (q == VSOCK_TXQ) {
		vsock_tx(vs);
		vsock_run(vs);
	}
	/* VSOCK_EVQ: buffers for events we never send; leave them posted. */
}

static void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *vs = d->priv;

	vsock_close_all(vs);
	vsock_uds_unlisten(vs);
	if (vs->timer_fd >= 0) {
		(void)evloop_del(&d->vm->loop, vs->timer_fd);
		(void)close(vs->timer_fd);
	}
	free(vs->uds_path);
	free(vs);
}

static const struct virtio_dev_ops vsock_ops = {
	.config_read = vsock_config_read,
	.config_write = vsock_config_write,
	.activate = vsock_activate,
	.reset = vsock_reset,
	.queue_notify = vsock_queue_notify,
	.destroy = vsock_destroy,
};

void virtio_vsock_set_timeouts(struct virtio_dev *d, unsigned connect_ms, unsigned close_ms)
{
	struct vsock *vs = d->priv;

	if (connect_ms)
		vs->connect_ms = connect_ms;
	if (close_ms)
		vs->close_ms = close_ms;
}

int virtio_vsock_create(struct vmm *vm, const struct vmm_vsock *cfg, struct virtio_dev **out,
			struct kv_err *err)
{
	struct vsock *vs;
	int r;

	/* 0, 1, 2 (host) and 0xffffffff (any) are reserved; the upper 32 bits
	 * are zero (virtio 1.2, 5.10.4). */
	if (cfg->guest_cid < 3 || cfg->guest_cid > 0xfffffffeULL)
		return kv_errf(err, -EINVAL,
			       "vsock: guest CID %llu is reserved or too large (use 3..4294967294)",
			       (unsigned long long)cfg->guest_cid);
	if (!cfg->uds_path || !*cfg->uds_path)
		return kv_errf(err, -EINVAL, "vsock: no Unix socket path given");
	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return kv_errf(err, -ENOMEM, "vsock: out of memory");
	vs->listen_fd = -1;
	vs->guest_cid = cfg->guest_cid;
	vs->next_port = VSOCK_EPHEMERAL_BASE;
	vs->connect_ms = VSOCK_CONNECT_MS;
	vs->close_ms = VSOCK_CLOSE_MS;
	uint64_t le = htole64(cfg->guest_cid);
	memcpy(vs->config, &le, sizeof(le));
	for (unsigned q = 0; q < 3; q++)
		vs->vqs[q] = (struct virtqueue){ .kick_fd = -1,
						 .call_fd = -1,
						 .msix_vector = VIRTIO_MSI_NO_VECTOR };
	vs->dev = (struct virtio_dev){
		.ops = &vsock_ops,
		.priv = vs,
		.vm = vm,
		.name = "virtio-vsock",
		.device_id = VIRTIO_ID_VSOCK,
		.device_features = (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX),
		.config_size = sizeof(vs->config),
		.num_queues = 3,
		.queue_max_size = VIRTIO_DEV_QUEUE_SIZE,
		.vqs = vs->vqs,
	};
	vs->uds_path = strdup(cfg->uds_path);
	vs->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!vs->uds_path || vs->timer_fd < 0) {
		r = kv_errno(err, vs->uds_path ? -errno : -ENOMEM, "vsock: setting up");
		goto fail;
	}
	r = evloop_add(&vm->loop, vs->timer_fd, EPOLLIN, on_timer, vs);
	if (r < 0) {
		kv_errno(err, r, "vsock: watching the timer");
		(void)close(vs->timer_fd);
		vs->timer_fd = -1;
		goto fail;
	}
	/* Last: from here on host clients may arrive (on the loop thread). */
	r = vsock_uds_listen(vs, err);
	if (r < 0)
		goto fail;
	*out = &vs->dev;
	return 0;
fail:
	vs->listen_fd = -1;
	vsock_destroy(&vs->dev);
	return r;
}
