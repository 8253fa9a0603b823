/* Kernel launches: cuLaunchKernel, cuLaunchKernelEx and cuLaunchCooperativeKernel, each with
 * its per-thread-default-stream (_ptsz) form.
 *
 * Arguments are validated as the driver validates them (handle, dimensions against the device
 * limits, shared memory, stream, for cooperative launches that the grid fits on the device at
 * once), then the kernel is queued on its stream and on its device's timeline, which all
 * processes share (sim_timeline.c). The kernel runs no code; it occupies the device for its
 * duration (GREY_SIM_KERNEL_US, or a _usN suffix of its name). */
#include "sim_internal.h"

#include <limits.h>

/* The limits cuDeviceGetAttribute reports (sim_device.c). */
#define SIM_MAX_THREADS_PER_BLOCK 1024u
#define SIM_MAX_BLOCK_Z           64u
#define SIM_MAX_GRID_YZ           65535u
#define SIM_MAX_SHARED_OPTIN      (227u * 1024u)

/* Blocks that may be resident on one SM at once (the H100's limit): a cooperative grid must fit. */
#define SIM_MAX_BLOCKS_PER_SM     32u

static CUresult launch(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                       unsigned int bx, unsigned int by, unsigned int bz, unsigned int shmem,
                       CUstream s, void **params, void **extra, bool per_thread, bool cooperative)
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
    if (cooperative && (uint64_t)gx * gy * gz > (uint64_t)sim_devices[ctx->dev].sms * SIM_MAX_BLOCKS_PER_SM)
        return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
    sim_timeline *tl;
    if ((r = sim_stream_timeline(s, per_thread, &ctx, &tl)) != CUDA_SUCCESS)
        return r;
    if (sim_capturing()) { /* a capturing stream records the launch (sim_capture.c) */
        sim_node_op op = {.kind = SIM_NODE_KERNEL, .f = f, .grid = {gx, gy, gz},
                          .block = {bx, by, bz}, .shmem = shmem};
        op.nargs = sim_kernel_args(f, params, op.args);
        if (sim_capture_op(tl, &op, &r))
            return r;
    }
    sim_timeline_kernel(ctx, tl, sim_function_duration_ns(f));
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                unsigned int gridDimZ, unsigned int blockDimX,
                                unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream hStream,
                                void **kernelParams, void **extra)
{
    return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ,
                  sharedMemBytes, hStream, kernelParams, extra, false, false);
}

CUresult CUDAAPI cuLaunchKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                     unsigned int gridDimZ, unsigned int blockDimX,
                                     unsigned int blockDimY, unsigned int blockDimZ,
                                     unsigned int sharedMemBytes, CUstream hStream,
                                     void **kernelParams, void **extra)
{
    return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ,
                  sharedMemBytes, hStream, kernelParams, extra, true, false);
}

/* The launch attributes (cluster dimensions, priorities, ...) are accepted and not modelled. */
static CUresult launch_ex(const CUlaunchConfig *config, CUfunction f, void **params, void **extra,
                          bool per_thread)
{
    if (!config || (config->numAttrs > 0 && !config->attrs))
        return CUDA_ERROR_INVALID_VALUE;
    return launch(f, config->gridDimX, config->gridDimY, config->gridDimZ, config->blockDimX,
                  config->blockDimY, config->blockDimZ, config->sharedMemBytes, config->hStream, params,
                  extra, per_thread, false);
}

CUresult CUDAAPI cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **kernelParams, void **extra)
{
    return launch_ex(config, f, kernelParams, extra, false);
}

CUresult CUDAAPI cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **kernelParams,
                                       void **extra)
{
    return launch_ex(config, f, kernelParams, extra, true);
}

CUresult CUDAAPI cuLaunchCooperativeKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                           unsigned int gridDimZ, unsigned int blockDimX,
                                           unsigned int blockDimY, unsigned int blockDimZ,
                                           unsigned int sharedMemBytes, CUstream hStream, void **kernelParams)
{
    return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream,
                  kernelParams, NULL, false, true);
}

CUresult CUDAAPI cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                                unsigned int gridDimZ, unsigned int blockDimX,
                                                unsigned int blockDimY, unsigned int blockDimZ,
                                                unsigned int sharedMemBytes, CUstream hStream,
                                                void **kernelParams)
{
    return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream,
                  kernelParams, NULL, true, true);
}
