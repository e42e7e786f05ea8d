/* End to end without KVM: the real virtio-rng device on the virtio-pci
 * transport, driven as the Linux driver drives it (ECAM, BAR MMIO, a split
 * ring in guest RAM): negotiate, set up queue 0 with MSI-X vector 1, kick,
 * and expect random bytes in the buffer, a used entry and the vector's
 * eventfd signalled, all from the event-loop thread. */
#include "tap.h"

#include <poll.h>
#include <time.h>

#include "fake-vm.h"
#include "virtio-pci-priv.h"
#include "virtio-pci.h"
#include "virtio_devs.h"

#define DESC  0x10000
#define AVAIL 0x11000
#define USED  0x12000
#define BUF   0x20000
#define BUFSZ 64

static struct vmm vm;
static uint64_t bar;

static void wr(uint64_t off, uint64_t v, unsigned len)
{
	mmio_wr(&vm, bar + off, v, len);
}

static uint64_t rd(uint64_t off, unsigned len)
{
	return mmio_rd(&vm, bar + off, len);
}

static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

static uint16_t used_idx(void)
{
	return __atomic_load_n((uint16_t *)(vm.mem.base + USED + 2), __ATOMIC_ACQUIRE);
}

int main(void)
{
	struct kv_err err = { 0 };
	struct virtio_dev *d = NULL;

	tap_plan(9);
	if (!ok(fake_vm_init(&vm, 8 * MiB) == 0, "fake VM with 8 MiB of RAM"))
		return tap_done();
	ok(virtio_rng_create(&vm, &d, &err) == 0 && virtio_pci_add(&vm, d, &err) == 0,
	   "virtio-rng on virtio-pci: %s", err.msg);
	ok(ecam_rd(&vm, 1, 0, 4) == 0x10441af4, "1af4:1044 in slot 1");

	struct virtio_pci *vp = (struct virtio_pci *)vm.pci->slots[1];
	bar = pci_bar_addr(&vp->pci, 0);
	ecam_wr(&vm, 1, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	unsigned mc = find_cap(&vm, 1, PCI_CAP_ID_MSIX, 0);
	ecam_wr(&vm, 1, mc + 2, MSIX_CTRL_ENABLE, 2);
	wr(vp->table_off + 16, 0xfee00000, 4);
	wr(vp->table_off + 16 + 8, 0x4051, 4);
	wr(vp->table_off + 16 + 12, 0, 4);

	/* The Linux driver's order: reset, ACK, DRIVER, features, FEATURES_OK,
	 * queues, DRIVER_OK. */
	wr(VPCI_STATUS, 0, 1);
	wr(VPCI_STATUS, 3, 1);
	wr(VPCI_DFSELECT, 1, 4);
	uint32_t hi = (uint32_t)rd(VPCI_DF, 4);
	wr(VPCI_GFSELECT, 0, 4);
	wr(VPCI_GF, 0, 4);
	wr(VPCI_GFSELECT, 1, 4);
	wr(VPCI_GF, hi & 1, 4);
	wr(VPCI_STATUS, 11, 1);
	ok(rd(VPCI_STATUS, 1) == 11, "VERSION_1 only: FEATURES_OK");
	wr(VPCI_QSELECT, 0, 2);
	wr(VPCI_QSIZE, 8, 2);
	wr(VPCI_QDESC, DESC, 8);
	wr(VPCI_QAVAIL, AVAIL, 8);
	wr(VPCI_QUSED, USED, 8);
	wr(VPCI_QMSIX, 1, 2);
	wr(VPCI_QENABLE, 1, 2);
	wr(VPCI_STATUS, 15, 1);
	ok(rd(VPCI_STATUS, 1) == 15, "DRIVER_OK, device live");

	/* One device-writable 64-byte buffer. */
	uint8_t desc[16] = { 0 };
	uint64_t a = BUF;
	uint32_t l = BUFSZ;
	uint16_t flags = 2; /* VIRTQ_DESC_F_WRITE */
	memcpy(desc, &a, 8);
	memcpy(desc + 8, &l, 4);
	memcpy(desc + 12, &flags, 2);
	guest_mem_write(&vm.mem, DESC, desc, sizeof(desc));
	uint16_t avail[3] = { 0, 1, 0 }; /* flags, idx, ring[0] */
	guest_mem_write(&vm.mem, AVAIL, avail, sizeof(avail));

	pthread_t lt;
	pthread_create(&lt, NULL, loop_thread, &vm.loop);
	wr(VPCI_NOTIFY_OFF, 0, 2);
	for (int i = 0; i < 2000 && used_idx() != 1; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	evloop_stop(&vm.loop);
	pthread_join(lt, NULL);

	ok(used_idx() == 1, "the kick produced one used entry");
	uint32_t elem[2];
	guest_mem_read(&vm.mem, USED + 4, elem, sizeof(elem));
	ok(elem[0] == 0 && elem[1] == BUFSZ, "used entry: descriptor 0, %u bytes", elem[1]);
	uint8_t buf[BUFSZ], zero[BUFSZ] = { 0 };
	guest_mem_read(&vm.mem, BUF, buf, sizeof(buf));
	ok(memcmp(buf, zero, sizeof(buf)) != 0, "buffer filled with random bytes");
	struct pollfd p = { .fd = msix_vector_fd(&vp->msix, 1), .events = POLLIN };
	ok(poll(&p, 1, 0) == 1, "MSI-X vector 1 signalled (the irqfd KVM would inject)");

	fake_vm_destroy(&vm);
	return tap_done();
}
