/* Streams and events.
 *
 * A stream is a timeline (see sim_timeline.c) owned by a context. The special streams: NULL means
 * the context's legacy default stream, or the calling thread's per-thread default stream for the
 * _ptsz/_ptds entry points; CU_STREAM_LEGACY and CU_STREAM_PER_THREAD name them explicitly.
 * (The legacy stream's implicit synchronization with blocking streams is not modelled.)
 *
 * An event records the completion time of everything queued on its stream before it (a stamp,
 * sim_timeline.c: under GREY_SIM_SCHED=timeslice a position resolved once the device got there,
 * then kept as its time); querying compares that time with the clock, and the elapsed time
 * between two events is the difference of their completion times, as on hardware. Handles carry a magic number so that a wrong or
 * destroyed handle is refused with CUDA_ERROR_INVALID_HANDLE rather than trusted. */
#include "sim_internal.h"

#include <stdlib.h>

#define SIM_STREAM_MAGIC 0x475245595354524dULL /* "GREYSTRM" */
#define SIM_EVENT_MAGIC  0x4752455945564e54ULL /* "GREYEVNT" */
#define SIM_DEAD_MAGIC   0xdeadULL

/* The H100's range: lower numbers are higher priority. */
#define SIM_PRIORITY_LEAST    0
#define SIM_PRIORITY_GREATEST (-5)

struct CUstream_st {
    uint64_t magic;
    CUcontext ctx;
    unsigned int flags;
    int priority;
    sim_timeline tl;
};

struct CUevent_st {
    uint64_t magic;
    CUcontext ctx;
    unsigned int flags;
    _Atomic uint64_t done_ns; /* completion time of the last record; 0: never recorded */
};

/* One per thread: per-thread default streams are per thread (and, on hardware, per context;
 * a thread here rarely switches devices, and instantaneous work makes the difference moot). */
static _Thread_local sim_timeline per_thread_stream;

CUresult sim_stream_timeline(CUstream s, bool per_thread, CUcontext *ctx, sim_timeline **tl)
{
    if (s == NULL || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) {
        if (!*ctx)
            return CUDA_ERROR_INVALID_CONTEXT;
        bool pt = s == CU_STREAM_PER_THREAD || (s == NULL && per_thread);
        *tl = pt ? &per_thread_stream : &(*ctx)->legacy_stream;
        return CUDA_SUCCESS;
    }
    if (s->magic != SIM_STREAM_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    *ctx = s->ctx;
    *tl = &s->tl;
    return CUDA_SUCCESS;
}

/* Like sim_stream_timeline, but a current context is optional (only special streams need one). */
static CUresult resolve(CUstream s, bool per_thread, CUcontext *ctx, sim_timeline **tl)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    *ctx = sim_ctx_current();
    if (*ctx && (r = sim_ctx_check(*ctx)) != CUDA_SUCCESS)
        return r;
    return sim_stream_timeline(s, per_thread, ctx, tl);
}

static CUresult check_event(CUevent e)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return (e && e->magic == SIM_EVENT_MAGIC) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

/* ------------------------------------------------------------------ streams */

CUresult CUDAAPI cuStreamCreateWithPriority(CUstream *phStream, unsigned int flags, int priority)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (!phStream || (flags & ~(unsigned int)CU_STREAM_NON_BLOCKING))
        return CUDA_ERROR_INVALID_VALUE;
    CUstream s = calloc(1, sizeof *s);
    if (!s)
        return CUDA_ERROR_OUT_OF_MEMORY;
    /* Out-of-range priorities are clamped, as documented. */
    if (priority > SIM_PRIORITY_LEAST)
        priority = SIM_PRIORITY_LEAST;
    if (priority < SIM_PRIORITY_GREATEST)
        priority = SIM_PRIORITY_GREATEST;
    s->magic = SIM_STREAM_MAGIC;
    s->ctx = ctx;
    s->flags = flags;
    s->priority = priority;
    *phStream = s;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamCreate(CUstream *phStream, unsigned int Flags)
{
    return cuStreamCreateWithPriority(phStream, Flags, SIM_PRIORITY_LEAST);
}

