/* 2D and 3D copies, peer copies and 2D memsets: passed straight through, and with GREY_DEDUP
 * observed like the linear ones (shim/cuda_copy.c): each device end is marked used, the
 * destination written (its fingerprint stale), at the buffer that holds the first byte the copy
 * touches (an end inside a buffer is found by the driver's address range). A pitched copy never
 * fills a whole buffer in one contiguous run the upload fingerprint could hash, so it fingerprints
 * nothing; the next snapshot reads the buffer back. Arrays are not tracked as addressable memory
 * and are left alone. */
#include "cuda_copy_wrap.h"

/* The first byte of one end and the bytes from it to the last, for an end in device memory
 * (unified addressing: the driver is asked whether the address is the device's). */
static bool device_end(CUmemorytype type, CUdeviceptr dev, size_t x, size_t y, size_t z, size_t pitch,
                       size_t height, size_t width, size_t rows, size_t depth, CUdeviceptr *first, size_t *span)
{
    if (type != CU_MEMORYTYPE_DEVICE && !(type == CU_MEMORYTYPE_UNIFIED && grey_dedup_is_device(dev)))
        return false;
    *first = dev + (z * height + y) * pitch + x;
    *span = rows && depth ? ((depth - 1) * height + (rows - 1)) * pitch + width : 0;
    return true;
}

static void observe(CUdeviceptr dst, size_t dst_span, bool dst_dev, CUdeviceptr src, size_t src_span, bool src_dev)
{
    if (src_dev)
        grey_dedup_read(src, src_span);
    if (dst_dev)
        grey_dedup_written(dst, dst_span, GREY_TOUCH_COPY_IN);
}

static void copy_2d(const CUDA_MEMCPY2D *c)
{
    CUdeviceptr d = 0, s = 0;
    size_t dn = 0, sn = 0;
    bool dd = device_end(c->dstMemoryType, c->dstDevice, c->dstXInBytes, c->dstY, 0, c->dstPitch, 0,
                         c->WidthInBytes, c->Height, 1, &d, &dn);
    bool sd = device_end(c->srcMemoryType, c->srcDevice, c->srcXInBytes, c->srcY, 0, c->srcPitch, 0,
                         c->WidthInBytes, c->Height, 1, &s, &sn);
    observe(d, dn, dd, s, sn, sd);
}

static void copy_3d(const CUDA_MEMCPY3D *c)
{
    CUdeviceptr d = 0, s = 0;
    size_t dn = 0, sn = 0;
    bool dd = device_end(c->dstMemoryType, c->dstDevice, c->dstXInBytes, c->dstY, c->dstZ, c->dstPitch,
                         c->dstHeight, c->WidthInBytes, c->Height, c->Depth, &d, &dn);
    bool sd = device_end(c->srcMemoryType, c->srcDevice, c->srcXInBytes, c->srcY, c->srcZ, c->srcPitch,
                         c->srcHeight, c->WidthInBytes, c->Height, c->Depth, &s, &sn);
    observe(d, dn, dd, s, sn, sd);
}

#define C2 (const CUDA_MEMCPY2D *c)
#define C2A (const CUDA_MEMCPY2D *c, CUstream st)
#define C3 (const CUDA_MEMCPY3D *c)
#define C3A (const CUDA_MEMCPY3D *c, CUstream st)

WRAP(cuMemcpy2D_v2, PFN_cuMemcpy2D_v3020, C2, (c), copy_2d(c))
WRAP(cuMemcpy2D_v2_ptds, PFN_cuMemcpy2D_v7000_ptds, C2, (c), copy_2d(c))
WRAP(cuMemcpy2DUnaligned_v2, PFN_cuMemcpy2DUnaligned_v3020, C2, (c), copy_2d(c))
WRAP(cuMemcpy2DUnaligned_v2_ptds, PFN_cuMemcpy2DUnaligned_v7000_ptds, C2, (c), copy_2d(c))
WRAP_ASYNC(cuMemcpy2DAsync_v2, PFN_cuMemcpy2DAsync_v3020, C2A, (c, st), st, copy_2d(c))
WRAP_ASYNC(cuMemcpy2DAsync_v2_ptsz, PFN_cuMemcpy2DAsync_v7000_ptsz, C2A, (c, st), PTSZ(st), copy_2d(c))
WRAP(cuMemcpy3D_v2, PFN_cuMemcpy3D_v3020, C3, (c), copy_3d(c))
WRAP(cuMemcpy3D_v2_ptds, PFN_cuMemcpy3D_v7000_ptds, C3, (c), copy_3d(c))
WRAP_ASYNC(cuMemcpy3DAsync_v2, PFN_cuMemcpy3DAsync_v3020, C3A, (c, st), st, copy_3d(c))
WRAP_ASYNC(cuMemcpy3DAsync_v2_ptsz, PFN_cuMemcpy3DAsync_v7000_ptsz, C3A, (c, st), PTSZ(st), copy_3d(c))

