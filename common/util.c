/* util.c - see util.h. */
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	char num[32];
	size_t n = 0;
	uint64_t v, unit = default_unit;
	int r;

	if (!s)
		return -EINVAL;
	while (isdigit((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= sizeof(num))
		return n == 0 ? -EINVAL : -ERANGE;
	memcpy(num, s, n);
	num[n] = '\0';
	r = parse_u64(num, UINT64_MAX, &v);
	if (r < 0)
		return r;

	const char *suf = s + n;
	if (*suf) {
		switch (toupper((unsigned char)*suf)) {
		case 'B':
			unit = 1;
			break;
		case 'K':
			unit = 1ULL << 10;
			break;
		case 'M':
			unit = 1ULL << 20;
			break;
		case 'G':
			unit = 1ULL << 30;
			break;
		case 'T':
			unit = 1ULL << 40;
			break;
		default:
			return -EINVAL;
		}
		suf++;
		if (unit != 1 &&
		    (strcmp(suf, "iB") == 0 || strcmp(suf, "B") == 0 || strcmp(suf, "b") == 0))
			suf += strlen(suf);
		if (*suf)
			return -EINVAL;
	}
	if (v != 0 && unit > UINT64_MAX / v)
		return -ERANGE;
	*out = v * unit;
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static size_t esc_width(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e ? 1 : 4;
}

char *kv_escape(char *dst, size_t cap, const char *src, size_t limit)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t need = 0, n = 0;

	if (!cap)
		return dst;
	if (limit > cap - 1)
		limit = cap - 1;
	for (const unsigned char *p = s; *p; p++)
		need += esc_width(*p);
	bool cut = need > limit;
	size_t room = cut ? (limit >= 3 ? limit - 3 : 0) : limit;
	for (; *s && n + esc_width(*s) <= room; s++) {
		if (esc_width(*s) == 1) {
			dst[n++] = (char)*s;
		} else {
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[*s >> 4];
			dst[n++] = hex[*s & 15];
		}
	}
	if (cut)
		for (int i = 0; i < 3 && n < limit; i++)
			dst[n++] = '.';
	dst[n] = '\0';
	return dst;
}
