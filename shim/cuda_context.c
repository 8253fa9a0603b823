/* Contexts cost memory and take memory with them.
 *
 * A context itself occupies device memory (hundreds of MiB on a real GPU) that no allocation
 * call shows. grey counts it as one more buffer of the process, keyed by the context, from its
 * creation (a created context, or the first retain of a primary context) until its destruction,
 * so the process cap and the device budget cover it and the sum of hooked processes cannot
 * overrun the device. Its size is, in order: GREY_CONTEXT_OVERHEAD if set; else measured, as
 * what NVML reports for this process on the device minus what grey already counts for it; else
 * nothing. A context whose cost does not fit is
 * refused with CUDA_ERROR_OUT_OF_MEMORY, as the driver refuses one when the device is full.
 *
 * Destroying a context, or releasing or resetting a primary context until it is inactive, frees
 * every allocation made in it without a single cuMemFree. grey gives those bytes back here, so
 * a program that tears down and re-creates contexts does not drift towards its cap. */
#include "core/notify.h"
#include "cuda_shim.h"
#include "dedup.h"
#include "vendor.h"

#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "core/settings.h"
#include "policy/quota.h"
#include "core/devices.h"
#include "devices.h"

static uint64_t context_overhead(const struct grey_quota *q, int row)
{
    const struct grey_settings *set = grey_settings();
    if (set->have_context_overhead)
        return set->context_overhead;
    struct grey_gpu_id id;
    uint64_t seen = grey_device_identity(row, &id) ? grey_nvml_process_bytes(id.uuid) : 0;
    uint64_t counted = atomic_load_explicit(&q->slot->dev[row].used, memory_order_relaxed);
    return seen > counted ? seen - counted : 0;
}

/* Counts a new context's memory. False when it does not fit (the caller then undoes the
 * context); true when it was counted, or costs nothing, or was counted already. */
static bool charge_context(CUcontext ctx, CUdevice dev)
{
    if (!ctx || tracker_find(GREY_KEY_CONTEXT(ctx), NULL))
        return true;
    const struct grey_quota *q = grey_self();
    int row = grey_cuda_row((int)dev);
    if (!grey_self_has_device(row))
        return true;
    /* A context that costs nothing does not make its device one this process uses: the CUDA
     * runtime retains every device's primary context, and a one-GPU job marked as using them
     * all would leave the launch fast path (and list them all in its summary). */
    uint64_t bytes = context_overhead(q, row);
    if (bytes == 0 || !grey_self_use_device(q, row))
        return true;
    struct grey_admission adm;
    if (grey_cuda_admit_on(&adm, (int)dev, bytes) != CUDA_SUCCESS)
        return false;
    adm.context = (uint64_t)(uintptr_t)ctx;
    grey_cuda_settle(&adm, CUDA_SUCCESS, GREY_KEY_CONTEXT(ctx), GREY_API_CONTEXT);
    grey_log("context %p on device %d counted as %llu bytes", (void *)ctx, (int)dev, (unsigned long long)bytes);
    return true;
}

static void give_back(const struct grey_buffer_info *info, void *arg)
{
    (void)arg;
    quota_free(grey_self(), (int)info->device, info->bytes);
}

static void forget_context(CUcontext ctx)
{
    if (ctx)
        tracker_remove_context((uint64_t)(uintptr_t)ctx, give_back, NULL);
    grey_contexts_changed(); /* the pacer's timing events may have died with it */
}

static CUcontext primary_context(CUdevice dev)
{
    /* The primary context's handle is what cuCtxGetCurrent reports while it is current; ask the
     * driver for it without changing its reference count: retain + release (only called while
     * it is active, so this never creates one). */
    static void *retain_fn, *release_fn;
    PFN_cuDevicePrimaryCtxRetain_v7000 retain = grey_cuda_real(&retain_fn, "cuDevicePrimaryCtxRetain");
    PFN_cuDevicePrimaryCtxRelease_v11000 release = grey_cuda_real(&release_fn, "cuDevicePrimaryCtxRelease_v2");
    CUcontext ctx = NULL;
    if (retain && release && retain(&ctx, dev) == CUDA_SUCCESS)
        release(dev);
    return ctx;
}

static bool primary_active(CUdevice dev)
{
    static void *real_fn;
    PFN_cuDevicePrimaryCtxGetState_v7000 get_state = grey_cuda_real(&real_fn, "cuDevicePrimaryCtxGetState");
    unsigned flags;
    int active = 1;
    if (get_state)
        get_state(dev, &flags, &active);
    return active != 0;
}

