/* Device memory: allocation, free, accounting against GREY_SIM_VRAM, and the allocation registry.
 *
 * Device pointers are real host addresses. Each allocation is its own anonymous private mapping
 * with MAP_NORESERVE, so cuMemcpy* can use memcpy, untouched pages cost nothing (a test can
 * "allocate" 80 GiB on a laptop), and a stray access past the end faults instead of silently
 * corrupting a neighbour.
 *
 * Accounting: bytes in use count against the VRAM of the physical device behind the context's
 * ordinal, shared by every process on the machine (sim_usage.h), so that concurrent allocations,
 * from this process or any other, never together exceed it, and a process's memory is freed when
 * it exits. Sizes are rounded up to 512 bytes, the granularity at which the real driver hands out
 * small allocations, so that cuMemGetInfo moves the way it does on hardware. The simulator
 * reserves nothing for the context itself: free + used == total exactly, which keeps the tests'
 * arithmetic exact (with other processes on the same GPU, free is what they leave).
 *
 * The registry (address range -> size, device, context) is a binary tree (tsearch) under a mutex.
 * It answers "which allocation contains this address" for cuMemGetAddressRange and for the range
 * checks of copies, and lets free refuse unknown pointers and double frees with
 * CUDA_ERROR_INVALID_VALUE, as the real driver does. A doubly linked list through the same
 * records lets a context's destruction free its allocations. */
#include "sim_internal.h"

#include <string.h>
#include "sim_settings.h"
#include "sim_usage.h"

#include <limits.h>
#include <search.h>
#include <stdlib.h>
#include <sys/mman.h>

#define SIM_ALLOC_GRANULARITY SIM_ACCOUNT_GRANULARITY

/* ALLOC_HOST: pinned host memory the simulator mapped (cuMemAllocHost, cuMemHostAlloc);
 * ALLOC_REGISTERED: the program's own memory, page-locked by cuMemHostRegister (never unmapped
 * here). Neither counts against VRAM. */
typedef enum { ALLOC_DEVICE, ALLOC_HOST, ALLOC_REGISTERED } alloc_kind;

typedef struct sim_alloc {
    uintptr_t base;
    size_t size;        /* as requested; what cuMemGetAddressRange reports */
    size_t map_len;     /* what was mmapped (never 0) */
    uint64_t acct;      /* bytes counted against the device (0 for pinned host memory) */
    CUdevice dev;
    CUcontext ctx;
    alloc_kind kind;
    unsigned host_flags; /* pinned host memory: the CU_MEMHOSTALLOC_* or CU_MEMHOSTREGISTER_* flags */
    struct sim_alloc *prev, *next;
} sim_alloc;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static void *reg_root;        /* tsearch tree of sim_alloc, ordered by address range */
static sim_alloc *reg_list;   /* every live record, for per-context cleanup */

/* Orders records by address range; two records compare equal when their ranges overlap, which
 * makes a one-byte key find the allocation containing it. Live ranges never overlap. */
static int range_cmp(const void *a, const void *b)
{
    const sim_alloc *x = a, *y = b;
    if (x->base + x->map_len <= y->base)
        return -1;
    if (y->base + y->map_len <= x->base)
        return 1;
    return 0;
}

/* Callers hold reg_lock. */
static sim_alloc *reg_find(uintptr_t addr)
{
    sim_alloc key = {.base = addr, .map_len = 1};
    void *node = tfind(&key, &reg_root, range_cmp);
    return node ? *(sim_alloc **)node : NULL;
}

static bool reg_insert(sim_alloc *a)
{
    pthread_mutex_lock(&reg_lock);
    void *node = tsearch(a, &reg_root, range_cmp);
    if (node) {
        a->prev = NULL;
        a->next = reg_list;
        if (reg_list)
            reg_list->prev = a;
        reg_list = a;
    }
    pthread_mutex_unlock(&reg_lock);
    return node != NULL;
}

/* Callers hold reg_lock. */
static void reg_remove(sim_alloc *a)
{
    tdelete(a, &reg_root, range_cmp);
    if (a->prev)
        a->prev->next = a->next;
    else
        reg_list = a->next;
    if (a->next)
        a->next->prev = a->prev;
}

/* ------------------------------------------------------------------ accounting */

/* Bytes count against the physical device behind the ordinal, in the table every process on the
 * machine shares (sim_usage.h): a GPU's VRAM is one, whoever uses it and by which ordinal. */
static bool vram_reserve(CUdevice dev, uint64_t n)
{
    return sim_usage_charge(sim_devices[dev].phys, sim_devices[dev].vram_bytes, n);
}

