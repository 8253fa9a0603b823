/* HIP device memory: hipMalloc, hipExtMallocWithFlags, hipMallocManaged, hipMallocPitch,
 * hipMalloc3D and their one free, hipFree; the memory queries that report the capped view
 * (hipMemGetInfo, hipDeviceTotalMem, the same semantics as cuMemGetInfo in cuda_memory.c); and
 * hipDeviceReset, which takes the device's memory with it. Bad arguments (NULL output, zero
 * size) are the runtime's to answer and count nothing; so is a call the runtime makes to itself. */
#include "hip_shim.h"
#include "vmm_share.h"

#include "core/notify.h"
#include "core/settings.h"
#include "policy/quota.h"
#include "devices.h"
#include "pool_cache.h"

GREY_HIP_REAL(hipMalloc);
GREY_HIP_REAL(hipExtMallocWithFlags);
GREY_HIP_REAL(hipMallocManaged);
GREY_HIP_REAL(hipMallocPitch);
GREY_HIP_REAL(hipMalloc3D);
GREY_HIP_REAL(hipFree);
GREY_HIP_REAL(hipMemGetInfo);
GREY_HIP_REAL(hipDeviceTotalMem);
GREY_HIP_REAL(hipDeviceReset);

/* The shared shape of the plain allocations: admit on the current device, call, settle. */
static hipError_t plain_alloc(void **ptr, size_t size, hipError_t (*call)(void **, size_t, unsigned), unsigned flags,
                              enum grey_hip_api api)
{
    if (!ptr || size == 0 || grey_hip_nested())
        return call(ptr, size, flags);
    struct grey_admission adm;
    if (grey_hip_admit(&adm, -1, size) != hipSuccess)
        return hipErrorOutOfMemory;
    hipError_t rc = call(ptr, size, flags);
    grey_settle(&adm, rc == hipSuccess && *ptr, rc == hipSuccess ? (uint64_t)(uintptr_t)*ptr : 0, api);
    return rc;
}

static hipError_t call_malloc(void **p, size_t n, unsigned unused)
{
    (void)unused;
    return grey_hip_call(hipMalloc, p, n);
}
static hipError_t call_ext_malloc(void **p, size_t n, unsigned flags)
{
    return grey_hip_call(hipExtMallocWithFlags, p, n, flags);
}
static hipError_t call_managed(void **p, size_t n, unsigned flags)
{
    return grey_hip_call(hipMallocManaged, p, n, flags);
}

GREY_EXPORT hipError_t hipMalloc(void **ptr, size_t size)
{
    if (!grey_hip_available(hipMalloc))
        return hipErrorNotFound;
    return plain_alloc(ptr, size, call_malloc, 0, GREY_API_HIP_MALLOC);
}

/* Fine-grained, uncached or signal memory: device memory all the same. */
GREY_EXPORT hipError_t hipExtMallocWithFlags(void **ptr, size_t size, unsigned int flags)
{
    if (!grey_hip_available(hipExtMallocWithFlags))
        return hipErrorNotFound;
    return plain_alloc(ptr, size, call_ext_malloc, flags, GREY_API_HIP_EXT_MALLOC);
}

/* Managed memory lives on the device while kernels use it, so by default it counts against the
 * cap like device memory; GREY_COUNT_MANAGED=0 leaves it to the runtime's paging. */
GREY_EXPORT hipError_t hipMallocManaged(void **ptr, size_t size, unsigned int flags)
{
    if (!grey_hip_available(hipMallocManaged))
        return hipErrorNotFound;
    if (!grey_settings()->count_managed)
        return call_managed(ptr, size, flags);
    return plain_alloc(ptr, size, call_managed, flags, GREY_API_HIP_MALLOC_MANAGED);
}

/* The pitch is the runtime's choice, known only afterwards: admit an estimate (rows padded to 512
 * bytes), then settle on the real size; if that no longer fits, the allocation is undone and
 * reported as out of memory, exactly as if it had been refused up front (grey_admit_resize). */
#define PITCH_ALIGN 512u

static uint64_t pitch_estimate(size_t width, size_t rows)
{
    uint64_t padded = ((uint64_t)width + PITCH_ALIGN - 1) / PITCH_ALIGN * PITCH_ALIGN, bytes;
    if (__builtin_mul_overflow(padded, (uint64_t)rows, &bytes))
        return UINT64_MAX;
    return bytes;
}

/* Undoes an allocation whose real size did not fit after all. */
static void undo(void *ptr)
{
    if (ptr)
        grey_hip_call(hipFree, ptr);
}

GREY_EXPORT hipError_t hipMallocPitch(void **ptr, size_t *pitch, size_t width, size_t height)
{
    if (!grey_hip_available(hipMallocPitch))
        return hipErrorNotFound;
    if (!ptr || !pitch || width == 0 || height == 0 || grey_hip_nested())
        return grey_hip_call(hipMallocPitch, ptr, pitch, width, height);
    struct grey_admission adm;
    if (grey_hip_admit(&adm, -1, pitch_estimate(width, height)) != hipSuccess)
        return hipErrorOutOfMemory;
    hipError_t rc = grey_hip_call(hipMallocPitch, ptr, pitch, width, height);
    if (rc == hipSuccess && grey_admit_resize(&adm, (uint64_t)*pitch * height) != GREY_ADMIT_OK) {
        undo(*ptr);
        return hipErrorOutOfMemory;
    }
    grey_settle(&adm, rc == hipSuccess, rc == hipSuccess ? (uint64_t)(uintptr_t)*ptr : 0, GREY_API_HIP_MALLOC_PITCH);
    return rc;
}

