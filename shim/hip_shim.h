/* What every HIP wrapper shares: the runtime's types, the real functions, the admission steps of
 * admission.h with HIP's errors around them, and the guard against HIP re-entering itself.
 *
 * Types come from Debian's HIP headers (libamdhip64-dev, ROCm 5.2), which are plain C for the
 * runtime API once the platform is named. The few things newer than those headers (entry points
 * of ROCm 5.3 to 6.x, and the layout of hipMemAllocationProp, which ROCm 6.0 changed) are declared
 * here from the documented HIP ABI. Errors are HIP's own: hipErrorOutOfMemory (2) when grey
 * refuses, and whatever the runtime says for bad input. */
#ifndef GREY_HIP_SHIM_H
#define GREY_HIP_SHIM_H

#ifndef __HIP_PLATFORM_AMD__
#define __HIP_PLATFORM_AMD__ 1
#endif
#include <hip/hip_runtime_api.h>
#include <hip/hip_version.h>

#include "core/real.h"
#include "admission.h"
#include "vendor.h"

#ifndef GREY_EXPORT
#define GREY_EXPORT __attribute__((visibility("default")))
#endif

/* Allocation families of HIP, as recorded in the tracker and reports; numbered from 0x20 so that
 * they never read as one of CUDA's (cuda_shim.h) in a process that uses both. */
enum grey_hip_api {
    GREY_API_HIP_MALLOC = 0x20,
    GREY_API_HIP_EXT_MALLOC,
    GREY_API_HIP_MALLOC_MANAGED,
    GREY_API_HIP_MALLOC_PITCH,
    GREY_API_HIP_MALLOC_3D,
    GREY_API_HIP_MALLOC_ASYNC,
    GREY_API_HIP_MALLOC_FROM_POOL,
    GREY_API_HIP_MEM_CREATE,
    GREY_API_HIP_ARRAY,
};

/* Tracker keys for HIP handles that are not device addresses (tags 0x10 and up: cuda_shim.h's
 * are below), and what a HIP buffer dies with: its device, at hipDeviceReset. */
#define GREY_KEY_HIP_ARRAY(h)  ((uint64_t)(uintptr_t)(h) | (0x10ull << 56))
#define GREY_KEY_HIP_VMM(h)    ((uint64_t)(uintptr_t)(h) | (0x11ull << 56))
#define GREY_HIP_CONTEXT(dev)  ((uint64_t)(unsigned)(dev) | (0x12ull << 56))

/* ------------------------------------------------------------------ newer than the headers */
#if HIP_VERSION_MAJOR < 6 || (HIP_VERSION_MAJOR == 6 && HIP_VERSION_MINOR < 1)
/* ROCm 6.1+: the way frameworks (Triton, and ROCm 7 generally) reach every HIP function. The
 * status argument is hipDriverProcAddressQueryResult*, an enum. */
hipError_t hipGetProcAddress(const char *symbol, void **pfn, int hipVersion, uint64_t flags, int *symbolStatus);
#endif
#if HIP_VERSION_MAJOR < 7 || (HIP_VERSION_MAJOR == 7 && HIP_VERSION_MINOR < 2)
/* ROCm 7.2: the per-thread-default-stream variant. */
hipError_t hipGetProcAddress_spt(const char *symbol, void **pfn, int hipVersion, uint64_t flags, int *symbolStatus);
#endif
#if HIP_VERSION_MAJOR < 5 || (HIP_VERSION_MAJOR == 5 && HIP_VERSION_MINOR < 3)
/* ROCm 5.3. */
hipError_t hipGraphLaunch_spt(hipGraphExec_t graphExec, hipStream_t stream);
#endif

/* hipMemAllocationProp as ROCm 5.x lays it out (Debian's headers) ... */
struct grey_hip_alloc_prop_r5 {
    unsigned char compressionType;
    struct { int type; int id; } location;
    int requestedHandleType;
    int type;
    unsigned short usage;
    void *win32HandleMetaData;
};
/* ... and ROCm 6.0 and later (CUDA's CUmemAllocationProp layout). */
struct grey_hip_alloc_prop_r6 {
    int type;
    int requestedHandleType;
    struct { int type; int id; } location;
    void *win32HandleMetaData;
    struct { unsigned char compressionType, gpuDirectRDMACapable; unsigned short usage; } allocFlags;
};
#define GREY_HIP_LOCATION_DEVICE 1 /* hipMemLocationTypeDevice, in every version */

/* The HIP runtime's major version (hipRuntimeGetVersion / 10^7), asked once; 6 when it cannot
 * say (every runtime that has hipGetProcAddress is 6 or later). */
int grey_hip_runtime_major(void);

/* ------------------------------------------------------------------ calling the runtime */
/* HIP's own entry points may call other exported HIP functions (ROCm 7's runtime was reported to,
 * and the simulated runtime does: hipMallocManaged and hipExtMallocWithFlags go through the
 * exported hipMalloc). Under LD_PRELOAD those inner calls land in grey's wrappers too, which
 * would count one allocation twice. So every call grey makes into the runtime marks the calling
 * thread while the runtime runs, and a wrapper entered from inside the runtime passes straight
 * through. The mark is a thread-local counter (initial-exec: one %fs-relative add, no call).
 *
 * By construction: grey's HIP code reaches the runtime only through grey_hip_call, which sets
 * the mark (the build's layer check refuses grey_hip_real anywhere else). A file declares the
 * functions it calls with GREY_HIP_REAL(fn); grey_hip_call(fn, args...) returns the runtime's
 * hipError_t, or hipErrorNotFound when the runtime lacks fn. */
extern __thread unsigned grey_hip_depth __attribute__((tls_model("initial-exec")));

static inline bool grey_hip_nested(void)
{
    return grey_hip_depth != 0;
}

#define GREY_HIP_REAL(fn) static void *grey_real_##fn
#define grey_hip_available(fn) (grey_hip_optional(&grey_real_##fn, #fn) != NULL)
#define grey_hip_call(fn, ...)                                                                   \
    __extension__({                                                                              \
        __typeof__(fn) *grey_fn_ = (__typeof__(fn) *)grey_hip_real(&grey_real_##fn, #fn);       \
        hipError_t grey_rc_ = hipErrorNotFound;                                                  \
        if (grey_fn_) {                                                                          \
            grey_hip_depth++;                                                                    \
            grey_rc_ = grey_fn_(__VA_ARGS__);                                                    \
            grey_hip_depth--;                                                                    \
        }                                                                                        \
        grey_rc_;                                                                                \
    })

/* ------------------------------------------------------------------ admission */
/* The calling thread's current HIP device (hipGetDevice): its ordinal, and its GPU row (where it
 * is counted, core/devices.h); false when there is none or grey cannot track it. */
bool grey_hip_current(int *ordinal, int *row);

/* Admission on the device of this process's ordinal (-1: the current device). hipErrorOutOfMemory
 * when the cap or budget would be crossed, else hipSuccess (adm->counted says whether anything was
 * reserved). */
hipError_t grey_hip_admit(struct grey_admission *adm, int ordinal, uint64_t bytes);

#endif
