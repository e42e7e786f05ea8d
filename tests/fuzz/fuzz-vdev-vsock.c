/* fuzz-vdev-vsock.c - a fuzz target for virtio-vsock: the guest's packets
 * and the host's Unix sockets together.
 *
 * Owns: LLVMFuzzerTestOneInput for the vsock device with its hybrid host
 * side on a scratch socket: the script of vq-fuzz.h, whose transmit chains
 * carry packet headers and payloads from the input, plus host events: a
 * host client connects and sends a CONNECT line (a port from the input, or
 * raw bytes), a client sends bytes, half-closes, closes or reads; a host
 * listener on port FZV_HOST_PORT accepts what the guest connects to, sends,
 * reads and closes; time passes (deadlines are 1 ms here). The event loop
 * is polled by hand. Checked besides ASan, UBSan and the reaper: the device
 * never holds more connections than its limit, and every receive entry
 * carries a whole header. Socket files live in FS_TEST_DIR (meson sets it;
 * else TMPDIR, else /tmp). Built as the libFuzzer binary fuzz-vdev-vsock
 * (`make fuzz`) and, with replay.c, as the unit test that replays
 * tests/fuzz/corpus/vdev-vsock. */
#include "vm.h"
#include "vq-fuzz.h"
#include "vsock_int.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZV_CID	      3
#define FZV_HOST_PORT 1024 /* the host listener guest streams may reach */
#define FZV_CLIENTS   8

static struct vmm vm;
static char uds[80], uds_port[96];

struct vs_ctx {
	struct vsock *vs;
	int listener;	      /* "<uds>_1024" */
	int fds[FZV_CLIENTS]; /* host clients and accepted guest streams */
};

