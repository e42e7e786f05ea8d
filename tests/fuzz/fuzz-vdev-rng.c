/* fuzz-vdev-rng.c - a fuzz target for virtio-rng's request handling.
 *
 * Owns: LLVMFuzzerTestOneInput for the entropy device: the script of
 * vq-fuzz.h (chains, kicks, corruption, resets) against a real device on
 * synthetic guest RAM. Besides ASan and UBSan, vq-fuzz.h's reaper checks
 * every used entry; here also that no entry reports more than the device's
 * 64 KiB per chain. Built as the libFuzzer binary fuzz-vdev-rng (`make
 * fuzz`) and, with replay.c, as the unit test that replays
 * tests/fuzz/corpus/vdev-rng. */
#include "virtio_devs.h"
#include "vm.h"
#include "vq-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmm vm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cur c = { data, size };
	struct virtio_dev *dev = NULL;
	struct fz_drv d;

	if (!vm.mem.base && guest_mem_init(&vm.mem, FZ_RAM, false) < 0)
		fz_fail("check failed");
	if (virtio_rng_create(&vm, &dev, NULL) < 0)
		fz_fail("check failed");
	fz_init(&d, &vm.mem);
	(void)fz_run(&d, &c, &(struct fz_target){ .dev = dev });
	/* Entropy per chain is capped (rng.c): at most 64 KiB reported. */
	struct fz_q *z = &d.q[0];
	for (unsigned i = 0; i < z->size && !d.tainted; i++) {
		const uint8_t *e = fz_hva(&d, z->used + 4 + 8ull * i, 8);
		if (fz_get(e + 4, 4) > (64u << 10))
			fz_fail("check failed");
	}
	dev->ops->reset(dev);
	dev->ops->destroy(dev);
	return 0;
}
