/* Stream-ordered allocation: cuMemAllocAsync, cuMemAllocFromPoolAsync, cuMemFreeAsync (and their
 * per-thread-stream _ptsz entry points), and the pool calls that decide when freed memory really
 * leaves the process.
 *
 * How bytes are counted (pool caches and release thresholds) is vendor-neutral and shared with
 * HIP: shim/pool_cache.h. */
#include "cuda_shim.h"
#include "pool_cache.h"

/* A stream being captured records allocations and frees as graph nodes instead of doing them;
 * shim/cuda_graph.c counts them when the graph runs. */
static bool capturing(CUstream stream, bool per_thread)
{
    static void *real_fn, *real_ptsz_fn;
    PFN_cuStreamIsCapturing_v10000 is_capturing =
        per_thread ? grey_cuda_real(&real_ptsz_fn, "cuStreamIsCapturing_ptsz") : grey_cuda_real(&real_fn, "cuStreamIsCapturing");
    CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
    return is_capturing && is_capturing(stream, &status) == CUDA_SUCCESS && status != CU_STREAM_CAPTURE_STATUS_NONE;
}

static uint64_t device_default_pool(int dev)
{
    static void *real_fn;
    PFN_cuDeviceGetMemPool_v11020 get_pool = grey_cuda_real(&real_fn, "cuDeviceGetMemPool");
    CUmemoryPool pool = NULL;
    if (get_pool)
        get_pool(&pool, (CUdevice)dev);
    return (uint64_t)(uintptr_t)pool;
}

/* The shared path of every stream-ordered allocation. pool is 0 for "the device's current
 * pool", looked up once the device is known. */
static CUresult alloc_async(CUdeviceptr *dptr, size_t bytes, uint64_t pool, enum grey_cuda_api api,
                            CUresult (*call)(CUdeviceptr *, size_t, void *, CUstream), void *pool_arg,
                            CUstream stream, bool per_thread)
{
    if (!dptr || bytes == 0 || capturing(stream, per_thread))
        return call(dptr, bytes, pool_arg, stream);
    int row, ordinal;
    uint64_t context;
    bool counted = grey_cuda_current(grey_self(), &row, &context, &ordinal);
    if (counted && !pool)
        pool = device_default_pool(ordinal);
    struct grey_pool_admission pa;
    if (grey_pool_admit(&pa, counted ? row : -1, pool, bytes, counted ? context : 0) != GREY_ADMIT_OK)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUresult rc = call(dptr, bytes, pool_arg, stream);
    grey_pool_settle(&pa, rc == CUDA_SUCCESS, rc == CUDA_SUCCESS ? (uint64_t)*dptr : 0, api);
    return rc;
}

static CUresult free_async(CUdeviceptr dptr, CUstream stream, CUresult (*real)(CUdeviceptr, CUstream),
                           bool per_thread)
{
    if (capturing(stream, per_thread))
        return real(dptr, stream);
    struct grey_buffer_info info;
    bool tracked = grey_untrack((uint64_t)dptr, &info);
    CUresult rc = real(dptr, stream);
    grey_pool_forget(tracked, &info, rc == CUDA_SUCCESS);
    return rc;
}

/* Adapters so one path serves the four allocation entry points. */
static void *real_alloc_async, *real_alloc_async_ptsz, *real_from_pool, *real_from_pool_ptsz;

static CUresult call_alloc_async(CUdeviceptr *d, size_t n, void *unused, CUstream s)
{
    (void)unused;
    return ((PFN_cuMemAllocAsync_v11020)real_alloc_async)(d, n, s);
}
static CUresult call_alloc_async_ptsz(CUdeviceptr *d, size_t n, void *unused, CUstream s)
{
    (void)unused;
    return ((PFN_cuMemAllocAsync_v11020_ptsz)real_alloc_async_ptsz)(d, n, s);
}
static CUresult call_from_pool(CUdeviceptr *d, size_t n, void *pool, CUstream s)
{
    return ((PFN_cuMemAllocFromPoolAsync_v11020)real_from_pool)(d, n, (CUmemoryPool)pool, s);
}
static CUresult call_from_pool_ptsz(CUdeviceptr *d, size_t n, void *pool, CUstream s)
{
    return ((PFN_cuMemAllocFromPoolAsync_v11020_ptsz)real_from_pool_ptsz)(d, n, (CUmemoryPool)pool, s);
}

GREY_EXPORT CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream stream)
{
    if (!grey_cuda_real(&real_alloc_async, "cuMemAllocAsync"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, 0, GREY_API_MEM_ALLOC_ASYNC, call_alloc_async, NULL, stream, false);
}

GREY_EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream stream)
{
    if (!grey_cuda_real(&real_alloc_async_ptsz, "cuMemAllocAsync_ptsz"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, 0, GREY_API_MEM_ALLOC_ASYNC, call_alloc_async_ptsz, NULL, stream, true);
}

GREY_EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                             CUstream stream)
{
    if (!grey_cuda_real(&real_from_pool, "cuMemAllocFromPoolAsync"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, (uint64_t)(uintptr_t)pool, GREY_API_MEM_ALLOC_FROM_POOL, call_from_pool,
                       pool, stream, false);
}

GREY_EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                                  CUstream stream)
{
    if (!grey_cuda_real(&real_from_pool_ptsz, "cuMemAllocFromPoolAsync_ptsz"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, (uint64_t)(uintptr_t)pool, GREY_API_MEM_ALLOC_FROM_POOL,
                       call_from_pool_ptsz, pool, stream, true);
}

GREY_EXPORT CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream stream)
{
    static void *real_fn;
    PFN_cuMemFreeAsync_v11020 real = grey_cuda_real(&real_fn, "cuMemFreeAsync");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return free_async(dptr, stream, real, false);
}

GREY_EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream stream)
{
    static void *real_fn;
    PFN_cuMemFreeAsync_v11020_ptsz real = grey_cuda_real(&real_fn, "cuMemFreeAsync_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return free_async(dptr, stream, real, true);
}

GREY_EXPORT CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t min_bytes_to_keep)
{
    static void *real_fn;
    PFN_cuMemPoolTrimTo_v11020 real = grey_cuda_real(&real_fn, "cuMemPoolTrimTo");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(pool, min_bytes_to_keep);
    if (rc == CUDA_SUCCESS)
        grey_pool_trimmed((uint64_t)(uintptr_t)pool, min_bytes_to_keep);
    return rc;
}

GREY_EXPORT CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    static void *real_fn;
    PFN_cuMemPoolSetAttribute_v11020 real = grey_cuda_real(&real_fn, "cuMemPoolSetAttribute");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(pool, attr, value);
    if (rc == CUDA_SUCCESS && attr == CU_MEMPOOL_ATTR_RELEASE_THRESHOLD && value)
        grey_pool_set_threshold((uint64_t)(uintptr_t)pool, *(cuuint64_t *)value);
    return rc;
}

GREY_EXPORT CUresult cuMemPoolDestroy(CUmemoryPool pool)
{
    static void *real_fn;
    PFN_cuMemPoolDestroy_v11020 real = grey_cuda_real(&real_fn, "cuMemPoolDestroy");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct grey_pool_state *ps = grey_pool_lookup((uint64_t)(uintptr_t)pool);
    CUresult rc = real(pool);
    if (rc == CUDA_SUCCESS)
        grey_pool_destroyed(ps);
    return rc;
}