CUresult CUDAAPI cuCtxGetStreamPriorityRange(int *leastPriority, int *greatestPriority)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (leastPriority)
        *leastPriority = SIM_PRIORITY_LEAST;
    if (greatestPriority)
        *greatestPriority = SIM_PRIORITY_GREATEST;
    return CUDA_SUCCESS;
}

/* Work still queued completes first (the driver defers the release until it has). */
CUresult CUDAAPI cuStreamDestroy_v2(CUstream hStream)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!hStream || hStream == CU_STREAM_LEGACY || hStream == CU_STREAM_PER_THREAD ||
        hStream->magic != SIM_STREAM_MAGIC)
        return CUDA_ERROR_INVALID_HANDLE;
    sim_timeline_wait(hStream->ctx->phys, atomic_load(&hStream->tl.tail_ns));
    hStream->magic = SIM_DEAD_MAGIC;
    free(hStream);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamDestroy(CUstream hStream) { return cuStreamDestroy_v2(hStream); }

static CUresult stream_sync(CUstream s, bool per_thread)
{
    CUcontext ctx;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &ctx, &tl);
    if (r == CUDA_SUCCESS)
        sim_timeline_wait(ctx->phys, atomic_load(&tl->tail_ns));
    return r;
}

static CUresult stream_query(CUstream s, bool per_thread)
{
    CUcontext ctx;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &ctx, &tl);
    uint64_t t;
    if (r == CUDA_SUCCESS && !sim_timeline_settle(ctx->phys, &tl->tail_ns, &t))
        r = CUDA_ERROR_NOT_READY;
    return r;
}

static CUresult stream_wait_event(CUstream s, CUevent e, unsigned int flags, bool per_thread)
{
    CUcontext ctx;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &ctx, &tl);
    if (r == CUDA_SUCCESS)
        r = check_event(e);
    if (r != CUDA_SUCCESS)
        return r;
    if (flags & ~(unsigned int)CU_EVENT_WAIT_EXTERNAL)
        return CUDA_ERROR_INVALID_VALUE;
    sim_timeline_after(tl, atomic_load(&e->done_ns)); /* never recorded: 0, no wait */
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamSynchronize(CUstream hStream) { return stream_sync(hStream, false); }
CUresult CUDAAPI cuStreamSynchronize_ptsz(CUstream hStream) { return stream_sync(hStream, true); }
CUresult CUDAAPI cuStreamQuery(CUstream hStream) { return stream_query(hStream, false); }
CUresult CUDAAPI cuStreamQuery_ptsz(CUstream hStream) { return stream_query(hStream, true); }

CUresult CUDAAPI cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)
{ return stream_wait_event(hStream, hEvent, Flags, false); }
CUresult CUDAAPI cuStreamWaitEvent_ptsz(CUstream hStream, CUevent hEvent, unsigned int Flags)
{ return stream_wait_event(hStream, hEvent, Flags, true); }

/* ------------------------------------------------------------------ events */

CUresult CUDAAPI cuEventCreate(CUevent *phEvent, unsigned int Flags)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    const unsigned int known = CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS;
    if (!phEvent || (Flags & ~known))
        return CUDA_ERROR_INVALID_VALUE;
    if ((Flags & CU_EVENT_INTERPROCESS) && !(Flags & CU_EVENT_DISABLE_TIMING))
        return CUDA_ERROR_INVALID_VALUE;
    CUevent e = calloc(1, sizeof *e);
    if (!e)
        return CUDA_ERROR_OUT_OF_MEMORY;
    e->magic = SIM_EVENT_MAGIC;
    e->ctx = ctx;
    e->flags = Flags;
    *phEvent = e;
    return CUDA_SUCCESS;
}

