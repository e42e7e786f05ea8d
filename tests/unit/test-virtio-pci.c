/* Unit tests for the virtio-pci modern transport, driven as a guest drives
 * it (ECAM and BAR MMIO on the buses): ids and capabilities, ioeventfds
 * following BAR moves, feature negotiation (subset accepted, superset and
 * missing VERSION_1 rejected), queue size rules, reset, activation and ring
 * validation, kicks through the event loop, MSI-X interrupts and ISR, the
 * device cfg and PCI_CFG windows, and a fuzz of hostile BAR accesses. */
#include "tap.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fake-vm.h"
#include "virtio-pci-priv.h"
#include "virtio-pci.h"

struct fdev {
	struct virtio_dev vd;
	struct virtqueue vqs[2];
	uint8_t config[8];
	int resets, activates, destroyed, activate_ret;
	int notifies[2]; /* __atomic: bumped on the loop thread */
};

static void f_config_read(struct virtio_dev *d, uint32_t off, void *data, unsigned len)
{
	memcpy(data, ((struct fdev *)d->priv)->config + off, len);
}

static void f_config_write(struct virtio_dev *d, uint32_t off, const void *data, unsigned len)
{
	memcpy(((struct fdev *)d->priv)->config + off, data, len);
}

static int f_activate(struct virtio_dev *d)
{
	struct fdev *f = d->priv;
	f->activates++;
	return f->activate_ret;
}

static void f_reset(struct virtio_dev *d)
{
	((struct fdev *)d->priv)->resets++;
}

static void f_notify(struct virtio_dev *d, unsigned q)
{
	__atomic_add_fetch(&((struct fdev *)d->priv)->notifies[q], 1, __ATOMIC_SEQ_CST);
}

static void f_destroy(struct virtio_dev *d)
{
	((struct fdev *)d->priv)->destroyed++;
}

static const struct virtio_dev_ops f_ops = {
	.config_read = f_config_read,
	.config_write = f_config_write,
	.activate = f_activate,
	.reset = f_reset,
	.queue_notify = f_notify,
	.destroy = f_destroy,
};

static struct vmm vm;
static uint64_t bar;

static uint64_t rd(uint64_t off, unsigned len)
{
	return mmio_rd(&vm, bar + off, len);
}

static void wr(uint64_t off, uint64_t v, unsigned len)
{
	mmio_wr(&vm, bar + off, v, len);
}

