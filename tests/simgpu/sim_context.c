/* Contexts: the per-thread context stack, created contexts and the refcounted primary contexts.
 *
 * Each thread has its own stack (thread-local); its top is the current context, which every
 * memory, module and launch call uses to find the device. A context belongs to one device.
 *
 * Context structs are never freed: a destroyed context stays as a "dead" record so that a stale
 * handle (still on another thread's stack, or kept by a program) is answered with
 * CUDA_ERROR_CONTEXT_IS_DESTROYED instead of touching freed memory. Programs create few contexts,
 * so this costs nothing measurable. Lifecycle changes take sim_ctx_lock; the hot paths only read
 * the thread's own stack and an atomic flag. */
#include "sim_internal.h"

#include <stdlib.h>

#define SIM_CTX_STACK_MAX 256
/* What cuCtxGetApiVersion reports for contexts made through the v2+ API (CUDA 3.2 onwards). */
#define SIM_CTX_API_VERSION 3020

static pthread_mutex_t sim_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct CUctx_st primaries[SIM_MAX_DEVICES];

static _Thread_local CUcontext ctx_stack[SIM_CTX_STACK_MAX];
static _Thread_local int ctx_depth;

CUcontext sim_ctx_current(void)
{
    return ctx_depth > 0 ? ctx_stack[ctx_depth - 1] : NULL;
}

CUresult sim_ctx_check(CUcontext ctx)
{
    if (!ctx || ctx->magic != SIM_CTX_MAGIC)
        return CUDA_ERROR_INVALID_CONTEXT;
    if (!atomic_load(&ctx->alive))
        return ctx->primary ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_CONTEXT_IS_DESTROYED;
    return CUDA_SUCCESS;
}

CUresult sim_ctx_require(CUcontext *out)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx = sim_ctx_current();
    if (!ctx)
        return CUDA_ERROR_INVALID_CONTEXT;
    r = sim_ctx_check(ctx);
    if (r == CUDA_SUCCESS)
        *out = ctx;
    return r;
}

static void ctx_reset_state(CUcontext ctx, CUdevice dev, unsigned int flags, bool primary)
{
    ctx->magic = SIM_CTX_MAGIC;
    ctx->dev = dev;
    ctx->phys = sim_devices[dev].phys;
    ctx->flags = flags;
    ctx->primary = primary;
    atomic_store(&ctx->legacy_stream.tail_ns, 0);
    atomic_store(&ctx->last_done_ns, 0);
}

/* Scheduling must be one of the documented values, and no unknown bit may be set. */
static bool ctx_flags_valid(unsigned int flags)
{
    unsigned int sched = flags & CU_CTX_SCHED_MASK;
    if (flags & ~(unsigned int)CU_CTX_FLAGS_MASK)
        return false;
    return sched == CU_CTX_SCHED_AUTO || sched == CU_CTX_SCHED_SPIN ||
           sched == CU_CTX_SCHED_YIELD || sched == CU_CTX_SCHED_BLOCKING_SYNC;
}

/* Removes every occurrence of ctx from this thread's stack (only this thread's: other threads'
 * stacks are theirs; they will see the context as destroyed). */
static void ctx_unstack(CUcontext ctx)
{
    int w = 0;
    for (int i = 0; i < ctx_depth; i++)
        if (ctx_stack[i] != ctx)
            ctx_stack[w++] = ctx_stack[i];
    ctx_depth = w;
}

/* ------------------------------------------------------------------ the context stack */

CUresult CUDAAPI cuCtxPushCurrent_v2(CUcontext ctx)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if ((r = sim_ctx_check(ctx)) != CUDA_SUCCESS)
        return r;
    if (ctx_depth == SIM_CTX_STACK_MAX)
        return CUDA_ERROR_OUT_OF_MEMORY;
    ctx_stack[ctx_depth++] = ctx;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxPopCurrent_v2(CUcontext *pctx)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (ctx_depth == 0)
        return CUDA_ERROR_INVALID_CONTEXT;
    CUcontext ctx = ctx_stack[--ctx_depth];
    if (pctx)
        *pctx = ctx;
    return CUDA_SUCCESS;
}

