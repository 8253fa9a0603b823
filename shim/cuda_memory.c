/* Plain device memory: cuMemAlloc, cuMemAllocPitch, cuMemAllocManaged, cuMemFree, and the memory
 * queries that report the capped view. */
#include "cuda_shim.h"

#include "core/settings.h"
#include "vendor.h"
#include "policy/quota.h"

GREY_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    static void *real_fn;
    PFN_cuMemAlloc_v3020 real = grey_cuda_real(&real_fn, "cuMemAlloc_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    /* Bad arguments are the driver's to report, with its own error, and count nothing. */
    if (!dptr || bytesize == 0)
        return real(dptr, bytesize);
    struct grey_admission adm;
    if (grey_cuda_admit(&adm, bytesize) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = real(dptr, bytesize);
    grey_cuda_settle(&adm, rc, (uint64_t)*dptr, GREY_API_MEM_ALLOC);
    return rc;
}

/* The pitch is the driver's choice, known only afterwards. Admit an estimate (rows padded to
 * 512 bytes, the alignment drivers use), then settle the difference once the real pitch is
 * known; if the real size no longer fits, the allocation is undone and reported as out of
 * memory, exactly as if it had been refused up front. */
#define PITCH_ALIGN 512u

GREY_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
                                        unsigned int element_bytes)
{
    static void *real_fn, *free_fn;
    PFN_cuMemAllocPitch_v3020 real = grey_cuda_real(&real_fn, "cuMemAllocPitch_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    if (!dptr || !pitch || width == 0 || height == 0 || width > SIZE_MAX / height)
        return real(dptr, pitch, width, height, element_bytes);
    size_t padded = (width + PITCH_ALIGN - 1) / PITCH_ALIGN * PITCH_ALIGN;
    uint64_t estimate = padded < width || padded > SIZE_MAX / height ? (uint64_t)width * height
                                                                       : (uint64_t)padded * height;
    struct grey_admission adm;
    if (grey_cuda_admit(&adm, estimate) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = real(dptr, pitch, width, height, element_bytes);
    if (rc == CUDA_SUCCESS && grey_admit_resize(&adm, (uint64_t)*pitch * height) != GREY_ADMIT_OK) {
        PFN_cuMemFree_v3020 real_free = grey_cuda_real(&free_fn, "cuMemFree_v2");
        if (real_free)
            real_free(*dptr);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? (uint64_t)*dptr : 0, GREY_API_MEM_ALLOC_PITCH);
    return rc;
}

/* Managed memory lives on the device while kernels use it, so by default it counts against the
 * cap like device memory; GREY_COUNT_MANAGED=0 leaves it to the driver's paging. */
GREY_EXPORT CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
    static void *real_fn;
    PFN_cuMemAllocManaged_v6000 real = grey_cuda_real(&real_fn, "cuMemAllocManaged");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    if (!dptr || bytesize == 0 || !grey_settings()->count_managed)
        return real(dptr, bytesize, flags);
    struct grey_admission adm;
    if (grey_cuda_admit(&adm, bytesize) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = real(dptr, bytesize, flags);
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? (uint64_t)*dptr : 0, GREY_API_MEM_ALLOC_MANAGED);
    return rc;
}

/* One free for cuMemAlloc, cuMemAllocPitch and cuMemAllocManaged memory. */
GREY_EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr)
{
    static void *real_fn;
    PFN_cuMemFree_v3020 real = grey_cuda_real(&real_fn, "cuMemFree_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_buffer_info info;
    bool tracked = grey_cuda_untrack((uint64_t)dptr, &info);
    CUresult rc = real(dptr);
    grey_cuda_forget(tracked, &info, rc);
    return rc;
}

GREY_EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes)
{
    static void *real_fn;
    PFN_cuMemGetInfo_v3020 real = grey_cuda_real(&real_fn, "cuMemGetInfo_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(free_bytes, total_bytes);
    const struct grey_quota *q = grey_self();
    int dev, ordinal;
    uint64_t context;
    if (rc != CUDA_SUCCESS || !free_bytes || !total_bytes || !grey_cuda_vendor.current(&ordinal, &context) ||
        !grey_self_has_device(dev = grey_cuda_row(ordinal)))
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
    PFN_cuDeviceTotalMem_v3020 real = grey_cuda_real(&real_fn, "cuDeviceTotalMem_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(bytes, device);
    const struct grey_quota *q = grey_self();
    int row;
    if (rc != CUDA_SUCCESS || !bytes || !grey_self_has_device(row = grey_cuda_row((int)device)))
        return rc;
    uint64_t cap = atomic_load_explicit(&q->slot->dev[row].cap, memory_order_relaxed);
    if (cap < *bytes)
        *bytes = (size_t)cap;
    return rc;
}
