/* vsock_int.h - virtio-vsock internals shared by the vsock*.c files.
 *
 * Owns: the protocol constants (virtio 1.2, 5.10), the limits the device
 * enforces, the device and per-connection state, and the calls between the
 * parts: vsock.c (device model, tx queue, timers), vsock_pkt.c (packet
 * header codec and validation), vsock_conn.c (connection table and the
 * state machine driven by guest packets), vsock_rx.c (the rx queue pump:
 * control packets and host data into guest buffers, credit respected),
 * vsock_host.c (guest bytes to host sockets, what the loop watches) and
 * vsock_uds.c (the hybrid convention: the listener, CONNECT lines, and
 * connecting to "<uds_path>_<port>"). Everything runs on the event-loop thread; config reads only see
 * the constant guest CID. docs/vsock.md describes the behaviour. */
#ifndef KVRUN_VMM_VIRTIO_VSOCK_INT_H
#define KVRUN_VMM_VIRTIO_VSOCK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio.h"
#include "virtio_devs.h"

/* Queues. */
#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2

#define VSOCK_HOST_CID	  2ULL
#define VSOCK_TYPE_STREAM 1

/* Operations. */
#define VSOCK_OP_INVALID	0
#define VSOCK_OP_REQUEST	1
#define VSOCK_OP_RESPONSE	2
#define VSOCK_OP_RST		3
#define VSOCK_OP_SHUTDOWN	4
#define VSOCK_OP_RW		5
#define VSOCK_OP_CREDIT_UPDATE	6
#define VSOCK_OP_CREDIT_REQUEST 7

/* SHUTDOWN flags: the sender will not receive / will not send any more. */
#define VSOCK_SHUT_RCV	1U
#define VSOCK_SHUT_SEND 2U
#define VSOCK_SHUT_BOTH 3U

/* struct virtio_vsock_hdr, little-endian and packed. */
#define VSOCK_HDR_SIZE 44

/* Limits (docs/vsock.md). */
#define VSOCK_MAX_PKT_LEN    (64U << 10)  /* payload bytes per packet, both ways */
#define VSOCK_BUF_ALLOC	     (128U << 10) /* credit advertised per connection */
#define VSOCK_CREDIT_LOW     (64U << 10)  /* update when the guest sees less free */
#define VSOCK_MAX_CONNS	     256	  /* host clients and guest streams together */
#define VSOCK_RST_QUEUE	     64		  /* RSTs for unknown flows awaiting rx buffers */
#define VSOCK_LINE_MAX	     32		  /* a CONNECT line, newline included */
#define VSOCK_CONNECT_MS     5000	  /* CONNECT line and guest RESPONSE deadline */
#define VSOCK_CLOSE_MS	     5000	  /* clean-close deadline before a forced RST */
#define VSOCK_EPHEMERAL_BASE 0x40000000U  /* host-side ports of host-initiated streams */
#define VSOCK_HASH_BUCKETS   512

/* A packet header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

enum vsock_state {
	VSOCK_HANDSHAKE,   /* host client accepted, CONNECT line not complete */
	VSOCK_CONNECTING,  /* host-initiated: REQUEST queued or sent, no RESPONSE yet */
	VSOCK_ESTABLISHED, /* relaying */
	VSOCK_CLOSING,	   /* we sent SHUTDOWN (both): waiting for the guest's RST */
	VSOCK_DEAD,	   /* host socket closed; an RST is queued, then freed */
};

/* Control packets a connection owes the guest (c->ctl). */
#define CTL_RST	     1U
#define CTL_REQUEST  2U
#define CTL_RESPONSE 4U
#define CTL_SHUTDOWN 8U
#define CTL_CREDIT   16U

struct vsock;

struct vsock_conn {
	struct vsock *vs;
	struct vsock_conn *hnext;	      /* hash bucket chain */
	struct vsock_conn *prev, *next;	      /* vs->conns */
	struct vsock_conn *rx_prev, *rx_next; /* vs->rx_head list */
	bool in_hash, rx_queued;
	enum vsock_state state;
	bool host_initiated;
	bool guest_knows; /* a packet of this flow reached the guest */