/* The documented rule: replace the top of the stack; NULL pops (a no-op on an empty stack). */
CUresult CUDAAPI cuCtxSetCurrent(CUcontext ctx)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!ctx) {
        if (ctx_depth > 0)
            ctx_depth--;
        return CUDA_SUCCESS;
    }
    if ((r = sim_ctx_check(ctx)) != CUDA_SUCCESS)
        return r;
    if (ctx_depth == 0)
        ctx_depth = 1;
    ctx_stack[ctx_depth - 1] = ctx;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxGetCurrent(CUcontext *pctx)
{
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    *pctx = sim_ctx_current();
    return CUDA_SUCCESS;
}

/* ------------------------------------------------------------------ created contexts */

static CUresult ctx_create(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!ctx_flags_valid(flags))
        return CUDA_ERROR_INVALID_VALUE;
    if (ctx_depth == SIM_CTX_STACK_MAX)
        return CUDA_ERROR_OUT_OF_MEMORY;
    CUcontext ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return CUDA_ERROR_OUT_OF_MEMORY;
    ctx_reset_state(ctx, dev, flags, false);
    atomic_store(&ctx->alive, true);
    ctx_stack[ctx_depth++] = ctx; /* a new context is made current, as documented */
    *pctx = ctx;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    return ctx_create(pctx, flags, dev);
}

CUresult CUDAAPI cuCtxCreate(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
    return ctx_create(pctx, flags, dev);
}

/* Execution affinity (SM partitions) is not modelled: the parameters are accepted and ignored. */
CUresult CUDAAPI cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *paramsArray, int numParams,
                                unsigned int flags, CUdevice dev)
{
    if (numParams < 0 || (numParams > 0 && !paramsArray))
        return CUDA_ERROR_INVALID_VALUE;
    return ctx_create(pctx, flags, dev);
}

CUresult CUDAAPI cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *ctxCreateParams,
                                unsigned int flags, CUdevice dev)
{
    (void)ctxCreateParams;
    return ctx_create(pctx, flags, dev);
}

CUresult CUDAAPI cuCtxDestroy_v2(CUcontext ctx)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if ((r = sim_ctx_check(ctx)) != CUDA_SUCCESS)
        return r;
    if (ctx->primary)
        return CUDA_ERROR_INVALID_CONTEXT; /* primary contexts go through Release/Reset */
    pthread_mutex_lock(&sim_ctx_lock);
    bool was_alive = atomic_exchange(&ctx->alive, false);
    pthread_mutex_unlock(&sim_ctx_lock);
    if (!was_alive)
        return CUDA_ERROR_CONTEXT_IS_DESTROYED;
    sim_mem_release_context(ctx);
    sim_ctx_storage_drop(ctx);
    ctx_unstack(ctx);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxDestroy(CUcontext ctx) { return cuCtxDestroy_v2(ctx); }
CUresult CUDAAPI cuCtxPushCurrent(CUcontext ctx) { return cuCtxPushCurrent_v2(ctx); }
CUresult CUDAAPI cuCtxPopCurrent(CUcontext *pctx) { return cuCtxPopCurrent_v2(pctx); }

/* ------------------------------------------------------------------ queries */

CUresult CUDAAPI cuCtxGetDevice(CUdevice *device)
{
    if (!device)
        return CUDA_ERROR_INVALID_VALUE;
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r == CUDA_SUCCESS)
        *device = ctx->dev;
    return r;
}

/* CUDA 13: the context is named explicitly; NULL means the current one. */
CUresult CUDAAPI cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
    if (!device)
        return CUDA_ERROR_INVALID_VALUE;
    if (!ctx)
        return cuCtxGetDevice(device);
    CUresult r = sim_check_init();
    if (r == CUDA_SUCCESS && (r = sim_ctx_check(ctx)) == CUDA_SUCCESS)
        *device = ctx->dev;
    return r;
}

CUresult CUDAAPI cuCtxGetApiVersion(CUcontext ctx, unsigned int *version)
{
    if (!version)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = ctx ? sim_check_init() : sim_ctx_require(&ctx);
    if (r == CUDA_SUCCESS && (r = sim_ctx_check(ctx)) == CUDA_SUCCESS)
        *version = SIM_CTX_API_VERSION;
    return r;
}

