/* Simulated HIP streams, memory pools and stream-ordered allocation. Kernels occupy the simulated
 * device timeline (hsim_time.c, where streams are synchronized); a stream-ordered allocation is made (and a stream-ordered free done) when called; a pool keeps
 * its release threshold for hipMemPoolGetAttribute but caches nothing (the hook's own count of a
 * pool's cache is tested on the CUDA side, against the simulated driver's pools). */
#include "hsim.h"

#include <stdlib.h>

struct hsim_pool {
    int dev;
    uint64_t threshold;
};

static struct hsim_pool default_pools[SIM_SETTINGS_MAX_DEVICES];
static pthread_once_t pools_once = PTHREAD_ONCE_INIT;

static void register_default_pools(void)
{
    for (int i = 0; i < SIM_SETTINGS_MAX_DEVICES; i++) {
        default_pools[i].dev = i;
        hsim_handle_add(&default_pools[i], HSIM_H_POOL);
    }
}

static bool pool_valid(hipMemPool_t pool)
{
    pthread_once(&pools_once, register_default_pools);
    return pool && hsim_handle_live(pool, HSIM_H_POOL);
}

void hsim_pools_reset(int dev)
{
    if (dev >= 0 && dev < SIM_SETTINGS_MAX_DEVICES)
        default_pools[dev].threshold = 0;
}

/* ------------------------------------------------------------------ streams */

hipError_t hipStreamCreate(hipStream_t *stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!stream)
        return hipErrorInvalidValue;
    hsim_stream *s = calloc(1, sizeof *s);
    if (!s)
        return hipErrorOutOfMemory;
    s->dev = hsim_current_device();
    hsim_handle_add(s, HSIM_H_STREAM);
    *stream = (hipStream_t)s;
    return hipSuccess;
}

hipError_t hipStreamDestroy(hipStream_t stream)
{
    if (!stream || !hsim_handle_take(stream, HSIM_H_STREAM))
        return hipErrorInvalidHandle;
    free(stream);
    return hipSuccess;
}

hipError_t hipStreamIsCapturing(hipStream_t stream, hipStreamCaptureStatus *status)
{
    if (!status)
        return hipErrorInvalidValue;
    if (!hsim_stream_valid(stream))
        return hipErrorInvalidHandle;
    *status = hipStreamCaptureStatusNone;
    return hipSuccess;
}

/* ------------------------------------------------------------------ pools */

hipError_t hipDeviceGetDefaultMemPool(hipMemPool_t *pool, int dev)
{
    if (!pool)
        return hipErrorInvalidValue;
    hipError_t r = hsim_check_device(dev);
    if (r != hipSuccess)
        return r;
    pthread_once(&pools_once, register_default_pools);
    *pool = (hipMemPool_t)&default_pools[dev];
    return hipSuccess;
}

hipError_t hipDeviceGetMemPool(hipMemPool_t *pool, int dev)
{
    return hipDeviceGetDefaultMemPool(pool, dev);
}

hipError_t hipMemPoolCreate(hipMemPool_t *pool, const hipMemPoolProps *props)
{
    if (!pool || !props || props->location.type != hipMemLocationTypeDevice)
        return hipErrorInvalidValue;
    hipError_t r = hsim_check_device(props->location.id);
    if (r != hipSuccess)
        return r;
    struct hsim_pool *p = calloc(1, sizeof *p);
    if (!p)
        return hipErrorOutOfMemory;
    p->dev = props->location.id;
    pthread_once(&pools_once, register_default_pools);
    hsim_handle_add(p, HSIM_H_POOL);
    *pool = (hipMemPool_t)p;
    return hipSuccess;
}

hipError_t hipMemPoolDestroy(hipMemPool_t pool)
{
    pthread_once(&pools_once, register_default_pools);
    struct hsim_pool *p = (struct hsim_pool *)pool;
    if (!p || (p >= default_pools && p < default_pools + SIM_SETTINGS_MAX_DEVICES))
        return hipErrorInvalidValue; /* default pools cannot be destroyed */
    if (!hsim_handle_take(p, HSIM_H_POOL))
        return hipErrorInvalidValue;
    free(p);
    return hipSuccess;
}

hipError_t hipMemPoolSetAttribute(hipMemPool_t pool, hipMemPoolAttr attr, void *value)
{
    if (!pool_valid(pool) || !value)
        return hipErrorInvalidValue;
    if (attr != hipMemPoolAttrReleaseThreshold)
        return hipErrorNotSupported;
    ((struct hsim_pool *)pool)->threshold = *(uint64_t *)value;
    return hipSuccess;
}

hipError_t hipMemPoolGetAttribute(hipMemPool_t pool, hipMemPoolAttr attr, void *value)
{
    if (!pool_valid(pool) || !value)
        return hipErrorInvalidValue;
    if (attr != hipMemPoolAttrReleaseThreshold)
        return hipErrorNotSupported;
    *(uint64_t *)value = ((struct hsim_pool *)pool)->threshold;
    return hipSuccess;
}

hipError_t hipMemPoolTrimTo(hipMemPool_t pool, size_t min_bytes_to_hold)
{
    (void)min_bytes_to_hold;
    return pool_valid(pool) ? hipSuccess : hipErrorInvalidValue;
}

/* ------------------------------------------------------------------ stream-ordered allocation */

static hipError_t alloc_on(void **ptr, size_t size, int dev, hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!ptr || size == 0)
        return hipErrorInvalidValue;
    if (!hsim_stream_valid(stream))
        return hipErrorInvalidHandle;
    return hsim_alloc(ptr, size, dev, HSIM_DEVICE);
}

hipError_t hipMallocAsync(void **ptr, size_t size, hipStream_t stream)
{
    return alloc_on(ptr, size, hsim_current_device(), stream);
}

hipError_t hipMallocFromPoolAsync(void **ptr, size_t size, hipMemPool_t pool, hipStream_t stream)
{
    if (!pool_valid(pool))
        return hipErrorInvalidValue;
    return alloc_on(ptr, size, ((struct hsim_pool *)pool)->dev, stream);
}

hipError_t hipFreeAsync(void *ptr, hipStream_t stream)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!hsim_stream_valid(stream))
        return hipErrorInvalidHandle;
    return hsim_free(ptr, HSIM_DEVICE);
}
