/* kvap-samples.h - sample KVAP message bodies for tests and fuzz seeds.
 *
 * Owns: one list of every message type and, per type, three bodies: a
 * representative one, one with edge values (maximum lengths and counts,
 * binary bytes, extreme numbers, empty strings) and a minimal one (only
 * required fields). Shared by the unit tests and the corpus generator. */
#ifndef KVRUN_KVAP_SAMPLES_H
#define KVRUN_KVAP_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "kvap.h"

enum { KVAP_SAMPLE_TYPICAL, KVAP_SAMPLE_EDGE, KVAP_SAMPLE_MINIMAL, KVAP_SAMPLE_VARIANTS };

extern const uint16_t kvap_sample_types[];
extern const size_t kvap_sample_ntypes;

/* The body of type in the given variant; static storage, never NULL for a
 * listed type. kvap_samples_init() must have run once. */
const void *kvap_sample(uint16_t type, int variant);

void kvap_samples_init(void);

#endif
