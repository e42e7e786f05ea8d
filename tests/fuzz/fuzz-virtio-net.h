/* fuzz-virtio-net.h - the input format of the virtio-net fuzz target.
 *
 * Owns: the layout shared by fuzz-virtio-net.c (which parses it) and
 * gen-virtio-net-corpus.c (which writes the seeds):
 *
 *   u16 features  FZN_F_* bits: what the driver negotiated
 *   u8  tx_log2   transmit queue size = 1 << (tx_log2 % 9)
 *   u8  rx_log2   receive queue size likewise
 *   u16 tx_avail  the transmit ring's avail idx
 *   u16 rx_avail  the receive ring's avail idx
 *   u8  nframes   frames the host sends (at most FZN_MAX_FRAMES)
 *   nframes x { u16 len; len bytes }   each: a 12-byte header + frame
 *   the rest      guest RAM from address 0 (at most FZN_WINDOW bytes):
 *                 rings at the FZN_* addresses, buffers anywhere
 *
 * All fields little-endian. A short input ends early; missing bytes read
 * as zero. */
#ifndef KVRUN_FUZZ_VIRTIO_NET_H
#define KVRUN_FUZZ_VIRTIO_NET_H

#define FZN_F_CSUM	 (1u << 0)
#define FZN_F_GUEST_CSUM (1u << 1)
#define FZN_F_GUEST_TSO4 (1u << 2)
#define FZN_F_GUEST_TSO6 (1u << 3)
#define FZN_F_GUEST_ECN	 (1u << 4)
#define FZN_F_HOST_TSO4	 (1u << 5)
#define FZN_F_HOST_TSO6	 (1u << 6)
#define FZN_F_HOST_ECN	 (1u << 7)
#define FZN_F_MRG_RXBUF	 (1u << 8)
#define FZN_F_INDIRECT	 (1u << 9)
#define FZN_F_EVENT_IDX	 (1u << 10)
#define FZN_F_FOLD	 (1u << 11) /* fold descriptor addresses into RAM */

/* The rings the driver writes come first, so that seeds stay small; the
 * used rings (written by the device) sit at the end of the window. */
#define FZN_TX_DESC  0x0000u
#define FZN_TX_AVAIL 0x1000u
#define FZN_RX_DESC  0x1400u
#define FZN_RX_AVAIL 0x2400u
#define FZN_DATA     0x2800u
#define FZN_TX_USED  0x1e000u
#define FZN_RX_USED  0x1f000u
#define FZN_WINDOW   0x20000u
#define FZN_RAM	     (2u << 20)

#define FZN_MAX_FRAMES 8

#endif
