/* Copies and memsets between host and simulated device memory.
 *
 * Device memory is host memory here, so every copy is a memmove (memmove, not memcpy: a
 * device-to-device copy may overlap, and the driver copies it correctly). The device side of each
 * copy is checked against the allocation registry first, so a copy that would run past the end of
 * an allocation is refused with CUDA_ERROR_INVALID_VALUE, as on hardware, instead of faulting.
 *
 * Stream ordering: a synchronous copy first waits for the work already queued on the default
 * stream (legacy, or per-thread for the _ptds entry points); an asynchronous one is done at once
 * and queued as zero-length work on its stream, so events recorded after it complete after it.
 * The copy itself is instantaneous; only kernels take simulated time. Under
 * GREY_SIM_SCHED=timeslice the same holds: an asynchronous copy completes when the stream's
 * earlier work does (or at once), so it occupies no slice (sim_timeline.c). */
#include "sim_internal.h"

#include <string.h>

typedef struct copy_op {
    CUdeviceptr dst, src;
    sim_mem_need dst_need, src_need;
    size_t n;
} copy_op;

/* Resolves the stream, checks both ends and copies. Synchronous copies wait for the stream first
 * and are not queued; asynchronous ones are queued after. */
static CUresult do_copy(copy_op op, CUstream s, bool per_thread, bool async)
{
    CUcontext ctx;
    sim_timeline *tl;
    CUresult r = sim_ctx_require(&ctx);
    if (r == CUDA_SUCCESS)
        r = sim_stream_timeline(s, per_thread, &ctx, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    if (op.n == 0)
        return CUDA_SUCCESS;
    if ((r = sim_mem_check(op.dst, op.n, op.dst_need)) != CUDA_SUCCESS ||
        (r = sim_mem_check(op.src, op.n, op.src_need)) != CUDA_SUCCESS)
        return r;
    if (async && sim_capturing()) { /* a capturing stream records the copy (sim_capture.c) */
        sim_node_op node = {.kind = SIM_NODE_MEMCPY, .dst = op.dst, .src = op.src, .n = op.n};
        if (sim_capture_op(tl, &node, &r))
            return r;
    }
    if (!async)
        sim_timeline_wait(ctx->phys, atomic_load(&tl->tail_ns));
    if ((r = sim_mem_move(op.dst, op.dst_need, op.src, op.src_need, op.n)) != CUDA_SUCCESS)
        return r;
    if (async)
        sim_timeline_enqueue(ctx, tl, 0);
    return CUDA_SUCCESS;
}

static copy_op htod(CUdeviceptr d, const void *h, size_t n)
{
    return (copy_op){d, (CUdeviceptr)(uintptr_t)h, SIM_MEM_DEVICE, SIM_MEM_ANY, n};
}
static copy_op dtoh(void *h, CUdeviceptr d, size_t n)
{
    return (copy_op){(CUdeviceptr)(uintptr_t)h, d, SIM_MEM_ANY, SIM_MEM_DEVICE, n};
}
static copy_op dtod(CUdeviceptr d, CUdeviceptr s, size_t n)
{
    return (copy_op){d, s, SIM_MEM_DEVICE, SIM_MEM_DEVICE, n};
}
/* cuMemcpy: unified addressing, either end may be host or device memory. */
static copy_op unified(CUdeviceptr d, CUdeviceptr s, size_t n)
{
    return (copy_op){d, s, SIM_MEM_ANY, SIM_MEM_ANY, n};
}

/* ------------------------------------------------------------------ synchronous copies */

CUresult CUDAAPI cuMemcpyHtoD_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{ return do_copy(htod(dstDevice, srcHost, ByteCount), NULL, false, false); }
CUresult CUDAAPI cuMemcpyHtoD_v2_ptds(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount)
{ return do_copy(htod(dstDevice, srcHost, ByteCount), NULL, true, false); }

CUresult CUDAAPI cuMemcpyDtoH_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
{ return do_copy(dtoh(dstHost, srcDevice, ByteCount), NULL, false, false); }
CUresult CUDAAPI cuMemcpyDtoH_v2_ptds(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount)
{ return do_copy(dtoh(dstHost, srcDevice, ByteCount), NULL, true, false); }

CUresult CUDAAPI cuMemcpyDtoD_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount)
{ return do_copy(dtod(dstDevice, srcDevice, ByteCount), NULL, false, false); }
CUresult CUDAAPI cuMemcpyDtoD_v2_ptds(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount)
{ return do_copy(dtod(dstDevice, srcDevice, ByteCount), NULL, true, false); }

