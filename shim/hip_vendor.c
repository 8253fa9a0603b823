/* The HIP runtime behind the vendor interface (vendor.h), mirroring shim/cuda_vendor.c. Every
 * call goes through grey_hip_call, so nothing the runtime does inside it is counted as the
 * program's.
 *
 * HIP has no context a program manages: a device's events and memory belong to the device, so
 * the device itself stands for the context (GREY_HIP_CONTEXT, never 0). Launches into a capturing
 * stream are not measured (they do not run then); HIP has no capture-mode exchange in every
 * version, and hipEventQuery is not among the calls a global-mode capture forbids in HIP, so no
 * relaxing is needed around grey's own calls. Snapshots make the buffer's device current,
 * synchronize it, copy with hipMemcpy device-to-host and restore the previous device. */
#include "hip_shim.h"

GREY_HIP_REAL(hipGetDevice);
GREY_HIP_REAL(hipSetDevice);
GREY_HIP_REAL(hipDeviceSynchronize);
GREY_HIP_REAL(hipStreamIsCapturing);
GREY_HIP_REAL(hipEventCreate);
GREY_HIP_REAL(hipEventRecord);
GREY_HIP_REAL(hipEventQuery);
GREY_HIP_REAL(hipEventElapsedTime);
GREY_HIP_REAL(hipEventDestroy);
GREY_HIP_REAL(hipMemcpy);

static bool current(int *dev, uint64_t *context)
{
    int d = -1;
    if (grey_hip_call(hipGetDevice, &d) != hipSuccess || d < 0)
        return false;
    *dev = d;
    *context = GREY_HIP_CONTEXT(d);
    return true;
}

bool grey_hip_current_device(int *dev)
{
    uint64_t context;
    return current(dev, &context) && grey_self_use_device(grey_self(), *dev);
}

static bool capturing(void *stream)
{
    hipStreamCaptureStatus status = hipStreamCaptureStatusNone;
    return grey_hip_call(hipStreamIsCapturing, (hipStream_t)stream, &status) != hipSuccess ||
           status != hipStreamCaptureStatusNone;
}

static void *event_new(void)
{
    hipEvent_t ev = NULL;
    return grey_hip_call(hipEventCreate, &ev) == hipSuccess ? ev : NULL;
}

static bool event_record(void *event, void *stream)
{
    return grey_hip_call(hipEventRecord, (hipEvent_t)event, (hipStream_t)stream) == hipSuccess;
}

static int event_elapsed(void *a, void *b, uint64_t *ns)
{
    float ms = 0;
    hipError_t q = grey_hip_call(hipEventQuery, (hipEvent_t)b);
    if (q == hipErrorNotReady)
        return 0;
    if (q != hipSuccess || grey_hip_call(hipEventElapsedTime, &ms, (hipEvent_t)a, (hipEvent_t)b) != hipSuccess)
        return -1;
    *ns = ms > 0 ? (uint64_t)((double)ms * 1e6) : 0;
    return 1;
}

static void event_free(void *event)
{
    grey_hip_call(hipEventDestroy, (hipEvent_t)event);
}

static bool readback_enter(uint64_t context, uint64_t *saved)
{
    int prev = -1;
    int dev = (int)(uint32_t)context;
    if (grey_hip_call(hipGetDevice, &prev) != hipSuccess || grey_hip_call(hipSetDevice, dev) != hipSuccess)
        return false;
    *saved = (uint64_t)(uint32_t)prev;
    if (grey_hip_call(hipDeviceSynchronize) != hipSuccess) {
        grey_hip_call(hipSetDevice, prev);
        return false;
    }
    return true;
}

static bool readback(void *dst, uint64_t src, size_t n)
{
    return grey_hip_call(hipMemcpy, dst, (const void *)(uintptr_t)src, n, hipMemcpyDeviceToHost) == hipSuccess;
}

static void readback_leave(uint64_t saved)
{
    grey_hip_call(hipSetDevice, (int)(uint32_t)saved);
}

const struct grey_vendor grey_hip_vendor = {
    .name = "HIP",
    .current = current,
    .capturing = capturing,
    .event_new = event_new,
    .event_record = event_record,
    .event_elapsed = event_elapsed,
    .event_free = event_free,
    .readback_enter = readback_enter,
    .readback = readback,
    .readback_leave = readback_leave,
};
