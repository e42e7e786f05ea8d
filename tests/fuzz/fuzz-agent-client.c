/* fuzz-agent-client.c - libFuzzer target for the host client's reply
 * handling (runtime/agent-client*.c).
 *
 * Owns: LLVMFuzzerTestOneInput and the layout of its input, which plays a
 * guest agent: byte 0 picks the calls, bytes 1-2 (little-endian) are the
 * length of what the stream connection answers, then come those bytes and
 * after them everything the control connection sends. Each part goes into
 * a socketpair whose far end is then shut, so the client reads exactly the
 * input and then EOF and never waits. A client is opened on the control
 * end (HELLO, id 1) and, if that works, runs in order, by the bits of
 * byte 0: 0x01 a WAIT sent ahead (wait_send), 0x02 PS, 0x04 STATS, 0x08
 * SIGNAL, then the WAIT collected (0x10: agent_client_wait_poll(), else
 * agent_client_wait_recv() with no timeout) or, without 0x01, a blocking
 * agent_client_wait(); ids go up by one per request. Then the stream end is
 * read as the answer to a STREAM_HELLO. Whatever the bytes, the client must
 * not crash, leak or trip a sanitizer, and: every failure is a negative
 * errno in -4095..-1 with a message of printable ASCII; an output struct is
 * all zero after a failure; an exit status is 0..255; software is
 * printable. A broken invariant aborts. Built by libFuzzer (make fuzz) and
 * by the corpus replay driver (replay.c) that meson runs in every test
 * run; gen-client-corpus.c writes the seeds. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-client-int.h"
#include "agent-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* A failure is a plain negative errno with a clean message. */
static void check_fail(int r, const struct kv_err *err)
{
	CHECK(r < 0 && r >= -4095);
	CHECK(err->msg[0] && printable(err->msg));
}

/* A socketpair whose end [1] holds data (as much as fits) and is then shut:
 * the reader gets the bytes, then EOF. */
static int feed(int sv[2], const uint8_t *data, size_t len)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	while (len) {
		ssize_t n = send(sv[1], data, len, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the buffer is full: the rest is cut */
		data += n;
		len -= (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	return 0;
}

static void run_wait(struct agent_client *c, uint8_t ops, uint32_t id)
{
	struct kv_err err = { 0 };
	struct kvap_exit st;
	int r;

	if (!(ops & 0x01)) {
		r = agent_client_wait(c, "fuzz", &st, &err);
	} else if (ops & 0x10) {
		r = agent_client_wait_poll(c, id, &st, &err);
		CHECK(r != 0 || all_zero(&st, sizeof(st)));
		r = r == 0 ? -EAGAIN : r > 0 ? 0 : r;
		if (r == -EAGAIN)
			return;
	} else {
		r = agent_client_wait_recv(c, id, -1, &st, &err);
	}
	if (r < 0) {
		check_fail(r, &err);
		CHECK(all_zero(&st, sizeof(st)));
		return;
	}
	CHECK(r == 0);
	int status = agent_exit_status(&st);
	CHECK(status >= 0 && status <= 255);
}

static void run_control(int fd, uint8_t ops)
{
	struct agent_dialer d = { .kind = AGENT_DIAL_UNIX,
				  .path = "/nonexistent",
				  .timeout_ms = 0,
				  .io_timeout_ms = 100 };
	struct agent_client *c;
	struct kv_err err = { 0 };
	uint32_t wait_id = 0;
	int r = agent_client_open(fd, &d, &c, &err);

	if (r < 0) {
		check_fail(r, &err);
		CHECK(!c);
		return;
	}
	CHECK(printable(agent_client_software(c)));
	if (ops & 0x01) {
		r = agent_client_wait_send(c, "fuzz", &wait_id, &err);
		if (r < 0)
			check_fail(r, &err);
	}
	if (ops & 0x02) {
		struct kvap_ps ps;
		err = (struct kv_err){ 0 };
		r = agent_client_ps(c, &ps, &err);
		if (r < 0) {
			check_fail(r, &err);
			CHECK(all_zero(&ps, sizeof(ps)));
		} else {
			CHECK(r == 0 && ps.n_procs <= KVAP_MAX_PROCS && (ps.procs || !ps.n_procs));
			kvap_free_ps_reply(&ps);
		}
	}
	if (ops & 0x04) {
		struct kvap_stats st;
		err = (struct kv_err){ 0 };
		r = agent_client_stats(c, &st, &err);
		if (r < 0) {
			check_fail(r, &err);
			CHECK(all_zero(&st, sizeof(st)));
		}
	}
	if (ops & 0x08) {
		err = (struct kv_err){ 0 };
		r = agent_client_signal(c, "fuzz", SIGTERM, false, &err);
		if (r < 0)
			check_fail(r, &err);
	}
	run_wait(c, ops, wait_id);
	(void)agent_client_buffered(c, wait_id);
	agent_client_free(c);
}

static void run_stream(int fd)
{
	struct kv_err err = { 0 };
	int r = agent_stream_answer(fd, KVAP_STREAM_STDOUT, "fuzz", 100, &err);

	if (r < 0)
		check_fail(r, &err);
	else
		CHECK(r == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int ctl[2], strm[2];

	if (size < 3)
		return 0;
	uint8_t ops = data[0];
	size_t n_stream = (size_t)data[1] | (size_t)data[2] << 8;
	data += 3;
	size -= 3;
	if (n_stream > size)
		n_stream = size;
	if (feed(strm, data, n_stream) < 0)
		return 0;
	if (feed(ctl, data + n_stream, size - n_stream) < 0) {
		close(strm[0]);
		close(strm[1]);
		return 0;
	}
	run_control(ctl[0], ops); /* the client owns ctl[0] */
	close(ctl[1]);
	run_stream(strm[0]);
	close(strm[0]);
	close(strm[1]);
	return 0;
}
