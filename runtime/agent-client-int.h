/* agent-client-int.h - internals shared by runtime/agent-client*.c (and
 * the client's fuzz target), not part of the API in agent-client.h.
 *
 * Owns: what an agent's ERROR may carry, how guest text enters a host
 * message, and reading a stream connection's answer to STREAM_HELLO. */
#ifndef KVRUN_AGENT_CLIENT_INT_H
#define KVRUN_AGENT_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "kvap.h"

/* Linux errnos are 1..4095 (MAX_ERRNO); anything else is no errno. */
static inline bool agent_errnum_valid(uint32_t errnum)
{
	return errnum >= 1 && errnum <= 4095;
}

/* text (may be NULL) escaped and cut to AGENT_GUEST_TEXT_MAX characters in
 * buf[cap], for a message the host may print. Returns buf. */
const char *agent_guest_text(char *buf, size_t cap, const char *text);

/* An ERROR reply to `what` as err: -errnum with the escaped message, or
 * -EPROTO when errnum is not an errno. Returns the negative code. */
int agent_error_reply(const char *what, const struct kvap_error *e, struct kv_err *err);

/* Read the agent's answer to the STREAM_HELLO of stream `kind` of exec_id
 * on fd (blocking), all of it within timeout_ms (< 0: no limit). 0 for
 * STREAM_HELLO_REPLY; the ERROR as agent_error_reply(); -ETIMEDOUT,
 * -ECONNRESET, -EPROTO otherwise. */
int agent_stream_answer(int fd, uint32_t kind, const char *exec_id, int timeout_ms,
			struct kv_err *err);

#endif
