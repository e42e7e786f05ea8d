/* pump.h - a bounded byte pump between two non-blocking descriptors.
 *
 * Owns: moving bytes from a source fd to a destination fd through a 64 KiB
 * buffer without losing any: the agent stops reading the source while the
 * buffer is full, so a host that does not read stalls the process (as a
 * pipe would) instead of the agent buffering without bound. Used for each
 * direction of each stdio stream. No epoll here: the caller asks what the
 * pump wants (pump_wants_read/write) and registers interest. */
#ifndef KVRUN_AGENT_PUMP_H
#define KVRUN_AGENT_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUMP_CAP (64u << 10)

struct pump {
	uint8_t *buf; /* PUMP_CAP bytes, allocated on first read */
	size_t off, len;
	bool eof;    /* the source ended (read 0, or EIO from a pty master) */
	bool broken; /* the destination failed: what is read is discarded */
	int error;   /* the errno that ended the source or broke the destination */
};

/* Move bytes until neither side can make progress (EAGAIN) or a round limit
 * is hit, so one busy stream cannot starve the others. src or dst may be -1
 * (that side is skipped). Returns -ENOMEM if the buffer cannot be allocated. */
int pump_run(struct pump *p, int src, int dst);

static inline bool pump_wants_read(const struct pump *p)
{
	return !p->eof && p->len < PUMP_CAP;
}

static inline bool pump_wants_write(const struct pump *p)
{
	return p->len > 0 && !p->broken;
}

/* The source ended and everything read was written (or discarded). */
static inline bool pump_finished(const struct pump *p)
{
	return p->eof && p->len == 0;
}

void pump_release(struct pump *p);

#endif