static CUresult event_record(CUevent e, CUstream s, bool per_thread)
{
    CUresult r = check_event(e);
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx;
    sim_timeline *tl;
    if ((r = resolve(s, per_thread, &ctx, &tl)) != CUDA_SUCCESS)
        return r;
    atomic_store(&e->done_ns, sim_timeline_enqueue(ctx, tl, 0));
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventRecord(CUevent hEvent, CUstream hStream) { return event_record(hEvent, hStream, false); }
CUresult CUDAAPI cuEventRecord_ptsz(CUevent hEvent, CUstream hStream) { return event_record(hEvent, hStream, true); }

/* An event never recorded counts as complete, as documented. */
CUresult CUDAAPI cuEventQuery(CUevent hEvent)
{
    CUresult r = check_event(hEvent);
    uint64_t t;
    if (r == CUDA_SUCCESS && !sim_timeline_settle(hEvent->ctx->phys, &hEvent->done_ns, &t))
        r = CUDA_ERROR_NOT_READY;
    return r;
}

CUresult CUDAAPI cuEventSynchronize(CUevent hEvent)
{
    CUresult r = check_event(hEvent);
    if (r == CUDA_SUCCESS) {
        uint64_t t;
        sim_timeline_wait(hEvent->ctx->phys, atomic_load(&hEvent->done_ns));
        sim_timeline_settle(hEvent->ctx->phys, &hEvent->done_ns, &t); /* keep its time */
    }
    return r;
}

/* Both events must have been recorded, with timing, and have completed. */
CUresult CUDAAPI cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    if (!pMilliseconds)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = check_event(hStart);
    if (r == CUDA_SUCCESS)
        r = check_event(hEnd);
    if (r != CUDA_SUCCESS)
        return r;
    if ((hStart->flags | hEnd->flags) & CU_EVENT_DISABLE_TIMING)
        return CUDA_ERROR_INVALID_HANDLE;
    if (atomic_load(&hStart->done_ns) == 0 || atomic_load(&hEnd->done_ns) == 0)
        return CUDA_ERROR_INVALID_HANDLE;
    uint64_t t0, t1;
    if (!sim_timeline_settle(hStart->ctx->phys, &hStart->done_ns, &t0) ||
        !sim_timeline_settle(hEnd->ctx->phys, &hEnd->done_ns, &t1))
        return CUDA_ERROR_NOT_READY;
    *pMilliseconds = (float)((double)((int64_t)(t1 - t0)) / 1e6);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    return cuEventElapsedTime_v2(pMilliseconds, hStart, hEnd);
}