	uint32_t local_port; /* the host side's vsock port */
	uint32_t peer_port;  /* the guest's port */

	int fd;		 /* the host Unix socket; -1 once closed */
	uint32_t events; /* what the event loop watches on fd (0: not registered) */
	bool readable;	 /* fd polled readable and not yet drained */

	unsigned ctl;	     /* CTL_* */
	uint32_t shut_flags; /* flags of the SHUTDOWN to send (VSOCK_SHUT_*) */
	uint32_t shut_sent;  /* SHUTDOWN flags the guest has been told */
	uint32_t guest_shut; /* SHUTDOWN flags received from the guest */
	bool host_eof;	     /* read EOF from fd */
	bool host_wr_done;   /* shutdown(fd, SHUT_WR) done */
	bool host_gone;	     /* writes to fd fail: guest data is discarded */

	/* Guest -> host: our receive side, bounded by VSOCK_BUF_ALLOC. */
	uint32_t rx_cnt;	/* payload bytes received from the guest */
	uint32_t fwd_cnt;	/* of those, bytes written to fd (or discarded) */
	uint32_t last_fwd_sent; /* fwd_cnt in the last packet sent to the guest */
	uint8_t *buf;		/* bytes not yet written to fd; NULL when none */
	uint32_t buf_off, buf_len;

	/* Host -> guest: the guest's receive side. */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt; /* payload bytes sent to the guest */

	/* CONNECT line being read, then the "OK <port>\n" reply being written. */
	char line[VSOCK_LINE_MAX];
	uint8_t line_len, line_off;

	uint64_t deadline; /* CLOCK_MONOTONIC ns; 0 = none */
};

struct vsock_rst {
	uint32_t local_port, peer_port;
	uint64_t peer_cid, local_cid;
};

struct vsock {
	struct virtio_dev dev;
	struct virtqueue vqs[3];
	uint64_t guest_cid;
	uint8_t config[8];
	char *uds_path;
	int listen_fd;
	uint64_t listen_dev, listen_ino; /* the socket file we bound */
	bool listen_paused;		 /* accept failed for want of fds: retry later */
	uint64_t listen_retry;		 /* CLOCK_MONOTONIC ns of that retry */
	int timer_fd;
	bool active;	 /* rx and tx started and not broken */
	bool rx_starved; /* the rx ring was empty: wait for the guest's kick */
	bool tx_stalled; /* RST queue full: the tx ring waits for rx to drain */
	uint64_t timer_at;

	struct vsock_conn *buckets[VSOCK_HASH_BUCKETS];
	struct vsock_conn *conns; /* every connection, host clients included */
	unsigned nconns;
	struct vsock_conn *rx_head, *rx_tail; /* connections with something for the guest */
	struct vsock_rst rstq[VSOCK_RST_QUEUE];
	unsigned rst_first, rst_count;
	uint32_t next_port;

	unsigned connect_ms, close_ms;

	struct iovec tx_iov[VIRTQ_MAX_CHAIN_DESCS];
	struct iovec rx_iov[VIRTQ_MAX_CHAIN_DESCS];
	struct iovec slice[VIRTQ_MAX_CHAIN_DESCS];
};

/* ---- vsock_pkt.c: header codec and validation ---- */

enum vsock_verdict {
	VSOCK_PKT_OK,
	VSOCK_PKT_DROP, /* silently: not addressed from this guest, or unanswerable */
	VSOCK_PKT_RST,	/* answer RST (and reset a matching connection) */
};

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_SIZE]);
void vsock_hdr_decode(const uint8_t in[VSOCK_HDR_SIZE], struct vsock_hdr *h);
/* Read and check the header of a tx chain: payload and npayload describe its
 * len payload bytes (in vs->slice). */
enum vsock_verdict vsock_pkt_parse(struct vsock *vs, const struct virtq_chain *c,
				   struct vsock_hdr *h, struct iovec **payload, unsigned *npayload);
