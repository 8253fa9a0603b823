/* The CUDA driver behind the vendor interface (vendor.h).
 *
 * The current device: the calling thread's current context (cuCtxGetCurrent, one call) and its
 * device, asked once per context and remembered per thread until the context changes or any
 * context dies (grey_context_epoch): an allocation and a launch each ask the driver once.
 *
 * Timing events are recorded on the launch stream and read back with cuEventQuery /
 * cuEventElapsedTime, never waited for. During a stream capture in the global mode, CUDA forbids
 * "potentially unsafe" calls such as cuEventQuery on every thread, and a forbidden call
 * invalidates the capture. grey's own calls therefore switch the calling thread to the relaxed
 * capture mode and back, as libraries do, so that measuring never breaks a program's CUDA graph
 * capture; launches into a capturing stream are not measured at all (they do not run then).
 *
 * Snapshots push the buffer's context, synchronize it once (work the program queued on any stream
 * has landed), copy with cuMemcpyDtoH and pop it again. */
#include "core/log.h"
#include "cuda_shim.h"
#include "policy/ledger_gpu.h"
#include "vendor.h"

#include <stdio.h>
#include <pthread.h>
#include <string.h>

_Atomic uint32_t grey_context_epoch;

static __thread CUcontext cached_ctx __attribute__((tls_model("initial-exec")));
static __thread int cached_dev __attribute__((tls_model("initial-exec")));
static __thread uint32_t cached_epoch __attribute__((tls_model("initial-exec")));

static bool current(int *dev, uint64_t *context)
{
    static void *current_fn, *device_fn;
    PFN_cuCtxGetCurrent_v4000 get_current = grey_cuda_real(&current_fn, "cuCtxGetCurrent");
    CUcontext ctx = NULL;
    if (!get_current || get_current(&ctx) != CUDA_SUCCESS || !ctx)
        return false;
    uint32_t epoch = atomic_load_explicit(&grey_context_epoch, memory_order_acquire);
    if (ctx != cached_ctx || epoch != cached_epoch) {
        PFN_cuCtxGetDevice_v2000 get_device = grey_cuda_real(&device_fn, "cuCtxGetDevice");
        CUdevice d;
        if (!get_device || get_device(&d) != CUDA_SUCCESS)
            return false;
        cached_ctx = ctx;
        cached_dev = (int)d;
        cached_epoch = epoch;
    }
    *dev = cached_dev;
    *context = (uint64_t)(uintptr_t)ctx;
    return true;
}

static CUstreamCaptureMode relax(void)
{
    static void *fn;
    PFN_cuThreadExchangeStreamCaptureMode_v10010 exchange = grey_cuda_optional(&fn, "cuThreadExchangeStreamCaptureMode");
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
    if (!exchange || exchange(&mode) != CUDA_SUCCESS)
        return CU_STREAM_CAPTURE_MODE_RELAXED;
    return mode;
}

static void unrelax(CUstreamCaptureMode mode)
{
    static void *fn;
    PFN_cuThreadExchangeStreamCaptureMode_v10010 exchange = grey_cuda_optional(&fn, "cuThreadExchangeStreamCaptureMode");
    if (exchange && mode != CU_STREAM_CAPTURE_MODE_RELAXED)
        exchange(&mode);
}

/* A driver without cuStreamIsCapturing cannot be asked, and one that cannot be asked is not
 * measured either (measurable below): its launches are paced by count, never bracketed by events
 * that a capture would take into its graph. */
static bool capturing(void *stream)
{
    static void *fn;
    PFN_cuStreamIsCapturing_v10000 is_capturing = grey_cuda_optional(&fn, "cuStreamIsCapturing");
    CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
    if (!is_capturing)
        return false;
    return is_capturing((CUstream)stream, &status) != CUDA_SUCCESS || status != CU_STREAM_CAPTURE_STATUS_NONE;
}

/* Timing needs every one of these; a driver (or an interposer in front of it, or a compatibility
 * layer) that lacks one is paced by launch counts instead, said once with GREY_LOG. */
static const char *const timing_functions[] = {"cuStreamIsCapturing", "cuEventCreate", "cuEventRecord",
                                               "cuEventQuery", "cuEventElapsedTime", "cuEventDestroy_v2"};
static bool can_time;
static pthread_once_t can_time_once = PTHREAD_ONCE_INIT;

static void check_timing(void)
{
    can_time = true;
    for (size_t i = 0; i < sizeof timing_functions / sizeof timing_functions[0]; i++) {
        if (!grey_lib_symbol(GREY_LIB_CUDA, timing_functions[i])) {
            grey_log("libcuda.so.1 has no %s: fair share counts launches instead of measuring device time",
                     timing_functions[i]);
            can_time = false;
            return;
        }
    }
}

static bool measurable(void)
{
    pthread_once(&can_time_once, check_timing);
    return can_time;
}

