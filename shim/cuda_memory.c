/* cuMemAlloc / cuMemFree and the memory queries: the reserve / call / commit-or-release path of
 * DESIGN.md, and the capped view of device memory. */
#include "cuda_shim.h"

#include "../policy/quota.h"
#include "../policy/tracker.h"

bool grey_cuda_current_device(const struct grey_quota *q, int *dev_out)
{
    static void *real_fn;
    PFN_cuCtxGetDevice_v2000 get_device = grey_real(&real_fn, "cuCtxGetDevice");
    CUdevice dev;
    if (!get_device || get_device(&dev) != CUDA_SUCCESS)
        return false;
    *dev_out = (int)dev;
    return grey_self_use_device(q, (int)dev);
}

void grey_cuda_track(const struct grey_quota *q, int dev_index, CUdeviceptr addr, size_t bytes,
                     enum grey_cuda_api api)
{
    quota_commit(q, dev_index);
    struct grey_buffer_info info = {
        .addr = (uint64_t)addr, .bytes = bytes, .device = (uint32_t)dev_index, .api = api,
    };
    /* Without a record the free could not give the bytes back; keep them counted (the cap errs
     * on the safe side) rather than fail an allocation the driver already made. */
    tracker_add(&info);
}

GREY_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    static void *real_fn;
    PFN_cuMemAlloc_v3020 real = grey_real(&real_fn, "cuMemAlloc_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;

    const struct grey_quota *q = grey_self();
    int dev;
    /* Bad arguments and a missing context are the driver's to report, with its own error. */
    if (!dptr || bytesize == 0 || !grey_cuda_current_device(q, &dev))
        return real(dptr, bytesize);

    if (quota_reserve(q, dev, bytesize) != GREY_ADMITTED)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = real(dptr, bytesize);
    if (rc != CUDA_SUCCESS) {
        quota_release(q, dev, bytesize);
        return rc;
    }
    grey_cuda_track(q, dev, *dptr, bytesize, GREY_API_MEM_ALLOC);
    return rc;
}

GREY_EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr)
{
    static void *real_fn;
    PFN_cuMemFree_v3020 real = grey_real(&real_fn, "cuMemFree_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;

    /* Removed before the driver frees it: once freed, the address may be handed out again to
     * another thread, whose record must not be the one we delete. */
    struct grey_buffer_info info;
    bool tracked = tracker_remove((uint64_t)dptr, &info);
    CUresult rc = real(dptr);
    if (tracked) {
        if (rc == CUDA_SUCCESS)
            quota_free(grey_self(), (int)info.device, info.bytes);
        else
            tracker_add(&info);
    }
    return rc;
}

GREY_EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes)
{
    static void *real_fn;
    PFN_cuMemGetInfo_v3020 real = grey_real(&real_fn, "cuMemGetInfo_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(free_bytes, total_bytes);
    const struct grey_quota *q = grey_self();
    int dev;
    if (rc != CUDA_SUCCESS || !free_bytes || !total_bytes || !grey_cuda_current_device(q, &dev))
        return rc;
    uint64_t capped_free, capped_total;
    quota_view(q, dev, *free_bytes, *total_bytes, &capped_free, &capped_total);
    *free_bytes = (size_t)capped_free;
    *total_bytes = (size_t)capped_total;
    return rc;
}

GREY_EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device)
{
    static void *real_fn;
    PFN_cuDeviceTotalMem_v3020 real = grey_real(&real_fn, "cuDeviceTotalMem_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(bytes, device);
    const struct grey_quota *q = grey_self();
    if (rc != CUDA_SUCCESS || !bytes || !grey_self_use_device(q, (int)device))
        return rc;
    uint64_t cap = atomic_load_explicit(&q->slot->dev[device].cap, memory_order_relaxed);
    if (cap < *bytes)
        *bytes = (size_t)cap;
    return rc;
}
