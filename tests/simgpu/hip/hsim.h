/* Shared internals of the simulated HIP runtime (build/sim/libamdhip64.so.5).
 *
 * It runs the HIP runtime API on host memory so that grey's HIP shim and its tests run on
 * machines without an AMD GPU. Devices are the same physical GPUs the simulated CUDA driver and
 * NVML describe (../sim_settings.h, ../sim_node.h), seen through ROCm's visibility variables, with
 * the same accounting rule and the same machine-wide memory (../sim_usage.h). Errors are HIP's own:
 * hipErrorOutOfMemory when VRAM runs out, hipErrorInvalidValue for bad arguments and unknown or
 * twice-freed pointers.
 *
 * Which HIP it is: the ABI of ROCm 6.x (hipGetProcAddress, hipMemAllocationProp as ROCm 6.0 lays
 * it out), reporting runtime version 6.4 unless GREY_SIM_HIP_VERSION says otherwise (e.g.
 * "50200000" for 5.2, which also selects 5.2's hipMemAllocationProp layout). The soname is
 * libamdhip64.so.5; every export is in version node hip_4.2, so programs linked against it carry
 * versioned references, as with the real runtime.
 *
 * Like ROCm 7's runtime as reported (see preload/audit.c), some entry points call other exported
 * entry points through the PLT: hipMallocManaged and hipExtMallocWithFlags allocate with the
 * exported hipMalloc (hsim_managed.c), and hipGetProcAddress finds functions with dlsym on its
 * own handle. A preloaded hook therefore sees those inner calls too, which is what grey's
 * re-entry guard is tested against.
 *
 * Everything declared between the visibility pragmas is internal; the version script exports
 * only hip*. */
#ifndef GREY_HSIM_H
#define GREY_HSIM_H

#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/simgpu/sim_settings.h"

#pragma GCC visibility push(hidden)

/* ------------------------------------------------------------------ devices (hsim_device.c) */
/* HIP device ordinal N: the physical GPU behind it (ROCR_VISIBLE_DEVICES and HIP_VISIBLE_DEVICES
 * choose which, ../sim_visible.h) and its facts. Its memory is the GPU's, shared by every process
 * on the machine, CUDA ones included (../sim_usage.h). */
typedef struct hsim_device {
    int phys;
    char name[SIM_SETTINGS_NAME_MAX];
    uint64_t vram_bytes;
    int compute_units;
} hsim_device;

extern hsim_device hsim_devices[SIM_SETTINGS_MAX_DEVICES];
extern int hsim_device_count;

/* HIP initializes itself on first use: every entry point starts with this. hipSuccess, or the
 * error hipInit would give (hipErrorInvalidValue for a malformed setting, hipErrorNoDevice). */
hipError_t hsim_init(void);
/* hipErrorInvalidDevice unless 0 <= dev < count (after initializing). */
hipError_t hsim_check_device(int dev);
/* The calling thread's current device (hipSetDevice; 0 until set). */
int hsim_current_device(void);
/* The runtime version hipRuntimeGetVersion reports (major * 10^7 + minor * 10^5 + patch). */
int hsim_runtime_version(void);

/* ------------------------------------------------------------------ memory (hsim_memory.c) */
typedef enum hsim_kind {
    HSIM_DEVICE,   /* hipMalloc and every family freed by hipFree / hipFreeAsync */
    HSIM_ARRAY,    /* an array's storage, freed with the array */
} hsim_kind;

/* Maps n bytes (MAP_NORESERVE: untouched pages cost nothing) counted against dev's VRAM and
 * registers the range. hipErrorOutOfMemory when it does not fit. n > 0. */
hipError_t hsim_alloc(void **out, size_t n, int dev, hsim_kind kind);
/* Frees what hsim_alloc returned, by its exact base and kind; hipErrorInvalidValue otherwise. */
hipError_t hsim_free(void *p, hsim_kind kind);
/* hipSuccess when [p, p+n) lies inside one live device allocation. */
hipError_t hsim_check_range(const void *p, size_t n);
/* Whether [p, p + n) lies inside one VMM mapping (hipMemMap), which copies may use too. */
bool hsim_vmm_mapped(const void *p, size_t n);
/* Frees every allocation on dev (hipDeviceReset). */
void hsim_release_device(int dev);
/* Counts n bytes of dev's VRAM that are not a mapped allocation (VMM physical memory). */
bool hsim_vram_take(int dev, uint64_t n);
void hsim_vram_give(int dev, uint64_t n);

/* ------------------------------------------------------------------ handles (hsim_handles.c) */
/* Live opaque handles (streams, pools, arrays, VMM handles, graphs, modules, functions), each
 * with its kind, so that bad or stale ones are refused rather than dereferenced. */
typedef enum hsim_handle_kind {
    HSIM_H_STREAM = 1, HSIM_H_POOL, HSIM_H_ARRAY, HSIM_H_VMM, HSIM_H_GRAPH, HSIM_H_GRAPH_EXEC,
    HSIM_H_MODULE, HSIM_H_FUNCTION, HSIM_H_EVENT,
} hsim_handle_kind;

void hsim_handle_add(const void *h, hsim_handle_kind kind);
bool hsim_handle_live(const void *h, hsim_handle_kind kind);
/* Removes h; false when it was not a live handle of that kind (a double free). */
bool hsim_handle_take(const void *h, hsim_handle_kind kind);

/* A stream argument: NULL (the null stream), hipStreamPerThread, or a live created stream. */
bool hsim_stream_valid(hipStream_t s);

/* ------------------------------------------------------------------ time (hsim_time.c) */
/* Streams, events and kernels follow the device timeline of the simulated CUDA driver
 * (../sim_timeline.c, reached through hsim_timeline.c): a kernel queues after its stream's earlier
 * work and after everything any process queued on its device, and takes GREY_SIM_KERNEL_US, or N
 * us for a hipModuleGetFunction name ending in _usN. Synchronizing sleeps until the work is done. */
typedef struct hsim_stream {
    _Atomic uint64_t tail_ns;  /* the stamp of the last work queued on the stream (hsim_tl_*) */
    int dev;
} hsim_stream;

/* Queues a kernel of ns on stream s (a valid stream argument). */
void hsim_kernel(hipStream_t s, uint64_t ns);
/* GREY_SIM_KERNEL_US in ns. */
uint64_t hsim_kernel_default_ns(void);
/* Waits until everything queued on dev (by this process) has completed. */
void hsim_device_wait(int dev);

/* hsim_timeline.c: the CUDA simulator's timeline functions, in plain types. Devices are named
 * by physical id (hsim_devices[dev].phys): the timeline is the physical GPU's. */
uint64_t hsim_tl_kernel(int phys, _Atomic uint64_t *tail, uint64_t ns);
uint64_t hsim_tl_enqueue(int phys, _Atomic uint64_t *tail, uint64_t ns);
uint64_t hsim_tl_default_ns(void);
/* Stamps (a time, or under GREY_SIM_SCHED=timeslice a position resolved lazily): wait sleeps
 * until the work is done; settle says whether it is, with its time, and keeps the time. */
void hsim_tl_wait(int phys, uint64_t stamp);
bool hsim_tl_settle(int phys, _Atomic uint64_t *stamp, uint64_t *t_ns);
uint64_t hsim_tl_device_done(int phys);

/* Each device's current pool (hsim_async.c), reset by hipDeviceReset. */
void hsim_pools_reset(int dev);

#pragma GCC visibility pop

#endif