GREY_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice dev)
{
    static void *real_fn, *release_fn;
    PFN_cuDevicePrimaryCtxRetain_v7000 real = grey_cuda_real(&real_fn, "cuDevicePrimaryCtxRetain");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(ctx, dev);
    if (rc == CUDA_SUCCESS && !charge_context(*ctx, dev)) {
        PFN_cuDevicePrimaryCtxRelease_v11000 release = grey_cuda_real(&release_fn, "cuDevicePrimaryCtxRelease_v2");
        if (release)
            release(dev);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return rc;
}

/* A created context that does not fit is destroyed again before the caller sees it. */
static CUresult created(CUresult rc, CUcontext *ctx, CUdevice dev)
{
    static void *destroy_fn;
    if (rc != CUDA_SUCCESS || !ctx || charge_context(*ctx, dev))
        return rc;
    PFN_cuCtxDestroy_v4000 destroy = grey_cuda_real(&destroy_fn, "cuCtxDestroy_v2");
    if (destroy)
        destroy(*ctx);
    *ctx = NULL;
    return CUDA_ERROR_OUT_OF_MEMORY;
}

GREY_EXPORT CUresult cuCtxCreate_v2(CUcontext *ctx, unsigned int flags, CUdevice dev)
{
    static void *real_fn;
    PFN_cuCtxCreate_v3020 real = grey_cuda_real(&real_fn, "cuCtxCreate_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return created(real(ctx, flags, dev), ctx, dev);
}

GREY_EXPORT CUresult cuCtxCreate_v3(CUcontext *ctx, CUexecAffinityParam *params, int nparams, unsigned int flags,
                                    CUdevice dev)
{
    static void *real_fn;
    PFN_cuCtxCreate_v11040 real = grey_cuda_real(&real_fn, "cuCtxCreate_v3");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return created(real(ctx, params, nparams, flags, dev), ctx, dev);
}

GREY_EXPORT CUresult cuCtxCreate_v4(CUcontext *ctx, CUctxCreateParams *params, unsigned int flags, CUdevice dev)
{
    static void *real_fn;
    PFN_cuCtxCreate_v12050 real = grey_cuda_real(&real_fn, "cuCtxCreate_v4");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return created(real(ctx, params, flags, dev), ctx, dev);
}

/* The CUDA 2.x form, which the driver still exports: the same context. */
GREY_EXPORT CUresult cuCtxCreate(CUcontext *ctx, unsigned int flags, CUdevice dev)
{
    static void *real_fn;
    CUresult (*real)(CUcontext *, unsigned int, CUdevice) = grey_cuda_real(&real_fn, "cuCtxCreate");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return created(real(ctx, flags, dev), ctx, dev);
}

static CUresult destroy_with(PFN_cuCtxDestroy_v4000 real, CUcontext ctx)
{
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    grey_notify_context_closing((uint64_t)(uintptr_t)ctx, true); /* fingerprints read while the memory exists */
    CUresult rc = real(ctx);
    if (rc == CUDA_SUCCESS)
        forget_context(ctx);
    return rc;
}

GREY_EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    static void *real_fn;
    return destroy_with(grey_cuda_real(&real_fn, "cuCtxDestroy_v2"), ctx);
}

GREY_EXPORT CUresult cuCtxDestroy(CUcontext ctx)
{
    static void *real_fn;
    return destroy_with(grey_cuda_real(&real_fn, "cuCtxDestroy"), ctx);
}

GREY_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
    static void *real_fn;
    PFN_cuDevicePrimaryCtxRelease_v11000 real = grey_cuda_real(&real_fn, "cuDevicePrimaryCtxRelease_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUcontext ctx = primary_active(dev) ? primary_context(dev) : NULL;
    grey_notify_context_closing((uint64_t)(uintptr_t)ctx, false);
    CUresult rc = real(dev);
    if (rc == CUDA_SUCCESS && !primary_active(dev))
        forget_context(ctx);
    return rc;
}

GREY_EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
    static void *real_fn;
    PFN_cuDevicePrimaryCtxReset_v11000 real = grey_cuda_real(&real_fn, "cuDevicePrimaryCtxReset_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUcontext ctx = primary_active(dev) ? primary_context(dev) : NULL;
    grey_notify_context_closing((uint64_t)(uintptr_t)ctx, true);
    CUresult rc = real(dev);
    if (rc == CUDA_SUCCESS)
        forget_context(ctx);
    return rc;
}

/* CUDA 7.0's entry points for the same two calls, which the CUDA runtime still asks
 * cuGetProcAddress for (at version 7000, for cudaDeviceReset and its exit-time teardown): they
 * behave as the _v2 ones, so they go through the wrappers above to the driver's _v2. */
GREY_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice dev) { return cuDevicePrimaryCtxRelease_v2(dev); }
GREY_EXPORT CUresult cuDevicePrimaryCtxReset(CUdevice dev) { return cuDevicePrimaryCtxReset_v2(dev); }
