/* Unit tests for vmm/devices/uart8250.c: what the Linux 8250 driver relies
 * on (FIFO detection, loopback, scratch) and the interrupt line (THRE on
 * enable and after each THR write, cleared by reading IIR; RX data). */
#include "tap.h"
#include "devices/uart8250.h"

static int level, edges;

static void set_irq(void *opaque, int level_in)
{
	if (level_in && !level)
		edges++;
	level = level_in;
}

static void set_irq_bool(void *opaque, bool l)
{
	set_irq(opaque, l);
}

int main(void)
{
	struct uart8250 *u;
	struct uart8250_irq irq = { .set = set_irq_bool };
	uint8_t in[3] = { 'a', 'b', 'c' };

	tap_plan(14);
	ok(uart8250_create(NULL, NULL, &irq, &u) == 0, "create");
	uart8250_write(u, 7, 0x5a);
	ok(uart8250_read(u, 7) == 0x5a, "scratch register");
	uart8250_write(u, 1, 0xff);
	ok(uart8250_read(u, 1) == 0x0f, "IER keeps only the four standard bits");
	uart8250_write(u, 1, 0);
	ok(level == 0, "no interrupt with IER 0");
	uart8250_write(u, 2, 0x01);
	ok((uart8250_read(u, 2) & 0xc0) == 0xc0, "FIFO enabled: IIR bits 7:6 set (16550A)");
	uart8250_write(u, 4, 0x1a); /* loop | OUT2 | RTS */
	ok((uart8250_read(u, 6) & 0xf0) == 0x90, "loopback: MSR shows DCD|CTS");
	uart8250_write(u, 4, 0x08);
	ok((uart8250_read(u, 5) & 0x60) == 0x60, "LSR: THR empty and transmitter empty");

	edges = 0;
	uart8250_write(u, 1, 0x02); /* ETBEI */
	ok(level == 1 && edges == 1, "enabling THRI raises the line");
	ok((uart8250_read(u, 2) & 0x0f) == 0x02 && level == 0,
	   "IIR reports THRE and reading it lowers the line");
	ok((uart8250_read(u, 2) & 0x01) == 0x01, "then no interrupt pending");
	uart8250_write(u, 0, 'x');
	ok(level == 1 && edges == 2, "a THR write raises THRE again (a new edge)");
	uart8250_write(u, 1, 0x00);
	ok(level == 0, "disabling THRI lowers the line");

	uart8250_write(u, 1, 0x01); /* ERBFI */
	ok(uart8250_receive(u, in, 3) == 3 && level == 1 && (uart8250_read(u, 2) & 0x0f) == 0x04,
	   "input raises RX-data-available");
	ok(uart8250_read(u, 0) == 'a' && uart8250_read(u, 0) == 'b' && uart8250_read(u, 0) == 'c' &&
	       level == 0 && !(uart8250_read(u, 5) & 0x01),
	   "reading the FIFO dry lowers the line and clears DR");
	uart8250_destroy(u);
	return tap_done();
}
