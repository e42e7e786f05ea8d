/* sync.h - short messages between a verb and the process it forked.
 *
 * Owns: the hand-shake channel between `kvrun create` (or `exec -d`) and
 * the long-lived process it starts: a SOCK_SEQPACKET socket pair carrying
 * one text message per packet ("booted", "created 42", "error MSG", ...). */
#ifndef KVRUN_RUNTIME_SYNC_H
#define KVRUN_RUNTIME_SYNC_H

#include <stddef.h>

#define SYNC_MSG_MAX 1024

/* A close-on-exec SOCK_SEQPACKET pair. */
int sync_pair(int fds[2]);
__attribute__((format(printf, 2, 3))) int sync_send(int fd, const char *fmt, ...);
/* One message into buf (NUL-terminated); timeout_ms < 0 waits forever.
 * -ETIMEDOUT, or -EPIPE when the peer closed. */
int sync_recv(int fd, char *buf, size_t size, int timeout_ms);

/* Close every fd above 2 but the ones in keep (negative entries ignored):
 * a long-lived process must not hold its caller's other descriptors. */
void close_other_fds(const int *keep, size_t n);

#endif
