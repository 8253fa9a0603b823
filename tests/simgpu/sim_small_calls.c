/* Documented calls whose answer on a device that runs no code is fixed: the profiler controls
 * (no profiler is attached: start and stop succeed and do nothing, as the reference says they do
 * without one), cuCtxResetPersistingL2Cache and cuFlushGPUDirectRDMAWrites (no cache, no RDMA
 * traffic: nothing to reset or flush), and cuDeviceGetTexture1DLinearMaxWidth (the 2^27 elements
 * current GPUs report for CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LINEAR_WIDTH). */
#include "sim_internal.h"

#include <cudaProfiler.h>

CUresult CUDAAPI cuProfilerInitialize(const char *configFile, const char *outputFile, CUoutput_mode outputMode)
{
    (void)configFile;
    (void)outputFile;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return ((int)outputMode < 0 || outputMode > CU_OUT_CSV) ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}

CUresult CUDAAPI cuProfilerStart(void)
{
    CUcontext ctx;
    return sim_ctx_require(&ctx);
}

CUresult CUDAAPI cuProfilerStop(void)
{
    CUcontext ctx;
    return sim_ctx_require(&ctx);
}

CUresult CUDAAPI cuCtxResetPersistingL2Cache(void)
{
    CUcontext ctx;
    return sim_ctx_require(&ctx);
}

CUresult CUDAAPI cuFlushGPUDirectRDMAWrites(CUflushGPUDirectRDMAWritesTarget target,
                                            CUflushGPUDirectRDMAWritesScope scope)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (target != CU_FLUSH_GPU_DIRECT_RDMA_WRITES_TARGET_CURRENT_CTX ||
        (scope != CU_FLUSH_GPU_DIRECT_RDMA_WRITES_TO_OWNER && scope != CU_FLUSH_GPU_DIRECT_RDMA_WRITES_TO_ALL_DEVICES))
        return CUDA_ERROR_INVALID_VALUE;
    CUcontext ctx;
    return sim_ctx_require(&ctx);
}

CUresult CUDAAPI cuDeviceGetTexture1DLinearMaxWidth(size_t *maxWidthInElements, CUarray_format format,
                                                    unsigned numChannels, CUdevice dev)
{
    (void)format;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!maxWidthInElements || (numChannels != 1 && numChannels != 2 && numChannels != 4))
        return CUDA_ERROR_INVALID_VALUE;
    *maxWidthInElements = (size_t)1 << 27;
    return CUDA_SUCCESS;
}
