/* Plain device memory: cuMemAlloc, cuMemAllocPitch, cuMemAllocManaged, cuMemFree, and the memory
 * queries that report the capped view; each in its current form and, at the end, in the CUDA 2.x
 * form with 32-bit pointers and sizes, which the driver still exports (dlsym(h, "cuMemAlloc"),
 * cuGetProcAddress below version 3020) and which must be capped alike. */
#include "cuda_shim.h"
#include "vmm_share.h"

#include <limits.h>

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
 * memory, exactly as if it had been refused up front. call makes the driver call (either form of
 * cuMemAllocPitch) and gives the pointer and pitch it chose. */
#define PITCH_ALIGN 512u

CUresult grey_cuda_alloc_pitched(size_t width, size_t height, CUresult (*call)(void *arg, uint64_t *ptr, uint64_t *pitch),
                                 void *arg, void (*undo)(uint64_t ptr))
{
    size_t padded = (width + PITCH_ALIGN - 1) / PITCH_ALIGN * PITCH_ALIGN;
    uint64_t estimate = padded < width || padded > SIZE_MAX / height ? (uint64_t)width * height
                                                                       : (uint64_t)padded * height;
    struct grey_admission adm;
    if (grey_cuda_admit(&adm, estimate) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    uint64_t ptr = 0, pitch = 0;
    CUresult rc = call(arg, &ptr, &pitch);
    if (rc == CUDA_SUCCESS && grey_admit_resize(&adm, pitch * height) != GREY_ADMIT_OK) {
        undo(ptr);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? ptr : 0, GREY_API_MEM_ALLOC_PITCH);
    return rc;
}

struct pitch_v2 {
    PFN_cuMemAllocPitch_v3020 real;
    CUdeviceptr *dptr;
    size_t *pitch, width, height;
    unsigned element_bytes;
};

static CUresult call_pitch_v2(void *arg, uint64_t *ptr, uint64_t *pitch)
{
    struct pitch_v2 *c = arg;
    CUresult rc = c->real(c->dptr, c->pitch, c->width, c->height, c->element_bytes);
    if (rc == CUDA_SUCCESS) {
        *ptr = (uint64_t)*c->dptr;
        *pitch = *c->pitch;
    }
    return rc;
}

static void undo_v2(uint64_t ptr)
{
    static void *free_fn;
    PFN_cuMemFree_v3020 real_free = grey_cuda_real(&free_fn, "cuMemFree_v2");
    if (real_free)
        real_free((CUdeviceptr)ptr);
}

GREY_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
                                        unsigned int element_bytes)
{
    static void *real_fn;
    PFN_cuMemAllocPitch_v3020 real = grey_cuda_real(&real_fn, "cuMemAllocPitch_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    if (!dptr || !pitch || width == 0 || height == 0 || width > SIZE_MAX / height)
        return real(dptr, pitch, width, height, element_bytes);
    struct pitch_v2 c = {real, dptr, pitch, width, height, element_bytes};
    return grey_cuda_alloc_pitched(width, height, call_pitch_v2, &c, undo_v2);
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

void grey_cuda_cap_info(uint64_t *free_bytes, uint64_t *total_bytes)
{
    grey_vmm_share_settle(); /* the view counts shared VMM memory only while someone holds it */
    const struct grey_quota *q = grey_self();
    int dev, ordinal;
    uint64_t context;
    if (!grey_cuda_vendor.current(&ordinal, &context) || !grey_self_has_device(dev = grey_cuda_row(ordinal)))
        return;
    uint64_t capped_free, capped_total;
    quota_view(q, dev, *free_bytes, *total_bytes, &capped_free, &capped_total);
    *free_bytes = capped_free;
    *total_bytes = capped_total;
}

void grey_cuda_cap_total(uint64_t *bytes, int device)
{
    const struct grey_quota *q = grey_self();
    int row = grey_cuda_row(device);
    if (!grey_self_has_device(row))
        return;
    uint64_t cap = atomic_load_explicit(&q->slot->dev[row].cap, memory_order_relaxed);
    if (cap < *bytes)
        *bytes = cap;
}

GREY_EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes)
{
    static void *real_fn;
    PFN_cuMemGetInfo_v3020 real = grey_cuda_real(&real_fn, "cuMemGetInfo_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(free_bytes, total_bytes);
    if (rc != CUDA_SUCCESS || !free_bytes || !total_bytes)
        return rc;
    uint64_t f = *free_bytes, t = *total_bytes;
    grey_cuda_cap_info(&f, &t);
    *free_bytes = (size_t)f;
    *total_bytes = (size_t)t;
    return rc;
}

GREY_EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device)
{
    static void *real_fn;
    PFN_cuDeviceTotalMem_v3020 real = grey_cuda_real(&real_fn, "cuDeviceTotalMem_v2");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(bytes, device);
    if (rc != CUDA_SUCCESS || !bytes)
        return rc;
    uint64_t b = *bytes;
    grey_cuda_cap_total(&b, (int)device);
    *bytes = (size_t)b;
    return rc;
}

/* ---------------------------------------------------------------- CUDA 2.x forms */

GREY_EXPORT CUresult cuMemAlloc(CUdeviceptr_v1 *dptr, unsigned int bytesize)
{
    static void *real_fn;
    CUresult (*real)(CUdeviceptr_v1 *, unsigned int) = grey_cuda_real(&real_fn, "cuMemAlloc");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    if (!dptr || bytesize == 0)
        return real(dptr, bytesize);
    struct grey_admission adm;
    if (grey_cuda_admit(&adm, bytesize) != CUDA_SUCCESS)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = real(dptr, bytesize);
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? (uint64_t)*dptr : 0, GREY_API_MEM_ALLOC);
    return rc;
}

