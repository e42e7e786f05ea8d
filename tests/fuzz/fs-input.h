/* fs-input.h - how fuzz-fs-server reads its input, shared with the seed
 * generator (gen-fs-corpus.c).
 *
 * Owns: the encoding. An input is one flags byte and then records:
 *
 *   flags: bits 0-1 pick the server (0 cache=auto, 1 read-only, 2 cache=never
 *          with small limits, 3 cache=always with cross_mounts); bit 2 sends
 *          INIT first (the input need not carry one).
 *   record: ctl (u8), len (u16 LE), rep (u16 LE), then len bytes of request
 *          (fuse_in_header and arguments) and room for rep reply bytes.
 *   ctl:   bits 0-1 how the request is cut into buffers, bits 2-3 the reply
 *          (FSI_SPLIT_*); bit 4 keeps the header's len as given (else it is
 *          set to the request's length); bit 5 replaces a nodeid >= 2 with
 *          one the server returned earlier in this input (index nodeid % 8);
 *          bit 6 does the same for the first 8 argument bytes (the fh of
 *          most requests) with a returned fh. */
#ifndef KVRUN_TESTS_FS_INPUT_H
#define KVRUN_TESTS_FS_INPUT_H

#define FSI_AUTO_INIT	 4
#define FSI_RECORD_HDR	 5
#define FSI_SPLIT_KERNEL 0 /* header | rest (arguments), as the Linux driver */
#define FSI_SPLIT_ONE	 1 /* one buffer */
#define FSI_SPLIT_BYTES	 2 /* 1, 2, 3, ... byte pieces */
#define FSI_SPLIT_SEVEN	 3 /* 7-byte pieces */
#define FSI_REQ_SPLIT(c) ((c)&3)
#define FSI_REP_SPLIT(c) (((c) >> 2) & 3)
#define FSI_KEEP_LEN	 0x10
#define FSI_RECENT_NODE	 0x20
#define FSI_RECENT_FH	 0x40

#endif
