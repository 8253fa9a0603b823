/* 2D and 3D copies (cuMemcpy2D_v2, cuMemcpy2DUnaligned_v2, cuMemcpy2DAsync_v2; 3D below):
 * Height rows of WidthInBytes, each row a 1D copy of the ends' kinds (sim_memcpy.c), so every row is
 * range-checked and stream-ordered like any copy. Host, device and unified ends are
 * supported; array ends are not (CUDA_ERROR_NOT_SUPPORTED): simulated arrays have no storage a
 * copy could address. The reference requires each pitch to be at least WidthInBytes
 * (CUDA_ERROR_INVALID_VALUE otherwise); a pitch of 0 with one row is taken as WidthInBytes. */
#include "sim_internal.h"

/* The address of byte (x, y) of one end, or 0 for an end the simulator cannot address. */
static CUdeviceptr end_address(CUmemorytype type, const void *host, CUdeviceptr dev, size_t x, size_t y,
                               size_t pitch)
{
    CUdeviceptr base;
    switch (type) {
    case CU_MEMORYTYPE_HOST: base = (CUdeviceptr)(uintptr_t)host; break;
    case CU_MEMORYTYPE_DEVICE:
    case CU_MEMORYTYPE_UNIFIED: base = dev; break;
    default: return 0;
    }
    return base ? base + y * pitch + x : 0;
}

/* One row, through the 1D copy of the ends' kinds, so that a device end is checked against its
 * allocation (a unified copy would take an address past it for host memory). */
static CUresult copy_row(CUmemorytype dt, CUdeviceptr dst, CUmemorytype st, CUdeviceptr src, size_t n, CUstream s,
                         bool async)
{
    bool dd = dt == CU_MEMORYTYPE_DEVICE, sd = st == CU_MEMORYTYPE_DEVICE;
    bool dh = dt == CU_MEMORYTYPE_HOST, sh = st == CU_MEMORYTYPE_HOST;
    void *dst_host = (void *)(uintptr_t)dst;
    const void *src_host = (const void *)(uintptr_t)src;
    if (dd && sh)
        return async ? cuMemcpyHtoDAsync_v2(dst, src_host, n, s) : cuMemcpyHtoD_v2(dst, src_host, n);
    if (dh && sd)
        return async ? cuMemcpyDtoHAsync_v2(dst_host, src, n, s) : cuMemcpyDtoH_v2(dst_host, src, n);
    if (dd && sd)
        return async ? cuMemcpyDtoDAsync_v2(dst, src, n, s) : cuMemcpyDtoD_v2(dst, src, n);
    return async ? cuMemcpyAsync(dst, src, n, s) : cuMemcpy(dst, src, n); /* host or unified ends */
}

static CUresult copy_2d(const CUDA_MEMCPY2D *p, CUstream stream, bool async)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!p)
        return CUDA_ERROR_INVALID_VALUE;
    if (p->srcMemoryType == CU_MEMORYTYPE_ARRAY || p->dstMemoryType == CU_MEMORYTYPE_ARRAY)
        return CUDA_ERROR_NOT_SUPPORTED;
    size_t src_pitch = p->srcPitch ? p->srcPitch : (p->Height <= 1 ? p->WidthInBytes : 0);
    size_t dst_pitch = p->dstPitch ? p->dstPitch : (p->Height <= 1 ? p->WidthInBytes : 0);
    if (src_pitch < p->WidthInBytes || dst_pitch < p->WidthInBytes)
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t row = 0; row < p->Height && p->WidthInBytes; row++) {
        CUdeviceptr src = end_address(p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes, p->srcY + row,
                                      src_pitch);
        CUdeviceptr dst = end_address(p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes, p->dstY + row,
                                      dst_pitch);
        if (!src || !dst)
            return CUDA_ERROR_INVALID_VALUE;
        r = copy_row(p->dstMemoryType, dst, p->srcMemoryType, src, p->WidthInBytes, stream, async);
        if (r != CUDA_SUCCESS)
            return r;
    }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpy2D_v2(const CUDA_MEMCPY2D *pCopy) { return copy_2d(pCopy, NULL, false); }