CUresult CUDAAPI cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount)
{ return do_copy(unified(dst, src, ByteCount), NULL, false, false); }
CUresult CUDAAPI cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount)
{ return do_copy(unified(dst, src, ByteCount), NULL, true, false); }

/* ------------------------------------------------------------------ asynchronous copies */

CUresult CUDAAPI cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream)
{ return do_copy(htod(dstDevice, srcHost, ByteCount), hStream, false, true); }
CUresult CUDAAPI cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream)
{ return do_copy(htod(dstDevice, srcHost, ByteCount), hStream, true, true); }

CUresult CUDAAPI cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)
{ return do_copy(dtoh(dstHost, srcDevice, ByteCount), hStream, false, true); }
CUresult CUDAAPI cuMemcpyDtoHAsync_v2_ptsz(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)
{ return do_copy(dtoh(dstHost, srcDevice, ByteCount), hStream, true, true); }

CUresult CUDAAPI cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)
{ return do_copy(dtod(dstDevice, srcDevice, ByteCount), hStream, false, true); }
CUresult CUDAAPI cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)
{ return do_copy(dtod(dstDevice, srcDevice, ByteCount), hStream, true, true); }

CUresult CUDAAPI cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream)
{ return do_copy(unified(dst, src, ByteCount), hStream, false, true); }
CUresult CUDAAPI cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t ByteCount, CUstream hStream)
{ return do_copy(unified(dst, src, ByteCount), hStream, true, true); }

/* ------------------------------------------------------------------ memset */

/* Fills n elements of width bytes (1, 2 or 4) with value. The destination must be aligned to
 * the element width, as the driver requires. */
static CUresult do_memset(CUdeviceptr dst, uint32_t value, size_t width, size_t n, CUstream s,
                          bool per_thread, bool async)
{
    CUcontext ctx;
    sim_timeline *tl;
    CUresult r = sim_ctx_require(&ctx);
    if (r == CUDA_SUCCESS)
        r = sim_stream_timeline(s, per_thread, &ctx, &tl);
    if (r != CUDA_SUCCESS)
        return r;
    if (n == 0)
        return CUDA_SUCCESS;
    if (dst % width != 0 || n > SIZE_MAX / width)
        return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_mem_check(dst, n * width, SIM_MEM_DEVICE)) != CUDA_SUCCESS)
        return r;
    if (async && sim_capturing()) { /* a capturing stream records the memset (sim_capture.c) */
        sim_node_op node = {.kind = SIM_NODE_MEMSET, .dst = dst, .value = value,
                            .width = (unsigned int)width, .n = n};
        if (sim_capture_op(tl, &node, &r))
            return r;
    }
    if (!async)
        sim_timeline_wait(ctx->phys, atomic_load(&tl->tail_ns));
    if ((r = sim_mem_fill(dst, value, width, n)) != CUDA_SUCCESS)
        return r;
    if (async)
        sim_timeline_enqueue(ctx, tl, 0);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD8_v2(CUdeviceptr dstDevice, unsigned char uc, size_t N)
{ return do_memset(dstDevice, uc, 1, N, NULL, false, false); }
CUresult CUDAAPI cuMemsetD8_v2_ptds(CUdeviceptr dstDevice, unsigned char uc, size_t N)
{ return do_memset(dstDevice, uc, 1, N, NULL, true, false); }
CUresult CUDAAPI cuMemsetD16_v2(CUdeviceptr dstDevice, unsigned short us, size_t N)
{ return do_memset(dstDevice, us, 2, N, NULL, false, false); }
CUresult CUDAAPI cuMemsetD16_v2_ptds(CUdeviceptr dstDevice, unsigned short us, size_t N)
{ return do_memset(dstDevice, us, 2, N, NULL, true, false); }
CUresult CUDAAPI cuMemsetD32_v2(CUdeviceptr dstDevice, unsigned int ui, size_t N)
{ return do_memset(dstDevice, ui, 4, N, NULL, false, false); }
CUresult CUDAAPI cuMemsetD32_v2_ptds(CUdeviceptr dstDevice, unsigned int ui, size_t N)
{ return do_memset(dstDevice, ui, 4, N, NULL, true, false); }

