/* Simulated HIP device memory: the allocation registry, hipMalloc, hipMallocPitch, hipMalloc3D,
 * hipFree, hipMemGetInfo, hipMemcpy, hipMemset and hipDeviceReset.
 *
 * Device pointers are real host addresses: each allocation is its own anonymous private mapping
 * with MAP_NORESERVE, so copies are memcpy, untouched pages cost nothing, and a stray access past
 * the end faults. Bytes are accounted against the physical GPU's VRAM by the rule shared with the
 * simulated CUDA driver (../sim_settings.h), in the machine-wide table (../sim_usage.h). The registry (a tsearch tree of address ranges under
 * a mutex) answers "which allocation holds this address" for copies and lets free refuse unknown
 * pointers and double frees with hipErrorInvalidValue, as HIP does. */
#include "hsim.h"
#include "tests/simgpu/sim_usage.h"

#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Row pitch of hipMallocPitch and hipMalloc3D (smaller than grey's 512-byte estimate, so that
 * the hook's settle-down path is exercised). */
#define HSIM_PITCH 256u

typedef struct hsim_range {
    uintptr_t base;
    size_t size;
    uint64_t acct;
    int dev;
    hsim_kind kind;
} hsim_range;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static void *reg_root;

/* Ranges compare equal when they overlap, so a one-byte key finds the allocation holding it. */
static int range_cmp(const void *a, const void *b)
{
    const hsim_range *x = a, *y = b;
    if (x->base + x->size <= y->base)
        return -1;
    if (y->base + y->size <= x->base)
        return 1;
    return 0;
}

/* Callers hold reg_lock. */
static hsim_range *reg_find(uintptr_t addr)
{
    hsim_range key = {.base = addr, .size = 1};
    void *node = tfind(&key, &reg_root, range_cmp);
    return node ? *(hsim_range **)node : NULL;
}

/* The physical GPU's memory, shared with every process on the machine (../sim_usage.h). */
bool hsim_vram_take(int dev, uint64_t n)
{
    return sim_usage_charge(hsim_devices[dev].phys, hsim_devices[dev].vram_bytes, n);
}

void hsim_vram_give(int dev, uint64_t n)
{
    sim_usage_release(hsim_devices[dev].phys, n);
}

hipError_t hsim_alloc(void **out, size_t n, int dev, hsim_kind kind)
{
    uint64_t acct = sim_accounted_bytes(n);
    if (!acct || !hsim_vram_take(dev, acct))
        return hipErrorOutOfMemory;
    hsim_range *a = calloc(1, sizeof *a);
    void *p = a ? mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                : MAP_FAILED;
    if (p == MAP_FAILED) {
        free(a);
        hsim_vram_give(dev, acct);
        return hipErrorOutOfMemory;
    }
    *a = (hsim_range){.base = (uintptr_t)p, .size = n, .acct = acct, .dev = dev, .kind = kind};
    pthread_mutex_lock(&reg_lock);
    void *node = tsearch(a, &reg_root, range_cmp);
    pthread_mutex_unlock(&reg_lock);
    if (!node) {
        munmap(p, n);
        free(a);
        hsim_vram_give(dev, acct);
        return hipErrorOutOfMemory;
    }
    *out = p;
    return hipSuccess;
}

static void destroy(hsim_range *a)
{
    munmap((void *)a->base, a->size);
    hsim_vram_give(a->dev, a->acct);
    free(a);
}

hipError_t hsim_free(void *p, hsim_kind kind)
{
    pthread_mutex_lock(&reg_lock);
    hsim_range *a = p ? reg_find((uintptr_t)p) : NULL;
    if (!a || a->base != (uintptr_t)p || a->kind != kind) {
        pthread_mutex_unlock(&reg_lock);
        return hipErrorInvalidValue;
    }
    tdelete(a, &reg_root, range_cmp);
    pthread_mutex_unlock(&reg_lock);
    destroy(a);
    return hipSuccess;
}

hipError_t hsim_check_range(const void *p, size_t n)
{
    if (n == 0)
        return hipSuccess;
    pthread_mutex_lock(&reg_lock);
    const hsim_range *a = p ? reg_find((uintptr_t)p) : NULL;
    bool ok = a && a->kind == HSIM_DEVICE && n <= a->size - ((uintptr_t)p - a->base);
    pthread_mutex_unlock(&reg_lock);
    return ok || hsim_vmm_mapped(p, n) ? hipSuccess : hipErrorInvalidValue;
}

/* twalk has no context argument: hipDeviceReset is rare and serialized by reg_lock. */
static int reset_dev;
static hsim_range *doomed[4096];
static size_t ndoomed;

static void collect(const void *node, VISIT which, int depth)
{
    (void)depth;
    hsim_range *a = *(hsim_range *const *)node;
    if ((which == postorder || which == leaf) && a->dev == reset_dev && a->kind == HSIM_DEVICE &&
        ndoomed < sizeof doomed / sizeof doomed[0])
        doomed[ndoomed++] = a;
}

