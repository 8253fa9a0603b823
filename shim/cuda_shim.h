/* What every CUDA wrapper shares: the driver's types, the real functions, the process's quota. */
#ifndef GREY_CUDA_SHIM_H
#define GREY_CUDA_SHIM_H

/* Internal mode keeps cuda.h from renaming cuMemAlloc to cuMemAlloc_v2 and so on, so each
 * wrapper is defined under exactly the exported name it replaces. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <cudaTypedefs.h>

#include "../preload/hook.h"
#include "../preload/real.h"

#define GREY_EXPORT __attribute__((visibility("default")))

/* Allocation families, as recorded in the tracker and reports. */
enum grey_cuda_api {
    GREY_API_MEM_ALLOC = 1,
};

/* The device of the calling thread's current context, in *dev_out. False when there is no
 * current context (the driver then reports the error itself) or grey cannot track the device. */
bool grey_cuda_current_device(const struct grey_quota *q, int *dev_out);

/* The driver answered CUDA_SUCCESS for a new buffer of bytes at addr: commit the reservation
 * and track the buffer. */
void grey_cuda_track(const struct grey_quota *q, int dev, CUdeviceptr addr, size_t bytes,
                     enum grey_cuda_api api);

#endif
