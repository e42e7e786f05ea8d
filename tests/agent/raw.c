/* raw.c - see raw.h. */
#include "raw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"

int raw_connect(const char *dir, unsigned port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%u", dir, port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

void put_hdr(uint8_t *b, uint8_t major, uint16_t type, uint32_t id, uint32_t len)
{
	memcpy(b, "KVAP", 4);
	b[4] = major;
	b[5] = 0;
	b[6] = (uint8_t)type;
	b[7] = (uint8_t)(type >> 8);
	for (int i = 0; i < 4; i++) {
		b[8 + i] = (uint8_t)(id >> (8 * i));
		b[12 + i] = (uint8_t)(len >> (8 * i));
	}
}

void raw_send(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		diag("raw send failed: %s", strerror(errno));
}

/* One frame: 1 with *m decoded (or hdr only), 0 at EOF, -1 on timeout/error. */
int raw_recv(int fd, struct kvap_msg *m, struct kvap_hdr *hdr)
{
	uint8_t h[KVAP_HDR_SIZE], *p = NULL;
	size_t have = 0;

	while (have < sizeof(h)) {
		ssize_t n = read(fd, h + have, sizeof(h) - have);
		if (n <= 0)
			return n == 0 && have == 0 ? 0 : -1;
		have += (size_t)n;
	}
	uint32_t len =
	    (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
	hdr->major = h[4];
	hdr->type = (uint16_t)(h[6] | h[7] << 8);
	hdr->req_id = (uint32_t)h[8] | (uint32_t)h[9] << 8;
	if (len > 65536)
		return -1;
	p = malloc(KVAP_HDR_SIZE + len);
	memcpy(p, h, sizeof(h));
	for (have = 0; have < len;) {
		ssize_t n = read(fd, p + KVAP_HDR_SIZE + have, len - have);
		if (n <= 0) {
			free(p);
			return -1;
		}
		have += (size_t)n;
	}
	size_t used;
	memset(m, 0, sizeof(*m));
	if (kvap_frame_decode(p, KVAP_HDR_SIZE + len, m, &used, NULL) < 0)
		memset(m, 0, sizeof(*m));
	free(p);
	return 1;
}

void raw_request(int fd, uint16_t type, uint32_t id, const void *body)
{
	uint8_t *buf;
	size_t len;

	if (kvap_frame_encode_alloc(type, id, body, &buf, &len, NULL) == 0) {
		raw_send(fd, buf, len);
		free(buf);
	}
}

bool raw_hello(int fd)
{
	struct kvap_hello h = { .software = "raw test" };
	struct kvap_msg m;
	struct kvap_hdr hdr;

	raw_request(fd, KVAP_MSG_HELLO, 1, &h);
	bool good = raw_recv(fd, &m, &hdr) == 1 && hdr.type == KVAP_MSG_HELLO_REPLY;
	kvap_msg_clear(&m);
	return good;
}
