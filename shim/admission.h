/* The reserve / call / commit-or-release steps of DESIGN.md's allocation path, once for every
 * vendor: no CUDA or HIP type appears here. Keys are uint64_t tracker keys, results are
 * GREY_ADMIT_OK / GREY_ADMIT_DENIED; each vendor's shim puts its own errors around them
 * (shim/cuda_admission.c for CUDA, shim/hip_shim.h for HIP):
 *
 *   struct grey_admission adm;
 *   if (grey_admit(&adm, dev, bytes, context) != GREY_ADMIT_OK)
 *       return VENDOR_OUT_OF_MEMORY;                  // the vendor is not called
 *   rc = real(...);
 *   grey_settle(&adm, rc == VENDOR_SUCCESS, key, api); // commit + track, or roll back
 *
 * and for frees grey_untrack() before the vendor call, grey_forget() after it. */
#ifndef GREY_ADMISSION_H
#define GREY_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/self.h"
#include "policy/tracker.h"

enum { GREY_ADMIT_OK = 0, GREY_ADMIT_DENIED = 1 };

/* One admission in progress. counted is false when grey does not account this call (no device:
 * the vendor reports that itself; or a device index beyond grey's table). */
struct grey_admission {
    const struct grey_quota *q;
    int dev;
    bool counted;
    uint64_t bytes;
    uint64_t context;
    uint64_t pool;
};

/* Reserves bytes on device dev (dev < 0: a device grey does not account, nothing is reserved).
 * context: what the buffer dies with (a CUDA context, a HIP device), 0 for nothing.
 * GREY_ADMIT_DENIED when the process cap or the device budget would be crossed (the denial is
 * recorded in the ledger). */
int grey_admit(struct grey_admission *adm, int dev, uint64_t bytes, uint64_t context);

/* After the vendor call: on success commit the reservation and track the buffer under key (its
 * allocation family api, the shim's numbering); otherwise give the reservation back. */
void grey_settle(struct grey_admission *adm, bool succeeded, uint64_t key, uint32_t api);

/* One reservation made for several buffers at once (a graph launch: every allocation node on a
 * device admitted together, all or none): after the vendor call succeeded, commit and track
 * each buffer, part by part, with bytes its share; the parts add up to the whole. */
void grey_settle_part(const struct grey_admission *whole, uint64_t bytes, uint64_t key, uint32_t api);

/* The vendor chose the size itself (a pitch): the admitted estimate becomes actual. Returns
 * GREY_ADMIT_DENIED, with the whole reservation given back, when the larger actual size no
 * longer fits; the caller then frees what the vendor made and reports out of memory, exactly
 * as if the allocation had been refused up front. */
int grey_admit_resize(struct grey_admission *adm, uint64_t actual);

/* Frees: take key's record before calling the vendor (once freed, the address may be handed
 * out again to another thread, whose record must not be the one we delete), then forget it
 * when the vendor succeeded or put it back when it did not. An untracked key moves nothing. */
bool grey_untrack(uint64_t key, struct grey_buffer_info *info);
void grey_forget(bool tracked, const struct grey_buffer_info *info, bool succeeded);

/* Bytes of a width x height x depth array of element-byte elements (0 dimensions count as 1),
 * summed over levels mipmap levels, each halving every dimension. UINT64_MAX on overflow: the
 * admission then refuses it. A lower bound: drivers pad arrays to their texture alignment. */
uint64_t grey_array_bytes(uint64_t width, uint64_t height, uint64_t depth, uint64_t element, unsigned levels);

#endif
