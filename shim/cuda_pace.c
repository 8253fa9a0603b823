/* How the pacer measures CUDA launches (shim/pace.h): timing events recorded on the launch
 * stream, read back with cuEventQuery / cuEventElapsedTime, never waited for. The real driver
 * functions are called (grey intercepts none of them).
 *
 * During a stream capture in the global mode, CUDA forbids "potentially unsafe" calls such as
 * cuEventQuery on every thread, and a forbidden call invalidates the capture. grey's own calls
 * therefore switch the calling thread to the relaxed capture mode and back, as libraries do, so
 * that measuring never breaks a program's CUDA graph capture; launches into a capturing stream
 * are not measured at all (they do not run then). */
#include "cuda_shim.h"
#include "pace.h"

static __thread CUcontext cached_ctx __attribute__((tls_model("initial-exec")));
static __thread int cached_dev __attribute__((tls_model("initial-exec")));

static void *current_context(void)
{
    static void *fn;
    PFN_cuCtxGetCurrent_v4000 get = grey_real(&fn, "cuCtxGetCurrent");
    CUcontext ctx = NULL;
    if (!get || get(&ctx) != CUDA_SUCCESS)
        return NULL;
    return ctx;
}

/* The device of the current context, remembered per thread until the context changes. */
static int current_device(void)
{
    static void *fn;
    CUcontext ctx = current_context();
    if (!ctx)
        return -1;
    if (ctx == cached_ctx)
        return cached_dev;
    PFN_cuCtxGetDevice_v2000 get = grey_real(&fn, "cuCtxGetDevice");
    CUdevice dev;
    if (!get || get(&dev) != CUDA_SUCCESS)
        return -1;
    cached_ctx = ctx;
    cached_dev = (int)dev;
    return (int)dev;
}

static CUstreamCaptureMode relax(void)
{
    static void *fn;
    PFN_cuThreadExchangeStreamCaptureMode_v10010 exchange = grey_real(&fn, "cuThreadExchangeStreamCaptureMode");
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
    if (!exchange || exchange(&mode) != CUDA_SUCCESS)
        return CU_STREAM_CAPTURE_MODE_RELAXED;
    return mode;
}

static void unrelax(CUstreamCaptureMode mode)
{
    static void *fn;
    PFN_cuThreadExchangeStreamCaptureMode_v10010 exchange = grey_real(&fn, "cuThreadExchangeStreamCaptureMode");
    if (exchange && mode != CU_STREAM_CAPTURE_MODE_RELAXED)
        exchange(&mode);
}

/* Anything but a clear "not capturing" counts as capturing: then grey keeps its hands off. */
static bool capturing(void *stream)
{
    static void *fn;
    PFN_cuStreamIsCapturing_v10000 is_capturing = grey_real(&fn, "cuStreamIsCapturing");
    CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
    return !is_capturing || is_capturing((CUstream)stream, &status) != CUDA_SUCCESS ||
           status != CU_STREAM_CAPTURE_STATUS_NONE;
}

static void *event_new(void)
{
    static void *fn;
    PFN_cuEventCreate_v2000 create = grey_real(&fn, "cuEventCreate");
    CUevent ev = NULL;
    CUstreamCaptureMode mode = relax();
    bool ok = create && create(&ev, CU_EVENT_DEFAULT) == CUDA_SUCCESS;
    unrelax(mode);
    return ok ? ev : NULL;
}

static bool event_record(void *event, void *stream)
{
    static void *fn;
    PFN_cuEventRecord_v2000 record = grey_real(&fn, "cuEventRecord");
    return record && record((CUevent)event, (CUstream)stream) == CUDA_SUCCESS;
}

static int event_elapsed(void *a, void *b, uint64_t *ns)
{
    static void *query_fn, *elapsed_fn;
    PFN_cuEventQuery_v2000 query = grey_real(&query_fn, "cuEventQuery");
    PFN_cuEventElapsedTime_v2000 elapsed = grey_real(&elapsed_fn, "cuEventElapsedTime");
    if (!query || !elapsed)
        return -1;
    CUstreamCaptureMode mode = relax();
    int r;
    CUresult q = query((CUevent)b);
    float ms = 0;
    if (q == CUDA_ERROR_NOT_READY)
        r = 0;
    else if (q != CUDA_SUCCESS || elapsed(&ms, (CUevent)a, (CUevent)b) != CUDA_SUCCESS)
        r = -1;
    else
        r = 1;
    unrelax(mode);
    if (r == 1)
        *ns = ms > 0 ? (uint64_t)((double)ms * 1e6) : 0;
    return r;
}

static void event_free(void *event)
{
    static void *fn;
    PFN_cuEventDestroy_v4000 destroy = grey_real(&fn, "cuEventDestroy_v2");
    if (destroy)
        destroy((CUevent)event);
}

const struct grey_pace_ops grey_cuda_pace_ops = {
    .current_device = current_device,
    .current_context = current_context,
    .capturing = capturing,
    .event_new = event_new,
    .event_record = event_record,
    .event_elapsed = event_elapsed,
    .event_free = event_free,
};
