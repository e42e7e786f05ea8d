/* gen-client-corpus.c - writes the seed corpus of the client fuzz target.
 *
 * Owns: the seed files in tests/fuzz/corpus/agent-client/, in the input
 * layout fuzz-agent-client.c describes (ops byte, stream length, stream
 * bytes, control bytes): honest sessions over HELLO, WAIT (sent ahead and
 * set aside, or blocking), PS, STATS, SIGNAL and the stream attach, and the
 * hostile agents of issue 12: ERROR with errnum 0, 0x80000000 or
 * 0xffffffff on each request and on the stream, replies to ids never
 * used, a reply twice, signals 200/128/65 in WAIT_REPLY, a wrong reply
 * type, an ERROR message full of escapes, a broken frame mid-session.
 * Run: gen-agent-client-corpus DIR (existing files of the same name are
 * overwritten). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvap.h"

/* The ops bits of fuzz-agent-client.c. */
enum { AHEAD = 0x01, PS = 0x02, STATS = 0x04, SIGNAL = 0x08, POLL = 0x10 };

struct buf {
	uint8_t b[65536];
	size_t n;
};

static const char *dir;
static int failed;

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > sizeof(b->b))
		abort();
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void hdr(struct buf *b, uint16_t type, uint32_t id, uint32_t len)
{
	struct kvap_hdr h = { KVAP_VERSION_MAJOR, KVAP_VERSION_MINOR, type, id, len };
	uint8_t f[KVAP_HDR_SIZE];

	if (kvap_hdr_encode(&h, f) < 0)
		abort();
	put(b, f, sizeof(f));
}

static void msg(struct buf *b, uint16_t type, uint32_t id, const void *body)
{
	uint8_t *f;
	size_t n;

	if (kvap_frame_encode_alloc(type, id, body, &f, &n, NULL) < 0)
		abort();
	put(b, f, n);
	free(f);
}

/* ERROR by hand, so that errnum 0 is on the wire too. */
static void error(struct buf *b, uint32_t id, uint32_t errnum, const char *text)
{
	uint8_t p[32];
	size_t tl = text ? strlen(text) : 0, n = 0;

	p[n++] = 1, p[n++] = 0, p[n++] = 4, p[n++] = 0, p[n++] = 0, p[n++] = 0;
	for (int i = 0; i < 4; i++)
		p[n++] = (uint8_t)(errnum >> (8 * i));
	if (text) {
		p[n++] = 2, p[n++] = 0;
		for (int i = 0; i < 4; i++)
			p[n++] = (uint8_t)(tl >> (8 * i));
	}
	hdr(b, KVAP_MSG_ERROR, id, (uint32_t)(n + tl));
	put(b, p, n);
	if (tl)
		put(b, text, tl);
}

static void hello(struct buf *b)
{
	struct kvap_hello h = { .features = KVAP_FEAT_PS | KVAP_FEAT_STATS,
				.software = "kvrun-agent 0.1.0" };
	msg(b, KVAP_MSG_HELLO_REPLY, 1, &h);
}

static void wait_reply(struct buf *b, uint32_t id, uint8_t code, uint8_t sig)
{
	struct kvap_exit st = { .pid = 7, .exit_code = code, .term_signal = sig };
	msg(b, KVAP_MSG_WAIT_REPLY, id, &st);
}

static void empty(struct buf *b, uint16_t type, uint32_t id)
{
	struct kvap_empty e = { 0 };
	msg(b, type, id, &e);
}

static void ps_reply(struct buf *b, uint32_t id)
{
	char *cmd[] = { "sh", "-c", "sleep 1" };
	struct kvap_proc p = { .pid = 1, .uid = 0, .state = 'S', .cmdline = cmd, .n_cmdline = 3 };
	struct kvap_ps ps = { .procs = &p, .n_procs = 1 };
	msg(b, KVAP_MSG_PS_REPLY, id, &ps);
}

static void stats_reply(struct buf *b, uint32_t id)
{
	struct kvap_stats st = { .mem_total = 1 << 30, .nr_procs = 3, .uptime_ns = 123456789 };
	msg(b, KVAP_MSG_STATS_REPLY, id, &st);
}

/* Write ops | stream length | stream | control. */
static void save(const char *name, uint8_t ops, const struct buf *stream, const struct buf *ctl)
{
	char path[4096];
	uint8_t head[3] = { ops, (uint8_t)stream->n, (uint8_t)(stream->n >> 8) };
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(head, 1, 3, f) != 3 || fwrite(stream->b, 1, stream->n, f) != stream->n ||
	    fwrite(ctl->b, 1, ctl->n, f) != ctl->n || fclose(f) != 0) {
		fprintf(stderr, "gen-client-corpus: cannot write %s\n", path);
		failed = 1;
	}
}

static struct buf s, c;

static void reset(void)
{
	s.n = c.n = 0;
	empty(&s, KVAP_MSG_STREAM_HELLO_REPLY, 1);
}

