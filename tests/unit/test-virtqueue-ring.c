/* Unit tests for vmm/virtio/virtqueue.c and virtio.c: ring configuration
 * checks, notification suppression (flags and event idx), the iovec helpers,
 * buffers that straddle the 32-bit MMIO hole, and virtio_dev_set_broken. */
#include "layout.h"
#include "tap.h"
#include "virtio.h"
#include "vq-driver.h"

#include <errno.h>

#define RINGS 0x10000ULL
#define DATA  0x100000ULL
#define F_EVT (1ULL << VIRTIO_F_EVENT_IDX)

static struct guest_mem mem;
static struct virtqueue vq;
static struct vqd drv;
static struct iovec iov[16];
static struct virtq_chain ch;

static int start(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	vq = (struct virtqueue){ .size = size,
				 .desc_gpa = desc,
				 .avail_gpa = avail,
				 .used_gpa = used,
				 .enabled = true };
	return virtq_start(&vq, &mem, 256, 0);
}

static void config_checks(void)
{
	uint64_t end = guest_mem_end(&mem);

	ok(start(8, 0x1000, 0x2000, 0x3000) == 0 && vq.started, "good configuration");
	ok(start(0, 0x1000, 0x2000, 0x3000) == -EINVAL && !vq.started, "size 0");
	ok(start(6, 0x1000, 0x2000, 0x3000) == -EINVAL, "size not a power of two");
	ok(start(512, 0x1000, 0x4000, 0x8000) == -EINVAL, "size above the device's maximum");
	ok(start(8, 0x1008, 0x2000, 0x3000) == -EINVAL, "descriptor table not 16-aligned");
	ok(start(8, 0x1000, 0x2001, 0x3000) == -EINVAL, "avail ring not 2-aligned");
	ok(start(8, 0x1000, 0x2000, 0x3002) == -EINVAL, "used ring not 4-aligned");
	ok(start(8, end - 64, 0x2000, 0x3000) == -EINVAL, "descriptor table past RAM");
	ok(start(8, 0x1000, end - 16, 0x3000) == -EINVAL, "avail ring (with used_event) past RAM");
	ok(start(8, 0x1000, 0x2000, end - 68) == -EINVAL, "used ring (with avail_event) past RAM");
	ok(start(8, 0x1000, 0x2000, UINT64_MAX - 3) == -EINVAL, "used ring address overflow");
	ok(start(8, LAYOUT_MMIO_HOLE_GPA - 64, 0x2000, 0x3000) == -EINVAL,
	   "descriptor table straddling the MMIO hole");
	ok(start(8, LAYOUT_4G, LAYOUT_4G + 0x1000, LAYOUT_4G + 0x2000) == 0,
	   "rings in high RAM above 4 GiB");
}

static void hole(void)
{
	vqd_init(&drv, &mem, &vq, 8, RINGS);
	virtq_start(&vq, &mem, 256, 0);
	vqd_desc(&drv, 0, LAYOUT_MMIO_HOLE_GPA - 4096, 8192, VIRTQ_DESC_F_WRITE, 0);
	vqd_publish(&drv, 0);
	ok(virtq_pop(&vq, &ch, iov, 16) == -EFAULT && vq.broken,
	   "buffer running from low RAM into the MMIO hole");
	vqd_init(&drv, &mem, &vq, 8, RINGS);
	virtq_start(&vq, &mem, 256, 0);
	vqd_desc(&drv, 0, LAYOUT_4G - 4096, 8192, 0, 0);
	vqd_publish(&drv, 0);
	ok(virtq_pop(&vq, &ch, iov, 16) == -EFAULT, "buffer running from the hole into high RAM");
	vqd_init(&drv, &mem, &vq, 8, RINGS);
	virtq_start(&vq, &mem, 256, 0);
	vqd_desc(&drv, 0, LAYOUT_4G + 4096, 8192, 0, 0);
	vqd_publish(&drv, 0);
	ok(virtq_pop(&vq, &ch, iov, 16) == 1 &&
	       iov[0].iov_base == gpa_to_hva(&mem, LAYOUT_4G + 4096, 1),
	   "buffer in high RAM");
}

static void push_n(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		vqd_desc(&drv, 0, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
		vqd_publish(&drv, 0);
		(void)virtq_pop(&vq, &ch, iov, 16);
		(void)virtq_push(&vq, 0, 1);
	}
}

