/* Unit tests for vmm/virtio/console.c on real chardevs.
 *
 * A pty console is driven from both ends: guest output (transmitq) must
 * come out of the pty, and host input must reach receiveq buffers without
 * losing a byte - including input typed while the guest has no buffers,
 * which has to wait in the pty until buffers arrive. A file console checks
 * plain output. The device runs on a real event loop (vdev-harness.h). */
#include "tap.h"
#include "vdev-harness.h"
#include "virtio_devs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#define RXQ   0
#define TXQ   1
#define F_ALL (~0ULL)

static struct harness h;

/* Read exactly n bytes from fd within ~2 s. */
static bool read_n(int fd, char *buf, size_t n)
{
	size_t got = 0;

	for (int tries = 0; got < n && tries < 200; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t r = read(fd, buf + got, n - got);
		if (r > 0)
			got += (size_t)r;
	}
	return got == n;
}

static uint16_t tx(const char *s, bool split)
{
	size_t n = strlen(s);
	uint64_t gpa = h_alloc(&h, n);
	memcpy(h_hva(&h, gpa, n), s, n);
	struct h_seg segs[2] = { { gpa, (uint32_t)(split ? n / 2 : n), false },
				 { gpa + n / 2, (uint32_t)(n - n / 2), false } };
	uint16_t head = h_chain(&h, TXQ, segs, split ? 2 : 1, false);
	h_kick(&h, TXQ);
	return head;
}

static uint64_t rx_gpa[64]; /* receive buffer by head index */

static uint64_t rx_buf(uint32_t len)
{
	uint64_t gpa = h_alloc(&h, len);
	struct h_seg s = { gpa, len, true };
	rx_gpa[h_chain(&h, RXQ, &s, 1, false)] = gpa;
	return gpa;
}

static void pty_console(void)
{
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	struct vmm_chardev cfg = { .kind = VMM_CHR_PTY };
	char buf[4096];
	uint32_t id, len;

	if (!ok(virtio_console_create(&h.vm, &cfg, &d, &err) == 0 &&
		    virtio_console_pty_path(d) != NULL && d->num_queues == 2,
		"pty console created (%s)", err.msg))
		return;
	int pty = open(virtio_console_pty_path(d), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	ok(pty >= 0 && h_attach(&h, d, 64, F_ALL) == 0, "activate; pty slave open");

	uint16_t head = tx("hello, hvc0\n", true);
	ok(read_n(pty, buf, 12) && memcmp(buf, "hello, hvc0\n", 12) == 0,
	   "transmitq output comes out of the pty");
	ok(vqd_take_used(&h.drv[TXQ], &id, &len) && id == head && len == 0,
	   "transmit buffer returned with used len 0");

	/* Input while the guest has no buffers waits in the pty. */
	ok(write(pty, "abc", 3) == 3, "type 3 bytes with no receive buffer");
	nanosleep(&(struct timespec){ .tv_nsec = 30000000 }, NULL);
	ok(vqd_used_idx(&h.drv[RXQ]) == 0, "nothing delivered, nothing lost yet");
	uint64_t b1 = rx_buf(2);
	h_kick(&h, RXQ);
	ok(h_wait_used(&h, RXQ, 1, 2000) && vqd_take_used(&h.drv[RXQ], &id, &len) && len == 2 &&
	       memcmp(h_hva(&h, b1, 2), "ab", 2) == 0,
	   "a 2-byte buffer gets \"ab\"");
	uint64_t b2 = rx_buf(16);
	h_kick(&h, RXQ);
	ok(h_wait_used(&h, RXQ, 2, 2000) && vqd_take_used(&h.drv[RXQ], &id, &len) && len == 1 &&
	       *(char *)h_hva(&h, b2, 1) == 'c',
	   "the next buffer gets the waiting \"c\"");

	/* A buffer posted first is filled when input arrives later. */
	uint64_t b3 = rx_buf(16);
	h_kick(&h, RXQ);
	ok(write(pty, "xyz", 3) == 3 && h_wait_used(&h, RXQ, 3, 2000) &&
	       vqd_take_used(&h.drv[RXQ], &id, &len) && len == 3 &&
	       memcmp(h_hva(&h, b3, 3), "xyz", 3) == 0,
	   "input arriving later fills the posted buffer");

	/* 3000 bytes through 64-byte buffers posted in small batches. */
	for (size_t i = 0; i < 3000; i++)
		buf[i] = (char)('A' + i % 26);
	ok(write(pty, buf, 3000) == 3000, "type 3000 bytes");
	char got[3000];
	size_t total = 0;
	for (int round = 0; round < 200 && total < 3000; round++) {
		for (int i = 0; i < 8; i++)
			(void)rx_buf(64);
		h_kick(&h, RXQ);
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
		while (vqd_take_used(&h.drv[RXQ], &id, &len) && id < 64 &&
		       total + len <= sizeof(got)) {
			memcpy(got + total, h_hva(&h, rx_gpa[id], 64), len);
			total += len;
		}
	}
	ok(total == 3000 && memcmp(got, buf, 3000) == 0, "all 3000 bytes arrive in order (%zu)",
	   total);

	/* A hostile transmit chain breaks the device; input no longer spins it. */
	struct h_seg bad = { h.vm.mem.size, 8, false };
	(void)h_chain(&h, TXQ, &bad, 1, false);
	h_kick(&h, TXQ);
	ok((d->status & VIRTIO_STATUS_NEEDS_RESET) && h.config_irqs == 1,
	   "transmit buffer past RAM: NEEDS_RESET");
	ok(write(pty, "q", 1) == 1, "input after the break is harmless");
	nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	h_reset(&h);
	ok(h_attach(&h, d, 64, F_ALL) == 0, "re-activate after reset");
	uint64_t b4 = rx_buf(8);
	h_kick(&h, RXQ);
	ok(h_wait_used(&h, RXQ, 1, 2000) && *(char *)h_hva(&h, b4, 1) == 'q',
	   "input typed meanwhile is delivered after reset");
	h_reset(&h);
	d->ops->destroy(d);
	close(pty);
}

static void file_console(void)
{
	char path[] = "/tmp/kvrun-test-console-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);
	struct vmm_chardev cfg = { .kind = VMM_CHR_FILE, .path = path };
	struct virtio_dev *d = NULL;
	struct kv_err err = { 0 };
	char buf[32] = { 0 };

	ok(fd >= 0 && virtio_console_create(&h.vm, &cfg, &d, &err) == 0 &&
	       virtio_console_pty_path(d) == NULL && h_attach(&h, d, 16, F_ALL) == 0,
	   "file console");
	tx("boot ok\n", false);
	ok(h_wait_used(&h, TXQ, 1, 2000) && pread(fd, buf, sizeof(buf), 0) == 8 &&
	       strcmp(buf, "boot ok\n") == 0,
	   "output appended to the file");
	uint64_t b = rx_buf(8);
	h_kick(&h, RXQ);
	nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	ok(vqd_used_idx(&h.drv[RXQ]) == 0 && b, "a file console never has input");
	h_reset(&h);
	d->ops->destroy(d);
	close(fd);
	unlink(path);

	cfg.path = "/nonexistent/dir/console.log";
	ok(virtio_console_create(&h.vm, &cfg, &d, &err) < 0 && strstr(err.msg, cfg.path),
	   "unwritable console file: %s", err.msg);
}

int main(void)
{
	tap_plan(20);
	if (!ok(h_init(&h, 64) == 0, "harness"))
		return tap_done();
	pty_console();
	file_console();
	h_fini(&h);
	return tap_done();
}