/* Write h into the device-writable buffers of an rx chain. */
void vsock_pkt_put(const struct virtq_chain *c, const struct vsock_hdr *h);

/* ---- vsock_conn.c: table and guest-driven state machine ---- */

struct vsock_conn *vsock_conn_new(struct vsock *vs, int fd, enum vsock_state st);
struct vsock_conn *vsock_conn_find(struct vsock *vs, uint32_t local_port, uint32_t peer_port);
void vsock_conn_hash(struct vsock_conn *c);
void vsock_conn_free(struct vsock_conn *c);
/* Close the host side and owe the guest an RST (freed once sent), or free
 * at once when the guest never heard of the flow. */
void vsock_conn_reset(struct vsock_conn *c);
void vsock_conn_close_fd(struct vsock_conn *c);
/* Put c on the rx list when it has something for the guest. */
void vsock_conn_rx_kick(struct vsock_conn *c);
bool vsock_conn_wants_rx(const struct vsock_conn *c);
/* Host bytes may be read for the guest: readable, not shut, credit left. */
bool vsock_conn_has_data(const struct vsock_conn *c);
uint32_t vsock_conn_credit(const struct vsock_conn *c);
/* Host bytes were consumed (fwd_cnt moved): maybe owe a CREDIT_UPDATE. */
void vsock_conn_consumed(struct vsock_conn *c);
/* Tell the guest SHUTDOWN flags (cumulative); both means closing. */
void vsock_conn_shutdown(struct vsock_conn *c, uint32_t flags);
void vsock_conn_set_deadline(struct vsock_conn *c, unsigned ms);
/* One well-formed guest packet (after vsock_pkt_parse said OK). */
void vsock_handle_pkt(struct vsock *vs, const struct vsock_hdr *h, const struct iovec *payload,
		      unsigned npayload);
/* Queue an RST answering h (for a flow without a connection). */
void vsock_rst_reply(struct vsock *vs, const struct vsock_hdr *h);
void vsock_close_all(struct vsock *vs);

/* ---- vsock_rx.c: the rx pump ---- */

void vsock_rx_pump(struct vsock *vs);

/* ---- vsock_host.c: relaying to host sockets ---- */

/* Update what the event loop watches on c->fd. */
void vsock_host_watch(struct vsock_conn *c);
/* Write pending host-bound bytes; once all are written apply the guest's
 * SHUTDOWN (SEND: shutdown(SHUT_WR); both: reset with RST). Never frees c. */
void vsock_host_flush(struct vsock_conn *c);
/* Relay guest payload to the host socket, buffering what does not fit. */
void vsock_host_write(struct vsock_conn *c, const struct iovec *iov, unsigned n, uint32_t len);

/* ---- vsock_uds.c: the Unix socket endpoints ---- */

int vsock_uds_listen(struct vsock *vs, struct kv_err *err);
void vsock_uds_unlisten(struct vsock *vs);
/* Accept again after a pause (out of fds); called from the timer. */
void vsock_uds_resume(struct vsock *vs);
/* A host client's socket is readable while its CONNECT line is incomplete.
 * Frees c on a bad line, EOF, or when the device is not active. */
void vsock_uds_handshake(struct vsock_conn *c);
/* A guest REQUEST for a flow without a connection: connect <uds_path>_P,
 * or answer RST. */
void vsock_uds_connect(struct vsock *vs, const struct vsock_hdr *h);

/* ---- vsock.c ---- */

uint64_t vsock_now(void);
void vsock_timer_update(struct vsock *vs);
/* After any event: run the rx pump, resume a stalled tx ring. */
void vsock_run(struct vsock *vs);
/* A malformed chain: NEEDS_RESET, and every connection closed. */
void vsock_break(struct vsock *vs);

/* For tests: shorter deadlines (milliseconds; 0 keeps the current one). */
void virtio_vsock_set_timeouts(struct virtio_dev *d, unsigned connect_ms, unsigned close_ms);

#endif
