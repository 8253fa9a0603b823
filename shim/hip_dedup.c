/* GREY_DEDUP for HIP buffers (README "The buffer report"), on the vendor-neutral bookkeeping of
 * shim/cuda_dedup.c and the snapshot walk of shim/cuda_snapshot.c:
 *
 *   - hipMemcpy: a host-to-device copy that fills a whole tracked buffer fingerprints the host
 *     bytes as they pass (the buffer now holds exactly them); other copies mark the tracked
 *     buffers at their ends written or read. Only exact buffer addresses are recognized (HIP
 *     has no cheap address-range query in every version); a copy into the middle of a buffer
 *     leaves its record alone, so an upload fingerprint may then be stale, as a kernel's writes
 *     leave it (snapshots read the contents back anyway).
 *   - snapshots: the three device steps of a read-back, with the real HIP runtime (hipSetDevice,
 *     hipDeviceSynchronize, hipMemcpy device-to-host in the snapshot's bounded chunks).
 * Without GREY_DEDUP the wrapper costs one predictable branch after the real call. */
#include "dedup.h"
#include "hip_shim.h"
#include "track.h"

static bool tracked(const void *p)
{
    return p && tracker_find((uint64_t)(uintptr_t)p, NULL);
}

GREY_EXPORT hipError_t hipMemcpy(void *dst, const void *src, size_t n, hipMemcpyKind kind)
{
    static void *real_fn;
    __typeof__(hipMemcpy) *real = grey_real(&real_fn, "hipMemcpy");
    if (!real)
        return hipErrorNotFound;
    if (grey_hip_nested())
        return real(dst, src, n, kind);
    grey_hip_enter();
    hipError_t rc = real(dst, src, n, kind);
    grey_hip_leave();
    if (rc != hipSuccess || n == 0 || !grey_dedup_on())
        return rc;
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
    return rc;
}

/* ------------------------------------------------------------------ snapshots */

bool grey_hip_readback_enter(int dev, int *prev)
{
    static void *get_fn, *set_fn, *sync_fn;
    __typeof__(hipGetDevice) *get = grey_real(&get_fn, "hipGetDevice");
    __typeof__(hipSetDevice) *set = grey_real(&set_fn, "hipSetDevice");
    __typeof__(hipDeviceSynchronize) *sync = grey_real(&sync_fn, "hipDeviceSynchronize");
    if (!get || !set || !sync)
        return false;
    grey_hip_enter();
    bool ok = get(prev) == hipSuccess && set(dev) == hipSuccess;
    if (ok && sync() != hipSuccess) {
        set(*prev);
        ok = false;
    }
    grey_hip_leave();
    return ok;
}

bool grey_hip_readback(void *dst, uint64_t src, size_t n)
{
    static void *fn;
    __typeof__(hipMemcpy) *copy = grey_real(&fn, "hipMemcpy");
    if (!copy)
        return false;
    grey_hip_enter();
    bool ok = copy(dst, (const void *)(uintptr_t)src, n, hipMemcpyDeviceToHost) == hipSuccess;
    grey_hip_leave();
    return ok;
}

void grey_hip_readback_leave(int prev)
{
    static void *fn;
    __typeof__(hipSetDevice) *set = grey_real(&fn, "hipSetDevice");
    if (!set)
        return;
    grey_hip_enter();
    set(prev);
    grey_hip_leave();
}
