/* Copies and memsets: passed straight through, and with GREY_DEDUP also observed. A
 * host-to-device copy that fills a whole buffer gives it a fingerprint (the host bytes, hashed as
 * they pass); any other write marks the buffer's fingerprint stale; every copy, memset and write
 * records that the buffer was used, and when. cuMemcpy and cuMemcpyAsync take either end in host
 * or device memory (unified addressing): the driver is asked which. Every entry point with a
 * per-thread-default-stream variant is wrapped in both forms. */
#include "cuda_copy_wrap.h"

#define HTOD_P (CUdeviceptr dst, const void *src, size_t n)
#define HTOD_PA (CUdeviceptr dst, const void *src, size_t n, CUstream s)
#define DTOH_P (void *dst, CUdeviceptr src, size_t n)
#define DTOH_PA (void *dst, CUdeviceptr src, size_t n, CUstream s)
#define DTOD_P (CUdeviceptr dst, CUdeviceptr src, size_t n)
#define DTOD_PA (CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)

/* ------------------------------------------------------------------ host to device */
WRAP(cuMemcpyHtoD_v2, PFN_cuMemcpyHtoD_v3020, HTOD_P, (dst, src, n), grey_dedup_upload(dst, src, n))
WRAP(cuMemcpyHtoD_v2_ptds, PFN_cuMemcpyHtoD_v7000_ptds, HTOD_P, (dst, src, n), grey_dedup_upload(dst, src, n))
WRAP_ASYNC(cuMemcpyHtoDAsync_v2, PFN_cuMemcpyHtoDAsync_v3020, HTOD_PA, (dst, src, n, s), s, grey_dedup_upload(dst, src, n))
WRAP_ASYNC(cuMemcpyHtoDAsync_v2_ptsz, PFN_cuMemcpyHtoDAsync_v7000_ptsz, HTOD_PA, (dst, src, n, s), PTSZ(s), grey_dedup_upload(dst, src, n))

/* ------------------------------------------------------------------ device to host */
WRAP(cuMemcpyDtoH_v2, PFN_cuMemcpyDtoH_v3020, DTOH_P, (dst, src, n), grey_dedup_read(src, n))
WRAP(cuMemcpyDtoH_v2_ptds, PFN_cuMemcpyDtoH_v7000_ptds, DTOH_P, (dst, src, n), grey_dedup_read(src, n))
WRAP_ASYNC(cuMemcpyDtoHAsync_v2, PFN_cuMemcpyDtoHAsync_v3020, DTOH_PA, (dst, src, n, s), s, grey_dedup_read(src, n))
WRAP_ASYNC(cuMemcpyDtoHAsync_v2_ptsz, PFN_cuMemcpyDtoHAsync_v7000_ptsz, DTOH_PA, (dst, src, n, s), PTSZ(s), grey_dedup_read(src, n))

/* ------------------------------------------------------------------ device to device */
static void dtod(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    grey_dedup_read(src, n);
    grey_dedup_written(dst, n, GREY_TOUCH_COPY_IN);
}

WRAP(cuMemcpyDtoD_v2, PFN_cuMemcpyDtoD_v3020, DTOD_P, (dst, src, n), dtod(dst, src, n))
WRAP(cuMemcpyDtoD_v2_ptds, PFN_cuMemcpyDtoD_v7000_ptds, DTOD_P, (dst, src, n), dtod(dst, src, n))
WRAP_ASYNC(cuMemcpyDtoDAsync_v2, PFN_cuMemcpyDtoDAsync_v3020, DTOD_PA, (dst, src, n, s), s, dtod(dst, src, n))
WRAP_ASYNC(cuMemcpyDtoDAsync_v2_ptsz, PFN_cuMemcpyDtoDAsync_v7000_ptsz, DTOD_PA, (dst, src, n, s), PTSZ(s), dtod(dst, src, n))

/* ------------------------------------------------------------------ either way */
static void unified(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
    bool src_device = grey_dedup_is_device(src);
    if (grey_dedup_is_device(dst)) {
        if (src_device)
            dtod(dst, src, n);
        else
            grey_dedup_upload(dst, (const void *)(uintptr_t)src, n);
    } else if (src_device) {
        grey_dedup_read(src, n);
    }
}

WRAP(cuMemcpy, PFN_cuMemcpy_v4000, DTOD_P, (dst, src, n), unified(dst, src, n))
WRAP(cuMemcpy_ptds, PFN_cuMemcpy_v7000_ptds, DTOD_P, (dst, src, n), unified(dst, src, n))
WRAP_ASYNC(cuMemcpyAsync, PFN_cuMemcpyAsync_v4000, DTOD_PA, (dst, src, n, s), s, unified(dst, src, n))
WRAP_ASYNC(cuMemcpyAsync_ptsz, PFN_cuMemcpyAsync_v7000_ptsz, DTOD_PA, (dst, src, n, s), PTSZ(s), unified(dst, src, n))

/* ------------------------------------------------------------------ memset */
#define SET_P(T) (CUdeviceptr dst, T value, size_t count)
#define SET_PA(T) (CUdeviceptr dst, T value, size_t count, CUstream s)
#define SET(width) grey_dedup_written(dst, count * (width), GREY_TOUCH_MEMSET)

WRAP(cuMemsetD8_v2, PFN_cuMemsetD8_v3020, SET_P(unsigned char), (dst, value, count), SET(1))
WRAP(cuMemsetD8_v2_ptds, PFN_cuMemsetD8_v7000_ptds, SET_P(unsigned char), (dst, value, count), SET(1))
WRAP_ASYNC(cuMemsetD8Async, PFN_cuMemsetD8Async_v3020, SET_PA(unsigned char), (dst, value, count, s), s, SET(1))
WRAP_ASYNC(cuMemsetD8Async_ptsz, PFN_cuMemsetD8Async_v7000_ptsz, SET_PA(unsigned char), (dst, value, count, s), PTSZ(s), SET(1))
WRAP(cuMemsetD16_v2, PFN_cuMemsetD16_v3020, SET_P(unsigned short), (dst, value, count), SET(2))
WRAP(cuMemsetD16_v2_ptds, PFN_cuMemsetD16_v7000_ptds, SET_P(unsigned short), (dst, value, count), SET(2))
WRAP_ASYNC(cuMemsetD16Async, PFN_cuMemsetD16Async_v3020, SET_PA(unsigned short), (dst, value, count, s), s, SET(2))
WRAP_ASYNC(cuMemsetD16Async_ptsz, PFN_cuMemsetD16Async_v7000_ptsz, SET_PA(unsigned short), (dst, value, count, s), PTSZ(s), SET(2))
WRAP(cuMemsetD32_v2, PFN_cuMemsetD32_v3020, SET_P(unsigned int), (dst, value, count), SET(4))
WRAP(cuMemsetD32_v2_ptds, PFN_cuMemsetD32_v7000_ptds, SET_P(unsigned int), (dst, value, count), SET(4))
WRAP_ASYNC(cuMemsetD32Async, PFN_cuMemsetD32Async_v3020, SET_PA(unsigned int), (dst, value, count, s), s, SET(4))
WRAP_ASYNC(cuMemsetD32Async_ptsz, PFN_cuMemsetD32Async_v7000_ptsz, SET_PA(unsigned int), (dst, value, count, s), PTSZ(s), SET(4))
