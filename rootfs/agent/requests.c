/* requests.c - decoding a control request and routing it to its handler.
 *
 * Owns: the rules every request shares: HELLO first (else ERROR EPROTO),
 * version and feature exchange, ERROR for a payload that does not decode
 * (EBADMSG, EOPNOTSUPP) or a type this agent does not know (ENOSYS), and
 * turning a handler's failure into an ERROR reply with its message. The
 * handlers themselves are in req-proc.c, req-sys.c and net.c. */
#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int req_hello(struct agent *a, struct conn *c, uint32_t id, const struct kvap_msg *m)
{
	struct kvap_hello reply = { .features = AGENT_FEATURES,
				    .max_payload = KVAP_MAX_PAYLOAD,
				    .software = (char *)AGENT_SOFTWARE };

	adebug("control connection %llu: HELLO from %s (KVAP %u.%u)", (unsigned long long)c->serial,
	       m->body.hello.software ? m->body.hello.software : "?", m->hdr.major, m->hdr.minor);
	c->hello = true;
	conn_send_reply(a, c, KVAP_MSG_HELLO_REPLY, id, &reply);
	return 0;
}

static int route(struct agent *a, struct conn *c, struct kvap_msg *m, struct kv_err *err)
{
	uint32_t id = m->hdr.req_id;
	union kvap_body *b = &m->body;

	switch (m->hdr.type) {
	case KVAP_MSG_HELLO:
		return req_hello(a, c, id, m);
	case KVAP_MSG_CREATE:
		return req_create(a, c, id, &b->create, err);
	case KVAP_MSG_START:
		return req_start(a, c, id, &b->start, err);
	case KVAP_MSG_EXEC:
		return req_exec(a, c, id, &b->exec, err);
	case KVAP_MSG_SIGNAL:
		return req_signal(a, c, id, &b->signal, err);
	case KVAP_MSG_WAIT:
		return req_wait(a, c, id, &b->wait, err);
	case KVAP_MSG_RESIZE:
		return req_resize(a, c, id, &b->resize, err);
	case KVAP_MSG_PS:
		return req_ps(a, c, id, &b->ps, err);
	case KVAP_MSG_STATS:
		return req_stats(a, c, id, &b->stats, err);
	case KVAP_MSG_UPDATE:
		return req_update(a, c, id, &b->update, err);
	case KVAP_MSG_FREEZE:
		return req_freeze(a, c, id, &b->freeze, true, err);
	case KVAP_MSG_THAW:
		return req_freeze(a, c, id, &b->thaw, false, err);
	case KVAP_MSG_MOUNT_FS:
		return req_mount_fs(a, c, id, &b->mount_fs, err);
	case KVAP_MSG_SHUTDOWN:
		return req_shutdown(a, c, id, &b->shutdown, err);
	case KVAP_MSG_NET_CONFIG:
		return req_net_config(a, c, id, &b->net_config, err);
	case KVAP_MSG_STREAM_HELLO:
		return kv_errf(err, -EPROTO, "STREAM_HELLO belongs on the stream port %u",
			       KVAP_PORT_STREAM);
	default:
		return kv_errf(err, -ENOSYS, "%s is not a request", kvap_type_name(m->hdr.type));
	}
}

void request_dispatch(struct agent *a, struct conn *c, const struct kvap_frame *f)
{
	struct kvap_msg m;
	struct kv_err err = { 0 };
	int r = kvap_msg_from_frame(f, &m, &err);

	if (r < 0) {
		int errnum = r == -ENOMSG ? ENOSYS : -r;
		if (r == -ENOMSG)
			snprintf(err.msg, sizeof(err.msg), "unknown request type 0x%04x",
				 f->hdr.type);
		adebug("control connection %llu: request %u: %s", (unsigned long long)c->serial,
		       f->hdr.req_id, err.msg);
		conn_send_error(a, c, f->hdr.req_id, errnum, err.msg);
		return;
	}
	if (!c->hello && m.hdr.type != KVAP_MSG_HELLO) {
		conn_send_error(a, c, m.hdr.req_id, EPROTO, "HELLO must be the first request");
		kvap_msg_clear(&m);
		return;
	}
	r = route(a, c, &m, &err);
	if (r < 0) {
		if (!err.code)
			kv_errf(&err, r, "%s: %s", kvap_type_name(m.hdr.type), strerror(-r));
		adebug("%s (request %u): %s", kvap_type_name(m.hdr.type), m.hdr.req_id, err.msg);
		conn_send_error(a, c, m.hdr.req_id, -r, err.msg);
	}
	kvap_msg_clear(&m);
}
