/* GREY_DEDUP for HIP buffers (README "The buffer report"), on the vendor-neutral bookkeeping of
 * shim/cuda_dedup.c; snapshots read HIP buffers back through shim/hip_vendor.c.
 *
 * hipMemcpy and hipMemcpyAsync: a host-to-device copy that fills a whole tracked buffer fingerprints the host bytes
 * as they pass (the buffer now holds exactly them); other copies mark the tracked buffers at
 * their ends written or read. Only exact buffer addresses are recognized (HIP has no cheap
 * address-range query in every version); a copy into the middle of a buffer leaves its record
 * alone, so an upload fingerprint may then be stale, as a kernel's writes leave it (snapshots
 * read the contents back anyway). hipMemset and hipMemsetAsync mark the buffer written. Without GREY_DEDUP the wrapper costs one predictable branch after the real call. */
#include "dedup.h"
#include "hip_shim.h"
#include "track.h"
#include "vendor.h"

GREY_HIP_REAL(hipMemcpy);

static bool tracked(const void *p)
{
    return p && tracker_find((uint64_t)(uintptr_t)p, NULL);
}

/* What a successful copy did to the tracked buffers at its ends. */
static void observe_copy(void *dst, const void *src, size_t n, hipMemcpyKind kind)
{
    bool to_dev = kind == hipMemcpyHostToDevice || kind == hipMemcpyDeviceToDevice ||
                  (kind == hipMemcpyDefault && tracked(dst));
    bool from_dev = kind == hipMemcpyDeviceToHost || kind == hipMemcpyDeviceToDevice ||
                    (kind == hipMemcpyDefault && tracked(src));
    uint64_t d = (uint64_t)(uintptr_t)dst, s = (uint64_t)(uintptr_t)src;
    if (to_dev && !from_dev) {
        if (!grey_dedup_upload_whole(d, src, n))
            grey_dedup_touch_at(d, GREY_TOUCH_UPLOAD, true);
    } else if (to_dev) {
        grey_dedup_touch_at(d, GREY_TOUCH_COPY_IN, true);
    }
    if (from_dev)
        grey_dedup_touch_at(s, GREY_TOUCH_COPY_OUT, false);
}

GREY_EXPORT hipError_t hipMemcpy(void *dst, const void *src, size_t n, hipMemcpyKind kind)
{
    bool nested = grey_hip_nested();
    hipError_t rc = grey_hip_call(hipMemcpy, dst, src, n, kind);
    if (nested || rc != hipSuccess || n == 0 || !grey_dedup_on())
        return rc;
    observe_copy(dst, src, n, kind);
    return rc;
}

/* The stream-ordered copy and the memsets, observed as hipMemcpy is; an async one captured into
 * a graph does not run now and is left alone. */
GREY_HIP_REAL(hipMemcpyAsync);
GREY_HIP_REAL(hipMemset);
GREY_HIP_REAL(hipMemsetAsync);

GREY_EXPORT hipError_t hipMemcpyAsync(void *dst, const void *src, size_t n, hipMemcpyKind kind, hipStream_t stream)
{
    bool nested = grey_hip_nested();
    hipError_t rc = grey_hip_call(hipMemcpyAsync, dst, src, n, kind, stream);
    if (nested || rc != hipSuccess || n == 0 || !grey_dedup_on() || grey_hip_vendor.capturing(stream))
        return rc;
    observe_copy(dst, src, n, kind);
    return rc;
}

GREY_EXPORT hipError_t hipMemset(void *dst, int value, size_t n)
{
    bool nested = grey_hip_nested();
    hipError_t rc = grey_hip_call(hipMemset, dst, value, n);
    if (!nested && rc == hipSuccess && n && grey_dedup_on())
        grey_dedup_touch_at((uint64_t)(uintptr_t)dst, GREY_TOUCH_MEMSET, true);
    return rc;
}

GREY_EXPORT hipError_t hipMemsetAsync(void *dst, int value, size_t n, hipStream_t stream)
{
    bool nested = grey_hip_nested();
    hipError_t rc = grey_hip_call(hipMemsetAsync, dst, value, n, stream);
    if (!nested && rc == hipSuccess && n && grey_dedup_on() && !grey_hip_vendor.capturing(stream))
        grey_dedup_touch_at((uint64_t)(uintptr_t)dst, GREY_TOUCH_MEMSET, true);
    return rc;
}