void hsim_release_device(int dev)
{
    pthread_mutex_lock(&reg_lock);
    do {
        reset_dev = dev;
        ndoomed = 0;
        twalk(reg_root, collect);
        for (size_t i = 0; i < ndoomed; i++) {
            tdelete(doomed[i], &reg_root, range_cmp);
            destroy(doomed[i]);
        }
    } while (ndoomed == sizeof doomed / sizeof doomed[0]);
    pthread_mutex_unlock(&reg_lock);
}

/* ------------------------------------------------------------------ API */

/* HIP: a zero-byte request succeeds with a NULL pointer and allocates nothing. */
hipError_t hipMalloc(void **ptr, size_t size)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!ptr)
        return hipErrorInvalidValue;
    if (size == 0) {
        *ptr = NULL;
        return hipSuccess;
    }
    return hsim_alloc(ptr, size, hsim_current_device(), HSIM_DEVICE);
}

hipError_t hipFree(void *ptr)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess || !ptr)
        return r;
    return hsim_free(ptr, HSIM_DEVICE);
}

static size_t pitch_of(size_t width)
{
    return (width + HSIM_PITCH - 1) / HSIM_PITCH * HSIM_PITCH;
}

hipError_t hipMallocPitch(void **ptr, size_t *pitch, size_t width, size_t height)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!ptr || !pitch)
        return hipErrorInvalidValue;
    if (width == 0 || height == 0) {
        *ptr = NULL;
        *pitch = 0;
        return hipSuccess;
    }
    size_t p = pitch_of(width), bytes;
    if (p < width || __builtin_mul_overflow(p, height, &bytes))
        return hipErrorOutOfMemory;
    r = hsim_alloc(ptr, bytes, hsim_current_device(), HSIM_DEVICE);
    if (r == hipSuccess)
        *pitch = p;
    return r;
}

hipError_t hipMalloc3D(hipPitchedPtr *pitched, hipExtent extent)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!pitched)
        return hipErrorInvalidValue;
    if (extent.width == 0 || extent.height == 0 || extent.depth == 0)
        return hipErrorInvalidValue;
    size_t p = pitch_of(extent.width), bytes;
    if (p < extent.width || __builtin_mul_overflow(p, extent.height, &bytes) ||
        __builtin_mul_overflow(bytes, extent.depth, &bytes))
        return hipErrorOutOfMemory;
    void *ptr;
    r = hsim_alloc(&ptr, bytes, hsim_current_device(), HSIM_DEVICE);
    if (r == hipSuccess)
        *pitched = (hipPitchedPtr){.ptr = ptr, .pitch = p, .xsize = extent.width, .ysize = extent.height};
    return r;
}

hipError_t hipMemGetInfo(size_t *free_bytes, size_t *total)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (!free_bytes || !total)
        return hipErrorInvalidValue;
    const hsim_device *d = &hsim_devices[hsim_current_device()];
    uint64_t used = sim_usage_used(d->phys);
    *total = (size_t)d->vram_bytes;
    *free_bytes = (size_t)(used < d->vram_bytes ? d->vram_bytes - used : 0);
    return hipSuccess;
}

/* Device sides of a copy must lie inside a live allocation; host sides are any memory. */
hipError_t hipMemcpy(void *dst, const void *src, size_t n, hipMemcpyKind kind)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (n == 0)
        return hipSuccess;
    if (!dst || !src)
        return hipErrorInvalidValue;
    bool dst_dev, src_dev;
    switch (kind) {
    case hipMemcpyHostToHost: dst_dev = false; src_dev = false; break;
    case hipMemcpyHostToDevice: dst_dev = true; src_dev = false; break;
    case hipMemcpyDeviceToHost: dst_dev = false; src_dev = true; break;
    case hipMemcpyDeviceToDevice: dst_dev = true; src_dev = true; break;
    case hipMemcpyDefault: dst_dev = false; src_dev = false; break; /* unified: either */
    default: return hipErrorInvalidMemcpyDirection;
    }
    if ((dst_dev && hsim_check_range(dst, n) != hipSuccess) || (src_dev && hsim_check_range(src, n) != hipSuccess))
        return hipErrorInvalidValue;
    hsim_device_wait(hsim_current_device()); /* like HIP's: after the device's earlier work */
    memmove(dst, src, n);
    return hipSuccess;
}

hipError_t hipMemset(void *dst, int value, size_t n)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    if (hsim_check_range(dst, n) != hipSuccess)
        return hipErrorInvalidValue;
    memset(dst, value, n);
    return hipSuccess;
}

/* The stream-ordered forms: done at once (copies and memsets take no simulated time, as in the
 * CUDA simulator), after the device's earlier work for a copy, as hipMemcpy is. */
hipError_t hipMemcpyAsync(void *dst, const void *src, size_t n, hipMemcpyKind kind, hipStream_t stream)
{
    (void)stream;
    return hipMemcpy(dst, src, n, kind);
}

hipError_t hipMemsetAsync(void *dst, int value, size_t n, hipStream_t stream)
{
    (void)stream;
    return hipMemset(dst, value, n);
}

/* Every allocation on the current device is gone afterwards, and so are its pools' contents. */
hipError_t hipDeviceReset(void)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    int dev = hsim_current_device();
    hsim_release_device(dev);
    hsim_pools_reset(dev);
    return hipSuccess;
}