static void honest(void)
{
	/* ids: HELLO 1, WAIT 2 (ahead), PS 3, STATS 4, SIGNAL 5. The WAIT reply
	 * comes while SIGNAL waits and is set aside. */
	reset();
	hello(&c);
	ps_reply(&c, 3);
	stats_reply(&c, 4);
	wait_reply(&c, 2, 3, 0);
	empty(&c, KVAP_MSG_SIGNAL_REPLY, 5);
	save("honest-all-poll", AHEAD | PS | STATS | SIGNAL | POLL, &s, &c);
	save("honest-all-recv", AHEAD | PS | STATS | SIGNAL, &s, &c);

	reset();
	hello(&c);
	wait_reply(&c, 2, 0, 9);
	save("honest-wait-killed", 0, &s, &c);

	/* Out of order: WAIT (2) answered before PS (3). */
	reset();
	hello(&c);
	wait_reply(&c, 2, 1, 0);
	ps_reply(&c, 3);
	save("honest-out-of-order", AHEAD | PS, &s, &c);
}

static void bad_errnums(void)
{
	static const struct {
		const char *name;
		uint32_t errnum;
	} e[] = { { "errnum0", 0 }, { "errnum-2e31", 0x80000000u }, { "errnum-max", 0xffffffffu } };
	char name[64];

	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		reset();
		error(&c, 1, e[i].errnum, "refused");
		snprintf(name, sizeof(name), "hello-%s", e[i].name);
		save(name, 0, &s, &c);

		reset();
		hello(&c);
		error(&c, 2, e[i].errnum, NULL);
		snprintf(name, sizeof(name), "wait-%s", e[i].name);
		save(name, 0, &s, &c);

		reset();
		hello(&c);
		error(&c, 2, e[i].errnum, "no ps");
		snprintf(name, sizeof(name), "ps-%s", e[i].name);
		save(name, PS, &s, &c);

		reset();
		hello(&c);
		error(&c, 2, e[i].errnum, "no stats");
		snprintf(name, sizeof(name), "stats-%s", e[i].name);
		save(name, STATS, &s, &c);

		/* Set aside: the WAIT's ERROR arrives while PS waits. */
		reset();
		hello(&c);
		error(&c, 2, e[i].errnum, "later");
		ps_reply(&c, 3);
		snprintf(name, sizeof(name), "set-aside-%s", e[i].name);
		save(name, AHEAD | PS | POLL, &s, &c);

		s.n = c.n = 0;
		error(&s, 1, e[i].errnum, "no stream");
		hello(&c);
		wait_reply(&c, 2, 0, 0);
		snprintf(name, sizeof(name), "stream-%s", e[i].name);
		save(name, 0, &s, &c);
	}
}

static void strays(void)
{
	reset();
	hello(&c);
	for (int i = 0; i < 40; i++)
		empty(&c, KVAP_MSG_SIGNAL_REPLY, 0x7fffffff);
	wait_reply(&c, 2, 0, 0);
	save("junk-replies", AHEAD | POLL, &s, &c);

	reset();
	hello(&c);
	wait_reply(&c, 9, 0, 0); /* an id not used yet */
	wait_reply(&c, 2, 0, 0);
	save("future-id", 0, &s, &c);

	reset();
	hello(&c);
	wait_reply(&c, 2, 4, 0);
	wait_reply(&c, 2, 5, 0); /* twice */
	ps_reply(&c, 3);
	save("reply-twice", AHEAD | PS | POLL, &s, &c);

	reset();
	hello(&c);
	stats_reply(&c, 2);
	save("wrong-type", PS, &s, &c);
}

static void statuses(void)
{
	static const uint8_t sig[] = { 200, 128, 65, 64 };
	char name[64];

	for (size_t i = 0; i < sizeof(sig); i++) {
		reset();
		hello(&c);
		wait_reply(&c, 2, 0, sig[i]);
		snprintf(name, sizeof(name), "wait-signal%u", sig[i]);
		save(name, 0, &s, &c);
	}
	reset();
	hello(&c);
	wait_reply(&c, 2, 255, 0);
	save("wait-exit255", AHEAD | POLL, &s, &c);
}

static void text_and_frames(void)
{
	static char evil[4001];
	size_t n = (size_t)snprintf(evil, sizeof(evil),
				    "evil\x1b]0;title\x07\x1b[2J\nforged line\r\x9b\xc2\x9b");

	while (n < sizeof(evil) - 1)
		evil[n++] = 'A';
	reset();
	hello(&c);
	error(&c, 2, EPERM, evil);
	save("error-escapes", PS, &s, &c);

	s.n = c.n = 0;
	error(&s, 1, EACCES, evil);
	hello(&c);
	save("stream-error-escapes", 0, &s, &c);

	/* STREAM answer: oversized, wrong type, cut. */
	s.n = c.n = 0;
	hdr(&s, KVAP_MSG_STREAM_HELLO_REPLY, 1, 9000);
	hello(&c);
	save("stream-oversized", 0, &s, &c);
	s.n = 0;
	wait_reply(&s, 1, 0, 0);
	save("stream-wrong-type", 0, &s, &c);
	s.n = 0;
	hdr(&s, KVAP_MSG_STREAM_HELLO_REPLY, 1, 0);
	s.n = 7;
	save("stream-cut", 0, &s, &c);

	/* A frame with bad magic after HELLO, another major version, a cut frame. */
	reset();
	hello(&c);
	put(&c, "JUNKJUNKJUNKJUNK", 16);
	save("bad-magic-after-hello", STATS, &s, &c);
	reset();
	hello(&c);
	c.b[4] = KVAP_VERSION_MAJOR + 1;
	save("hello-major-mismatch", 0, &s, &c);
	reset();
	hello(&c);
	c.n -= 3;
	save("hello-cut", 0, &s, &c);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	honest();
	bad_errnums();
	strays();
	statuses();
	text_and_frames();
	return failed;
}