CUresult CUDAAPI cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)
{ return do_memset(dstDevice, uc, 1, N, hStream, false, true); }
CUresult CUDAAPI cuMemsetD8Async_ptsz(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)
{ return do_memset(dstDevice, uc, 1, N, hStream, true, true); }
CUresult CUDAAPI cuMemsetD16Async(CUdeviceptr dstDevice, unsigned short us, size_t N, CUstream hStream)
{ return do_memset(dstDevice, us, 2, N, hStream, false, true); }
CUresult CUDAAPI cuMemsetD16Async_ptsz(CUdeviceptr dstDevice, unsigned short us, size_t N, CUstream hStream)
{ return do_memset(dstDevice, us, 2, N, hStream, true, true); }
CUresult CUDAAPI cuMemsetD32Async(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream)
{ return do_memset(dstDevice, ui, 4, N, hStream, false, true); }
CUresult CUDAAPI cuMemsetD32Async_ptsz(CUdeviceptr dstDevice, unsigned int ui, size_t N, CUstream hStream)
{ return do_memset(dstDevice, ui, 4, N, hStream, true, true); }

/* ------------------------------------------------------------------ 2D, 3D and peer copies */

/* One end of a pitched copy: where row (y, z) starts and how its memory is checked. Arrays are
 * not simulated (a copy to or from one is refused as unsupported). */
typedef struct pitched_end {
    CUmemorytype type;
    CUdeviceptr base;
    size_t x, y, z, pitch, height;
} pitched_end;

static CUresult end_of(CUmemorytype type, const void *host, CUdeviceptr dev, size_t x, size_t y, size_t z,
                       size_t pitch, size_t height, pitched_end *out)
{
    if (type != CU_MEMORYTYPE_HOST && type != CU_MEMORYTYPE_DEVICE && type != CU_MEMORYTYPE_UNIFIED)
        return CUDA_ERROR_NOT_SUPPORTED;
    *out = (pitched_end){type, type == CU_MEMORYTYPE_HOST ? (CUdeviceptr)(uintptr_t)host : dev, x, y, z, pitch, height};
    return CUDA_SUCCESS;
}

static CUdeviceptr row_of(const pitched_end *e, size_t row, size_t slice)
{
    return e->base + ((e->z + slice) * e->height + e->y + row) * e->pitch + e->x;
}

static sim_mem_need need_of(const pitched_end *e)
{
    return e->type == CU_MEMORYTYPE_DEVICE ? SIM_MEM_DEVICE : SIM_MEM_ANY;
}

/* A pitched copy is its rows, each a linear copy (checked against its allocation). */
static CUresult do_pitched(const pitched_end *dst, const pitched_end *src, size_t width, size_t height,
                           size_t depth, CUstream s, bool per_thread, bool async)
{
    for (size_t z = 0; z < depth; z++)
        for (size_t y = 0; y < height; y++) {
            copy_op op = {row_of(dst, y, z), row_of(src, y, z), need_of(dst), need_of(src), width};
            CUresult r = do_copy(op, s, per_thread, async);
            if (r != CUDA_SUCCESS)
                return r;
        }
    return CUDA_SUCCESS;
}

