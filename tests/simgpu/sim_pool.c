/* Stream-ordered allocation and memory pools.
 *
 * Each device has a default pool and a current pool; cuMemPoolCreate makes more. A pool hands
 * out ordinary device allocations (accounted against VRAM). What makes a pool a pool is what
 * happens at cuMemFreeAsync: memory goes back to the device, except that a pool whose release
 * threshold is above zero keeps up to that many freed bytes reserved (still counted against
 * VRAM, as a real pool holds them) for its next allocations, until cuMemPoolTrimTo or a lower
 * threshold lets them go. Allocation and free happen at the call: the simulated device has no
 * queue that could make them later. */
#include "sim_internal.h"

#include <search.h>
#include <stdlib.h>

#define SIM_POOL_MAGIC 0x475245594d504f4fULL /* "GREYMPOO" */

struct CUmemPoolHandle_st {
    uint64_t magic;
    CUdevice dev;
    uint64_t threshold;   /* CU_MEMPOOL_ATTR_RELEASE_THRESHOLD */
    uint64_t cached;      /* freed bytes the pool keeps reserved */
    uint64_t used;        /* bytes of live allocations from this pool */
    uint64_t used_high, reserved_high;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct CUmemPoolHandle_st default_pools[SIM_MAX_DEVICES];
static CUmemoryPool current_pools[SIM_MAX_DEVICES];

/* Live stream-ordered allocations: address -> (pool, size), for cuMemFreeAsync. */
struct pool_alloc {
    uintptr_t addr;
    size_t size;
    CUmemoryPool pool;
};
static void *allocs_root;

static int alloc_cmp(const void *a, const void *b)
{
    uintptr_t x = ((const struct pool_alloc *)a)->addr, y = ((const struct pool_alloc *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Callers hold pool_lock. */
static CUmemoryPool default_pool(CUdevice dev)
{
    CUmemoryPool p = &default_pools[dev];
    if (p->magic != SIM_POOL_MAGIC)
        *p = (struct CUmemPoolHandle_st){.magic = SIM_POOL_MAGIC, .dev = dev};
    if (!current_pools[dev])
        current_pools[dev] = p;
    return p;
}

static bool pool_valid(CUmemoryPool p)
{
    bool is_default = p >= &default_pools[0] && p < &default_pools[SIM_MAX_DEVICES];
    return (is_default || sim_handle_live(p)) && p->magic == SIM_POOL_MAGIC;
}

/* Callers hold pool_lock. */
static void pool_shrink_to(CUmemoryPool p, uint64_t keep)
{
    if (p->cached > keep) {
        sim_vram_release(p->dev, p->cached - keep);
        p->cached = keep;
    }
}

static CUresult pool_alloc(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream stream, bool per_thread)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx = sim_ctx_current();
    sim_timeline *tl;
    r = sim_stream_timeline(stream, per_thread, &ctx, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    if (!dptr || bytes == 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (sim_capturing() && sim_capture_graph(tl)) {
        /* Captured: the allocation becomes a node, memory is taken when the graph runs. */
        CUdeviceptr addr;
        if ((r = sim_graph_mem_reserve(bytes, ctx->dev, &addr)) != CUDA_SUCCESS)
            return r;
        sim_node_op op = {.kind = SIM_NODE_MEM_ALLOC, .dst = addr, .n = bytes};
        if (sim_capture_op(tl, &op, &r) && r == CUDA_SUCCESS)
            *dptr = addr;
        return r;
    }
    pthread_mutex_lock(&pool_lock);
    if (!pool)
        pool = current_pools[ctx->dev] ? current_pools[ctx->dev] : default_pool(ctx->dev);
    if (!pool_valid(pool)) {
        pthread_mutex_unlock(&pool_lock);
        return CUDA_ERROR_INVALID_VALUE;
    }
    /* Cached bytes are reused first: give them back to the device, then allocate as usual. */
    uint64_t reuse = pool->cached < bytes ? pool->cached : bytes;
    pool_shrink_to(pool, pool->cached - reuse);
    struct pool_alloc *a = malloc(sizeof *a);
    uintptr_t p = 0;
    r = a ? sim_mem_alloc_device(&p, bytes) : CUDA_ERROR_OUT_OF_MEMORY;
    if (r == CUDA_SUCCESS) {
        *a = (struct pool_alloc){.addr = p, .size = bytes, .pool = pool};
        tsearch(a, &allocs_root, alloc_cmp);
        pool->used += bytes;
        if (pool->used > pool->used_high)
            pool->used_high = pool->used;
        if (pool->used + pool->cached > pool->reserved_high)
            pool->reserved_high = pool->used + pool->cached;
        *dptr = (CUdeviceptr)p;
    } else {
        free(a);
    }
    pthread_mutex_unlock(&pool_lock);
    return r;
}

static CUresult pool_free(CUdeviceptr dptr, CUstream stream, bool per_thread)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx = sim_ctx_current();
    sim_timeline *tl;
    r = sim_stream_timeline(stream, per_thread, &ctx, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    if (sim_capturing() && sim_capture_graph(tl)) {
        sim_node_op op = {.kind = SIM_NODE_MEM_FREE, .dst = dptr};
        sim_capture_op(tl, &op, &r);
        return r;
    }
    pthread_mutex_lock(&pool_lock);
    struct pool_alloc key = {.addr = (uintptr_t)dptr};
    void *node = dptr ? tfind(&key, &allocs_root, alloc_cmp) : NULL;
    if (!node) {
        pthread_mutex_unlock(&pool_lock);
        /* cuMemFreeAsync also frees graph memory and memory from cuMemAlloc. */
        r = sim_graph_mem_free(dptr);
        return r == CUDA_ERROR_NOT_FOUND ? sim_mem_free_device((uintptr_t)dptr) : r;
    }
    struct pool_alloc *a = *(struct pool_alloc **)node;
    tdelete(a, &allocs_root, alloc_cmp);
    CUmemoryPool pool = a->pool;
    r = sim_mem_free_device(a->addr);
    pool->used -= a->size;
    uint64_t room = pool->threshold > pool->cached ? pool->threshold - pool->cached : 0;
    uint64_t keep = room < a->size ? room : a->size;
    if (keep && sim_vram_reserve(pool->dev, keep))
        pool->cached += keep;
    free(a);
    pthread_mutex_unlock(&pool_lock);
    return r;
}

CUresult CUDAAPI cuMemAllocAsync(CUdeviceptr *dptr, size_t bytes, CUstream s) { return pool_alloc(dptr, bytes, NULL, s, false); }
CUresult CUDAAPI cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytes, CUstream s) { return pool_alloc(dptr, bytes, NULL, s, true); }
CUresult CUDAAPI cuMemFreeAsync(CUdeviceptr dptr, CUstream s) { return pool_free(dptr, s, false); }
CUresult CUDAAPI cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream s) { return pool_free(dptr, s, true); }

CUresult CUDAAPI cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream s)
{
    return pool ? pool_alloc(dptr, bytes, pool, s, false) : CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream s)
{
    return pool ? pool_alloc(dptr, bytes, pool, s, true) : CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!pool || !props || props->allocType != CU_MEM_ALLOCATION_TYPE_PINNED ||
        props->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
        return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_check_device(props->location.id)) != CUDA_SUCCESS)
        return r;
    CUmemoryPool p = calloc(1, sizeof *p);
    if (!p)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *p = (struct CUmemPoolHandle_st){.magic = SIM_POOL_MAGIC, .dev = props->location.id};
    sim_handle_add(p);
    *pool = p;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemPoolDestroy(CUmemoryPool pool)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&pool_lock);
    bool is_default = pool >= &default_pools[0] && pool < &default_pools[SIM_MAX_DEVICES];
    if (!pool_valid(pool) || is_default) {
        pthread_mutex_unlock(&pool_lock);
        return CUDA_ERROR_INVALID_VALUE;
    }
    pool_shrink_to(pool, 0);
    pool->magic = 0;
    sim_handle_take(pool);
    for (int d = 0; d < SIM_MAX_DEVICES; d++)
        if (current_pools[d] == pool)
            current_pools[d] = &default_pools[d];
    pthread_mutex_unlock(&pool_lock);
    /* Allocations still live from it keep their memory; the handle is simply retired. */
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemPoolTrimTo(CUmemoryPool pool, size_t keep)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&pool_lock);
    if (!pool_valid(pool)) {
        pthread_mutex_unlock(&pool_lock);
        return CUDA_ERROR_INVALID_VALUE;
    }
    pool_shrink_to(pool, keep);
    pthread_mutex_unlock(&pool_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!value)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&pool_lock);
    r = pool_valid(pool) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) {
        switch (attr) {
        case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
            pool->threshold = *(cuuint64_t *)value;
            pool_shrink_to(pool, pool->threshold);
            break;
        case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
            pool->reserved_high = 0;
            break;
        case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
            pool->used_high = 0;
            break;
        case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
        case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
        case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
            break;
        default:
            r = CUDA_ERROR_INVALID_VALUE;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    return r;
}

CUresult CUDAAPI cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!value)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&pool_lock);
    r = pool_valid(pool) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS) {
        cuuint64_t *v = value;
        switch (attr) {
        case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD: *v = pool->threshold; break;
        case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT: *v = pool->used + pool->cached; break;
        case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH: *v = pool->reserved_high; break;
        case CU_MEMPOOL_ATTR_USED_MEM_CURRENT: *v = pool->used; break;
        case CU_MEMPOOL_ATTR_USED_MEM_HIGH: *v = pool->used_high; break;
        case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
        case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
        case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES: *(int *)value = 1; break;
        default: r = CUDA_ERROR_INVALID_VALUE;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    return r;
}

CUresult CUDAAPI cuDeviceGetDefaultMemPool(CUmemoryPool *pool, CUdevice dev)
{
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pool)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&pool_lock);
    *pool = default_pool(dev);
    pthread_mutex_unlock(&pool_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetMemPool(CUmemoryPool *pool, CUdevice dev)
{
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!pool)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&pool_lock);
    *pool = current_pools[dev] ? current_pools[dev] : default_pool(dev);
    pthread_mutex_unlock(&pool_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceSetMemPool(CUdevice dev, CUmemoryPool pool)
{
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&pool_lock);
    r = pool_valid(pool) && pool->dev == dev ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        current_pools[dev] = pool;
    pthread_mutex_unlock(&pool_lock);
    return r;
}