/* ------------------------------------------------------------------ peer copies */
static void peer(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    grey_dedup_read(src, n);
    grey_dedup_written(dst, n, GREY_TOUCH_COPY_IN);
}

#define PEER_P (CUdeviceptr dst, CUcontext dc, CUdeviceptr src, CUcontext sc, size_t n)
#define PEER_PA (CUdeviceptr dst, CUcontext dc, CUdeviceptr src, CUcontext sc, size_t n, CUstream st)
WRAP(cuMemcpyPeer, PFN_cuMemcpyPeer_v4000, PEER_P, (dst, dc, src, sc, n), peer(dst, src, n))
WRAP(cuMemcpyPeer_ptds, PFN_cuMemcpyPeer_v7000_ptds, PEER_P, (dst, dc, src, sc, n), peer(dst, src, n))
WRAP_ASYNC(cuMemcpyPeerAsync, PFN_cuMemcpyPeerAsync_v4000, PEER_PA, (dst, dc, src, sc, n, st), st, peer(dst, src, n))
WRAP_ASYNC(cuMemcpyPeerAsync_ptsz, PFN_cuMemcpyPeerAsync_v7000_ptsz, PEER_PA, (dst, dc, src, sc, n, st), PTSZ(st), peer(dst, src, n))

/* ------------------------------------------------------------------ 2D memsets */
#define SET2_P(T) (CUdeviceptr dst, size_t pitch, T value, size_t w, size_t h)
#define SET2_PA(T) (CUdeviceptr dst, size_t pitch, T value, size_t w, size_t h, CUstream st)
/* The bytes from the first to the last written: h - 1 pitches and one row. */
#define SET2(width) grey_dedup_written(dst, h ? (h - 1) * pitch + w * (width) : 0, GREY_TOUCH_MEMSET)

WRAP(cuMemsetD2D8_v2, PFN_cuMemsetD2D8_v3020, SET2_P(unsigned char), (dst, pitch, value, w, h), SET2(1))
WRAP(cuMemsetD2D8_v2_ptds, PFN_cuMemsetD2D8_v7000_ptds, SET2_P(unsigned char), (dst, pitch, value, w, h), SET2(1))
WRAP(cuMemsetD2D16_v2, PFN_cuMemsetD2D16_v3020, SET2_P(unsigned short), (dst, pitch, value, w, h), SET2(2))
WRAP(cuMemsetD2D16_v2_ptds, PFN_cuMemsetD2D16_v7000_ptds, SET2_P(unsigned short), (dst, pitch, value, w, h), SET2(2))
WRAP(cuMemsetD2D32_v2, PFN_cuMemsetD2D32_v3020, SET2_P(unsigned int), (dst, pitch, value, w, h), SET2(4))
WRAP(cuMemsetD2D32_v2_ptds, PFN_cuMemsetD2D32_v7000_ptds, SET2_P(unsigned int), (dst, pitch, value, w, h), SET2(4))
WRAP_ASYNC(cuMemsetD2D8Async, PFN_cuMemsetD2D8Async_v3020, SET2_PA(unsigned char), (dst, pitch, value, w, h, st), st, SET2(1))
WRAP_ASYNC(cuMemsetD2D8Async_ptsz, PFN_cuMemsetD2D8Async_v7000_ptsz, SET2_PA(unsigned char), (dst, pitch, value, w, h, st), PTSZ(st), SET2(1))
WRAP_ASYNC(cuMemsetD2D16Async, PFN_cuMemsetD2D16Async_v3020, SET2_PA(unsigned short), (dst, pitch, value, w, h, st), st, SET2(2))
WRAP_ASYNC(cuMemsetD2D16Async_ptsz, PFN_cuMemsetD2D16Async_v7000_ptsz, SET2_PA(unsigned short), (dst, pitch, value, w, h, st), PTSZ(st), SET2(2))
WRAP_ASYNC(cuMemsetD2D32Async, PFN_cuMemsetD2D32Async_v3020, SET2_PA(unsigned int), (dst, pitch, value, w, h, st), st, SET2(4))
WRAP_ASYNC(cuMemsetD2D32Async_ptsz, PFN_cuMemsetD2D32Async_v7000_ptsz, SET2_PA(unsigned int), (dst, pitch, value, w, h, st), PTSZ(st), SET2(4))