static void vram_release(CUdevice dev, uint64_t n)
{
    sim_usage_release(sim_devices[dev].phys, n);
}

/* Copies and memsets read and write device memory under this lock's read side, checked against
 * the registry inside it; unmapping takes the write side. Without it, a thread that frees a buffer
 * while another copies from it (grey's snapshot thread fingerprints buffers the program may free
 * meanwhile) would fault on the unmapped pages, where the driver refuses the copy. */
static pthread_rwlock_t use_lock = PTHREAD_RWLOCK_INITIALIZER;

static void alloc_destroy(sim_alloc *a)
{
    pthread_rwlock_wrlock(&use_lock);
    if (a->kind != ALLOC_REGISTERED) /* registered memory is the program's own: it stays mapped */
        munmap((void *)a->base, a->map_len);
    pthread_rwlock_unlock(&use_lock);
    if (a->acct)
        vram_release(a->dev, a->acct);
    free(a);
}

/* ------------------------------------------------------------------ allocate and free */

/* low32: the CUDA 2.x entry points return 32-bit device pointers, so their memory has to come
 * from the low 2 GiB of the address space (MAP_32BIT); elsewhere they are not supported. */
static CUresult mem_alloc(uintptr_t *out, size_t bytesize, alloc_kind kind, bool low32)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!out || bytesize == 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (bytesize > SIZE_MAX - SIM_ALLOC_GRANULARITY)
        return CUDA_ERROR_OUT_OF_MEMORY;

    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (low32) {
#ifdef MAP_32BIT
        flags |= MAP_32BIT;
#else
        return CUDA_ERROR_NOT_SUPPORTED;
#endif
    }

    uint64_t acct = 0;
    if (kind == ALLOC_DEVICE) {
        acct = (bytesize + SIM_ALLOC_GRANULARITY - 1) & ~(SIM_ALLOC_GRANULARITY - 1);
        if (!vram_reserve(ctx->dev, acct))
            return CUDA_ERROR_OUT_OF_MEMORY;
    }
    sim_alloc *a = calloc(1, sizeof *a);
    void *p = a ? mmap(NULL, bytesize, PROT_READ | PROT_WRITE, flags, -1, 0) : MAP_FAILED;
    if (p == MAP_FAILED) {
        free(a);
        if (acct)
            vram_release(ctx->dev, acct);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *a = (sim_alloc){.base = (uintptr_t)p, .size = bytesize, .map_len = bytesize,
                     .acct = acct, .dev = ctx->dev, .ctx = ctx, .kind = kind};
    if (!reg_insert(a)) {
        alloc_destroy(a);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *out = (uintptr_t)p;
    return CUDA_SUCCESS;
}

/* Only the exact base of a live allocation of the right kind may be freed. */
static CUresult mem_free(uintptr_t ptr, alloc_kind kind)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&reg_lock);
    sim_alloc *a = ptr ? reg_find(ptr) : NULL;
    if (!a || a->base != ptr || a->kind != kind) {
        pthread_mutex_unlock(&reg_lock);
        return CUDA_ERROR_INVALID_VALUE;
    }
    reg_remove(a);
    pthread_mutex_unlock(&reg_lock);
    alloc_destroy(a);
    return CUDA_SUCCESS;
}

bool sim_vram_reserve(CUdevice dev, uint64_t n) { return vram_reserve(dev, n); }
void sim_vram_release(CUdevice dev, uint64_t n) { vram_release(dev, n); }

CUresult sim_mem_alloc_device(uintptr_t *out, size_t bytesize)
{
    return mem_alloc(out, bytesize, ALLOC_DEVICE, false);
}