CUresult CUDAAPI cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *pCopy) { return copy_2d(pCopy, NULL, false); }
CUresult CUDAAPI cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *pCopy, CUstream hStream)
{
    return copy_2d(pCopy, hStream, true);
}

/* cuMemsetD2D8: Height rows of Width bytes, dstPitch apart, each a cuMemsetD8 (range-checked,
 * ordered like any memset). */
static CUresult memset_2d(CUdeviceptr dst, size_t pitch, unsigned char uc, size_t width, size_t height, CUstream s,
                          bool async)
{
    if (height > 1 && pitch < width)
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t row = 0; row < height && width; row++) {
        CUdeviceptr at = dst + row * pitch;
        CUresult r = async ? cuMemsetD8Async(at, uc, width, s) : cuMemsetD8_v2(at, uc, width);
        if (r != CUDA_SUCCESS)
            return r;
    }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD2D8_v2(CUdeviceptr dstDevice, size_t dstPitch, unsigned char uc, size_t Width, size_t Height)
{ return memset_2d(dstDevice, dstPitch, uc, Width, Height, NULL, false); }
CUresult CUDAAPI cuMemsetD2D8Async(CUdeviceptr dstDevice, size_t dstPitch, unsigned char uc, size_t Width,
                                   size_t Height, CUstream hStream)
{ return memset_2d(dstDevice, dstPitch, uc, Width, Height, hStream, true); }

/* 3D copies (cuMemcpy3D_v2, cuMemcpy3DAsync_v2): Depth slices of Height rows, each row a 1D copy
 * of the ends' kinds, at x + (z * height + y) * pitch. Array ends and LODs are not supported
 * (CUDA_ERROR_NOT_SUPPORTED), as for 2D copies; reserved0/1 must be NULL and each pitch at least
 * WidthInBytes, and a height at least Height when there is more than one slice (the reference:
 * "may be 0 if Depth == 1"). */
static CUresult copy_3d(const CUDA_MEMCPY3D *p, CUstream stream, bool async)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!p || p->reserved0 || p->reserved1)
        return CUDA_ERROR_INVALID_VALUE;
    if (p->srcMemoryType == CU_MEMORYTYPE_ARRAY || p->dstMemoryType == CU_MEMORYTYPE_ARRAY || p->srcLOD ||
        p->dstLOD)
        return CUDA_ERROR_NOT_SUPPORTED;
    size_t rows = p->Height ? p->Height : 1, slices = p->Depth ? p->Depth : 1;
    size_t src_pitch = p->srcPitch ? p->srcPitch : p->WidthInBytes;
    size_t dst_pitch = p->dstPitch ? p->dstPitch : p->WidthInBytes;
    size_t src_height = p->srcHeight ? p->srcHeight : rows, dst_height = p->dstHeight ? p->dstHeight : rows;
    if ((rows > 1 && (src_pitch < p->WidthInBytes || dst_pitch < p->WidthInBytes)) ||
        (slices > 1 && (src_height < rows || dst_height < rows)))
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t z = 0; z < slices && p->WidthInBytes; z++)
        for (size_t y = 0; y < rows; y++) {
            CUdeviceptr src = end_address(p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes,
                                          (p->srcZ + z) * src_height + p->srcY + y, src_pitch);
            CUdeviceptr dst = end_address(p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes,
                                          (p->dstZ + z) * dst_height + p->dstY + y, dst_pitch);
            if (!src || !dst)
                return CUDA_ERROR_INVALID_VALUE;
            r = copy_row(p->dstMemoryType, dst, p->srcMemoryType, src, p->WidthInBytes, stream, async);
            if (r != CUDA_SUCCESS)
                return r;
        }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpy3D_v2(const CUDA_MEMCPY3D *pCopy) { return copy_3d(pCopy, NULL, false); }
CUresult CUDAAPI cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *pCopy, CUstream hStream)
{
    return copy_3d(pCopy, hStream, true);
}
