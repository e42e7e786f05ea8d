/* util.h - small, dependency-free helpers shared by host and guest code.
 *
 * Owns: strict number and size parsing for CLI flags and config values,
 * EINTR/short-count safe full reads and writes, and making untrusted text
 * safe to print. The parsers and I/O helpers return 0 or a negative errno;
 * none prints. */
#ifndef KVRUN_UTIL_H
#define KVRUN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Parse a whole decimal unsigned number into *out; -EINVAL on junk, -ERANGE above max. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Parse a byte size such as "512", "64K", "512M", "2G" (binary units, optional
 * trailing "iB" or "B"). A bare number means default_unit bytes each (1 for
 * bytes, 1 << 20 for MiB). -EINVAL on junk or zero-suffix misuse, -ERANGE on overflow. */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);

/* Write all of buf, retrying on EINTR and short writes. */
int write_full(int fd, const void *buf, size_t len);

/* Read exactly len bytes; -EIO (not a short count) when EOF comes first. */
int read_full(int fd, void *buf, size_t len);

/* src (NUL-terminated; NULL reads as "") as printable ASCII in dst[0..cap):
 * every byte outside 0x20..0x7e becomes \xHH, so no control character,
 * escape sequence or line break survives. At most `limit` characters are
 * written (never more than cap - 1); text that does not fit is cut at a
 * whole character and ends with "...". Escaping escaped text changes
 * nothing. For text from the guest before it reaches a log or a terminal.
 * Returns dst. */
char *kv_escape(char *dst, size_t cap, const char *src, size_t limit);

#endif
