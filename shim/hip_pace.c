/* How the pacer measures HIP launches (shim/pace.h), mirroring shim/cuda_pace.c: timing events
 * recorded on the launch stream, read back with hipEventQuery / hipEventElapsedTime, never waited
 * for. The real runtime functions are called (grey intercepts none of them), marked as grey's own
 * (grey_hip_enter) so that nothing the runtime does inside them is counted as the program's.
 *
 * HIP has no context a program manages: a device's events belong to the device, so the device
 * itself stands for the context (GREY_HIP_CONTEXT, never NULL). Launches into a capturing stream
 * are not measured (they do not run then); HIP has no capture-mode exchange in every version,
 * and hipEventQuery is not among the calls a global-mode capture forbids in HIP, so no relaxing
 * is needed around grey's own calls. */
#include "hip_shim.h"
#include "pace.h"

static int current_device(void)
{
    int dev;
    return grey_hip_current_device(&dev) ? dev : -1;
}

static void *current_context(void)
{
    int dev = current_device();
    return dev < 0 ? NULL : (void *)(uintptr_t)GREY_HIP_CONTEXT(dev);
}

/* Anything but a clear "not capturing" counts as capturing: then grey keeps its hands off. */
static bool capturing(void *stream)
{
    static void *fn;
    __typeof__(hipStreamIsCapturing) *is_capturing = grey_real(&fn, "hipStreamIsCapturing");
    hipStreamCaptureStatus status = hipStreamCaptureStatusNone;
    if (!is_capturing)
        return true;
    grey_hip_enter();
    hipError_t rc = is_capturing((hipStream_t)stream, &status);
    grey_hip_leave();
    return rc != hipSuccess || status != hipStreamCaptureStatusNone;
}

static void *event_new(void)
{
    static void *fn;
    __typeof__(hipEventCreate) *create = grey_real(&fn, "hipEventCreate");
    hipEvent_t ev = NULL;
    if (!create)
        return NULL;
    grey_hip_enter();
    bool ok = create(&ev) == hipSuccess;
    grey_hip_leave();
    return ok ? ev : NULL;
}

static bool event_record(void *event, void *stream)
{
    static void *fn;
    __typeof__(hipEventRecord) *record = grey_real(&fn, "hipEventRecord");
    if (!record)
        return false;
    grey_hip_enter();
    bool ok = record((hipEvent_t)event, (hipStream_t)stream) == hipSuccess;
    grey_hip_leave();
    return ok;
}

static int event_elapsed(void *a, void *b, uint64_t *ns)
{
    static void *query_fn, *elapsed_fn;
    __typeof__(hipEventQuery) *query = grey_real(&query_fn, "hipEventQuery");
    __typeof__(hipEventElapsedTime) *elapsed = grey_real(&elapsed_fn, "hipEventElapsedTime");
    if (!query || !elapsed)
        return -1;
    int r;
    float ms = 0;
    grey_hip_enter();
    hipError_t q = query((hipEvent_t)b);
    if (q == hipErrorNotReady)
        r = 0;
    else if (q != hipSuccess || elapsed(&ms, (hipEvent_t)a, (hipEvent_t)b) != hipSuccess)
        r = -1;
    else
        r = 1;
    grey_hip_leave();
    if (r == 1)
        *ns = ms > 0 ? (uint64_t)((double)ms * 1e6) : 0;
    return r;
}

static void event_free(void *event)
{
    static void *fn;
    __typeof__(hipEventDestroy) *destroy = grey_real(&fn, "hipEventDestroy");
    if (!destroy)
        return;
    grey_hip_enter();
    destroy((hipEvent_t)event);
    grey_hip_leave();
}

const struct grey_pace_ops grey_hip_pace_ops = {
    .current_device = current_device,
    .current_context = current_context,
    .capturing = capturing,
    .event_new = event_new,
    .event_record = event_record,
    .event_elapsed = event_elapsed,
    .event_free = event_free,
};
