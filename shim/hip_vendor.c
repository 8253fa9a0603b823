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
#include "core/log.h"
#include "hip_shim.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "devices.h"
#include "policy/ledger_gpu.h"

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
GREY_HIP_REAL(hipDeviceGetUuid);
GREY_HIP_REAL(hipDeviceGetPCIBusId);
GREY_HIP_REAL(hipDeviceGetName);
GREY_HIP_REAL(hipDeviceTotalMem);

static bool current(int *dev, uint64_t *context)
{
    int d = -1;
    if (grey_hip_call(hipGetDevice, &d) != hipSuccess || d < 0)
        return false;
    *dev = d;
    *context = GREY_HIP_CONTEXT(d);
    return true;
}

bool grey_hip_current(int *ordinal, int *row)
{
    uint64_t context;
    if (!current(ordinal, &context))
        return false;
    *row = grey_device_row(&grey_hip_vendor, *ordinal);
    return grey_self_use_device(grey_self(), *row);
}

/* As for CUDA (shim/cuda_vendor.c): a runtime that cannot be asked is not measured either. */
static bool capturing(void *stream)
{
    hipStreamCaptureStatus status = hipStreamCaptureStatusNone;
    if (!grey_hip_available(hipStreamIsCapturing))
        return false;
    return grey_hip_call(hipStreamIsCapturing, (hipStream_t)stream, &status) != hipSuccess ||
           status != hipStreamCaptureStatusNone;
}

static bool can_time;
static pthread_once_t can_time_once = PTHREAD_ONCE_INIT;

static void check_timing(void)
{
    const char *missing = !grey_hip_available(hipStreamIsCapturing) ? "hipStreamIsCapturing"
                          : !grey_hip_available(hipEventCreate)      ? "hipEventCreate"
                          : !grey_hip_available(hipEventRecord)      ? "hipEventRecord"
                          : !grey_hip_available(hipEventQuery)       ? "hipEventQuery"
                          : !grey_hip_available(hipEventElapsedTime) ? "hipEventElapsedTime"
                          : !grey_hip_available(hipEventDestroy)     ? "hipEventDestroy"
                                                                     : NULL;
    can_time = !missing;
    if (missing)
        grey_log("the HIP runtime has no %s: fair share counts launches instead of measuring device time", missing);
}

static bool measurable(void)
{
    pthread_once(&can_time_once, check_timing);
    return can_time;
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

/* ROCm's UUID is text: hipDeviceGetUuid hands out the 16 characters after "GPU-" (rocm-smi's
 * form) as its 16 bytes. */
static bool identify(int ordinal, unsigned char uuid[16], struct grey_gpu_id *out)
{
    hipUUID u;
    bool have_uuid = grey_hip_call(hipDeviceGetUuid, &u, ordinal) == hipSuccess;
    if (have_uuid) {
        memcpy(uuid, u.bytes, 16);
        char text[17];
        for (int i = 0; i < 16; i++) {
            char c = u.bytes[i];
            text[i] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ? c : '0';
        }
        text[16] = '\0';
        snprintf(out->uuid, sizeof out->uuid, "GPU-%s", text);
    }
    char pci[32];
    if (grey_hip_call(hipDeviceGetPCIBusId, pci, (int)sizeof pci, ordinal) == hipSuccess)
        grey_pci_normalize(pci, out->pci_bus_id);
    else if (!have_uuid)
        return false;
    char name[256];
    if (grey_hip_call(hipDeviceGetName, name, (int)sizeof name, ordinal) == hipSuccess) {
        name[sizeof name - 1] = '\0';
        grey_copy_cut(out->name, sizeof out->name, name);
    }
    size_t total = 0;
    if (grey_hip_call(hipDeviceTotalMem, &total, ordinal) == hipSuccess)
        out->total_bytes = total;
    return true;
}

const struct grey_vendor grey_hip_vendor = {
    .name = "HIP",
    .id = GREY_VENDOR_HIP,
    .identify = identify,
    .current = current,
    .capturing = capturing,
    .measurable = measurable,
    .event_new = event_new,
    .event_record = event_record,
    .event_elapsed = event_elapsed,
    .event_free = event_free,
    .readback_enter = readback_enter,
    .readback = readback,
    .readback_leave = readback_leave,
};
