/* chardev.h - host-side byte streams behind the guest's consoles.
 *
 * Owns: opening a console backend (the process's stdio, an append-only file,
 * or a new pty), putting a terminal into raw mode and restoring it, and
 * delivering host input to a device on the event-loop thread. The 8250 UART
 * and virtio-console both sit on a chardev. */
#ifndef KVRUN_VMM_CHARDEV_H
#define KVRUN_VMM_CHARDEV_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "vmm.h"

struct chardev;
struct evloop;

/* Open the backend cfg describes. VMM_CHR_NONE yields a chardev that
 * discards output and never has input. */
int chardev_open(const struct vmm_chardev *cfg, struct chardev **out, struct kv_err *err);

/* Call on_input(opaque) on the loop thread whenever input is readable; the
 * device then drains it with chardev_read(). Passing NULL stops watching.
 * Devices call this from activate/reset (loop thread). */
int chardev_watch_input(struct chardev *c, struct evloop *loop, void (*on_input)(void *opaque),
			void *opaque);

/* Non-blocking read: bytes read, 0 at end of input, -EAGAIN when none now. */
ssize_t chardev_read(struct chardev *c, void *buf, size_t len);

/* Write all of buf (output is never dropped silently; a closed reader is
 * reported as -EPIPE once and output is discarded afterwards). */
int chardev_write(struct chardev *c, const void *buf, size_t len);

/* The pty slave path of a VMM_CHR_PTY backend, else NULL. */
const char *chardev_pty_path(const struct chardev *c);

/* Stop watching, restore the terminal, close. NULL is fine. */
void chardev_close(struct chardev *c);

#endif