/* The config offset of the virtio capability of cfg_type, 0 when absent. */
static unsigned vcap(unsigned type)
{
	for (unsigned c = find_cap(&vm, 1, PCI_CAP_ID_VNDR, 0); c;
	     c = find_cap(&vm, 1, PCI_CAP_ID_VNDR, c)) {
		if (ecam_rd(&vm, 1, c + 3, 1) == type)
			return c;
	}
	return 0;
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

static uint64_t drain(int fd)
{
	uint64_t v = 0;
	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

static void negotiate(uint64_t features)
{
	wr(VPCI_STATUS, 0, 1);
	wr(VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(VPCI_GFSELECT, 0, 4);
	wr(VPCI_GF, (uint32_t)features, 4);
	wr(VPCI_GFSELECT, 1, 4);
	wr(VPCI_GF, features >> 32, 4);
	wr(VPCI_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK, 1);
}

static void setup_queue0(uint64_t desc)
{
	wr(VPCI_QSELECT, 0, 2);
	wr(VPCI_QSIZE, 64, 2);
	wr(VPCI_QDESC, desc, 4);
	wr(VPCI_QDESC + 4, desc >> 32, 4);
	wr(VPCI_QAVAIL, 0x11000, 8);
	wr(VPCI_QUSED, 0x12000, 4);
	wr(VPCI_QUSED + 4, 0, 4);
	wr(VPCI_QMSIX, 1, 2);
	wr(VPCI_QENABLE, 1, 2);
}

static void *loop_thread(void *arg)
{
	evloop_run(arg);
	return NULL;
}

static bool wait_notifies(struct fdev *f, unsigned q, int want)
{
	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(&f->notifies[q], __ATOMIC_SEQ_CST) >= want)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return false;
}

static void fdev_init(struct fdev *f, uint16_t qmax)
{
	memset(f, 0, sizeof(*f));
	f->vd = (struct virtio_dev){
		.ops = &f_ops,
		.priv = f,
		.name = "test-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.device_features = (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << 1) | (1ULL << 34),
		.config_size = sizeof(f->config),
		.num_queues = 2,
		.queue_max_size = qmax,
		.vqs = f->vqs,
	};
	memcpy(f->config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

int main(void)
{
	static struct fdev f, bad;
	struct kv_err err = { 0 };
	const uint64_t ver1 = 1ULL << VIRTIO_F_VERSION_1;

	tap_plan(76);
	if (!ok(fake_vm_init(&vm, 8 * MiB) == 0, "fake VM with 8 MiB of RAM"))
		return tap_done();
	fdev_init(&bad, 100);
	ok(virtio_pci_add(&vm, &bad.vd, &err) == -EINVAL && !bad.vd.transport,
	   "non-power-of-two queue_max_size refused, device untouched");
	fdev_init(&f, 256);
	if (!ok(virtio_pci_add(&vm, &f.vd, &err) == 0, "virtio_pci_add: %s", err.msg))
		return tap_done();

	/* Identity. */
	ok(ecam_rd(&vm, 1, 0, 4) == 0x10421af4, "1af4:1042 (0x1040 + block)");
	ok(ecam_rd(&vm, 1, 8, 4) == 0x01800001, "class 01.80.00, revision 1");
	ok(ecam_rd(&vm, 1, 0x2c, 4) == 0x10421af4, "subsystem ids");

	/* Capabilities. */
	unsigned cc = vcap(VIRTIO_PCI_CAP_COMMON_CFG), ic = vcap(VIRTIO_PCI_CAP_ISR_CFG);
	unsigned nc = vcap(VIRTIO_PCI_CAP_NOTIFY_CFG), dc = vcap(VIRTIO_PCI_CAP_DEVICE_CFG);
	unsigned pc = vcap(VIRTIO_PCI_CAP_PCI_CFG), mc = find_cap(&vm, 1, PCI_CAP_ID_MSIX, 0);
	ok(cc && ic && nc && dc && pc && mc, "common, ISR, notify, device, PCI_CFG and MSI-X caps");
	ok(ecam_rd(&vm, 1, cc + 2, 1) == 16 && ecam_rd(&vm, 1, cc + 4, 1) == 0 &&
	       ecam_rd(&vm, 1, cc + 8, 4) == VPCI_COMMON_OFF &&
	       ecam_rd(&vm, 1, cc + 12, 4) == VPCI_COMMON_LEN,
	   "common cfg: BAR 0, offset 0, 0x38 bytes");
	ok(ecam_rd(&vm, 1, ic + 8, 4) == VPCI_ISR_OFF && ecam_rd(&vm, 1, ic + 12, 4) == 1,
	   "ISR cap");
	ok(ecam_rd(&vm, 1, nc + 2, 1) == 20 && ecam_rd(&vm, 1, nc + 8, 4) == VPCI_NOTIFY_OFF &&
	       ecam_rd(&vm, 1, nc + 12, 4) == 8 && ecam_rd(&vm, 1, nc + 16, 4) == 4,
	   "notify cap: 2 queues, multiplier 4");
	ok(ecam_rd(&vm, 1, dc + 8, 4) == VPCI_DEVCFG_OFF && ecam_rd(&vm, 1, dc + 12, 4) == 8,
	   "device cfg cap covers config_size");
	ok(ecam_rd(&vm, 1, pc + 2, 1) == 20, "PCI_CFG cap is 20 bytes");
	ok((ecam_rd(&vm, 1, mc + 2, 2) & 0x7ff) == 2, "MSI-X table: num_queues + 1 vectors");
	ecam_wr(&vm, 1, cc + 8, 0x1234, 4);
	ok(ecam_rd(&vm, 1, cc + 8, 4) == 0, "capability bodies are read-only");

	/* BAR 0 and ioeventfds. */
	struct pci_dev *pd = vm.pci->slots[1];
	bar = pci_bar_addr(pd, 0);
	ok((ecam_rd(&vm, 1, 0x10, 4) & 0xf) == 0x4 && bar >= LAYOUT_PCI_MMIO32_GPA,
	   "BAR 0 is 64-bit memory at 0x%llx", (unsigned long long)bar);
	ok(irq_ioeventfd_count(vm.irq) == 0, "no ioeventfd while decoding is off");
	ecam_wr(&vm, 1, 4, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ok(irq_ioeventfd_fd(vm.irq, bar + VPCI_NOTIFY_OFF, false) == f.vqs[0].kick_fd &&
	       irq_ioeventfd_fd(vm.irq, bar + VPCI_NOTIFY_OFF + 4, false) == f.vqs[1].kick_fd,
	   "memory enable binds one ioeventfd per queue at its notify address");
	uint64_t nb = 0xd0000000;
	ecam_wr(&vm, 1, 0x10, (uint32_t)nb | 4, 4);
	ok(irq_ioeventfd_fd(vm.irq, bar + VPCI_NOTIFY_OFF, false) == -1 &&
	       irq_ioeventfd_fd(vm.irq, nb + VPCI_NOTIFY_OFF, false) == f.vqs[0].kick_fd &&
	       irq_ioeventfd_count(vm.irq) == 2,
	   "moving the BAR moves the ioeventfds");
	bar = nb;
	ok(rd(VPCI_NUMQ, 2) == 2, "num_queues through the moved BAR");

	/* Features. */
	wr(VPCI_DFSELECT, 0, 4);
	ok(rd(VPCI_DF, 4) == ((1u << VIRTIO_F_EVENT_IDX) | 2u), "device features, low word");
	wr(VPCI_DFSELECT, 1, 4);
	ok(rd(VPCI_DF, 4) == 1, "high word: VERSION_1 added, unsupported packed ring hidden");
	wr(VPCI_DFSELECT, 7, 4);
	ok(rd(VPCI_DF, 4) == 0, "other feature words read 0");

	int resets = f.resets;
	negotiate(ver1 | (1ULL << 1) | (1ULL << 5));
	ok(!(rd(VPCI_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK), "superset of the offer refused");
	ok(f.resets == resets + 1 && f.vd.driver_features == 0, "status 0 reset the device");
	negotiate(1ULL << 1);
	ok(!(rd(VPCI_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK), "missing VERSION_1 refused");
	negotiate(ver1 | (1ULL << VIRTIO_F_EVENT_IDX));
	ok(rd(VPCI_STATUS, 1) == 11 && f.vd.driver_features == (ver1 | (1ULL << 29)),
	   "subset accepted: FEATURES_OK sticks");
	wr(VPCI_GFSELECT, 0, 4);
	wr(VPCI_GF, 0xffffffff, 4);
	ok(rd(VPCI_GF, 4) == 1u << 29 && f.vd.driver_features == (ver1 | (1ULL << 29)),
	   "driver features frozen after FEATURES_OK");
	wr(VPCI_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	ok(rd(VPCI_STATUS, 1) == 11, "clearing status bits is ignored");

	/* Queues. */
	wr(VPCI_QSELECT, 0, 2);
	ok(rd(VPCI_QSIZE, 2) == 256 && rd(VPCI_QMSIX, 2) == VIRTIO_MSI_NO_VECTOR &&
	       rd(VPCI_QENABLE, 2) == 0,
	   "queue 0 starts at max size, no vector, disabled");
	wr(VPCI_QSIZE, 100, 2);
	ok(rd(VPCI_QSIZE, 2) == 256, "non-power-of-two size refused");
	wr(VPCI_QSIZE, 512, 2);
	ok(rd(VPCI_QSIZE, 2) == 256, "size above the maximum refused");
	wr(VPCI_QSIZE, 0, 2);
	ok(rd(VPCI_QSIZE, 2) == 256, "size 0 refused");
	wr(VPCI_QSIZE, 64, 2);
	ok(rd(VPCI_QSIZE, 2) == 64, "size 64 accepted");
	wr(VPCI_QMSIX, 3, 2);
	ok(rd(VPCI_QMSIX, 2) == VIRTIO_MSI_NO_VECTOR, "vector past the table reads NO_VECTOR");
	wr(VPCI_QSELECT, 1, 2);
	ok(rd(VPCI_QNOFF, 2) == 1 && rd(VPCI_QSIZE, 2) == 256, "queue 1: notify offset 1");
	wr(VPCI_QSELECT, 9, 2);
	wr(VPCI_QSIZE, 16, 2);
	wr(VPCI_QENABLE, 1, 2);
	ok(rd(VPCI_QSIZE, 2) == 0 && rd(VPCI_QENABLE, 2) == 0 &&
	       rd(VPCI_QMSIX, 2) == VIRTIO_MSI_NO_VECTOR,
	   "nonexistent queue reads size 0 and ignores writes");
	setup_queue0(0x10000);
	ok(rd(VPCI_QDESC, 8) == 0x10000 && rd(VPCI_QAVAIL, 4) == 0x11000 &&
	       rd(VPCI_QUSED + 4, 4) == 0 && rd(VPCI_QENABLE, 2) == 1 && rd(VPCI_QMSIX, 2) == 1,
	   "queue 0 programmed and enabled");
	wr(VPCI_QSIZE, 32, 2);
	wr(VPCI_QDESC, 0x20000, 4);
	ok(rd(VPCI_QSIZE, 2) == 64 && rd(VPCI_QDESC, 4) == 0x10000, "enabled queue is frozen");

	/* Access-size rules in the common cfg. */
	ok(rd(VPCI_QSIZE, 4) == 0xffffffff && rd(VPCI_NUMQ, 1) == 0xff && rd(VPCI_DF, 2) == 0xffff,
	   "wrong-width reads return all-ones");
	ok(rd(VPCI_COMMON_LEN, 4) == 0xffffffff && rd(0x36, 4) == 0xffffffff,
	   "reads past or straddling the end of common cfg return all-ones");
	wr(VPCI_STATUS, 0, 2);
	wr(VPCI_STATUS - 1, 0, 4);
	ok(rd(VPCI_STATUS, 1) == 11 && f.resets == resets + 3, "wrong-width status writes ignored");

	/* Activation. */
	int acts = f.activates;
	wr(VPCI_STATUS, 15, 1);
	ok(rd(VPCI_STATUS, 1) == 15 && f.activates == acts + 1, "DRIVER_OK activates the device");
	ok(f.vqs[0].enabled && f.vqs[0].size == 64 && f.vqs[0].desc_gpa == 0x10000 &&
	       f.vqs[0].avail_gpa == 0x11000 && f.vqs[0].used_gpa == 0x12000 &&
	       f.vqs[0].event_idx && !f.vqs[0].indirect && f.vqs[0].mem == &vm.mem,
	   "device's virtqueue 0 configured from the driver's registers");
	ok(f.vqs[0].call_fd == msix_vector_fd(&((struct virtio_pci *)pd)->msix, 1) &&
	       f.vqs[0].kick_fd >= 0 && !f.vqs[1].enabled,
	   "call_fd is vector 1's eventfd; queue 1 left disabled");
	wr(VPCI_QSELECT, 1, 2);
	wr(VPCI_QENABLE, 1, 2);
	ok(rd(VPCI_QENABLE, 2) == 0, "queues cannot be enabled after DRIVER_OK");

	/* Kicks through the loop. */
	pthread_t lt;
	wr(VPCI_NOTIFY_OFF, 0, 2);
	ok(fd_readable(f.vqs[0].kick_fd), "notify write KVM missed signals queue 0's kick eventfd");
	pthread_create(&lt, NULL, loop_thread, &vm.loop);
	ok(wait_notifies(&f, 0, 1), "the loop dispatches the kick to queue_notify(0)");
	wr(VPCI_NOTIFY_OFF + 4, 1, 2);
	wr(VPCI_NOTIFY_OFF + 2, 0, 2);
	wr(VPCI_NOTIFY_OFF, 0, 4);
	ok(wait_notifies(&f, 0, 2) && f.notifies[1] == 0,
	   "4-byte kick works; disabled queue and misaligned kicks ignored");
	evloop_stop(&vm.loop);
	pthread_join(lt, NULL);

	/* Interrupts. */
	struct virtio_pci *vp = (struct virtio_pci *)pd;
	uint64_t tbl = vp->table_off, pba = vp->pba_off;
	ecam_wr(&vm, 1, mc + 2, MSIX_CTRL_ENABLE, 2);
	wr(tbl + 16, 0xfee00000, 4);
	wr(tbl + 16 + 8, 0x4041, 4);
	wr(tbl + 16 + 12, 0, 4);
	int v1 = msix_vector_fd(&vp->msix, 1);
	ok(msix_vector_live(&vp->msix, 1) &&
	       irq_irqfd_gsi(vm.irq, v1) == msix_vector_gsi(&vp->msix, 1),
	   "guest unmasks vector 1: irqfd bound");
	f.vd.signal_used(&f.vd, 0);
	ok(drain(v1) == 1, "signal_used(0) writes vector 1's eventfd");
	ok(rd(VPCI_ISR_OFF, 1) == VPCI_ISR_QUEUE && rd(VPCI_ISR_OFF, 1) == 0, "ISR read clears");
	ok(rd(VPCI_ISR_OFF, 4) == 0xffffffff && rd(VPCI_ISR_OFF + 1, 1) == 0xff,
	   "bad ISR accesses read all-ones");
	f.vd.signal_used(&f.vd, 7);
	ok(rd(VPCI_ISR_OFF, 1) == 0, "signal_used on a bad queue does nothing");
	wr(VPCI_MSIX, 0, 2);
	uint8_t gen = (uint8_t)rd(VPCI_CFGGEN, 1);
	f.vd.signal_config(&f.vd);
	ok(rd(VPCI_CFGGEN, 1) == (uint8_t)(gen + 1) && rd(pba, 8) == 1,
	   "signal_config bumps the generation; masked vector 0 pending in the PBA");
	ok(rd(VPCI_ISR_OFF, 1) == VPCI_ISR_CONFIG, "ISR config bit");

	/* Device cfg. */
	ok(rd(VPCI_DEVCFG_OFF, 4) == 0x04030201 && rd(VPCI_DEVCFG_OFF + 4, 4) == 0x08070605,
	   "device cfg reads");
	wr(VPCI_DEVCFG_OFF + 1, 0xaa, 1);
	ok(f.config[1] == 0xaa, "device cfg byte write");
	ok(rd(VPCI_DEVCFG_OFF + 6, 4) == 0xffffffff && rd(VPCI_DEVCFG_OFF + 8, 1) == 0xff,
	   "device cfg accesses past config_size read all-ones");
	wr(VPCI_DEVCFG_OFF + 6, 0xffffffff, 4);
	ok(f.config[6] == 7, "and write nothing");
	ok(rd(VPCI_DEVCFG_OFF, 3) == 0xffffff, "3-byte device cfg read refused");

	/* PCI_CFG window. */
	ecam_wr(&vm, 1, pc + 4, 0, 1);
	ecam_wr(&vm, 1, pc + 8, VPCI_NUMQ, 4);
	ecam_wr(&vm, 1, pc + 12, 2, 4);
	ok(ecam_rd(&vm, 1, pc + 16, 2) == 2, "PCI_CFG window reads num_queues");
	ecam_wr(&vm, 1, pc + 8, VPCI_QSELECT, 4);
	ecam_wr(&vm, 1, pc + 16, 1, 4);
	ok(rd(VPCI_QSELECT, 2) == 1, "PCI_CFG window writes queue_select");
	ecam_wr(&vm, 1, pc + 12, 3, 4);
	ok(ecam_rd(&vm, 1, pc + 16, 4) == 0xffffffff, "length 3 refused");
	ecam_wr(&vm, 1, pc + 12, 4, 4);
	ecam_wr(&vm, 1, pc + 8, 0x7fffffff, 4);
	ok(ecam_rd(&vm, 1, pc + 16, 4) == 0xffffffff, "offset outside the BAR refused");
	ecam_wr(&vm, 1, pc + 8, VPCI_NUMQ, 4);
	ecam_wr(&vm, 1, pc + 4, 2, 1);
	ok(ecam_rd(&vm, 1, pc + 16, 4) == 0xffffffff, "other BARs refused");

	/* Failure paths. */
	negotiate(ver1);
	setup_queue0(0x10000);
	f.activate_ret = -EIO;
	wr(VPCI_STATUS, 15, 1);
	ok(rd(VPCI_STATUS, 1) == (15 | VIRTIO_STATUS_NEEDS_RESET), "failed activate: NEEDS_RESET");
	f.activate_ret = 0;
	acts = f.activates;
	negotiate(ver1);
	setup_queue0(0x7fff00);
	wr(VPCI_STATUS, 15, 1);
	ok((rd(VPCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET) && f.activates == acts,
	   "ring past the end of RAM: NEEDS_RESET, not activated");
	negotiate(ver1);
	setup_queue0(0x10008);
	wr(VPCI_STATUS, 15, 1);
	ok((rd(VPCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET) && f.activates == acts,
	   "misaligned descriptor table: NEEDS_RESET");
	/* A device breaking itself (as virtio_dev_set_broken does: an atomic
	 * OR from the loop thread) keeps NEEDS_RESET across driver writes. */
	negotiate(ver1);
	setup_queue0(0x10000);
	wr(VPCI_STATUS, 15, 1);
	__atomic_fetch_or(&f.vd.status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_SEQ_CST);
	wr(VPCI_STATUS, 15 | VIRTIO_STATUS_FAILED, 1);
	ok(rd(VPCI_STATUS, 1) == (15 | VIRTIO_STATUS_FAILED | VIRTIO_STATUS_NEEDS_RESET),
	   "driver status writes keep the device's NEEDS_RESET");
	int before = f.notifies[0];
	pthread_create(&lt, NULL, loop_thread, &vm.loop);
	wr(VPCI_NOTIFY_OFF, 0, 2);
	ok(!wait_notifies(&f, 0, before + 1), "a broken device gets no queue_notify");
	evloop_stop(&vm.loop);
	pthread_join(lt, NULL);

	negotiate(ver1);
	wr(VPCI_STATUS, 11 | VIRTIO_STATUS_NEEDS_RESET, 1);
	ok(rd(VPCI_STATUS, 1) == 11, "the driver cannot set NEEDS_RESET");
	acts = f.activates;
	wr(VPCI_STATUS, 0, 1);
	wr(VPCI_STATUS, 3 | VIRTIO_STATUS_DRIVER_OK, 1);
	ok(rd(VPCI_STATUS, 1) == 3 && f.activates == acts, "DRIVER_OK without FEATURES_OK dropped");
	wr(VPCI_STATUS, 0, 1);
	ok(rd(VPCI_STATUS, 1) == 0 && !f.vqs[0].enabled && f.vqs[0].size == 256 &&
	       rd(VPCI_MSIX, 2) == VIRTIO_MSI_NO_VECTOR,
	   "reset restores queues and vectors");

	/* Hostile guest: random accesses over the whole BAR. */
	srand(11);
	for (int i = 0; i < 50000; i++) {
		uint64_t off = (uint64_t)rand() % vp->bar_size;
		unsigned len = 1u << (rand() % 4);
		uint64_t v = (uint64_t)rand() << 32 | (uint64_t)rand();
		if (rand() & 1)
			rd(off, len);
		else
			wr(off, v, len);
		if (i % 7 == 0) /* and through the PCI_CFG window */
			ecam_wr(&vm, 1, pc + 4 + 4 * (unsigned)(rand() % 4), (uint32_t)v, 4);
		if (i % 11 == 0)
			ecam_rd(&vm, 1, pc + 16, 4);
	}
	ok(ecam_rd(&vm, 1, 0, 4) == 0x10421af4, "BAR fuzz survived");
	wr(VPCI_STATUS, 0, 1);
	ok(rd(VPCI_STATUS, 1) == 0 && rd(VPCI_NUMQ, 2) == 2, "device still resets and answers");

	resets = f.resets;
	fake_vm_destroy(&vm);
	ok(f.destroyed == 1 && f.resets == resets + 1, "teardown resets then destroys the device");
	return tap_done();
}
