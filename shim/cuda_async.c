/* Stream-ordered allocation: cuMemAllocAsync, cuMemAllocFromPoolAsync, cuMemFreeAsync (and their
 * per-thread-stream _ptsz entry points), and the pool calls that decide when freed memory really
 * leaves the process.
 *
 * How bytes are counted: an allocation counts from the call that makes it. A free gives its
 * bytes back, except what its pool keeps cached: a pool whose release threshold is above zero
 * holds freed memory (up to the threshold) for reuse, and that memory is still the process's,
 * so it stays counted as the pool's cache until a later allocation from the same pool reuses it,
 * cuMemPoolTrimTo trims it, the threshold is lowered, or the pool is destroyed. With the
 * default threshold of zero the driver returns freed memory at the next synchronization, and
 * grey gives the bytes back at the free. */
#include "cuda_shim.h"

#include "../policy/quota.h"

#define MAX_POOLS 64

/* What grey knows of a pool: its release threshold and how much it holds cached. Entries are
 * claimed with a CAS on .pool and never move, so lookups take no lock. */
struct pool_state {
    _Atomic uint64_t pool;
    _Atomic uint64_t threshold;
    _Atomic uint64_t cached;
    _Atomic int dev;
};
static struct pool_state pools[MAX_POOLS];

static struct pool_state *pool_find(uint64_t pool, bool create)
{
    if (!pool)
        return NULL;
    for (int i = 0; i < MAX_POOLS; i++)
        if (atomic_load_explicit(&pools[i].pool, memory_order_acquire) == pool)
            return &pools[i];
    if (!create)
        return NULL;
    for (int i = 0; i < MAX_POOLS; i++) {
        uint64_t empty = 0;
        if (atomic_compare_exchange_strong(&pools[i].pool, &empty, pool))
            return &pools[i];
        if (empty == pool)
            return &pools[i];
    }
    return NULL; /* more pools than grey follows: their caches are not counted */
}

/* Takes up to bytes from the pool's cache (memory the process already holds). */
static uint64_t pool_take_cached(struct pool_state *ps, uint64_t bytes)
{
    if (!ps)
        return 0;
    uint64_t cached = atomic_load(&ps->cached), take;
    do
        take = cached < bytes ? cached : bytes;
    while (take && !atomic_compare_exchange_weak(&ps->cached, &cached, cached - take));
    return take;
}

/* Puts up to bytes into the cache, within the threshold; returns what it kept. */
static uint64_t pool_keep(struct pool_state *ps, uint64_t bytes)
{
    if (!ps)
        return 0;
    uint64_t cached = atomic_load(&ps->cached), keep;
    do {
        uint64_t threshold = atomic_load(&ps->threshold);
        uint64_t room = threshold > cached ? threshold - cached : 0;
        keep = room < bytes ? room : bytes;
    } while (keep && !atomic_compare_exchange_weak(&ps->cached, &cached, cached + keep));
    return keep;
}

/* Shrinks the cache to at most limit and gives the rest back to the quota. */
static void pool_shrink(struct pool_state *ps, uint64_t limit)
{
    if (!ps)
        return;
    uint64_t cached = atomic_load(&ps->cached);
    while (cached > limit && !atomic_compare_exchange_weak(&ps->cached, &cached, limit))
        ;
    if (cached > limit)
        quota_release(grey_self(), atomic_load(&ps->dev), cached - limit);
}

/* A stream being captured records allocations and frees as graph nodes instead of doing them;
 * shim/cuda_graph.c counts them when the graph runs. */
static bool capturing(CUstream stream, bool per_thread)
{
    static void *real_fn, *real_ptsz_fn;
    PFN_cuStreamIsCapturing_v10000 is_capturing =
        per_thread ? grey_real(&real_ptsz_fn, "cuStreamIsCapturing_ptsz") : grey_real(&real_fn, "cuStreamIsCapturing");
    CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
    return is_capturing && is_capturing(stream, &status) == CUDA_SUCCESS && status != CU_STREAM_CAPTURE_STATUS_NONE;
}

