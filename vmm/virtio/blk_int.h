/* blk_int.h - virtio-blk internals shared by blk.c and blk_io.c.
 *
 * Owns: the device state, the in-flight request record, the protocol
 * constants (virtio 1.2, 5.2) and the limits the device advertises. blk.c is
 * the device model (config, features, parsing and validating requests);
 * blk_io.c runs the validated requests on io_uring. Everything here runs on
 * the event-loop thread except config reads, which only see constant data. */
#ifndef KVRUN_VMM_VIRTIO_BLK_INT_H
#define KVRUN_VMM_VIRTIO_BLK_INT_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"
#include "virtio_devs.h"

/* Feature bits. */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types, status values, range flags. */
#define VIRTIO_BLK_T_IN			   0
#define VIRTIO_BLK_T_OUT		   1
#define VIRTIO_BLK_T_FLUSH		   4
#define VIRTIO_BLK_T_GET_ID		   8
#define VIRTIO_BLK_T_DISCARD		   11
#define VIRTIO_BLK_T_WRITE_ZEROES	   13
#define VIRTIO_BLK_S_OK			   0
#define VIRTIO_BLK_S_IOERR		   1
#define VIRTIO_BLK_S_UNSUPP		   2
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1
#define VIRTIO_BLK_ID_BYTES		   20

#define BLK_SECTOR_SHIFT 9
#define BLK_SECTOR_SIZE	 512U

/* What the device advertises, and enforces. */
#define BLK_SEG_MAX	    (VIRTIO_DEV_QUEUE_SIZE - 2) /* data segments per request */
#define BLK_SIZE_MAX	    (256U << 10)		/* bytes per data segment */
#define BLK_DWZ_MAX_SECTORS (1U << 22)			/* 2 GiB per discard/zeroes range */
#define BLK_DWZ_MAX_SEG	    32				/* ranges per discard/zeroes request */
#define BLK_DISCARD_ALIGN   8				/* sectors (4 KiB) */
#define BLK_RING_ENTRIES    256				/* requests in flight per device */

/* The device configuration layout (little-endian, packed). */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t wce;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

/* One discard / write-zeroes range as the guest wrote it (host order). */
struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_DISCARD, BLK_OP_WRITE_ZEROES };

struct blk;

/* A validated request, alive from parsing to its used entry. */
struct blk_req {
	struct blk *b;
	uint16_t q, head;
	enum blk_op op;
	uint8_t *status;   /* the status byte in guest RAM */
	uint32_t used_len; /* bytes written to the guest, status included */
	uint64_t offset;   /* read/write: file offset of iov[iov_idx] */
	unsigned niov, iov_idx;
	struct iovec *iov; /* read/write data, trailing storage */
	unsigned nranges, range_idx;
	struct blk_range *ranges; /* discard/write zeroes, trailing storage */
};

struct blk {
	struct virtio_dev dev;
	struct virtqueue vqs[VIRTIO_BLK_MAX_QUEUES];
	struct blk_config config;
	char *path;
	int fd;
	bool readonly;
	bool discard;		/* DISCARD and WRITE_ZEROES offered */
	bool zero_range_unsupp; /* FALLOC_FL_ZERO_RANGE failed: punch holes */
	uint64_t capacity;	/* in sectors */
	char serial[VIRTIO_BLK_ID_BYTES];

	struct io_uring ring;
	bool ring_ready;
	int efd;	    /* the ring's completion eventfd, on vm->loop */
	unsigned inflight;  /* requests with an operation on the ring */
	uint32_t stalled;   /* queues waiting for room on the ring */
	uint32_t to_signal; /* queues with new used entries */
	struct iovec scratch[VIRTQ_MAX_CHAIN_DESCS];
};

/* blk.c */
void blk_process_queue(struct blk *b, unsigned q);
void blk_flush_signals(struct blk *b);

/* blk_req.c */
/* Validate the request in chain c from queue q and start it, or answer it
 * at once (bad request, GET_ID, empty transfer). */
void blk_handle(struct blk *b, unsigned q, const struct virtq_chain *c);
/* Write the status byte, push the used entry, free r. Dropped silently when
 * the queue was reset or broke meanwhile. */
void blk_complete(struct blk_req *r, uint8_t status);

/* blk_io.c */
int blk_io_init(struct blk *b, struct kv_err *err);
void blk_io_fini(struct blk *b);
bool blk_io_full(const struct blk *b);
/* Put r's first operation on the ring (or complete it now). */
void blk_io_start(struct blk_req *r);
void blk_io_submit(struct blk *b);
/* Wait for every in-flight operation; used by reset and destroy. */
void blk_io_drain(struct blk *b);

#endif
