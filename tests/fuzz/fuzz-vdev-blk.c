/* fuzz-vdev-blk.c - a fuzz target for virtio-blk's request parsing and I/O.
 *
 * Owns: LLVMFuzzerTestOneInput for the block device on a 1 MiB scratch
 * image (read-write, or read-only when the input says so): the script of
 * vq-fuzz.h, whose readable buffers carry the request headers, data and
 * discard ranges; settling waits for the io_uring backend through the event
 * loop, polled by hand. Checked besides ASan and UBSan and the reaper: the
 * image never grows (every write, discard and write-zeroes stays inside the
 * capacity) and a read-only image is never written. The image lives in
 * FS_TEST_DIR (meson sets it; else TMPDIR, else /tmp). Built as the
 * libFuzzer binary fuzz-vdev-blk (`make fuzz`) and, with replay.c, as the
 * unit test that replays tests/fuzz/corpus/vdev-blk. */
#include "blk_int.h"
#include "vm.h"
#include "vq-fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMAGE_BYTES (1u << 20)

static struct vmm vm;
static char image[256];

static void blk_settle(void *opaque)
{
	struct blk *b = opaque;

	/* Completions arrive on the ring's eventfd; a stalled queue resumes. */
	for (int i = 0; i < 1000 && (b->inflight || b->stalled); i++)
		(void)evloop_poll(&vm.loop, 10);
	while (evloop_poll(&vm.loop, 0) > 0)
		;
}

static void make_image(void)
{
	const char *dir = getenv("FS_TEST_DIR");

	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(image, sizeof(image), "%s/fuzz-vdev-blk-%d.img", dir, (int)getpid());
	int fd = open(image, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, IMAGE_BYTES) < 0)
		fz_fail("check failed");
	close(fd);
}

static void remove_image(void)
{
	(void)unlink(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cur c = { data, size };
	struct virtio_dev *dev = NULL;
	struct fz_drv d;
	struct stat before, after;

	if (!vm.mem.base) {
		if (guest_mem_init(&vm.mem, FZ_RAM, false) < 0)
			fz_fail("check failed");
		make_image();
		atexit(remove_image);
	}
	unsigned setup = (unsigned)fz_take(&c, 1);
	struct vmm_disk disk = { .path = image, .readonly = setup & 1 };
	struct kv_err e = { 0 };
	if (evloop_init(&vm.loop) < 0 ||
	    virtio_blk_create(&vm, &disk, 1 + (setup >> 1) % 4, &dev, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		fz_fail("cannot create the device");
	}
	if (stat(image, &before) < 0)
		fz_fail("check failed");
	fz_init(&d, &vm.mem);
	(void)fz_run(&d, &c,
		     &(struct fz_target){ .dev = dev, .ctx = dev->priv, .settle = blk_settle });
	dev->ops->reset(dev);
	dev->ops->destroy(dev);
	evloop_destroy(&vm.loop);
	if (stat(image, &after) < 0 || after.st_size != IMAGE_BYTES)
		fz_fail("a write past the capacity");
	if (disk.readonly && (after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
			      after.st_mtim.tv_nsec != before.st_mtim.tv_nsec))
		fz_fail("a read-only disk was written");
	return 0;
}