static CUresult copy_2d(const CUDA_MEMCPY2D *c, CUstream s, bool per_thread, bool async)
{
    if (!c)
        return CUDA_ERROR_INVALID_VALUE;
    pitched_end d, sr;
    CUresult r = end_of(c->dstMemoryType, c->dstHost, c->dstDevice, c->dstXInBytes, c->dstY, 0, c->dstPitch, 0, &d);
    if (r == CUDA_SUCCESS)
        r = end_of(c->srcMemoryType, c->srcHost, c->srcDevice, c->srcXInBytes, c->srcY, 0, c->srcPitch, 0, &sr);
    if (r != CUDA_SUCCESS)
        return r;
    if ((c->Height > 1 && (c->dstPitch < c->WidthInBytes || c->srcPitch < c->WidthInBytes)))
        return CUDA_ERROR_INVALID_VALUE;
    return do_pitched(&d, &sr, c->WidthInBytes, c->Height, 1, s, per_thread, async);
}

static CUresult copy_3d(const CUDA_MEMCPY3D *c, CUstream s, bool per_thread, bool async)
{
    if (!c)
        return CUDA_ERROR_INVALID_VALUE;
    pitched_end d, sr;
    CUresult r = end_of(c->dstMemoryType, c->dstHost, c->dstDevice, c->dstXInBytes, c->dstY, c->dstZ, c->dstPitch,
                        c->dstHeight, &d);
    if (r == CUDA_SUCCESS)
        r = end_of(c->srcMemoryType, c->srcHost, c->srcDevice, c->srcXInBytes, c->srcY, c->srcZ, c->srcPitch,
                   c->srcHeight, &sr);
    if (r != CUDA_SUCCESS)
        return r;
    if (c->Height > 1 && (c->dstPitch < c->WidthInBytes || c->srcPitch < c->WidthInBytes))
        return CUDA_ERROR_INVALID_VALUE;
    return do_pitched(&d, &sr, c->WidthInBytes, c->Height, c->Depth, s, per_thread, async);
}

CUresult CUDAAPI cuMemcpy2D_v2(const CUDA_MEMCPY2D *pCopy) { return copy_2d(pCopy, NULL, false, false); }
CUresult CUDAAPI cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D *pCopy) { return copy_2d(pCopy, NULL, true, false); }
CUresult CUDAAPI cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *pCopy) { return copy_2d(pCopy, NULL, false, false); }
CUresult CUDAAPI cuMemcpy2DUnaligned_v2_ptds(const CUDA_MEMCPY2D *pCopy) { return copy_2d(pCopy, NULL, true, false); }
CUresult CUDAAPI cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *pCopy, CUstream hStream)
{ return copy_2d(pCopy, hStream, false, true); }
CUresult CUDAAPI cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *pCopy, CUstream hStream)
{ return copy_2d(pCopy, hStream, true, true); }
CUresult CUDAAPI cuMemcpy3D_v2(const CUDA_MEMCPY3D *pCopy) { return copy_3d(pCopy, NULL, false, false); }
CUresult CUDAAPI cuMemcpy3D_v2_ptds(const CUDA_MEMCPY3D *pCopy) { return copy_3d(pCopy, NULL, true, false); }
CUresult CUDAAPI cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *pCopy, CUstream hStream)
{ return copy_3d(pCopy, hStream, false, true); }
CUresult CUDAAPI cuMemcpy3DAsync_v2_ptsz(const CUDA_MEMCPY3D *pCopy, CUstream hStream)
{ return copy_3d(pCopy, hStream, true, true); }

/* The per-thread-stream twins of sim_peer.c's peer copies: the contexts checked there, then a
 * device copy (all simulated device memory is host memory of this process). */
CUresult CUDAAPI cuMemcpyPeer_ptds(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice,
                                   CUcontext srcContext, size_t ByteCount)
{
    if (sim_ctx_check(dstContext) != CUDA_SUCCESS || sim_ctx_check(srcContext) != CUDA_SUCCESS)
        return CUDA_ERROR_INVALID_CONTEXT;
    return do_copy(dtod(dstDevice, srcDevice, ByteCount), NULL, true, false);
}
CUresult CUDAAPI cuMemcpyPeerAsync_ptsz(CUdeviceptr dstDevice, CUcontext dstContext, CUdeviceptr srcDevice,
                                        CUcontext srcContext, size_t ByteCount, CUstream hStream)
{
    if (sim_ctx_check(dstContext) != CUDA_SUCCESS || sim_ctx_check(srcContext) != CUDA_SUCCESS)
        return CUDA_ERROR_INVALID_CONTEXT;
    return do_copy(dtod(dstDevice, srcDevice, ByteCount), hStream, true, true);
}