static int unix_fd(void)
{
	return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int slot(struct vs_ctx *k, struct fz_cur *c, bool want_free)
{
	unsigned s = (unsigned)fz_take(c, 1) % FZV_CLIENTS;

	for (unsigned i = 0; i < FZV_CLIENTS; i++) {
		unsigned j = (s + i) % FZV_CLIENTS;
		if ((k->fds[j] < 0) == want_free)
			return (int)j;
	}
	return -1;
}

static void vs_host(void *opaque, struct fz_cur *c)
{
	struct vs_ctx *k = opaque;
	unsigned what = (unsigned)fz_take(c, 1) % 8;
	uint8_t buf[4096];
	int s;

	switch (what) {
	case 0: /* a host client connects and asks for a guest port */
	case 1: {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		if ((s = slot(k, c, true)) < 0)
			return;
		int fd = unix_fd();
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			if (fd >= 0)
				close(fd);
			return;
		}
		k->fds[s] = fd;
		if (what == 0) {
			int n = snprintf((char *)buf, sizeof(buf), "CONNECT %u\n",
					 (unsigned)fz_take(c, 4));
			(void)!send(fd, buf, (size_t)n, MSG_NOSIGNAL);
		} else {
			size_t n = (size_t)fz_take(c, 1) % 48;
			n = n < c->left ? n : c->left;
			(void)!send(fd, c->p, n, MSG_NOSIGNAL);
			c->p += n;
			c->left -= n;
		}
		break;
	}
	case 2: { /* a host socket sends */
		if ((s = slot(k, c, false)) < 0)
			return;
		size_t n = (size_t)fz_take(c, 2) % 8192;
		n = n < c->left ? n : c->left;
		(void)!send(k->fds[s], c->p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		c->p += n;
		c->left -= n;
		break;
	}
	case 3: /* ... a big send of filler */
		if ((s = slot(k, c, false)) < 0)
			return;
		memset(buf, 'x', sizeof(buf));
		for (unsigned i = 0; i < 64; i++)
			if (send(k->fds[s], buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				break;
		break;
	case 4: /* half-close */
		if ((s = slot(k, c, false)) >= 0)
			(void)shutdown(k->fds[s], SHUT_WR);
		break;
	case 5: /* close */
		if ((s = slot(k, c, false)) >= 0) {
			close(k->fds[s]);
			k->fds[s] = -1;
		}
		break;
	case 6: /* read what arrived; accept what the guest connected */
		for (unsigned i = 0; i < FZV_CLIENTS; i++)
			while (k->fds[i] >= 0 &&
			       recv(k->fds[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
		for (;;) {
			int fd = accept4(k->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				break;
			struct fz_cur none = { NULL, 0 };
			if ((s = slot(k, &none, true)) < 0) {
				close(fd);
				break;
			}
			k->fds[s] = fd;
		}
		break;
	case 7: /* time passes: deadlines (1 ms here) expire */
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
		break;
	}
}

static void vs_settle(void *opaque)
{
	struct vs_ctx *k = opaque;

	for (int i = 0; i < 64 && evloop_poll(&vm.loop, 0) > 0; i++)
		;
	if (k->vs->nconns > VSOCK_MAX_CONNS)
		fz_fail("check failed");
}

/* Every used receive buffer holds at least a header. */
static void check_rx(struct fz_drv *d)
{
	struct fz_q *z = &d->q[VSOCK_RXQ];
	uint16_t idx = (uint16_t)fz_get(fz_hva(d, z->used + 2, 2), 2);

	if (d->tainted)
		return;
	for (uint16_t i = 0; i != idx && i < z->size; i++) {
		const uint8_t *e = fz_hva(d, z->used + 4 + 8ull * i, 8);
		uint32_t len = (uint32_t)fz_get(e + 4, 4);
		if (len != 0 && len < VSOCK_HDR_SIZE)
			fz_fail("check failed");
	}
}

static void make_paths(void)
{
	const char *dir = getenv("FS_TEST_DIR");

	if (!dir || !*dir || strlen(dir) > 60)
		dir = getenv("TMPDIR");
	if (!dir || !*dir || strlen(dir) > 60)
		dir = "/tmp";
	snprintf(uds, sizeof(uds), "%s/fzv-%d.sock", dir, (int)getpid());
	snprintf(uds_port, sizeof(uds_port), "%s_%u", uds, FZV_HOST_PORT);
}

static void remove_paths(void)
{
	(void)unlink(uds);
	(void)unlink(uds_port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cur c = { data, size };
	struct virtio_dev *dev = NULL;
	struct vs_ctx k = { .listener = -1 };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct fz_drv d;

	if (!vm.mem.base) {
		if (guest_mem_init(&vm.mem, FZ_RAM, false) < 0)
			fz_fail("check failed");
		make_paths();
		atexit(remove_paths);
	}
	for (unsigned i = 0; i < FZV_CLIENTS; i++)
		k.fds[i] = -1;
	(void)unlink(uds_port);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds_port);
	k.listener = unix_fd();
	if (k.listener < 0 || bind(k.listener, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(k.listener, 16) < 0)
		fz_fail("check failed");
	if (evloop_init(&vm.loop) < 0 ||
	    virtio_vsock_create(&vm, &(struct vmm_vsock){ .guest_cid = FZV_CID, .uds_path = uds },
				&dev, NULL) < 0)
		fz_fail("check failed");
	k.vs = dev->priv;
	virtio_vsock_set_timeouts(dev, 1, 1);
	fz_init(&d, &vm.mem);
	(void)fz_run(
	    &d, &c,
	    &(struct fz_target){ .dev = dev, .ctx = &k, .host = vs_host, .settle = vs_settle });
	check_rx(&d);
	dev->ops->reset(dev);
	dev->ops->destroy(dev);
	for (unsigned i = 0; i < FZV_CLIENTS; i++)
		if (k.fds[i] >= 0)
			close(k.fds[i]);
	close(k.listener);
	(void)unlink(uds_port);
	evloop_destroy(&vm.loop);
	return 0;
}