static uint64_t device_default_pool(int dev)
{
    static void *real_fn;
    PFN_cuDeviceGetMemPool_v11020 get_pool = grey_real(&real_fn, "cuDeviceGetMemPool");
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
    struct grey_admission adm;
    adm.q = grey_self();
    adm.counted = grey_cuda_current_device(adm.q, &adm.dev);
    struct pool_state *ps = NULL;
    uint64_t reused = 0;
    if (adm.counted) {
        if (!pool)
            pool = device_default_pool(adm.dev);
        ps = pool_find(pool, true);
        if (ps)
            atomic_store(&ps->dev, adm.dev);
        reused = pool_take_cached(ps, bytes);
    }
    if (grey_cuda_admit_on(&adm, adm.counted ? adm.dev : -1, bytes - reused) != CUDA_SUCCESS) {
        pool_keep(ps, reused);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    adm.pool = pool;
    CUresult rc = call(dptr, bytes, pool_arg, stream);
    if (rc != CUDA_SUCCESS)
        pool_keep(ps, reused);
    adm.bytes = bytes; /* the buffer carries its full size; reused bytes were counted already */
    if (rc != CUDA_SUCCESS && adm.counted) {
        quota_release(adm.q, adm.dev, bytes - reused);
        return rc;
    }
    grey_cuda_settle(&adm, rc, rc == CUDA_SUCCESS ? (uint64_t)*dptr : 0, api);
    return rc;
}

static CUresult free_async(CUdeviceptr dptr, CUstream stream, CUresult (*real)(CUdeviceptr, CUstream),
                           bool per_thread)
{
    if (capturing(stream, per_thread))
        return real(dptr, stream);
    struct grey_buffer_info info;
    bool tracked = grey_cuda_untrack((uint64_t)dptr, &info);
    CUresult rc = real(dptr, stream);
    if (!tracked)
        return rc;
    if (rc != CUDA_SUCCESS) {
        tracker_add(&info);
        return rc;
    }
    /* Whatever the pool keeps stays counted as its cache; the rest is given back. */
    uint64_t kept = pool_keep(pool_find(info.pool, false), info.bytes);
    const struct grey_quota *q = grey_self();
    quota_free(q, (int)info.device, info.bytes - kept);
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
    if (!grey_real(&real_alloc_async, "cuMemAllocAsync"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, 0, GREY_API_MEM_ALLOC_ASYNC, call_alloc_async, NULL, stream, false);
}

GREY_EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream stream)
{
    if (!grey_real(&real_alloc_async_ptsz, "cuMemAllocAsync_ptsz"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, 0, GREY_API_MEM_ALLOC_ASYNC, call_alloc_async_ptsz, NULL, stream, true);
}

GREY_EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                             CUstream stream)
{
    if (!grey_real(&real_from_pool, "cuMemAllocFromPoolAsync"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, (uint64_t)(uintptr_t)pool, GREY_API_MEM_ALLOC_FROM_POOL, call_from_pool,
                       pool, stream, false);
}

GREY_EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
                                                  CUstream stream)
{
    if (!grey_real(&real_from_pool_ptsz, "cuMemAllocFromPoolAsync_ptsz"))
        return CUDA_ERROR_NOT_FOUND;
    return alloc_async(dptr, bytesize, (uint64_t)(uintptr_t)pool, GREY_API_MEM_ALLOC_FROM_POOL,
                       call_from_pool_ptsz, pool, stream, true);
}

GREY_EXPORT CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream stream)
{
    static void *real_fn;
    PFN_cuMemFreeAsync_v11020 real = grey_real(&real_fn, "cuMemFreeAsync");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return free_async(dptr, stream, real, false);
}

GREY_EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream stream)
{
    static void *real_fn;
    PFN_cuMemFreeAsync_v11020_ptsz real = grey_real(&real_fn, "cuMemFreeAsync_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return free_async(dptr, stream, real, true);
}

GREY_EXPORT CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t min_bytes_to_keep)
{
    static void *real_fn;
    PFN_cuMemPoolTrimTo_v11020 real = grey_real(&real_fn, "cuMemPoolTrimTo");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(pool, min_bytes_to_keep);
    if (rc == CUDA_SUCCESS)
        pool_shrink(pool_find((uint64_t)(uintptr_t)pool, false), min_bytes_to_keep);
    return rc;
}

GREY_EXPORT CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    static void *real_fn;
    PFN_cuMemPoolSetAttribute_v11020 real = grey_real(&real_fn, "cuMemPoolSetAttribute");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(pool, attr, value);
    if (rc == CUDA_SUCCESS && attr == CU_MEMPOOL_ATTR_RELEASE_THRESHOLD && value) {
        uint64_t threshold = *(cuuint64_t *)value;
        struct pool_state *ps = pool_find((uint64_t)(uintptr_t)pool, true);
        if (ps) {
            atomic_store(&ps->threshold, threshold);
            pool_shrink(ps, threshold);
        }
    }
    return rc;
}

GREY_EXPORT CUresult cuMemPoolDestroy(CUmemoryPool pool)
{
    static void *real_fn;
    PFN_cuMemPoolDestroy_v11020 real = grey_real(&real_fn, "cuMemPoolDestroy");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    struct pool_state *ps = pool_find((uint64_t)(uintptr_t)pool, false);
    CUresult rc = real(pool);
    if (rc == CUDA_SUCCESS && ps) {
        pool_shrink(ps, 0);
        atomic_store(&ps->threshold, 0);
    }
    return rc;
}
