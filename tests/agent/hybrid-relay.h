/* hybrid-relay.h - a stand-in for the VMM's hybrid vsock socket in tests.
 *
 * Owns: a Unix socket that speaks the hybrid vsock handshake the way the
 * VMM does ("CONNECT <port>\n" answered "OK <n>\n", or closed when nothing
 * listens on the port) and then relays bytes, half-closes included, to the
 * agent's --listen-unix socket DIR/<port>. With refuse set it closes every
 * connection without OK, like a VMM whose guest is not listening yet. One
 * thread accepts, one thread per connection relays. */
#ifndef KVRUN_TESTS_AGENT_HYBRID_RELAY_H
#define KVRUN_TESTS_AGENT_HYBRID_RELAY_H

#include <pthread.h>
#include <stdbool.h>

struct relay {
	char path[108];
	char agent_dir[64];
	bool refuse;
	int lfd;
	pthread_t thread;
	int active; /* connection threads still running */
	unsigned accepted;
};

int relay_start(struct relay *r, const char *path, const char *agent_dir, bool refuse);
void relay_stop(struct relay *r);

#endif
