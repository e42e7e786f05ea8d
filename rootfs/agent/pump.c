/* pump.c - see pump.h. */
#include "pump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUMP_ROUNDS 16

static int pump_read(struct pump *p, int src)
{
	if (!p->buf) {
		p->buf = malloc(PUMP_CAP);
		if (!p->buf)
			return -ENOMEM;
	}
	if (p->off && p->off + p->len == PUMP_CAP) {
		memmove(p->buf, p->buf + p->off, p->len);
		p->off = 0;
	}
	ssize_t n = read(src, p->buf + p->off + p->len, PUMP_CAP - p->off - p->len);
	if (n > 0) {
		if (p->broken)
			return 1; /* discard */
		p->len += (size_t)n;
		return 1;
	}
	if (n == 0) {
		p->eof = true;
		return 1;
	}
	if (errno == EINTR)
		return 1;
	if (errno == EAGAIN)
		return 0;
	/* EIO: a pty master whose slave side is closed by everyone. */
	p->eof = true;
	p->error = errno == EIO ? 0 : errno;
	return 1;
}

static int pump_write(struct pump *p, int dst)
{
	ssize_t n = write(dst, p->buf + p->off, p->len);
	if (n > 0) {
		p->off += (size_t)n;
		p->len -= (size_t)n;
		if (p->len == 0)
			p->off = 0;
		return 1;
	}
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	p->broken = true;
	p->error = n < 0 ? errno : EIO;
	p->off = p->len = 0;
	return 1;
}

int pump_run(struct pump *p, int src, int dst)
{
	for (int round = 0; round < PUMP_ROUNDS; round++) {
		int progress = 0, r;

		if (src >= 0 && pump_wants_read(p)) {
			r = pump_read(p, src);
			if (r < 0)
				return r;
			progress |= r;
		}
		if (dst >= 0 && pump_wants_write(p))
			progress |= pump_write(p, dst);
		if (!progress)
			break;
	}
	return 0;
}

void pump_release(struct pump *p)
{
	free(p->buf);
	*p = (struct pump){ 0 };
}