struct pitch_v1 {
    CUresult (*real)(CUdeviceptr_v1 *, unsigned int *, unsigned int, unsigned int, unsigned int);
    CUdeviceptr_v1 *dptr;
    unsigned int *pitch, width, height, element_bytes;
};

static CUresult call_pitch_v1(void *arg, uint64_t *ptr, uint64_t *pitch)
{
    struct pitch_v1 *c = arg;
    CUresult rc = c->real(c->dptr, c->pitch, c->width, c->height, c->element_bytes);
    if (rc == CUDA_SUCCESS) {
        *ptr = *c->dptr;
        *pitch = *c->pitch;
    }
    return rc;
}

static void undo_v1(uint64_t ptr)
{
    static void *free_fn;
    CUresult (*real_free)(CUdeviceptr_v1) = grey_cuda_real(&free_fn, "cuMemFree");
    if (real_free)
        real_free((CUdeviceptr_v1)ptr);
}

GREY_EXPORT CUresult cuMemAllocPitch(CUdeviceptr_v1 *dptr, unsigned int *pitch, unsigned int width, unsigned int height,
                                     unsigned int element_bytes)
{
    static void *real_fn;
    CUresult (*real)(CUdeviceptr_v1 *, unsigned int *, unsigned int, unsigned int, unsigned int) =
        grey_cuda_real(&real_fn, "cuMemAllocPitch");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    if (!dptr || !pitch || width == 0 || height == 0)
        return real(dptr, pitch, width, height, element_bytes);
    struct pitch_v1 c = {real, dptr, pitch, width, height, element_bytes};
    return grey_cuda_alloc_pitched(width, height, call_pitch_v1, &c, undo_v1);
}

GREY_EXPORT CUresult cuMemFree(CUdeviceptr_v1 dptr)
{
    static void *real_fn;
    CUresult (*real)(CUdeviceptr_v1) = grey_cuda_real(&real_fn, "cuMemFree");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_buffer_info info;
    bool tracked = grey_cuda_untrack((uint64_t)dptr, &info);
    CUresult rc = real(dptr);
    grey_cuda_forget(tracked, &info, rc);
    return rc;
}

/* 32-bit sizes: the driver reports at most 4 GiB - 1, and so does the capped view. */
static unsigned int as_u32(uint64_t v) { return v > UINT_MAX ? UINT_MAX : (unsigned int)v; }

GREY_EXPORT CUresult cuMemGetInfo(unsigned int *free_bytes, unsigned int *total_bytes)
{
    static void *real_fn;
    CUresult (*real)(unsigned int *, unsigned int *) = grey_cuda_real(&real_fn, "cuMemGetInfo");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(free_bytes, total_bytes);
    if (rc != CUDA_SUCCESS || !free_bytes || !total_bytes)
        return rc;
    uint64_t f = *free_bytes, t = *total_bytes;
    grey_cuda_cap_info(&f, &t);
    *free_bytes = as_u32(f);
    *total_bytes = as_u32(t);
    return rc;
}

GREY_EXPORT CUresult cuDeviceTotalMem(unsigned int *bytes, CUdevice device)
{
    static void *real_fn;
    CUresult (*real)(unsigned int *, CUdevice) = grey_cuda_real(&real_fn, "cuDeviceTotalMem");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(bytes, device);
    if (rc != CUDA_SUCCESS || !bytes)
        return rc;
    uint64_t b = *bytes;
    grey_cuda_cap_total(&b, (int)device);
    *bytes = as_u32(b);
    return rc;
}
