/* Contexts take their memory with them: destroying a context, or releasing or resetting a
 * primary context until it is inactive, frees every allocation made in it without a single
 * cuMemFree. grey gives those bytes back here, so a program that tears down and re-creates
 * contexts does not drift towards its cap. */
#include "cuda_shim.h"

#include "../policy/quota.h"

static void give_back(const struct grey_buffer_info *info, void *arg)
{
    (void)arg;
    quota_free(grey_self(), (int)info->device, info->bytes);
}

static void forget_context(CUcontext ctx)
{
    if (ctx)
        tracker_remove_context((uint64_t)(uintptr_t)ctx, give_back, NULL);
}

static CUcontext primary_context(CUdevice dev)
{
    /* The primary context's handle is what cuCtxGetCurrent reports while it is current; ask the
     * driver for it without changing its reference count: retain + release (only called while
     * it is active, so this never creates one). */
    static void *retain_fn, *release_fn;
    PFN_cuDevicePrimaryCtxRetain_v7000 retain = grey_real(&retain_fn, "cuDevicePrimaryCtxRetain");
    PFN_cuDevicePrimaryCtxRelease_v11000 release = grey_real(&release_fn, "cuDevicePrimaryCtxRelease_v2");
    CUcontext ctx = NULL;
    if (retain && release && retain(&ctx, dev) == CUDA_SUCCESS)
        release(dev);
    return ctx;
}

static bool primary_active(CUdevice dev)
{
    static void *real_fn;
    PFN_cuDevicePrimaryCtxGetState_v7000 get_state = grey_real(&real_fn, "cuDevicePrimaryCtxGetState");
    unsigned flags;
    int active = 1;
    if (get_state)
        get_state(dev, &flags, &active);
    return active != 0;
}

GREY_EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx)
{
    static void *real_fn;
    PFN_cuCtxDestroy_v4000 real = grey_real(&real_fn, "cuCtxDestroy_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(ctx);
    if (rc == CUDA_SUCCESS)
        forget_context(ctx);
    return rc;
}

GREY_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
    static void *real_fn;
    PFN_cuDevicePrimaryCtxRelease_v11000 real = grey_real(&real_fn, "cuDevicePrimaryCtxRelease_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUcontext ctx = primary_active(dev) ? primary_context(dev) : NULL;
    CUresult rc = real(dev);
    if (rc == CUDA_SUCCESS && !primary_active(dev))
        forget_context(ctx);
    return rc;
}

GREY_EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
    static void *real_fn;
    PFN_cuDevicePrimaryCtxReset_v11000 real = grey_real(&real_fn, "cuDevicePrimaryCtxReset_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUcontext ctx = primary_active(dev) ? primary_context(dev) : NULL;
    CUresult rc = real(dev);
    if (rc == CUDA_SUCCESS)
        forget_context(ctx);
    return rc;
}
