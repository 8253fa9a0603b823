/* HIP's stream-ordered allocation: hipMallocAsync, hipMallocFromPoolAsync, hipFreeAsync, and the
 * pool calls that decide when freed memory really leaves the process. Counted exactly like CUDA's
 * (pool caches and release thresholds: pool_cache.h, shared with cuda_async.c). */
#include "hip_shim.h"
#include "pool_cache.h"

GREY_HIP_REAL(hipStreamIsCapturing);
GREY_HIP_REAL(hipDeviceGetMemPool);
GREY_HIP_REAL(hipMallocAsync);
GREY_HIP_REAL(hipMallocFromPoolAsync);
GREY_HIP_REAL(hipFreeAsync);
GREY_HIP_REAL(hipMemPoolTrimTo);
GREY_HIP_REAL(hipMemPoolSetAttribute);
GREY_HIP_REAL(hipMemPoolDestroy);

/* A stream being captured records the allocation as a graph node instead of making it; such
 * allocations are not counted here (HIP graph memory nodes are not followed yet). */
static bool capturing(hipStream_t stream)
{
    hipStreamCaptureStatus status = hipStreamCaptureStatusNone;
    return grey_hip_call(hipStreamIsCapturing, stream, &status) == hipSuccess && status != hipStreamCaptureStatusNone;
}

static uint64_t device_current_pool(int dev)
{
    hipMemPool_t pool = NULL;
    grey_hip_call(hipDeviceGetMemPool, &pool, dev);
    return (uint64_t)(uintptr_t)pool;
}

/* The shared path of both allocation entry points; pool 0 is the device's current pool. */
static hipError_t alloc_async(void **ptr, size_t size, uint64_t pool, enum grey_hip_api api,
                              hipError_t (*call)(void **, size_t, hipMemPool_t, hipStream_t), hipMemPool_t pool_arg,
                              hipStream_t stream)
{
    if (!ptr || size == 0 || grey_hip_nested() || capturing(stream))
        return call(ptr, size, pool_arg, stream);
    int ordinal, row;
    bool counted = grey_hip_current(&ordinal, &row);
    if (counted && !pool)
        pool = device_current_pool(ordinal);
    struct grey_pool_admission pa;
    if (grey_pool_admit(&pa, counted ? row : -1, pool, size, counted ? GREY_HIP_CONTEXT(ordinal) : 0) != GREY_ADMIT_OK)
        return hipErrorOutOfMemory;
    hipError_t rc = call(ptr, size, pool_arg, stream);
    grey_pool_settle(&pa, rc == hipSuccess, rc == hipSuccess ? (uint64_t)(uintptr_t)*ptr : 0, api);
    return rc;
}

static hipError_t call_malloc_async(void **p, size_t n, hipMemPool_t unused, hipStream_t s)
{
    (void)unused;
    return grey_hip_call(hipMallocAsync, p, n, s);
}
static hipError_t call_from_pool(void **p, size_t n, hipMemPool_t pool, hipStream_t s)
{
    return grey_hip_call(hipMallocFromPoolAsync, p, n, pool, s);
}

GREY_EXPORT hipError_t hipMallocAsync(void **ptr, size_t size, hipStream_t stream)
{
    if (!grey_hip_available(hipMallocAsync))
        return hipErrorNotFound;
    return alloc_async(ptr, size, 0, GREY_API_HIP_MALLOC_ASYNC, call_malloc_async, NULL, stream);
}

GREY_EXPORT hipError_t hipMallocFromPoolAsync(void **ptr, size_t size, hipMemPool_t pool, hipStream_t stream)
{
    if (!grey_hip_available(hipMallocFromPoolAsync))
        return hipErrorNotFound;
    return alloc_async(ptr, size, (uint64_t)(uintptr_t)pool, GREY_API_HIP_MALLOC_FROM_POOL, call_from_pool, pool,
                       stream);
}

GREY_EXPORT hipError_t hipFreeAsync(void *ptr, hipStream_t stream)
{
    if (!grey_hip_available(hipFreeAsync))
        return hipErrorNotFound;
    if (!ptr || grey_hip_nested() || capturing(stream))
        return grey_hip_call(hipFreeAsync, ptr, stream);
    struct grey_buffer_info info;
    bool tracked = grey_untrack((uint64_t)(uintptr_t)ptr, &info);
    hipError_t rc = grey_hip_call(hipFreeAsync, ptr, stream);
    grey_pool_forget(tracked, &info, rc == hipSuccess);
    return rc;
}

GREY_EXPORT hipError_t hipMemPoolTrimTo(hipMemPool_t pool, size_t min_bytes_to_hold)
{
    bool nested = grey_hip_nested();
    hipError_t rc = grey_hip_call(hipMemPoolTrimTo, pool, min_bytes_to_hold);
    if (rc == hipSuccess && !nested)
        grey_pool_trimmed((uint64_t)(uintptr_t)pool, min_bytes_to_hold);
    return rc;
}

GREY_EXPORT hipError_t hipMemPoolSetAttribute(hipMemPool_t pool, hipMemPoolAttr attr, void *value)
{
    bool nested = grey_hip_nested();
    hipError_t rc = grey_hip_call(hipMemPoolSetAttribute, pool, attr, value);
    if (rc == hipSuccess && attr == hipMemPoolAttrReleaseThreshold && value && !nested)
        grey_pool_set_threshold((uint64_t)(uintptr_t)pool, *(uint64_t *)value);
    return rc;
}

GREY_EXPORT hipError_t hipMemPoolDestroy(hipMemPool_t pool)
{
    if (!grey_hip_available(hipMemPoolDestroy))
        return hipErrorNotFound;
    struct grey_pool_state *ps = grey_hip_nested() ? NULL : grey_pool_lookup((uint64_t)(uintptr_t)pool);
    hipError_t rc = grey_hip_call(hipMemPoolDestroy, pool);
    if (rc == hipSuccess)
        grey_pool_destroyed(ps);
    return rc;
}
