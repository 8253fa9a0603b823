/* Peer access between GPUs. The simulator models none (docs/simgpu.md, "What is not modelled"):
 * cuDeviceCanAccessPeer says 0 for every pair, so enabling access fails the way the reference
 * gives for a pair that cannot: CUDA_ERROR_PEER_ACCESS_UNSUPPORTED; a context's own device is
 * CUDA_ERROR_INVALID_DEVICE (access to itself is not peer access); disabling access never
 * enabled is CUDA_ERROR_PEER_ACCESS_NOT_ENABLED. cuDeviceGetP2PAttribute answers 0 for every
 * attribute of two different devices and CUDA_ERROR_INVALID_DEVICE for one device with itself,
 * as the reference says. */
#include "sim_internal.h"

CUresult CUDAAPI cuDeviceCanAccessPeer(int *canAccessPeer, CUdevice dev, CUdevice peerDev)
{
    CUresult r = sim_check_device(dev);
    if (r == CUDA_SUCCESS)
        r = sim_check_device(peerDev);
    if (r != CUDA_SUCCESS)
        return r;
    if (!canAccessPeer)
        return CUDA_ERROR_INVALID_VALUE;
    *canAccessPeer = 0;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetP2PAttribute(int *value, CUdevice_P2PAttribute attrib, CUdevice srcDevice,
                                         CUdevice dstDevice)
{
    CUresult r = sim_check_device(srcDevice);
    if (r == CUDA_SUCCESS)
        r = sim_check_device(dstDevice);
    if (r != CUDA_SUCCESS)
        return r;
    if (!value || (int)attrib < CU_DEVICE_P2P_ATTRIBUTE_PERFORMANCE_RANK ||
        attrib > CU_DEVICE_P2P_ATTRIBUTE_CUDA_ARRAY_ACCESS_SUPPORTED)
        return CUDA_ERROR_INVALID_VALUE;
    if (srcDevice == dstDevice)
        return CUDA_ERROR_INVALID_DEVICE;
    *value = 0;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxEnablePeerAccess(CUcontext peerContext, unsigned int Flags)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    if (Flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    if (!peerContext)
        return CUDA_ERROR_INVALID_HANDLE;
    return peerContext->dev == ctx->dev ? CUDA_ERROR_INVALID_DEVICE : CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
}

CUresult CUDAAPI cuCtxDisablePeerAccess(CUcontext peerContext)
{
    CUcontext ctx;
    CUresult r = sim_ctx_require(&ctx);
    if (r != CUDA_SUCCESS)
        return r;
    return peerContext ? CUDA_ERROR_PEER_ACCESS_NOT_ENABLED : CUDA_ERROR_INVALID_HANDLE;
}

/* Copies between two contexts' memory: all of it is host memory here, so a peer copy is a
 * device-to-device copy once both contexts are known to be live (the reference: CUDA_ERROR_INVALID_CONTEXT
 * otherwise). Peer access need not be enabled for these, as the reference says. */
CUresult CUDAAPI cuMemcpyPeer(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice,
                              CUcontext srcContext, size_t ByteCount)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (sim_ctx_check(dstContext) != CUDA_SUCCESS || sim_ctx_check(srcContext) != CUDA_SUCCESS)
        return CUDA_ERROR_INVALID_CONTEXT;
    return cuMemcpyDtoD_v2(dstDevice, srcDevice, ByteCount);
}

CUresult CUDAAPI cuMemcpyPeerAsync(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice,
                                   CUcontext srcContext, size_t ByteCount, CUstream hStream)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (sim_ctx_check(dstContext) != CUDA_SUCCESS || sim_ctx_check(srcContext) != CUDA_SUCCESS)
        return CUDA_ERROR_INVALID_CONTEXT;
    return cuMemcpyDtoDAsync_v2(dstDevice, srcDevice, ByteCount, hStream);
}
