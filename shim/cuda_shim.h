/* What every CUDA wrapper shares: the driver's types, the real functions, and the admission
 * steps of DESIGN.md's allocation path, written once for every allocation family:
 *
 *   struct grey_admission adm;
 *   if (grey_cuda_admit(&adm, bytes) != CUDA_SUCCESS)   // over the cap or budget: the driver's
 *       return CUDA_ERROR_OUT_OF_MEMORY;                // own OOM, the driver is not called
 *   CUresult rc = real(...);
 *   grey_cuda_settle(&adm, rc, key, GREY_API_...);      // commit + track, or roll back
 *
 * and for frees grey_cuda_untrack() before the driver call, grey_cuda_forget() after it. */
#ifndef GREY_CUDA_SHIM_H
#define GREY_CUDA_SHIM_H

/* Internal mode keeps cuda.h from renaming cuMemAlloc to cuMemAlloc_v2 and so on, so each
 * wrapper is defined under exactly the exported name it replaces. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <cudaTypedefs.h>

#include "core/real.h"
#include "core/self.h"
#include "policy/tracker.h"
#include "admission.h"

#define GREY_EXPORT __attribute__((visibility("default")))

/* Allocation families, as recorded in the tracker and reports. */
enum grey_cuda_api {
    GREY_API_MEM_ALLOC = 1,
    GREY_API_MEM_ALLOC_PITCH,
    GREY_API_MEM_ALLOC_MANAGED,
    GREY_API_MEM_ALLOC_ASYNC,
    GREY_API_MEM_ALLOC_FROM_POOL,
    GREY_API_MEM_CREATE,
    GREY_API_ARRAY,
    GREY_API_ARRAY_3D,
    GREY_API_MIPMAPPED_ARRAY,
    GREY_API_GRAPH_MEM_NODE,
    GREY_API_CONTEXT,       /* a context's own memory */
};

/* Tracker keys: device addresses as they are; handles of other kinds carry a tag in the top
 * byte (device addresses and handles stay below 2^56), so an array handle can never be taken
 * for a device pointer of the same value. */
#define GREY_KEY_ARRAY(h)     ((uint64_t)(uintptr_t)(h) | (1ull << 56))
#define GREY_KEY_MIPMAPPED(h) ((uint64_t)(uintptr_t)(h) | (2ull << 56))
#define GREY_KEY_VMM(h)       ((uint64_t)(h) | (3ull << 56))
#define GREY_KEY_CONTEXT(c)   ((uint64_t)(uintptr_t)(c) | (4ull << 56))
/* (HIP's tags, 0x10 and up, are in hip_shim.h: both vendors share one tracker.) */

/* struct grey_admission and the vendor-neutral steps behind these wrappers: admission.h. */

/* Reserves bytes on the current context's device. CUDA_ERROR_OUT_OF_MEMORY when the process
 * cap or the device budget would be crossed (the denial is recorded); otherwise CUDA_SUCCESS,
 * with adm->counted telling whether anything was reserved. Counts are kept by GPU row
 * (core/devices.h), whatever ordinal the process sees the device under. */
CUresult grey_cuda_admit(struct grey_admission *adm, uint64_t bytes);
/* Same, for a device given by this process's ordinal rather than the current context. */
CUresult grey_cuda_admit_on(struct grey_admission *adm, int ordinal, uint64_t bytes);

/* After the driver call: on CUDA_SUCCESS commit the reservation and track the buffer under key;
 * otherwise give the reservation back. */
void grey_cuda_settle(struct grey_admission *adm, CUresult rc, uint64_t key, enum grey_cuda_api api);

/* Frees: take key's record before calling the driver (once freed, the address may be handed
 * out again to another thread, whose record must not be the one we delete), then forget it
 * when the driver succeeded or put it back when it did not. An untracked key moves nothing. */
bool grey_cuda_untrack(uint64_t key, struct grey_buffer_info *info);
void grey_cuda_forget(bool tracked, const struct grey_buffer_info *info, CUresult rc);

/* The GPU row, the context (as a tracker context key) and, when ordinal is not NULL, the device
 * ordinal of the calling thread's current context. False when there is no current context or
 * grey cannot track the device. */
bool grey_cuda_current(const struct grey_quota *q, int *row, uint64_t *context, int *ordinal);

/* What both forms of a memory call share (shim/cuda_memory.c): cuMemAllocPitch's admission of an
 * estimate settled to the pitch the driver chose (call makes the driver call; undo frees what it
 * gave when the real size no longer fits), and the capped views cuMemGetInfo (of the current
 * device) and cuDeviceTotalMem report. */
CUresult grey_cuda_alloc_pitched(size_t width, size_t height, CUresult (*call)(void *arg, uint64_t *ptr, uint64_t *pitch),
                                 void *arg, void (*undo)(uint64_t ptr));
void grey_cuda_cap_info(uint64_t *free_bytes, uint64_t *total_bytes);
void grey_cuda_cap_total(uint64_t *bytes, int device);

/* The GPU row of a CUDA device ordinal (-1: not accounted). */
int grey_cuda_row(int ordinal);

#endif
