/* fuzz-virtqueue.c - a structure-aware fuzz target for the split-virtqueue
 * code (vmm/virtio/virtqueue.c), checked against a model.
 *
 * Owns: LLVMFuzzerTestOneInput, which plays a hostile driver and a device
 * on one queue in synthetic guest RAM. The driver side (vq-fuzz.h) builds
 * valid rings and chains from the input - long chains, indirect tables,
 * zero-length, raw addresses and lengths - and also writes raw descriptors,
 * raw avail entries and raw avail indices. The device side pops (with the
 * full iovec array or a small one), pushes one or many used entries (valid
 * heads or not), unpops, turns notifications off and on, asks whether to
 * signal, and restarts the queue on configurations from the input. Every
 * result is compared with a model written from the rules in virtqueue.h:
 * the same return value (errno included), and on success the same head,
 * counts, byte totals and iovecs, each inside guest RAM; the used ring
 * holds exactly what was pushed; notify_enable and should_signal answer as
 * the spec says. Any difference aborts. Built as the libFuzzer binary
 * fuzz-virtqueue (`make fuzz`) and, with replay.c, as the unit test that
 * replays tests/fuzz/corpus/virtqueue.
 *
 * Input: u8 log2 queue size, u8 features (bit 0 INDIRECT_DESC, bit 1
 * EVENT_IDX), then ops (op % 16, see run_op) until the input ends. */
#include "vq-fuzz.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 512

static struct guest_mem mem;
static struct iovec iov[VIRTQ_MAX_CHAIN_DESCS], ref_iov[VIRTQ_MAX_CHAIN_DESCS];

/* The model's view of the queue. */
struct model {
	bool started, broken, event_idx, indirect;
	uint16_t size, last_avail, used_idx, signalled_used;
	uint64_t desc, avail, used;
};

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return gpa < FZ_RAM && len <= FZ_RAM - gpa;
}

static uint64_t rd(uint64_t gpa, unsigned n)
{
	return fz_get((const uint8_t *)mem.base + gpa, n);
}

struct ref_walk {
	unsigned n, cap, nout, nin, ndescs;
	bool seen_write;
	uint64_t out_bytes, in_bytes;
};

static int ref_buf(struct ref_walk *w, uint64_t addr, uint32_t len, uint16_t flags)
{
	bool write = flags & VIRTQ_DESC_F_WRITE;

	if (!write && w->seen_write)
		return -EINVAL;
	w->seen_write |= write;
	if (len == 0)
		return 0;
	if (w->out_bytes + w->in_bytes + len > VIRTQ_MAX_CHAIN_BYTES)
		return -E2BIG;
	if (!in_ram(addr, len))
		return -EFAULT;
	if (w->n >= w->cap)
		return -E2BIG;
	ref_iov[w->n++] = (struct iovec){ .iov_base = mem.base + addr, .iov_len = len };
	if (write) {
		w->nin++;
		w->in_bytes += len;
	} else {
		w->nout++;
		w->out_bytes += len;
	}
	return 0;
}

