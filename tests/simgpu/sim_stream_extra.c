/* Stream calls beyond creating, waiting and querying (sim_stream_event.c): cuStreamGetCtx, the
 * stream memory operations, and the unified-memory hints cuMemPrefetchAsync and cuMemAdvise.
 *
 * Stream memory operations (cuStreamWaitValue32/64, cuStreamWriteValue32/64, cuStreamBatchMemOp,
 * and the _v2 forms) are CUDA_ERROR_NOT_SUPPORTED: the simulated device reports
 * CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS_V1 as 0, and the reference makes support depend on
 * it. Prefetches and advice are hints about where pages live; every page here is host memory,
 * so they are checked (a live stream, a known device or location, a known advice) and otherwise
 * do nothing. */
#include "sim_internal.h"

static CUresult stream_ctx(CUstream s, bool per_thread, CUcontext *pctx)
{
    CUcontext ctx = NULL;
    sim_timeline *tl;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!pctx)
        return CUDA_ERROR_INVALID_VALUE;
    (void)cuCtxGetCurrent(&ctx);
    if ((r = sim_stream_timeline(s, per_thread, &ctx, &tl)) != CUDA_SUCCESS)
        return r;
    *pctx = ctx;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuStreamGetCtx(CUstream hStream, CUcontext *pctx) { return stream_ctx(hStream, false, pctx); }
CUresult CUDAAPI cuStreamGetCtx_ptsz(CUstream hStream, CUcontext *pctx) { return stream_ctx(hStream, true, pctx); }

static CUresult no_stream_mem_ops(void)
{
    CUresult r = sim_check_init();
    return r != CUDA_SUCCESS ? r : CUDA_ERROR_NOT_SUPPORTED;
}

CUresult CUDAAPI cuStreamWaitValue32(CUstream s, CUdeviceptr a, cuuint32_t v, unsigned int f)
{ (void)s; (void)a; (void)v; (void)f; return no_stream_mem_ops(); }
CUresult CUDAAPI cuStreamWaitValue32_v2(CUstream s, CUdeviceptr a, cuuint32_t v, unsigned int f)
{ (void)s; (void)a; (void)v; (void)f; return no_stream_mem_ops(); }
CUresult CUDAAPI cuStreamWriteValue32(CUstream s, CUdeviceptr a, cuuint32_t v, unsigned int f)
{ (void)s; (void)a; (void)v; (void)f; return no_stream_mem_ops(); }
CUresult CUDAAPI cuStreamWriteValue32_v2(CUstream s, CUdeviceptr a, cuuint32_t v, unsigned int f)
{ (void)s; (void)a; (void)v; (void)f; return no_stream_mem_ops(); }
CUresult CUDAAPI cuStreamBatchMemOp(CUstream s, unsigned int n, CUstreamBatchMemOpParams *p, unsigned int f)
{ (void)s; (void)n; (void)p; (void)f; return no_stream_mem_ops(); }
CUresult CUDAAPI cuStreamBatchMemOp_v2(CUstream s, unsigned int n, CUstreamBatchMemOpParams *p, unsigned int f)
{ (void)s; (void)n; (void)p; (void)f; return no_stream_mem_ops(); }

static CUresult hint_stream(CUstream s, bool per_thread)
{
    CUcontext ctx;
    return stream_ctx(s, per_thread, &ctx);
}

/* The CUDA 8 form: a device, or CU_DEVICE_CPU. */
CUresult CUDAAPI cuMemPrefetchAsync(CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream)
{
    CUresult r = hint_stream(hStream, false);
    if (r != CUDA_SUCCESS)
        return r;
    if (!devPtr || count == 0 || (dstDevice != CU_DEVICE_CPU && sim_check_device(dstDevice) != CUDA_SUCCESS))
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemPrefetchAsync_v2(CUdeviceptr devPtr, size_t count, CUmemLocation location, unsigned int flags,
                                       CUstream hStream)
{
    CUresult r = hint_stream(hStream, false);
    if (r != CUDA_SUCCESS)
        return r;
    if (!devPtr || count == 0 || flags != 0 ||
        (location.type == CU_MEM_LOCATION_TYPE_DEVICE && sim_check_device(location.id) != CUDA_SUCCESS))
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAdvise(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUdevice device)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!devPtr || count == 0 || advice < CU_MEM_ADVISE_SET_READ_MOSTLY || advice > CU_MEM_ADVISE_UNSET_ACCESSED_BY ||
        (device != CU_DEVICE_CPU && sim_check_device(device) != CUDA_SUCCESS))
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAdvise_v2(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUmemLocation location)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!devPtr || count == 0 || advice < CU_MEM_ADVISE_SET_READ_MOSTLY || advice > CU_MEM_ADVISE_UNSET_ACCESSED_BY ||
        (location.type == CU_MEM_LOCATION_TYPE_DEVICE && sim_check_device(location.id) != CUDA_SUCCESS))
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}