static void notify_flags(void)
{
	vqd_init(&drv, &mem, &vq, 8, RINGS);
	virtq_start(&vq, &mem, 256, 0);
	ok(!virtq_should_signal(&vq), "nothing pushed: no interrupt");
	push_n(1);
	ok(virtq_should_signal(&vq), "pushed: interrupt");
	ok(!virtq_should_signal(&vq), "no second interrupt for the same entries");
	vqd_set_avail_flags(&drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_n(1);
	ok(!virtq_should_signal(&vq), "VRING_AVAIL_F_NO_INTERRUPT suppresses");
	vqd_set_avail_flags(&drv, 0);
	push_n(1);
	ok(virtq_should_signal(&vq), "flag cleared: interrupt again");

	virtq_notify_disable(&vq);
	ok(vqd_used_flags(&drv) == VIRTQ_USED_F_NO_NOTIFY, "notify_disable sets NO_NOTIFY");
	ok(!virtq_notify_enable(&vq) && vqd_used_flags(&drv) == 0,
	   "notify_enable clears it, nothing pending");
	vqd_publish(&drv, 0);
	ok(virtq_notify_enable(&vq), "notify_enable reports buffers that raced in");
}

static void notify_event_idx(void)
{
	vqd_init(&drv, &mem, &vq, 8, RINGS);
	virtq_start(&vq, &mem, 256, F_EVT);
	vqd_set_used_event(&drv, 2);
	push_n(1);
	ok(!virtq_should_signal(&vq), "used_event 2, used idx 1: no interrupt");
	push_n(1);
	ok(!virtq_should_signal(&vq), "used_event 2, used idx 2: no interrupt");
	push_n(1);
	ok(virtq_should_signal(&vq), "used_event 2, used idx 3: interrupt");
	push_n(3);
	ok(!virtq_should_signal(&vq), "used_event already passed: no interrupt");
	vqd_set_used_event(&drv, 6);
	push_n(2);
	ok(virtq_should_signal(&vq), "used_event inside a batch of two: interrupt");
	vqd_set_avail_flags(&drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vqd_set_used_event(&drv, 8);
	push_n(1);
	ok(virtq_should_signal(&vq), "with event idx the avail flag is ignored");

	virtq_notify_disable(&vq);
	ok(vqd_used_flags(&drv) == 0, "event idx: notify_disable leaves used flags alone");
	ok(!virtq_notify_enable(&vq) && vqd_avail_event(&drv) == vq.last_avail,
	   "notify_enable writes avail_event = last_avail");
}

static void iov_helpers(void)
{
	char a[4] = "abcd", b[3] = "efg", c[5] = "hijkl", out[12] = { 0 };
	struct iovec v[3] = { { a, 4 }, { b, 3 }, { c, 5 } }, s[3];

	ok(iov_to_buf(v, 3, 2, out, 7) == 7 && memcmp(out, "cdefghi", 7) == 0,
	   "iov_to_buf across segments");
	ok(iov_to_buf(v, 3, 10, out, 7) == 2, "iov_to_buf short at the end");
	ok(iov_from_buf(v, 3, 3, "XYZ", 3) == 3 && a[3] == 'X' && b[0] == 'Y' && b[1] == 'Z',
	   "iov_from_buf across segments");
	ok(iov_slice(v, 3, 3, 5, s, 3) == 3 && s[0].iov_base == a + 3 && s[0].iov_len == 1 &&
	       s[1].iov_len == 3 && s[2].iov_base == c && s[2].iov_len == 1,
	   "iov_slice carves a middle range");
	ok(iov_slice(v, 3, 0, 12, s, 2) == -E2BIG, "iov_slice: too many pieces");
	ok(iov_slice(v, 3, 8, 5, s, 3) == -ERANGE, "iov_slice: range past the end");
	ok(iov_slice(v, 3, 12, 0, s, 3) == 0, "iov_slice: empty range");
}

static int configs_signalled;

static void count_config(struct virtio_dev *d)
{
	(void)d;
	configs_signalled++;
}

static void broken(void)
{
	struct virtqueue qs[2] = { 0 };
	struct virtio_dev d = { .num_queues = 2, .vqs = qs, .signal_config = count_config };

	virtio_dev_set_broken(&d);
	ok((d.status & VIRTIO_STATUS_NEEDS_RESET) && configs_signalled == 0 && qs[0].broken &&
	       qs[1].broken,
	   "set_broken before DRIVER_OK: NEEDS_RESET, no config interrupt");
	d.status = VIRTIO_STATUS_DRIVER_OK;
	virtio_dev_set_broken(&d);
	virtio_dev_set_broken(&d);
	ok(d.status == (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET) &&
	       configs_signalled == 1,
	   "set_broken after DRIVER_OK: one config interrupt");
}

int main(void)
{
	tap_plan(42);
	/* 3 GiB + 4 MiB: low RAM up to the hole and 4 MiB above 4 GiB. The
	 * memfd is sparse, so this costs only the pages the test touches. */
	if (!ok(guest_mem_init(&mem, LAYOUT_MMIO_HOLE_GPA + (4 << 20), false) == 0 &&
		    mem.nregions == 2,
		"guest RAM with two regions"))
		return tap_done();
	config_checks();
	hole();
	notify_flags();
	notify_event_idx();
	iov_helpers();
	broken();
	guest_mem_destroy(&mem);
	return tap_done();
}