static void *event_new(void)
{
    static void *fn;
    PFN_cuEventCreate_v2000 create = grey_cuda_optional(&fn, "cuEventCreate");
    CUevent ev = NULL;
    CUstreamCaptureMode mode = relax();
    bool ok = create && create(&ev, CU_EVENT_DEFAULT) == CUDA_SUCCESS;
    unrelax(mode);
    return ok ? ev : NULL;
}

static bool event_record(void *event, void *stream)
{
    static void *fn;
    PFN_cuEventRecord_v2000 record = grey_cuda_optional(&fn, "cuEventRecord");
    return record && record((CUevent)event, (CUstream)stream) == CUDA_SUCCESS;
}

static int event_elapsed(void *a, void *b, uint64_t *ns)
{
    static void *query_fn, *elapsed_fn;
    PFN_cuEventQuery_v2000 query = grey_cuda_optional(&query_fn, "cuEventQuery");
    PFN_cuEventElapsedTime_v2000 elapsed = grey_cuda_optional(&elapsed_fn, "cuEventElapsedTime");
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
    PFN_cuEventDestroy_v4000 destroy = grey_cuda_optional(&fn, "cuEventDestroy_v2");
    if (destroy)
        destroy((CUevent)event);
}

static bool readback_enter(uint64_t context, uint64_t *saved)
{
    static void *push_fn, *pop_fn, *sync_fn;
    PFN_cuCtxPushCurrent_v4000 push = grey_cuda_optional(&push_fn, "cuCtxPushCurrent_v2");
    PFN_cuCtxPopCurrent_v4000 pop = grey_cuda_optional(&pop_fn, "cuCtxPopCurrent_v2");
    PFN_cuCtxSynchronize_v2000 sync = grey_cuda_optional(&sync_fn, "cuCtxSynchronize");
    *saved = 0; /* a pushed context is popped: nothing else to restore */
    if (!push || !pop || !sync || push((CUcontext)(uintptr_t)context) != CUDA_SUCCESS)
        return false;
    if (sync() != CUDA_SUCCESS) {
        CUcontext old;
        pop(&old);
        return false;
    }
    return true;
}

static bool readback(void *dst, uint64_t src, size_t n)
{
    static void *fn;
    PFN_cuMemcpyDtoH_v3020 dtoh = grey_cuda_optional(&fn, "cuMemcpyDtoH_v2");
    return dtoh && dtoh(dst, (CUdeviceptr)src, n) == CUDA_SUCCESS;
}

static void readback_leave(uint64_t saved)
{
    (void)saved;
    static void *fn;
    PFN_cuCtxPopCurrent_v4000 pop = grey_cuda_optional(&fn, "cuCtxPopCurrent_v2");
    CUcontext old;
    if (pop)
        pop(&old);
}

/* The driver's own answers (grey wraps cuDeviceTotalMem, so the real one is asked for it). */
static bool identify(int ordinal, unsigned char uuid[16], struct grey_gpu_id *out)
{
    static void *uuid_fn, *pci_fn, *name_fn, *total_fn;
    PFN_cuDeviceGetUuid_v11040 get_uuid2 = grey_lib_symbol(GREY_LIB_CUDA, "cuDeviceGetUuid_v2");
    PFN_cuDeviceGetUuid_v9020 get_uuid = get_uuid2 ? NULL : grey_cuda_optional(&uuid_fn, "cuDeviceGetUuid");
    PFN_cuDeviceGetPCIBusId_v4010 get_pci = grey_cuda_optional(&pci_fn, "cuDeviceGetPCIBusId");
    PFN_cuDeviceGetName_v2000 get_name = grey_cuda_optional(&name_fn, "cuDeviceGetName");
    PFN_cuDeviceTotalMem_v3020 get_total = grey_cuda_optional(&total_fn, "cuDeviceTotalMem_v2");
    CUuuid u;
    CUresult rc = get_uuid2 ? get_uuid2(&u, (CUdevice)ordinal) : get_uuid ? get_uuid(&u, (CUdevice)ordinal)
                                                                          : CUDA_ERROR_NOT_FOUND;
    if (rc == CUDA_SUCCESS)
        memcpy(uuid, u.bytes, 16);
    char pci[32];
    if (get_pci && get_pci(pci, sizeof pci, (CUdevice)ordinal) == CUDA_SUCCESS)
        grey_pci_normalize(pci, out->pci_bus_id);
    else if (rc != CUDA_SUCCESS)
        return false; /* no such device, or a driver that can say nothing about it */
    char name[256];
    if (get_name && get_name(name, sizeof name, (CUdevice)ordinal) == CUDA_SUCCESS) {
        name[sizeof name - 1] = '\0';
        grey_copy_cut(out->name, sizeof out->name, name);
    }
    size_t total = 0;
    if (get_total && get_total(&total, (CUdevice)ordinal) == CUDA_SUCCESS)
        out->total_bytes = total;
    return true;
}

const struct grey_vendor grey_cuda_vendor = {
    .name = "CUDA",
    .id = GREY_VENDOR_CUDA,
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