static int ref_indirect(const struct model *m, struct ref_walk *w, uint64_t addr, uint32_t len,
			uint16_t flags)
{
	if (!m->indirect || (flags & VIRTQ_DESC_F_NEXT) || len == 0 || len % 16)
		return -EINVAL;
	unsigned n = len / 16, i = 0, steps = 0;
	if (n > VIRTQ_MAX_CHAIN_DESCS)
		return -ELOOP;
	if (!in_ram(addr, len))
		return -EFAULT;
	for (;;) {
		if (++steps > n || ++w->ndescs > VIRTQ_MAX_CHAIN_DESCS)
			return -ELOOP;
		uint64_t e = addr + 16ull * i;
		uint16_t f = (uint16_t)rd(e + 12, 2), next = (uint16_t)rd(e + 14, 2);
		if (f & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;
		int r = ref_buf(w, rd(e, 8), (uint32_t)rd(e + 8, 4), f);
		if (r < 0)
			return r;
		if (!(f & VIRTQ_DESC_F_NEXT))
			return 0;
		if (next >= n)
			return -EINVAL;
		i = next;
	}
}

static int ref_chain(const struct model *m, struct ref_walk *w, uint16_t head)
{
	unsigned i = head, steps = 0;

	for (;;) {
		if (++steps > m->size || ++w->ndescs > VIRTQ_MAX_CHAIN_DESCS)
			return -ELOOP;
		uint64_t e = m->desc + 16ull * i;
		uint64_t addr = rd(e, 8);
		uint32_t len = (uint32_t)rd(e + 8, 4);
		uint16_t f = (uint16_t)rd(e + 12, 2), next = (uint16_t)rd(e + 14, 2);
		if (f & VIRTQ_DESC_F_INDIRECT)
			return ref_indirect(m, w, addr, len, f);
		int r = ref_buf(w, addr, len, f);
		if (r < 0)
			return r;
		if (!(f & VIRTQ_DESC_F_NEXT))
			return 0;
		if (next >= m->size)
			return -EINVAL;
		i = next;
	}
}

/* What virtq_pop must return; *w and *head on success. */
static int ref_pop(struct model *m, struct ref_walk *w, uint16_t *head)
{
	if (m->broken)
		return -EIO;
	if (!m->started)
		return 0;
	uint16_t pending = (uint16_t)((uint16_t)rd(m->avail + 2, 2) - m->last_avail);
	if (pending == 0)
		return 0;
	int r = -EINVAL;
	if (pending <= m->size) {
		*head = (uint16_t)rd(m->avail + 4 + 2ull * (m->last_avail & (m->size - 1)), 2);
		r = *head >= m->size ? -EINVAL : ref_chain(m, w, *head);
	}
	if (r < 0) {
		m->broken = true;
		return r;
	}
	m->last_avail++;
	return 1;
}

static void check_pop(struct virtqueue *vq, struct model *m, unsigned cap)
{
	struct ref_walk w = { .cap = cap };
	struct virtq_chain c;
	uint16_t head = 0;
	int want = ref_pop(m, &w, &head);
	int got = virtq_pop(vq, &c, iov, cap);

	if (got != want)
		fz_fail("check failed");
	if (got != 1)
		return;
	if (c.head != head || c.nout != w.nout || c.nin != w.nin || c.out_bytes != w.out_bytes ||
	    c.in_bytes != w.in_bytes || c.iov != iov)
		fz_fail("check failed");
	for (unsigned i = 0; i < w.n; i++) {
		const uint8_t *p = iov[i].iov_base;
		if (p != ref_iov[i].iov_base || iov[i].iov_len != ref_iov[i].iov_len)
			fz_fail("check failed");
		if (p < mem.base || p + iov[i].iov_len > mem.base + FZ_RAM)
			fz_fail("check failed");
	}
}

static void check_used(const struct model *m, uint16_t idx_before, unsigned n,
		       const uint16_t *heads, const uint32_t *lens)
{
	if ((uint16_t)rd(m->used + 2, 2) != m->used_idx)
		fz_fail("check failed");
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = m->used + 4 + 8ull * ((uint16_t)(idx_before + i) & (m->size - 1));
		if (rd(e, 4) != heads[i] || rd(e + 4, 4) != lens[i])
			fz_fail("check failed");
	}
}

static void check_push(struct virtqueue *vq, struct model *m, struct fz_cur *c, bool many)
{
	uint16_t heads[8];
	uint32_t lens[8];
	unsigned n = many ? (unsigned)fz_take(c, 1) % 9 : 1;
	bool valid = m->started && !m->broken && n <= m->size;

	for (unsigned i = 0; i < n; i++) {
		uint16_t h = (uint16_t)fz_take(c, 2);
		heads[i] = (h & 0x8000) ? h : (uint16_t)(h % (m->size ? m->size : 1));
		lens[i] = (uint32_t)fz_take(c, 4);
		valid &= heads[i] < m->size;
	}
	uint16_t before = m->used_idx;
	int r = many ? virtq_push_many(vq, heads, lens, n) : virtq_push(vq, heads[0], lens[0]);
	if (r != (valid ? 0 : -EINVAL))
		fz_fail("check failed");
	if (!valid)
		return;
	m->used_idx = (uint16_t)(m->used_idx + n);
	check_used(m, before, n, heads, lens);
}

/* virtio 1.2, 2.7.10: with EVENT_IDX, signal when the used index moved
 * past used_event, i.e. used_event is one of the entries old .. now-1. */
static void check_signal(struct virtqueue *vq, struct model *m)
{
	bool want = false;

	if (m->started) {
		uint16_t old = m->signalled_used, now = m->used_idx;
		m->signalled_used = now;
		if (old != now) {
			if (!m->event_idx) {
				want = !(rd(m->avail, 2) & VIRTQ_AVAIL_F_NO_INTERRUPT);
			} else {
				uint16_t ev = (uint16_t)rd(m->avail + 4 + 2ull * m->size, 2);
				/* ev in [old, now) modulo 2^16 */
				uint16_t dist_ev = (uint16_t)(ev - old),
					 dist_now = (uint16_t)(now - old);
				want = dist_ev < dist_now;
			}
		}
	}
	if (virtq_should_signal(vq) != want)
		fz_fail("check failed");
}

static void check_notify(struct virtqueue *vq, struct model *m, bool enable)
{
	if (!enable) {
		virtq_notify_disable(vq);
		if (m->started && !m->event_idx && rd(m->used, 2) != VIRTQ_USED_F_NO_NOTIFY)
			fz_fail("check failed");
		return;
	}
	bool got = virtq_notify_enable(vq);
	if (!m->started || m->broken) {
		if (got)
			fz_fail("check failed");
		return;
	}
	if (m->event_idx && rd(m->used + 4 + 8ull * m->size, 2) != m->last_avail)
		fz_fail("check failed");
	if (!m->event_idx && rd(m->used, 2) != 0)
		fz_fail("check failed");
	if (got != ((uint16_t)rd(m->avail + 2, 2) != m->last_avail))
		fz_fail("check failed");
}