/* ------------------------------------------------------------------ 2D memsets */

/* Height rows of width elements, pitch bytes apart: each a linear memset. */
static CUresult do_memset_2d(CUdeviceptr dst, size_t pitch, uint32_t value, size_t elem, size_t width, size_t height,
                             CUstream s, bool per_thread, bool async)
{
    if (height > 1 && (width > SIZE_MAX / elem || pitch < width * elem))
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t y = 0; y < height; y++) {
        CUresult r = do_memset(dst + y * pitch, value, elem, width, s, per_thread, async);
        if (r != CUDA_SUCCESS)
            return r;
    }
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemsetD2D8_v2(CUdeviceptr dst, size_t pitch, unsigned char uc, size_t w, size_t h)
{ return do_memset_2d(dst, pitch, uc, 1, w, h, NULL, false, false); }
CUresult CUDAAPI cuMemsetD2D8_v2_ptds(CUdeviceptr dst, size_t pitch, unsigned char uc, size_t w, size_t h)
{ return do_memset_2d(dst, pitch, uc, 1, w, h, NULL, true, false); }
CUresult CUDAAPI cuMemsetD2D16_v2(CUdeviceptr dst, size_t pitch, unsigned short us, size_t w, size_t h)
{ return do_memset_2d(dst, pitch, us, 2, w, h, NULL, false, false); }
CUresult CUDAAPI cuMemsetD2D16_v2_ptds(CUdeviceptr dst, size_t pitch, unsigned short us, size_t w, size_t h)
{ return do_memset_2d(dst, pitch, us, 2, w, h, NULL, true, false); }
CUresult CUDAAPI cuMemsetD2D32_v2(CUdeviceptr dst, size_t pitch, unsigned int ui, size_t w, size_t h)
{ return do_memset_2d(dst, pitch, ui, 4, w, h, NULL, false, false); }
CUresult CUDAAPI cuMemsetD2D32_v2_ptds(CUdeviceptr dst, size_t pitch, unsigned int ui, size_t w, size_t h)
{ return do_memset_2d(dst, pitch, ui, 4, w, h, NULL, true, false); }
CUresult CUDAAPI cuMemsetD2D8Async(CUdeviceptr dst, size_t pitch, unsigned char uc, size_t w, size_t h, CUstream s)
{ return do_memset_2d(dst, pitch, uc, 1, w, h, s, false, true); }
CUresult CUDAAPI cuMemsetD2D8Async_ptsz(CUdeviceptr dst, size_t pitch, unsigned char uc, size_t w, size_t h, CUstream s)
{ return do_memset_2d(dst, pitch, uc, 1, w, h, s, true, true); }
CUresult CUDAAPI cuMemsetD2D16Async(CUdeviceptr dst, size_t pitch, unsigned short us, size_t w, size_t h, CUstream s)
{ return do_memset_2d(dst, pitch, us, 2, w, h, s, false, true); }
CUresult CUDAAPI cuMemsetD2D16Async_ptsz(CUdeviceptr dst, size_t pitch, unsigned short us, size_t w, size_t h, CUstream s)
{ return do_memset_2d(dst, pitch, us, 2, w, h, s, true, true); }
CUresult CUDAAPI cuMemsetD2D32Async(CUdeviceptr dst, size_t pitch, unsigned int ui, size_t w, size_t h, CUstream s)
{ return do_memset_2d(dst, pitch, ui, 4, w, h, s, false, true); }
CUresult CUDAAPI cuMemsetD2D32Async_ptsz(CUdeviceptr dst, size_t pitch, unsigned int ui, size_t w, size_t h, CUstream s)
{ return do_memset_2d(dst, pitch, ui, 4, w, h, s, true, true); }
