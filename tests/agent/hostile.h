/* hostile.h - a fake guest agent that breaks the protocol on purpose.
 *
 * Owns: a scripted agent in a thread of the test, listening on DIR/1024
 * and DIR/1025 like `kvrun-agent --listen-unix DIR`, so that the real host
 * client (in-process, or kvrun-agent-run as a child) can be pointed at it
 * with an AGENT_DIAL_UNIX dialer. It answers HELLO, EXEC/CREATE, START,
 * the stream hellos, WAIT, SIGNAL, PS and STATS like the agent would,
 * except for the one thing its mode makes it do wrong. Every blocking step
 * has a timeout, so a client that gives up never leaves it hanging. */
#ifndef KVRUN_TESTS_AGENT_HOSTILE_H
#define KVRUN_TESTS_AGENT_HOSTILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvap.h"

enum hostile_mode {
	HOSTILE_HONEST,	      /* no fault: the control case */
	HOSTILE_ERROR,	      /* answer request type err_type with ERROR(errnum, message) */
	HOSTILE_STREAM_ERROR, /* answer every STREAM_HELLO with ERROR(errnum, message) */
	HOSTILE_STREAM_DRIP,  /* send the STREAM_HELLO_REPLY one byte every drip_ms */
	HOSTILE_HELLO_DRIP,   /* send the HELLO_REPLY one byte every drip_ms */
	HOSTILE_JUNK,	      /* after WAIT: junk_frames SIGNAL_REPLYs with id 0x7fffffff */
	HOSTILE_WAIT_STATUS,  /* WAIT_REPLY with exit_code and term_signal as given */
	HOSTILE_STDOUT_OPEN,  /* WAIT_REPLY, but keep stdout open hold_ms longer */
	HOSTILE_ANSWER_AHEAD, /* on SIGNAL: the pending WAITs' replies, then SIGNAL's, in one write */
	HOSTILE_STASH_FLOOD, /* on SIGNAL: a 4000-byte ERROR for each pending WAIT, then SIGNAL's */
	HOSTILE_WRONG_TYPE,  /* answer err_type with a STATS_REPLY */
};

struct hostile {
	/* set before hostile_start() */
	enum hostile_mode mode;
	uint16_t err_type;   /* HOSTILE_ERROR, HOSTILE_WRONG_TYPE */
	uint32_t errnum;     /* HOSTILE_ERROR, HOSTILE_STREAM_ERROR */
	const char *message; /* likewise; NULL: none */
	uint8_t exit_code, term_signal;
	unsigned junk_frames;
	unsigned drip_ms;
	unsigned hold_ms;
	uint64_t features; /* HELLO_REPLY's (0: PS | STATS) */

	/* the fixture's own state */
	char dir[64];
	int lfd[2]; /* listening on DIR/1024, DIR/1025 */
	pthread_t thread;
	bool running;
	int sfd[4]; /* attached streams by kind */
	uint32_t waits[512];
	unsigned n_waits;

	/* what happened, readable after hostile_stop() */
	unsigned junk_sent;	/* junk frames the client accepted before closing */
	unsigned requests;	/* requests received on the control connection */
	bool client_closed_ctl; /* the client closed the control connection itself */
	unsigned drip_sent;	/* bytes of a dripped reply sent before the client left */
};

/* Listen in a fresh temp dir and start the thread: it serves one control
 * connection (and its streams), then ends. 0 or -1. */
int hostile_start(struct hostile *h);
/* Join the thread (it ends once the client closed the control connection
 * or a timeout passed) and remove the sockets and the dir. */
void hostile_stop(struct hostile *h);

#endif