CUresult sim_mem_alloc_device_low32(uintptr_t *out, size_t bytesize)
{
    CUresult r = mem_alloc(out, bytesize, ALLOC_DEVICE, true);
    if (r == CUDA_SUCCESS && *out > UINT_MAX) { /* MAP_32BIT is only a request; never truncate */
        mem_free(*out, ALLOC_DEVICE);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return r;
}

CUresult sim_mem_free_device(uintptr_t ptr)
{
    return mem_free(ptr, ALLOC_DEVICE);
}

void sim_mem_release_context(CUcontext ctx)
{
    sim_alloc *doomed = NULL;
    pthread_mutex_lock(&reg_lock);
    for (sim_alloc *a = reg_list, *next; a; a = next) {
        next = a->next;
        if (a->ctx == ctx) {
            reg_remove(a);
            a->next = doomed;
            doomed = a;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    while (doomed) {
        sim_alloc *next = doomed->next;
        alloc_destroy(doomed);
        doomed = next;
    }
}

CUresult sim_mem_check(CUdeviceptr ptr, size_t n, sim_mem_need need)
{
    if (n == 0)
        return CUDA_SUCCESS;
    pthread_mutex_lock(&reg_lock);
    const sim_alloc *a = reg_find((uintptr_t)ptr);
    bool ok;
    if (a)
        ok = (uintptr_t)ptr - a->base <= a->size && n <= a->size - ((uintptr_t)ptr - a->base);
    else
        ok = need == SIM_MEM_ANY && ptr != 0;
    pthread_mutex_unlock(&reg_lock);
    if (!a && !ok)
        ok = sim_vmm_mapped_range(ptr, n); /* VMM mappings are device memory too */
    return ok ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult sim_mem_move(CUdeviceptr dst, sim_mem_need dst_need, CUdeviceptr src, sim_mem_need src_need, size_t n)
{
    pthread_rwlock_rdlock(&use_lock);
    CUresult r = sim_mem_check(dst, n, dst_need);
    if (r == CUDA_SUCCESS)
        r = sim_mem_check(src, n, src_need);
    if (r == CUDA_SUCCESS)
        memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
    pthread_rwlock_unlock(&use_lock);
    return r;
}

CUresult sim_mem_fill(CUdeviceptr dst, unsigned int value, size_t width, size_t n)
{
    pthread_rwlock_rdlock(&use_lock);
    CUresult r = sim_mem_check(dst, n * width, SIM_MEM_DEVICE);
    if (r == CUDA_SUCCESS) {
        if (width == 1) {
            memset((void *)(uintptr_t)dst, (int)(value & 0xff), n);
        } else if (width == 2) {
            uint16_t *p = (uint16_t *)(uintptr_t)dst;
            for (size_t i = 0; i < n; i++)
                p[i] = (uint16_t)value;
        } else {
            uint32_t *p = (uint32_t *)(uintptr_t)dst;
            for (size_t i = 0; i < n; i++)
                p[i] = value;
        }
    }
    pthread_rwlock_unlock(&use_lock);
    return r;
}

/* ------------------------------------------------------------------ API */

CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
    uintptr_t p = 0;
    CUresult r = mem_alloc(dptr ? &p : NULL, bytesize, ALLOC_DEVICE, false);
    if (r == CUDA_SUCCESS)
        *dptr = (CUdeviceptr)p;
    return r;
}

/* The driver API reference does not say what cuMemFree does with 0; the runtime documents
 * cudaFree(0) as "no operation" and CUDA 13's runtime passes the 0 down (cudaFree(0) is the idiom
 * that starts it), so 0 is accepted as a no-op once a context is current (docs/simgpu.md). */
CUresult CUDAAPI cuMemFree_v2(CUdeviceptr dptr)
{
    CUcontext ctx;
    if (dptr == 0)
        return sim_ctx_require(&ctx);
    return mem_free((uintptr_t)dptr, ALLOC_DEVICE);
}

CUresult CUDAAPI cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!free_bytes || !total)
        return CUDA_ERROR_INVALID_VALUE;
    const sim_device *d = &sim_devices[ctx->dev];
    uint64_t used = sim_usage_used(d->phys);
    *total = (size_t)d->vram_bytes;
    *free_bytes = (size_t)(used < d->vram_bytes ? d->vram_bytes - used : 0);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemGetAddressRange_v2(CUdeviceptr *pbase, size_t *psize, CUdeviceptr dptr)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&reg_lock);
    const sim_alloc *a = reg_find((uintptr_t)dptr);
    if (a && a->kind == ALLOC_DEVICE && (uintptr_t)dptr - a->base < a->size) {
        if (pbase)
            *pbase = (CUdeviceptr)a->base;
        if (psize)
            *psize = a->size;
    } else {
        r = CUDA_ERROR_NOT_FOUND;
    }
    pthread_mutex_unlock(&reg_lock);
    /* A cuMemMap'd address: the reference speaks only of cuMemAlloc and cuMemAllocPitch. NCCL
     * frees its cuMem buffers by asking this for the size to cuMemUnmap and cuMemAddressFree, so
     * the answer is the mapping the pointer lies in (docs/simgpu.md). */
    uintptr_t base;
    size_t size;
    if (r == CUDA_ERROR_NOT_FOUND && sim_vmm_mapping_of(dptr, &base, &size)) {
        if (pbase)
            *pbase = (CUdeviceptr)base;
        if (psize)
            *psize = size;
        r = CUDA_SUCCESS;
    }
    return r;
}

