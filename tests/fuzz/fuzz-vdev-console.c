/* fuzz-vdev-console.c - a fuzz target for virtio-console's queues.
 *
 * Owns: LLVMFuzzerTestOneInput for the console device on a pty backend:
 * the script of vq-fuzz.h (chains, kicks, corruption, resets), where a
 * host event writes input bytes to the pty (they reach the receiveq when
 * the guest has buffers) or drains what the guest wrote (transmitq
 * output; an unattended pty drops output once full, as chardev.c says).
 * The event loop is polled by hand, so every run is deterministic. Built as
 * the libFuzzer binary fuzz-vdev-console (`make fuzz`) and, with replay.c,
 * as the unit test that replays tests/fuzz/corpus/vdev-console. */
#include "virtio_devs.h"
#include "vm.h"
#include "vq-fuzz.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmm vm;

struct con_ctx {
	int slave; /* our side of the pty: the "user" */
};

static void con_host(void *opaque, struct fz_cur *c)
{
	struct con_ctx *k = opaque;
	uint8_t buf[4096];

	if (fz_take(c, 1) & 1) {
		/* Drain what the guest wrote. */
		while (read(k->slave, buf, sizeof(buf)) > 0)
			;
		return;
	}
	size_t n = (size_t)fz_take(c, 2) % 2048;
	if (n > c->left)
		n = c->left;
	(void)!write(k->slave, c->p, n);
	c->p += n;
	c->left -= n;
}

static void con_settle(void *opaque)
{
	(void)opaque;
	while (evloop_poll(&vm.loop, 0) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cur c = { data, size };
	struct vmm_chardev cfg = { .kind = VMM_CHR_PTY };
	struct virtio_dev *dev = NULL;
	struct con_ctx k;
	struct fz_drv d;

	if (!vm.mem.base && guest_mem_init(&vm.mem, FZ_RAM, false) < 0)
		fz_fail("check failed");
	if (evloop_init(&vm.loop) < 0 || virtio_console_create(&vm, &cfg, &dev, NULL) < 0)
		fz_fail("check failed");
	k.slave = open(virtio_console_pty_path(dev), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (k.slave < 0)
		fz_fail("check failed");
	struct termios tio;
	if (tcgetattr(k.slave, &tio) == 0) {
		cfmakeraw(&tio);
		(void)tcsetattr(k.slave, TCSANOW, &tio);
	}
	fz_init(&d, &vm.mem);
	(void)fz_run(
	    &d, &c,
	    &(struct fz_target){ .dev = dev, .ctx = &k, .host = con_host, .settle = con_settle });
	dev->ops->reset(dev);
	dev->ops->destroy(dev);
	close(k.slave);
	evloop_destroy(&vm.loop);
	return 0;
}
