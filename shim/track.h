/* What the buffer report needs from every allocation family, vendor-neutral: admission.c's
 * grey_settle hands each new buffer to grey_track_new (instead of tracker_add), and every free
 * that succeeded reaches the tracker's retire hook (tracker_retire). */
#ifndef GREY_TRACK_H
#define GREY_TRACK_H

#include <stdint.h>

#include "policy/rawlog.h"
#include "policy/tracker.h"

struct grey_vendor;

/* Stamps info with its allocation time and call site, tracks it (0, or -1 like tracker_add),
 * counts it for its site and the peak, and starts the recorder on the first buffer of a
 * recording process. */
int grey_track_new(struct grey_buffer_info *info);

/* The allocating function's name and the record kind (enum grey_raw_kind) of an api number of
 * cuda_shim.h or hip_shim.h. */
const char *grey_api_name(uint32_t api);
uint8_t grey_api_kind(uint32_t api);
/* The vendor whose runtime made (and can read back) a buffer of that family; NULL if unknown. */
const struct grey_vendor *grey_api_vendor(uint32_t api);

#endif
