/* Kernel launches.
 *
 * Arguments are validated as the driver validates them (handle, dimensions against the device
 * limits, shared memory, stream), then the kernel is queued on its stream's timeline. The kernel
 * runs no code and takes no time yet; a later step gives it a duration (GREY_SIM_KERNEL_US) on a
 * device timeline shared across processes, which is why launching lives in its own file. */
#include "sim_internal.h"

#include <limits.h>

/* The limits cuDeviceGetAttribute reports (sim_device.c). */
#define SIM_MAX_THREADS_PER_BLOCK 1024u
#define SIM_MAX_BLOCK_Z           64u
#define SIM_MAX_GRID_YZ           65535u
#define SIM_MAX_SHARED_OPTIN      (227u * 1024u)

static uint64_t kernel_duration_ns(CUfunction f)
{
    (void)f;
    return 0;
}

static CUresult launch(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                       unsigned int bx, unsigned int by, unsigned int bz, unsigned int shmem,
                       CUstream s, void **params, void **extra, bool per_thread)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    f = sim_kernel_function(f); /* a CUkernel may stand for its function (CUDA 12+) */
    if ((r = sim_function_check(f)) != CUDA_SUCCESS)
        return r;
    if (!gx || !gy || !gz || !bx || !by || !bz)
        return CUDA_ERROR_INVALID_VALUE;
    if (gx > INT_MAX || gy > SIM_MAX_GRID_YZ || gz > SIM_MAX_GRID_YZ)
        return CUDA_ERROR_INVALID_VALUE;
    if (bx > SIM_MAX_THREADS_PER_BLOCK || by > SIM_MAX_THREADS_PER_BLOCK || bz > SIM_MAX_BLOCK_Z ||
        (uint64_t)bx * by * bz > SIM_MAX_THREADS_PER_BLOCK)
        return CUDA_ERROR_INVALID_VALUE;
    if (shmem > SIM_MAX_SHARED_OPTIN)
        return CUDA_ERROR_INVALID_VALUE;
    if (params && extra) /* the two ways of passing arguments are exclusive */
        return CUDA_ERROR_INVALID_VALUE;
    sim_timeline *tl;
    if ((r = sim_stream_timeline(s, per_thread, &ctx, &tl)) != CUDA_SUCCESS)
        return r;
    if (sim_capturing()) { /* a capturing stream records the launch (sim_capture.c) */
        sim_node_op op = {.kind = SIM_NODE_KERNEL, .f = f, .grid = {gx, gy, gz},
                          .block = {bx, by, bz}, .shmem = shmem};
        if (sim_capture_op(tl, &op, &r))
            return r;
    }
    sim_timeline_enqueue(ctx, tl, kernel_duration_ns(f));
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                unsigned int gridDimZ, unsigned int blockDimX,
                                unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream,
                                void **kernelParams, void **extra)
{
    return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ,
                  sharedMemBytes, hStream, kernelParams, extra, false);
}

CUresult CUDAAPI cuLaunchKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                     unsigned int gridDimZ, unsigned int blockDimX,
                                     unsigned int blockDimY, unsigned int blockDimZ,
                                     unsigned int sharedMemBytes, CUstream hStream,
                                     void **kernelParams, void **extra)
{
    return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ,
                  sharedMemBytes, hStream, kernelParams, extra, true);
}
