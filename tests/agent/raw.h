/* raw.h - hand-made KVAP frames for tests that play a broken peer.
 *
 * Owns: connecting to DIR/<port>, writing headers and frames byte by byte
 * as a test wants them (wrong versions, lying lengths), and reading one
 * frame back with a 5 s receive timeout. */
#ifndef KVRUN_TESTS_AGENT_RAW_H
#define KVRUN_TESTS_AGENT_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvap.h"

int raw_connect(const char *dir, unsigned port);
void put_hdr(uint8_t *b, uint8_t major, uint16_t type, uint32_t id, uint32_t len);
void raw_send(int fd, const void *buf, size_t len);
/* One frame: 1 with *m decoded (zero if it does not decode) and *hdr set,
 * 0 at EOF, -1 on timeout or error. */
int raw_recv(int fd, struct kvap_msg *m, struct kvap_hdr *hdr);
void raw_request(int fd, uint16_t type, uint32_t id, const void *body);
bool raw_hello(int fd);

#endif