/* extent.width is in bytes; the buffer is pitch x height x depth. */
GREY_EXPORT hipError_t hipMalloc3D(hipPitchedPtr *pitched, hipExtent extent)
{
    if (!grey_hip_available(hipMalloc3D))
        return hipErrorNotFound;
    uint64_t rows;
    if (!pitched || extent.width == 0 || extent.height == 0 || extent.depth == 0 || grey_hip_nested() ||
        __builtin_mul_overflow((uint64_t)extent.height, (uint64_t)extent.depth, &rows))
        return grey_hip_call(hipMalloc3D, pitched, extent);
    struct grey_admission adm;
    if (grey_hip_admit(&adm, -1, pitch_estimate(extent.width, rows)) != hipSuccess)
        return hipErrorOutOfMemory;
    hipError_t rc = grey_hip_call(hipMalloc3D, pitched, extent);
    uint64_t actual;
    if (rc == hipSuccess && (__builtin_mul_overflow((uint64_t)pitched->pitch, rows, &actual) ||
                             grey_admit_resize(&adm, actual) != GREY_ADMIT_OK)) {
        undo(pitched->ptr);
        if (adm.counted) /* overflow: resize was not reached, the estimate is still reserved */
            grey_settle(&adm, false, 0, GREY_API_HIP_MALLOC_3D);
        return hipErrorOutOfMemory;
    }
    grey_settle(&adm, rc == hipSuccess, rc == hipSuccess ? (uint64_t)(uintptr_t)pitched->ptr : 0,
                GREY_API_HIP_MALLOC_3D);
    return rc;
}

/* One free for every family above (hipFreeAsync, arrays and VMM have their own). */
GREY_EXPORT hipError_t hipFree(void *ptr)
{
    if (!grey_hip_available(hipFree))
        return hipErrorNotFound;
    if (!ptr || grey_hip_nested())
        return grey_hip_call(hipFree, ptr);
    struct grey_buffer_info info;
    bool tracked = grey_untrack((uint64_t)(uintptr_t)ptr, &info);
    hipError_t rc = grey_hip_call(hipFree, ptr);
    grey_forget(tracked, &info, rc == hipSuccess);
    return rc;
}

/* total = min(cap, physical total), free = min(cap - used, budget left, physical free). */
GREY_EXPORT hipError_t hipMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    hipError_t rc = grey_hip_call(hipMemGetInfo, free_bytes, total_bytes);
    int ordinal;
    uint64_t context;
    if (grey_hip_nested() || rc != hipSuccess || !free_bytes || !total_bytes ||
        !grey_hip_vendor.current(&ordinal, &context))
        return rc;
    int dev = grey_device_row(&grey_hip_vendor, ordinal);
    if (!grey_self_has_device(dev))
        return rc;
    uint64_t capped_free, capped_total;
    grey_vmm_share_settle(); /* the view counts shared VMM memory only while someone holds it */
    quota_view(grey_self(), dev, *free_bytes, *total_bytes, &capped_free, &capped_total);
    *free_bytes = (size_t)capped_free;
    *total_bytes = (size_t)capped_total;
    return rc;
}

GREY_EXPORT hipError_t hipDeviceTotalMem(size_t *bytes, hipDevice_t device)
{
    hipError_t rc = grey_hip_call(hipDeviceTotalMem, bytes, device);
    const struct grey_quota *q = grey_self();
    int row;
    if (grey_hip_nested() || rc != hipSuccess || !bytes ||
        !grey_self_has_device(row = grey_device_row(&grey_hip_vendor, (int)device)))
        return rc;
    uint64_t cap = atomic_load_explicit(&q->slot->dev[row].cap, memory_order_relaxed);
    if (cap < *bytes)
        *bytes = (size_t)cap;
    return rc;
}

/* hipDeviceReset destroys every allocation the process has on its current device, without a
 * single free: their bytes, and whatever the device's pools held cached, go back here, so a
 * program that resets and starts over does not drift towards its cap. */
static void give_back(const struct grey_buffer_info *info, void *arg)
{
    (void)arg;
    quota_free(grey_self(), (int)info->device, info->bytes);
}

GREY_EXPORT hipError_t hipDeviceReset(void)
{
    if (!grey_hip_available(hipDeviceReset))
        return hipErrorNotFound;
    if (grey_hip_nested())
        return grey_hip_call(hipDeviceReset);
    int ordinal, row;
    bool known = grey_hip_current(&ordinal, &row);
    if (known && grey_dedup_on()) /* fingerprint the device's buffers while they exist */
        grey_notify_context_closing(GREY_HIP_CONTEXT(ordinal), true);
    hipError_t rc = grey_hip_call(hipDeviceReset);
    if (rc == hipSuccess)
        grey_contexts_changed(); /* the device's timing events went with it */
    if (rc == hipSuccess && known) {
        tracker_remove_context(GREY_HIP_CONTEXT(ordinal), give_back, NULL);
        grey_pool_device_reset(row);
    }
    return rc;
}