/* ------------------------------------------------------------------ pinned host memory
 * The registry's part of sim_host_memory.c: host memory the device can reach, never counted
 * against VRAM. */

CUresult sim_mem_host_alloc(void **pp, size_t bytesize, unsigned flags)
{
    uintptr_t p = 0;
    CUresult r = mem_alloc(pp ? &p : NULL, bytesize, ALLOC_HOST, false);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&reg_lock);
    reg_find(p)->host_flags = flags;
    pthread_mutex_unlock(&reg_lock);
    *pp = (void *)p;
    return CUDA_SUCCESS;
}

CUresult sim_mem_host_free(void *p)
{
    return mem_free((uintptr_t)p, ALLOC_HOST);
}

CUresult sim_mem_host_register(void *p, size_t bytesize, unsigned flags)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!p || bytesize == 0 || (uintptr_t)p > UINTPTR_MAX - bytesize)
        return CUDA_ERROR_INVALID_VALUE;
    sim_alloc *a = calloc(1, sizeof *a);
    if (!a)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *a = (sim_alloc){.base = (uintptr_t)p, .size = bytesize, .map_len = bytesize, .dev = ctx->dev, .ctx = ctx,
                     .kind = ALLOC_REGISTERED, .host_flags = flags};
    pthread_mutex_lock(&reg_lock);
    sim_alloc key = {.base = (uintptr_t)p, .map_len = bytesize};
    bool taken = tfind(&key, &reg_root, range_cmp) != NULL; /* overlaps a live range */
    pthread_mutex_unlock(&reg_lock);
    if (taken) {
        free(a);
        return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
    }
    if (!reg_insert(a)) {
        free(a);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    return CUDA_SUCCESS;
}

CUresult sim_mem_host_unregister(void *p)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&reg_lock);
    sim_alloc *a = p ? reg_find((uintptr_t)p) : NULL;
    if (!a || a->base != (uintptr_t)p || a->kind != ALLOC_REGISTERED) {
        pthread_mutex_unlock(&reg_lock);
        return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
    }
    reg_remove(a);
    pthread_mutex_unlock(&reg_lock);
    alloc_destroy(a);
    return CUDA_SUCCESS;
}

bool sim_mem_describe(uintptr_t p, sim_mem_desc *out)
{
    pthread_mutex_lock(&reg_lock);
    const sim_alloc *a = p ? reg_find(p) : NULL;
    if (a && p - a->base < a->size)
        *out = (sim_mem_desc){.base = a->base, .size = a->size, .ctx = a->ctx, .dev = a->dev,
                              .host = a->kind != ALLOC_DEVICE};
    pthread_mutex_unlock(&reg_lock);
    return a && p - a->base < a->size;
}

bool sim_mem_host_find(const void *p, unsigned *flags, bool *registered)
{
    pthread_mutex_lock(&reg_lock);
    const sim_alloc *a = p ? reg_find((uintptr_t)p) : NULL;
    bool found = a && (a->kind == ALLOC_HOST || a->kind == ALLOC_REGISTERED);
    if (found) {
        *flags = a->host_flags;
        *registered = a->kind == ALLOC_REGISTERED;
    }
    pthread_mutex_unlock(&reg_lock);
    return found;
}

/* ------------------------------------------------------------------ CUDA 2.x (32-bit) forms */

CUresult CUDAAPI cuMemAlloc(CUdeviceptr_v1 *dptr, unsigned int bytesize)
{
    uintptr_t p = 0;
    CUresult r = dptr ? sim_mem_alloc_device_low32(&p, bytesize) : mem_alloc(NULL, bytesize, ALLOC_DEVICE, true);
    if (r == CUDA_SUCCESS)
        *dptr = (CUdeviceptr_v1)p;
    return r;
}

CUresult CUDAAPI cuMemFree(CUdeviceptr_v1 dptr)
{
    return mem_free((uintptr_t)dptr, ALLOC_DEVICE);
}

CUresult CUDAAPI cuMemGetInfo(unsigned int *free_bytes, unsigned int *total)
{
    size_t f, t;
    if (!free_bytes || !total)
        return cuMemGetInfo_v2(NULL, NULL);
    CUresult r = cuMemGetInfo_v2(&f, &t);
    if (r == CUDA_SUCCESS) {
        *free_bytes = f > UINT_MAX ? UINT_MAX : (unsigned int)f;
        *total = t > UINT_MAX ? UINT_MAX : (unsigned int)t;
    }
    return r;
}
