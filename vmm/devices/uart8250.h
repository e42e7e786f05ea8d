/* uart8250.h - a 16550A UART (COM1) on a chardev.
 *
 * Owns: the UART's registers as the Linux 8250 driver probes and drives them
 * (FIFO detection, loopback test, scratch register), transmit to the
 * chardev, a receive FIFO fed from the chardev on the event-loop thread, and
 * the interrupt line: it is held high exactly while an enabled interrupt is
 * pending (RX data, THR empty, line status), so the edge-triggered ISA pin
 * sees a new edge for each new batch of work. Registers are accessed from
 * vCPU threads and input arrives on the loop thread; a mutex serializes them. */
#ifndef KVRUN_VMM_DEVICES_UART8250_H
#define KVRUN_VMM_DEVICES_UART8250_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

struct chardev;
struct evloop;
struct uart8250;

#define UART8250_NPORTS 8

/* set_irq(opaque, level) drives the UART's interrupt line (vm_irq_line). */
struct uart8250_irq {
	void (*set)(void *opaque, bool level);
	void *opaque;
};

/* Create a UART writing to and reading from chr (not owned). */
int uart8250_create(struct chardev *chr, struct evloop *loop, const struct uart8250_irq *irq,
		    struct uart8250 **out);
/* Register the 8 ports at base on the port-I/O bus. */
int uart8250_attach(struct uart8250 *u, struct io_bus *pio, uint16_t base);
/* Start taking host input (call on the loop thread or before it runs). */
int uart8250_start_input(struct uart8250 *u);
void uart8250_destroy(struct uart8250 *u);

/* Direct register access, as the bus handlers do (for tests). */
uint8_t uart8250_read(struct uart8250 *u, unsigned reg);
void uart8250_write(struct uart8250 *u, unsigned reg, uint8_t val);
/* Feed host input as if it came from the chardev; returns bytes taken. */
unsigned uart8250_receive(struct uart8250 *u, const uint8_t *buf, unsigned len);

#endif