CUresult CUDAAPI cuCtxGetFlags(unsigned int *flags)
{
    if (!flags)
        return CUDA_ERROR_INVALID_VALUE;
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r == CUDA_SUCCESS)
        *flags = ctx->flags;
    return r;
}

/* Waits for all work queued in the context (its latest completion time on any stream). */
static CUresult ctx_synchronize(CUcontext ctx)
{
    sim_timeline_wait(ctx->phys, atomic_load(&ctx->last_done_ns));
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSynchronize(void)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    return r == CUDA_SUCCESS ? ctx_synchronize(ctx) : r;
}

CUresult CUDAAPI cuCtxSynchronize_v2(CUcontext ctx)
{
    if (!ctx)
        return cuCtxSynchronize();
    CUresult r = sim_check_init();
    if (r == CUDA_SUCCESS && (r = sim_ctx_check(ctx)) == CUDA_SUCCESS)
        r = ctx_synchronize(ctx);
    return r;
}

/* ------------------------------------------------------------------ primary contexts */

static CUcontext primary_of(CUdevice dev)
{
    CUcontext ctx = &primaries[dev];
    if (ctx->magic != SIM_CTX_MAGIC) /* first use; callers hold sim_ctx_lock */
        ctx_reset_state(ctx, dev, 0, true);
    return ctx;
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&sim_ctx_lock);
    CUcontext ctx = primary_of(dev);
    if (ctx->primary_refs++ == 0)
        atomic_store(&ctx->alive, true);
    pthread_mutex_unlock(&sim_ctx_lock);
    *pctx = ctx;
    return CUDA_SUCCESS;
}

/* Deactivates the primary context and frees its memory; the flags survive, as documented.
 * Called with sim_ctx_lock held. */
static void primary_deactivate(CUcontext ctx)
{
    ctx->primary_refs = 0;
    atomic_store(&ctx->alive, false);
    sim_mem_release_context(ctx);
    atomic_store(&ctx->legacy_stream.tail_ns, 0);
    atomic_store(&ctx->last_done_ns, 0);
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&sim_ctx_lock);
    CUcontext ctx = primary_of(dev);
    bool deactivated = false;
    if (ctx->primary_refs == 0)
        r = CUDA_ERROR_INVALID_CONTEXT;
    else if ((deactivated = --ctx->primary_refs == 0))
        primary_deactivate(ctx);
    pthread_mutex_unlock(&sim_ctx_lock);
    if (deactivated)
        sim_ctx_storage_drop(ctx); /* outside the lock: its callbacks may call the driver */
    return r;
}

CUresult CUDAAPI cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&sim_ctx_lock);
    CUcontext ctx = primary_of(dev);
    bool deactivated = atomic_load(&ctx->alive);
    if (deactivated)
        primary_deactivate(ctx);
    pthread_mutex_unlock(&sim_ctx_lock);
    if (deactivated)
        sim_ctx_storage_drop(ctx); /* outside the lock: its callbacks may call the driver */
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags)
{
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!ctx_flags_valid(flags))
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&sim_ctx_lock);
    primary_of(dev)->flags = flags;
    pthread_mutex_unlock(&sim_ctx_lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
    if (!flags || !active)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&sim_ctx_lock);
    CUcontext ctx = primary_of(dev);
    *flags = ctx->flags;
    *active = atomic_load(&ctx->alive) ? 1 : 0;
    pthread_mutex_unlock(&sim_ctx_lock);
    return CUDA_SUCCESS;
}

/* The pre-11.0 forms: same arguments. (Before 11.0, SetFlags refused an active context.) */
CUresult CUDAAPI cuDevicePrimaryCtxRelease(CUdevice dev) { return cuDevicePrimaryCtxRelease_v2(dev); }
CUresult CUDAAPI cuDevicePrimaryCtxReset(CUdevice dev) { return cuDevicePrimaryCtxReset_v2(dev); }

CUresult CUDAAPI cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags)
{
    unsigned int cur;
    int active;
    CUresult r = cuDevicePrimaryCtxGetState(dev, &cur, &active);
    if (r != CUDA_SUCCESS)
        return r;
    if (active)
        return CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE;
    return cuDevicePrimaryCtxSetFlags_v2(dev, flags);
}