CUresult CUDAAPI cuEventDestroy_v2(CUevent hEvent)
{
    CUresult r = check_event(hEvent);
    if (r != CUDA_SUCCESS)
        return r;
    hEvent->magic = SIM_DEAD_MAGIC;
    free(hEvent);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuEventDestroy(CUevent hEvent) { return cuEventDestroy_v2(hEvent); }

/* ------------------------------------------------------------------ stream properties */
/* What a stream was made with; the default streams report what the reference gives for them:
 * flags 0 (the legacy stream; the per-thread one is non-blocking only towards other streams,
 * flags 0 too) and priority 0. cuStreamGetId numbers created streams by address (unique while
 * they live) and the default streams 0 and 1. */
static CUresult stream_props(CUstream s, bool per_thread, unsigned *flags, int *priority, unsigned long long *id)
{
    CUcontext ctx;
    sim_timeline *tl;
    CUresult r = resolve(s, per_thread, &ctx, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    bool special = s == NULL || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD;
    if (flags)
        *flags = special ? 0 : s->flags;
    if (priority)
        *priority = special ? 0 : s->priority;
    if (id)
        *id = special ? (tl == &per_thread_stream ? 1 : 0) : (unsigned long long)(uintptr_t)s;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamGetFlags(CUstream h, unsigned int *flags)
{ return flags ? stream_props(h, false, flags, NULL, NULL) : CUDA_ERROR_INVALID_VALUE; }
CUresult CUDAAPI cuStreamGetFlags_ptsz(CUstream h, unsigned int *flags)
{ return flags ? stream_props(h, true, flags, NULL, NULL) : CUDA_ERROR_INVALID_VALUE; }
CUresult CUDAAPI cuStreamGetPriority(CUstream h, int *priority)
{ return priority ? stream_props(h, false, NULL, priority, NULL) : CUDA_ERROR_INVALID_VALUE; }
CUresult CUDAAPI cuStreamGetPriority_ptsz(CUstream h, int *priority)
{ return priority ? stream_props(h, true, NULL, priority, NULL) : CUDA_ERROR_INVALID_VALUE; }
CUresult CUDAAPI cuStreamGetId(CUstream h, unsigned long long *id)
{ return id ? stream_props(h, false, NULL, NULL, id) : CUDA_ERROR_INVALID_VALUE; }
CUresult CUDAAPI cuStreamGetId_ptsz(CUstream h, unsigned long long *id)
{ return id ? stream_props(h, true, NULL, NULL, id) : CUDA_ERROR_INVALID_VALUE; }

static CUresult stream_device(CUstream s, bool per_thread, CUdevice *dev)
{
    CUcontext ctx;
    sim_timeline *tl;
    if (!dev)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = resolve(s, per_thread, &ctx, &tl);
    if (r == CUDA_SUCCESS)
        *dev = ctx->dev;
    return r;
}
CUresult CUDAAPI cuStreamGetDevice(CUstream h, CUdevice *dev) { return stream_device(h, false, dev); }
CUresult CUDAAPI cuStreamGetDevice_ptsz(CUstream h, CUdevice *dev) { return stream_device(h, true, dev); }

/* The flags (CU_EVENT_RECORD_DEFAULT, CU_EVENT_RECORD_EXTERNAL) change nothing without graphs'
 * external event nodes, which the simulator does not model. */
CUresult CUDAAPI cuEventRecordWithFlags(CUevent hEvent, CUstream hStream, unsigned int flags)
{
    if (flags & ~(unsigned)CU_EVENT_RECORD_EXTERNAL)
        return CUDA_ERROR_INVALID_VALUE;
    return event_record(hEvent, hStream, false);
}
CUresult CUDAAPI cuEventRecordWithFlags_ptsz(CUevent hEvent, CUstream hStream, unsigned int flags)
{
    if (flags & ~(unsigned)CU_EVENT_RECORD_EXTERNAL)
        return CUDA_ERROR_INVALID_VALUE;
    return event_record(hEvent, hStream, true);
}

/* Host functions on a stream (cuLaunchHostFunc, cuStreamAddCallback): the reference runs them
 * after the work before them completes and holds later work back until they return. The
 * simulator waits for the stream and calls them at once, on the calling thread (a real driver
 * uses a thread of its own; a function that blocks on later work of its stream would deadlock
 * there too, since the reference forbids CUDA calls in it). */
static CUresult host_call(CUstream s, bool per_thread, CUhostFn fn, void *data, CUstreamCallback cb, unsigned flags)
{
    CUcontext ctx;
    sim_timeline *tl;
    if ((!fn && !cb) || flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = resolve(s, per_thread, &ctx, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    sim_wait_until(atomic_load(&tl->tail_ns));
    if (fn)
        fn(data);
    else
        cb(s, CUDA_SUCCESS, data);
    return CUDA_SUCCESS;
}
CUresult CUDAAPI cuLaunchHostFunc(CUstream h, CUhostFn fn, void *data)
{ return host_call(h, false, fn, data, NULL, 0); }
CUresult CUDAAPI cuLaunchHostFunc_ptsz(CUstream h, CUhostFn fn, void *data)
{ return host_call(h, true, fn, data, NULL, 0); }
CUresult CUDAAPI cuStreamAddCallback(CUstream h, CUstreamCallback cb, void *data, unsigned int flags)
{ return host_call(h, false, NULL, data, cb, flags); }
CUresult CUDAAPI cuStreamAddCallback_ptsz(CUstream h, CUstreamCallback cb, void *data, unsigned int flags)
{ return host_call(h, true, NULL, data, cb, flags); }
