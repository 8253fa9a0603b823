/* Stream-ordered allocation from memory pools, for every vendor (cuMemAllocAsync and
 * cuMemAllocFromPoolAsync, hipMallocAsync and hipMallocFromPoolAsync): no vendor type here.
 *
 * How bytes are counted: an allocation counts from the call that makes it. A free gives its
 * bytes back, except what its pool keeps cached: a pool whose release threshold is above zero
 * holds freed memory (up to the threshold) for reuse, and that memory is still the process's,
 * so it stays counted as the pool's cache until a later allocation from the same pool reuses it,
 * the pool is trimmed, the threshold is lowered, or the pool is destroyed. With the default
 * threshold of zero the driver returns freed memory at the next synchronization, and grey gives
 * the bytes back at the free.
 *
 *   struct grey_pool_admission pa;
 *   if (grey_pool_admit(&pa, dev, pool, bytes, context) != GREY_ADMIT_OK)
 *       return VENDOR_OUT_OF_MEMORY;
 *   rc = real(...);
 *   grey_pool_settle(&pa, rc == VENDOR_SUCCESS, key, api);
 *
 * and for frees grey_untrack() before the vendor call, grey_pool_forget() after it. */
#ifndef GREY_POOL_CACHE_H
#define GREY_POOL_CACHE_H

#include "admission.h"

struct grey_pool_state;

/* One stream-ordered admission in progress: the plain admission of what the pool's cache could
 * not cover, and what was taken from the cache. */
struct grey_pool_admission {
    struct grey_admission adm;
    struct grey_pool_state *ps;
    uint64_t reused;
    uint64_t bytes;
};

/* Admits bytes from pool (a vendor handle as an integer; 0 when the vendor gave none) on device
 * dev (< 0: not accounted). Bytes the pool holds cached are reused first. */
int grey_pool_admit(struct grey_pool_admission *pa, int dev, uint64_t pool, uint64_t bytes, uint64_t context);
/* After the vendor call: commit and track under key, or put everything back. */
void grey_pool_settle(struct grey_pool_admission *pa, bool succeeded, uint64_t key, uint32_t api);
/* After a stream-ordered free of a record taken with grey_untrack(): what the record's pool
 * keeps stays counted as its cache, the rest is given back; on failure the record returns. */
void grey_pool_forget(bool tracked, const struct grey_buffer_info *info, bool succeeded);

/* The vendor trimmed pool to at most keep bytes (cuMemPoolTrimTo, hipMemPoolTrimTo). */
void grey_pool_trimmed(uint64_t pool, uint64_t keep);
/* The vendor set pool's release threshold. */
void grey_pool_set_threshold(uint64_t pool, uint64_t threshold);
/* Pool destruction: look the pool up before the vendor call (its handle may be reused right
 * after), then give its cache back once the vendor destroyed it. */
struct grey_pool_state *grey_pool_lookup(uint64_t pool);
void grey_pool_destroyed(struct grey_pool_state *ps);
/* Every pool of device dev went away with it (hipDeviceReset): their caches are given back. */
void grey_pool_device_reset(int dev);

#endif