/* virtq_start on a configuration from the input, on a scratch queue. */
static void check_start(struct fz_cur *c)
{
	struct virtqueue q = { .size = (uint16_t)fz_take(c, 2) };
	uint16_t max = (uint16_t)fz_take(c, 2);
	uint64_t n = q.size;

	q.desc_gpa = fz_take(c, 1) & 1 ? fz_take(c, 8) : fz_take(c, 3);
	q.avail_gpa = fz_take(c, 1) & 1 ? fz_take(c, 8) : fz_take(c, 3);
	q.used_gpa = fz_take(c, 1) & 1 ? fz_take(c, 8) : fz_take(c, 3);
	bool ok = n != 0 && !(n & (n - 1)) && n <= max && n <= VIRTQ_MAX_SIZE &&
		  !(q.desc_gpa & 15) && in_ram(q.desc_gpa, 16 * n) && !(q.avail_gpa & 1) &&
		  in_ram(q.avail_gpa, 6 + 2 * n) && !(q.used_gpa & 3) &&
		  in_ram(q.used_gpa, 6 + 8 * n);
	int r = virtq_start(&q, &mem, max, 0);
	if (r != (ok ? 0 : -EINVAL) || q.started != ok)
		fz_fail("check failed");
}

static void model_start(struct model *m, const struct fz_q *z, uint8_t features)
{
	*m = (struct model){ .started = true,
			     .size = z->size,
			     .desc = z->desc,
			     .avail = z->avail,
			     .used = z->used,
			     .indirect = features & 1,
			     .event_idx = (features >> 1) & 1 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cur c = { data, size };
	struct virtqueue vq = { .kick_fd = -1, .call_fd = -1 };
	struct fz_drv d;
	struct model m;

	if (!mem.base && guest_mem_init(&mem, FZ_RAM, false) < 0)
		fz_fail("check failed");
	fz_init(&d, &mem);
	fz_queue(&d, 0, &vq, (unsigned)fz_take(&c, 1));
	uint8_t features = (uint8_t)fz_take(&c, 1);
	uint64_t f = (features & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0) |
		     (features & 2 ? 1ull << VIRTIO_F_EVENT_IDX : 0);
	struct fz_q *z = &d.q[0];
	if (virtq_start(&vq, &mem, FZ_MAX_QSIZE, f) < 0)
		fz_fail("the driver's own layout is valid");
	model_start(&m, z, features);

	for (unsigned ops = 0; c.left && ops < MAX_OPS; ops++) {
		unsigned op = (unsigned)fz_take(&c, 1) % 16;
		switch (op) {
		case 0:
		case 1:
		case 2:
			/* Chains the device returns in any order: forget the
			 * slots once all were made available twice over. */
			if (!fz_chain(&d, &c)) {
				memset(z->slot_busy, 0, sizeof(z->slot_busy));
				(void)fz_chain(&d, &c);
			}
			break;
		case 3: { /* a raw descriptor */
			unsigned i = (unsigned)fz_take(&c, 2) % z->size;
			uint64_t a = fz_take(&c, 8), l = fz_take(&c, 4);
			uint16_t fl = (uint16_t)fz_take(&c, 2), nx = (uint16_t)fz_take(&c, 2);
			fz_desc_at(&d, z->desc, i, a, (uint32_t)l, fl, nx);
			break;
		}
		case 4: /* a raw avail entry */
			fz_publish(&d, 0, (uint16_t)fz_take(&c, 2));
			break;
		case 5: { /* a raw avail index */
			z->avail_idx = (uint16_t)fz_take(&c, 2);
			fz_put(fz_hva(&d, z->avail + 2, 2), z->avail_idx, 2);
			break;
		}
		case 6:
		case 7:
			check_pop(&vq, &m, VIRTQ_MAX_CHAIN_DESCS);
			break;
		case 8:
			check_pop(&vq, &m, 1 + (unsigned)fz_take(&c, 1) % 8);
			break;
		case 9:
			check_push(&vq, &m, &c, false);
			break;
		case 10:
			check_push(&vq, &m, &c, true);
			break;
		case 11:
			virtq_unpop(&vq);
			if (m.started && !m.broken)
				m.last_avail--;
			break;
		case 12:
			check_notify(&vq, &m, fz_take(&c, 1) & 1);
			break;
		case 13:
			fz_notify_fields(&d, &c);
			check_signal(&vq, &m);
			break;
		case 14:
			check_start(&c);
			break;
		case 15: /* reset, and start again (or stay reset) */
			virtq_reset(&vq);
			m = (struct model){ 0 };
			if (fz_take(&c, 1) & 1) {
				if (virtq_start(&vq, &mem, FZ_MAX_QSIZE, f) < 0)
					fz_fail("check failed");
				model_start(&m, z, features);
			}
			break;
		}
		if (vq.broken != m.broken || vq.started != m.started ||
		    vq.last_avail != m.last_avail || vq.used_idx != m.used_idx)
			fz_fail("check failed");
	}
	return 0;
}
