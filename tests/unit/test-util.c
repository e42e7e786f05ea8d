/* Unit tests for common/util.c: strict number and size parsing, full I/O,
 * escaping untrusted text. */
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int size_is(const char *s, uint64_t unit, uint64_t want)
{
	uint64_t v = 0;
	int r = parse_size(s, unit, &v);
	return r == 0 && v == want;
}

static int size_err(const char *s, int want)
{
	uint64_t v = 0;
	return parse_size(s, 1, &v) == want;
}

int main(void)
{
	uint64_t v = 0;
	int p[2];
	char buf[8];

	tap_plan(27);
	ok(parse_u64("0", 10, &v) == 0 && v == 0, "parse_u64 zero");
	ok(parse_u64("18446744073709551615", UINT64_MAX, &v) == 0 && v == UINT64_MAX,
	   "parse_u64 max");
	ok(parse_u64("18446744073709551616", UINT64_MAX, &v) == -ERANGE, "parse_u64 overflow");
	ok(parse_u64("11", 10, &v) == -ERANGE, "parse_u64 above max");
	ok(parse_u64("", 10, &v) == -EINVAL, "parse_u64 empty");
	ok(parse_u64("1x", 10, &v) == -EINVAL, "parse_u64 trailing junk");
	ok(parse_u64("-1", 10, &v) == -EINVAL, "parse_u64 negative");
	ok(size_is("512", 1 << 20, 512ULL << 20), "bare size uses the default unit");
	ok(size_is("64K", 1, 64ULL << 10), "K suffix");
	ok(size_is("2G", 1, 2ULL << 30), "G suffix");
	ok(size_is("512MiB", 1, 512ULL << 20), "MiB suffix");
	ok(size_is("3mb", 1, 3ULL << 20), "lower-case mb suffix");
	ok(size_is("100B", 1 << 20, 100), "B suffix means bytes");
	ok(size_err("M", -EINVAL), "suffix without number");
	ok(size_err("12Q", -EINVAL), "unknown suffix");
	ok(size_err("1GiBx", -EINVAL), "junk after suffix");
	ok(size_err("17179869184G", -ERANGE), "size overflow");

	ok(pipe(p) == 0, "pipe");
	ok(write_full(p[1], "abcdefgh", 8) == 0 && read_full(p[0], buf, 8) == 0 &&
	       memcmp(buf, "abcdefgh", 8) == 0,
	   "write_full/read_full round trip");
	close(p[1]);
	ok(read_full(p[0], buf, 1) == -EIO, "read_full reports EOF as -EIO");
	close(p[0]);

	char e[64], e2[64];
	ok(!strcmp(kv_escape(e, sizeof(e), "plain text, 100%", 60), "plain text, 100%"),
	   "kv_escape keeps printable ASCII (%s)", e);
	ok(!strcmp(kv_escape(e, sizeof(e), "a\x1b[2J\nb\x7f\xc3\xa9", 60),
		   "a\\x1b[2J\\x0ab\\x7f\\xc3\\xa9"),
	   "kv_escape: ESC, newline, DEL and non-ASCII bytes become \\xHH (%s)", e);
	ok(!strcmp(kv_escape(e2, sizeof(e2), e, 60), e),
	   "kv_escape: escaping twice changes nothing");
	ok(!strcmp(kv_escape(e, sizeof(e), "0123456789", 8), "01234..."),
	   "kv_escape cuts at the limit with ... (%s)", e);
	ok(!strcmp(kv_escape(e, sizeof(e), "ab\ncd", 7), "ab..."),
	   "kv_escape never splits an escape (%s)", e);
	ok(!strcmp(kv_escape(e, 4, "0123456789", 60), "..."), "kv_escape respects cap (%s)", e);
	ok(!strcmp(kv_escape(e, sizeof(e), NULL, 60), ""), "kv_escape(NULL) is empty");
	return tap_done();
}
