/* msix.c - see msix.h. MSI-X capability, table, PBA and vector routing. */
#include "msix.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "irq.h"
#include "pci.h"

/* Capability layout: id, next, message control, table offset/BIR, PBA offset/BIR. */
#define CAP_CTRL  2
#define CAP_TABLE 4
#define CAP_PBA	  8
#define CAP_LEN	  12

int msix_init(struct msix *m, struct pci_dev *d, struct irq_router *irq, unsigned nvec,
	      unsigned bar, uint32_t table_off, uint32_t pba_off)
{
	int r;

	memset(m, 0, sizeof(*m));
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS || (table_off & 7) ||
	    (pba_off & 7))
		return -EINVAL;
	m->irq = irq;
	m->nvec = nvec;
	m->vec = calloc(nvec, sizeof(*m->vec));
	if (!m->vec)
		return -ENOMEM;
	for (unsigned i = 0; i < nvec; i++)
		m->vec[i] = (struct msix_vector){ .ctrl = MSIX_VEC_MASKED, .efd = -1 };
	pthread_mutex_init(&m->lock, NULL);

	for (unsigned i = 0; i < nvec; i++) {
		struct msix_vector *v = &m->vec[i];
		v->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->efd < 0) {
			r = -errno;
			goto fail;
		}
		r = irq_msi_alloc(irq, &v->gsi);
		if (r < 0) {
			v->gsi = 0;
			goto fail;
		}
	}
	r = pci_dev_add_cap(d, PCI_CAP_ID_MSIX, CAP_LEN);
	if (r < 0)
		goto fail;
	m->cap = (unsigned)r;
	pci_cfg_set16(d, m->cap + CAP_CTRL, (uint16_t)(nvec - 1));
	pci_wmask_set16(d, m->cap + CAP_CTRL, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	pci_cfg_set32(d, m->cap + CAP_TABLE, table_off | bar);
	pci_cfg_set32(d, m->cap + CAP_PBA, pba_off | bar);
	return 0;
fail:
	msix_destroy(m);
	return r;
}

void msix_destroy(struct msix *m)
{
	if (!m->vec)
		return;
	for (unsigned i = 0; i < m->nvec; i++) {
		struct msix_vector *v = &m->vec[i];
		if (v->live)
			(void)irq_irqfd_deassign(m->irq, v->efd, v->gsi);
		if (v->gsi)
			irq_msi_free(m->irq, v->gsi);
		if (v->efd >= 0)
			(void)close(v->efd);
	}
	free(m->vec);
	m->vec = NULL;
	pthread_mutex_destroy(&m->lock);
}

static bool wanted(const struct msix *m, unsigned i)
{
	return m->enabled && !m->fmask && !(m->vec[i].ctrl & MSIX_VEC_MASKED);
}

/* Stage vector i's route when it should be live; m->lock held. */
static void stage_vector(struct msix *m, unsigned i)
{
	const struct msix_vector *v = &m->vec[i];

	if (wanted(m, i))
		(void)irq_msi_set(m->irq, v->gsi, (uint64_t)v->addr_hi << 32 | v->addr_lo, v->data);
}

/* Bind or unbind vector i's irqfd after its route was committed; m->lock
 * held. KVM failures (out of memory) leave the vector not live: its
 * interrupts stay pending rather than going astray. */
static void bind_vector(struct msix *m, unsigned i, bool committed)
{
	struct msix_vector *v = &m->vec[i];

	if (wanted(m, i)) {
		if (committed && !v->live && irq_irqfd_assign(m->irq, v->efd, v->gsi) == 0)
			v->live = true;
	} else if (v->live) {
		if (irq_irqfd_deassign(m->irq, v->efd, v->gsi) == 0)
			v->live = false;
	}
}

/* Bring vector i's KVM state in line with the registers; m->lock held. */
static void sync_vector(struct msix *m, unsigned i)
{
	stage_vector(m, i);
	bind_vector(m, i, irq_commit(m->irq) == 0);
}

