/* console.c - virtio-console: the guest's hvc0 on a host chardev.
 *
 * Owns: the console device (virtio 1.2, 5.3) with a single port and no
 * optional features: transmitq output goes to chardev_write, chardev input
 * goes into receiveq buffers. Input is never read without a guest buffer
 * to put it in: when the receiveq is empty the device stops watching the
 * chardev, leaving the bytes in the host's fd, and watches again when the
 * guest adds buffers. Input read into a buffer is returned at once (one
 * used entry per read burst), so the guest sees keystrokes immediately. */
#include "chardev.h"
#include "virtio_devs.h"
#include "vm.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CON_RXQ 0 /* receiveq, port 0: host -> guest */
#define CON_TXQ 1 /* transmitq, port 0: guest -> host */

/* struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr. */
#define CON_CONFIG_SIZE 12

struct con {
	struct virtio_dev dev;
	struct virtqueue vqs[2];
	struct chardev *chr;
	bool watching; /* chardev input is being watched */
	uint8_t config[CON_CONFIG_SIZE];
	struct iovec iov[VIRTQ_MAX_CHAIN_DESCS];
};

static void con_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	struct con *k = d->priv;

	virtio_config_copy(k->config, sizeof(k->config), off, data, len);
}

static void con_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
	/* emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which is not offered. */
}

static void con_on_input(void *opaque);

static void watch(struct con *k, bool on)
{
	if (k->watching == on)
		return;
	k->watching = on;
	if (chardev_watch_input(k->chr, &k->dev.vm->loop, on ? con_on_input : NULL, k) < 0)
		k->watching = false;
}

/* Move pending input into receiveq buffers while both exist. */
static void con_rx(struct con *k)
{
	struct virtqueue *vq = &k->vqs[CON_RXQ];
	struct virtq_chain c;

	for (;;) {
		int n = virtq_pop(vq, &c, k->iov, VIRTQ_MAX_CHAIN_DESCS);
		if (n < 0) {
			watch(k, false);
			virtio_dev_set_broken(&k->dev);
			return;
		}
		if (n == 0) {
			if (virtq_notify_enable(vq))
				continue; /* buffers raced in */
			watch(k, false);  /* resumed by the guest's next kick */
			break;
		}
		size_t got = 0;
		bool stop = false;
		for (unsigned i = c.nout; i < c.nout + c.nin && !stop; i++) {
			ssize_t r = chardev_read(k->chr, c.iov[i].iov_base, c.iov[i].iov_len);
			if (r > 0)
				got += (size_t)r;
			if (r <= 0 || (size_t)r < c.iov[i].iov_len)
				stop = true;
			if (r == 0 || (r < 0 && r != -EAGAIN))
				watch(k, false); /* end of input, or an error: don't spin */
		}
		if (got == 0 && c.nin > 0) {
			virtq_unpop(vq); /* keep the buffer for later input */
			break;
		}
		(void)virtq_push(vq, c.head, (uint32_t)got);
		if (!k->watching)
			break;
	}
	virtq_signal(&k->dev, CON_RXQ);
}

static void con_on_input(void *opaque)
{
	con_rx(opaque);
}

static void con_tx(struct con *k)
{
	struct virtqueue *vq = &k->vqs[CON_TXQ];
	struct virtq_chain c;
	int n;

	do {
		virtq_notify_disable(vq);
		while ((n = virtq_pop(vq, &c, k->iov, VIRTQ_MAX_CHAIN_DESCS)) > 0) {
			/* A closed reader (-EPIPE) discards output; the guest goes on. */
			for (unsigned i = 0; i < c.nout; i++)
				(void)chardev_write(k->chr, c.iov[i].iov_base, c.iov[i].iov_len);
			(void)virtq_push(vq, c.head, 0);
		}
		if (n < 0) {
			watch(k, false);
			virtio_dev_set_broken(&k->dev);
			return;
		}
	} while (virtq_notify_enable(vq));
	virtq_signal(&k->dev, CON_TXQ);
}

static int con_activate(struct virtio_dev *d)
{
	struct con *k = d->priv;

	int r = virtio_start_queues(d, k->vqs, 2);
	if (r < 0)
		return r;
	if (k->vqs[CON_RXQ].started)
		watch(k, true);
	return 0;
}

static void con_reset(struct virtio_dev *d)
{
	struct con *k = d->priv;

	watch(k, false);
	virtq_reset(&k->vqs[CON_RXQ]);
	virtq_reset(&k->vqs[CON_TXQ]);
}

static void con_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct con *k = d->priv;

	if (q == CON_TXQ) {
		con_tx(k);
	} else if (q == CON_RXQ && k->vqs[CON_RXQ].started && !k->vqs[CON_RXQ].broken) {
		/* New receive buffers: take input again, starting with what waits. */
		watch(k, true);
		con_rx(k);
	}
}

static void con_destroy(struct virtio_dev *d)
{
	struct con *k = d->priv;

	chardev_close(k->chr);
	free(k);
}

static const struct virtio_dev_ops con_ops = {
	.config_read = con_config_read,
	.config_write = con_config_write,
	.activate = con_activate,
	.reset = con_reset,
	.queue_notify = con_queue_notify,
	.destroy = con_destroy,
};

int virtio_console_create(struct vmm *vm, const struct vmm_chardev *cfg, struct virtio_dev **out,
			  struct kv_err *err)
{
	struct con *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return kv_errf(err, -ENOMEM, "virtio-console: out of memory");
	r = chardev_open(cfg, &k->chr, err);
	if (r < 0) {
		free(k);
		return r;
	}
	for (unsigned q = 0; q < 2; q++)
		k->vqs[q] = (struct virtqueue){ .kick_fd = -1,
						.call_fd = -1,
						.msix_vector = VIRTIO_MSI_NO_VECTOR };
	uint32_t one = htole32(1);
	memcpy(k->config + 4, &one, 4); /* max_nr_ports */
	k->dev = (struct virtio_dev){
		.ops = &con_ops,
		.priv = k,
		.vm = vm,
		.name = "virtio-console",
		.device_id = VIRTIO_ID_CONSOLE,
		.device_features = (1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX),
		.config_size = CON_CONFIG_SIZE,
		.num_queues = 2,
		.queue_max_size = VIRTIO_DEV_QUEUE_SIZE,
		.vqs = k->vqs,
	};
	*out = &k->dev;
	return 0;
}

const char *virtio_console_pty_path(const struct virtio_dev *d)
{
	const struct con *k = d->priv;

	return chardev_pty_path(k->chr);
}
