/* uart8250.c - see uart8250.h. Register numbers and bits follow the
 * PC16550D data sheet. */
#include "uart8250.h"
#include "chardev.h"
#include "evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
	REG_RBR_THR = 0, /* DLL when DLAB */
	REG_IER = 1,	 /* DLM when DLAB */
	REG_IIR_FCR = 2,
	REG_LCR = 3,
	REG_MCR = 4,
	REG_LSR = 5,
	REG_MSR = 6,
	REG_SCR = 7,
};

#define IER_RDI	 0x01 /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_RLSI   0x06
#define IIR_RDI	   0x04
#define IIR_THRI   0x02
#define IIR_FIFO   0xc0 /* FIFOs enabled */

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR	 0x01
#define LSR_OE	 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

#define RX_FIFO 64

struct uart8250 {
	pthread_mutex_t lock;
	struct chardev *chr;
	struct evloop *loop;
	struct uart8250_irq irq;
	bool irq_level;

	uint8_t ier, lcr, mcr, lsr, scr, fcr, dll, dlm;
	bool thr_empty_pending; /* THRE interrupt condition, cleared by an IIR read */

	uint8_t rx[RX_FIFO];
	unsigned rx_head, rx_count;
	bool input_watched, input_paused;
};

/* The highest-priority pending interrupt, as IIR reports it. */
static uint8_t pending_iir(const struct uart8250 *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr & LSR_OE))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_empty_pending)
		return IIR_THRI;
	return IIR_NO_INT;
}

static void update_irq(struct uart8250 *u)
{
	bool level = pending_iir(u) != IIR_NO_INT;

	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq.set)
			u->irq.set(u->irq.opaque, level);
	}
}

static void rx_push(struct uart8250 *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO) {
		u->lsr |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = c;
	u->rx_count++;
}

static void on_input(void *opaque);

/* Runs on the loop thread: watch the chardev again once the FIFO drained. */
static void resume_input(void *opaque)
{
	struct uart8250 *u = opaque;

	pthread_mutex_lock(&u->lock);
	bool resume = u->input_paused && u->rx_count < RX_FIFO;
	if (resume)
		u->input_paused = false;
	pthread_mutex_unlock(&u->lock);
	if (resume)
		(void)chardev_watch_input(u->chr, u->loop, on_input, u);
}

static uint8_t rx_pop(struct uart8250 *u)
{
	uint8_t c = 0;

	if (u->rx_count) {
		c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_FIFO;
		u->rx_count--;
		if (u->input_paused && u->loop)
			(void)evloop_call(u->loop, resume_input, u);
	}
	return c;
}

static uint8_t loopback_msr(uint8_t mcr)
{
	/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
	return (uint8_t)(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) |
			 ((mcr & 0x08) << 4));
}

uint8_t uart8250_read(struct uart8250 *u, unsigned reg)
{
	uint8_t v = 0xff;

	pthread_mutex_lock(&u->lock);
	switch (reg) {
	case REG_RBR_THR:
		v = (u->lcr & LCR_DLAB) ? u->dll : rx_pop(u);
		break;
	case REG_IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case REG_IIR_FCR:
		v = pending_iir(u);
		if (v == IIR_THRI)
			u->thr_empty_pending = false;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case REG_LCR:
		v = u->lcr;
		break;
	case REG_MCR:
		v = u->mcr;
		break;
	case REG_LSR:
		v = u->lsr | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		u->lsr &= (uint8_t)~LSR_OE;
		break;
	case REG_MSR:
		v = (u->mcr & MCR_LOOP) ? loopback_msr(u->mcr) : (MSR_DCD | MSR_DSR | MSR_CTS);
		break;
	case REG_SCR:
		v = u->scr;
		break;
	}
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

void uart8250_write(struct uart8250 *u, unsigned reg, uint8_t val)
{
	bool out = false;

	pthread_mutex_lock(&u->lock);
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = val;
			break;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, val);
		else
			out = true;
		/* Transmission is instant: the THR is empty again at once. */
		u->thr_empty_pending = true;
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
			break;
		}
		/* Enabling THRI while the THR is empty raises the interrupt. */
		if ((val & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_empty_pending = true;
		u->ier = val & IER_MASK;
		break;
	case REG_IIR_FCR:
		u->fcr = val & FCR_ENABLE;
		if (val & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & MCR_MASK;
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	/* Write outside the lock: the chardev may block on a slow reader. */
	if (out && u->chr)
		(void)chardev_write(u->chr, &val, 1);
}

unsigned uart8250_receive(struct uart8250 *u, const uint8_t *buf, unsigned len)
{
	unsigned n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && u->rx_count < RX_FIFO)
		rx_push(u, buf[n++]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void on_input(void *opaque)
{
	struct uart8250 *u = opaque;
	uint8_t buf[RX_FIFO];
	unsigned room;

	pthread_mutex_lock(&u->lock);
	room = RX_FIFO - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	if (room > 0) {
		ssize_t n = chardev_read(u->chr, buf, room);
		if (n > 0) {
			(void)uart8250_receive(u, buf, (unsigned)n);
			return;
		}
		if (n == -EAGAIN)
			return;
	}
	/* FIFO full (the guest is not reading) or end of input: stop
	 * watching, or a level-triggered loop would spin. */
	pthread_mutex_lock(&u->lock);
	u->input_paused = room == 0;
	pthread_mutex_unlock(&u->lock);
	(void)chardev_watch_input(u->chr, u->loop, NULL, NULL);
}

static void bus_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	uint8_t *d = data;

	memset(d, 0xff, len);
	d[0] = uart8250_read(opaque, (unsigned)off);
}

static void bus_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	uart8250_write(opaque, (unsigned)off, *(const uint8_t *)data);
}

static const struct io_ops uart_ops = { .read = bus_read, .write = bus_write };

int uart8250_create(struct chardev *chr, struct evloop *loop, const struct uart8250_irq *irq,
		    struct uart8250 **out)
{
	struct uart8250 *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	u->chr = chr;
	u->loop = loop;
	if (irq)
		u->irq = *irq;
	u->mcr = 0x08; /* OUT2 */
	u->dll = 0x0c; /* 9600 baud, as firmware would leave it */
	u->lcr = 0x03; /* 8n1 */
	*out = u;
	return 0;
}

int uart8250_attach(struct uart8250 *u, struct io_bus *pio, uint16_t base)
{
	return io_bus_register(pio, base, UART8250_NPORTS, &uart_ops, u);
}

int uart8250_start_input(struct uart8250 *u)
{
	int r;

	if (!u->chr || !u->loop)
		return 0;
	r = chardev_watch_input(u->chr, u->loop, on_input, u);
	if (r == 0)
		u->input_watched = true;
	return r;
}

void uart8250_destroy(struct uart8250 *u)
{
	if (!u)
		return;
	if (u->input_watched)
		(void)chardev_watch_input(u->chr, u->loop, NULL, NULL);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