void msix_cfg_written(struct msix *m, struct pci_dev *d, uint32_t off, unsigned len)
{
	if (off >= m->cap + CAP_CTRL + 2 || off + len <= m->cap + CAP_CTRL)
		return;
	uint16_t ctrl = pci_cfg_get16(d, m->cap + CAP_CTRL);
	pthread_mutex_lock(&m->lock);
	bool en = ctrl & MSIX_CTRL_ENABLE, fm = ctrl & MSIX_CTRL_FMASK;
	if (en != m->enabled || fm != m->fmask) {
		m->enabled = en;
		m->fmask = fm;
		/* One table commit for all vectors, then the irqfds. */
		for (unsigned i = 0; i < m->nvec; i++)
			stage_vector(m, i);
		bool committed = irq_commit(m->irq) == 0;
		for (unsigned i = 0; i < m->nvec; i++)
			bind_vector(m, i, committed);
	}
	pthread_mutex_unlock(&m->lock);
}

static bool access_ok(uint64_t off, unsigned len, uint64_t size)
{
	return (len == 4 || len == 8) && (off & (len - 1)) == 0 && off < size && len <= size - off;
}

static uint32_t *field(struct msix_vector *v, unsigned f)
{
	switch (f) {
	case 0:
		return &v->addr_lo;
	case 4:
		return &v->addr_hi;
	case 8:
		return &v->data;
	default:
		return &v->ctrl;
	}
}

void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned len)
{
	uint8_t *out = data;

	if (!access_ok(off, len, msix_table_size(m->nvec))) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (unsigned done = 0; done < len; done += 4) {
		uint64_t o = off + done;
		uint32_t v = *field(&m->vec[o / MSIX_ENTRY_SIZE], (unsigned)(o % MSIX_ENTRY_SIZE));
		memcpy(out + done, &v, 4);
	}
	pthread_mutex_unlock(&m->lock);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned len)
{
	const uint8_t *in = data;

	if (!access_ok(off, len, msix_table_size(m->nvec)))
		return;
	pthread_mutex_lock(&m->lock);
	for (unsigned done = 0; done < len; done += 4) {
		uint64_t o = off + done;
		unsigned i = (unsigned)(o / MSIX_ENTRY_SIZE), f = (unsigned)(o % MSIX_ENTRY_SIZE);
		uint32_t v;
		memcpy(&v, in + done, 4);
		if (f == 12)
			v &= MSIX_VEC_MASKED; /* other vector-control bits are reserved */
		*field(&m->vec[i], f) = v;
		sync_vector(m, i);
	}
	pthread_mutex_unlock(&m->lock);
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned len)
{
	uint8_t *out = data;

	if (!access_ok(off, len, msix_pba_size(m->nvec))) {
		memset(data, 0xff, len);
		return;
	}
	memset(data, 0, len);
	pthread_mutex_lock(&m->lock);
	for (unsigned bit = 0; bit < len * 8; bit++) {
		uint64_t i = off * 8 + bit;
		if (i >= m->nvec)
			break;
		/* Pending: signalled while not live (KVM drains live vectors). */
		if (!m->vec[i].live && fd_readable(m->vec[i].efd))
			out[bit / 8] |= (uint8_t)(1u << (bit % 8));
	}
	pthread_mutex_unlock(&m->lock);
}

bool msix_notify(struct msix *m, unsigned v)
{
	uint64_t one = 1;

	if (v >= m->nvec)
		return false;
	/* EAGAIN means the counter is saturated: already pending. */
	(void)!write(m->vec[v].efd, &one, sizeof(one));
	return true;
}

int msix_vector_fd(const struct msix *m, unsigned v)
{
	return v < m->nvec ? m->vec[v].efd : -1;
}

int msix_vector_gsi(const struct msix *m, unsigned v)
{
	return v < m->nvec ? (int)m->vec[v].gsi : -1;
}

bool msix_vector_live(struct msix *m, unsigned v)
{
	if (v >= m->nvec)
		return false;
	pthread_mutex_lock(&m->lock);
	bool live = m->vec[v].live;
	pthread_mutex_unlock(&m->lock);
	return live;
}
