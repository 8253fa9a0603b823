/* cuMemAllocPitch: rows padded to the pitch alignment real devices use for 2D memory. */
#include "sim_internal.h"

#include <limits.h>
#include <stdbool.h>

#define SIM_PITCH_ALIGN 512u

/* Both forms pad rows alike; the CUDA 2.x form's pointer and sizes are 32 bits. */
static CUresult alloc_pitch(uintptr_t *p, size_t *pitch, size_t width, size_t height, unsigned element_bytes,
                            bool low32)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!p || !pitch || width == 0 || height == 0 || (element_bytes != 4 && element_bytes != 8 && element_bytes != 16))
        return CUDA_ERROR_INVALID_VALUE;
    size_t row = (width + SIM_PITCH_ALIGN - 1) / SIM_PITCH_ALIGN * SIM_PITCH_ALIGN;
    if (row < width || row > SIZE_MAX / height || (low32 && (row > UINT_MAX || row * height > UINT_MAX)))
        return CUDA_ERROR_OUT_OF_MEMORY;
    r = low32 ? sim_mem_alloc_device_low32(p, row * height) : sim_mem_alloc_device(p, row * height);
    if (r != CUDA_SUCCESS)
        return r;
    *pitch = row;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
                                    unsigned int element_bytes)
{
    uintptr_t p;
    CUresult r = alloc_pitch(dptr ? &p : NULL, pitch, width, height, element_bytes, false);
    if (r == CUDA_SUCCESS)
        *dptr = (CUdeviceptr)p;
    return r;
}

CUresult CUDAAPI cuMemAllocPitch(CUdeviceptr_v1 *dptr, unsigned int *pitch, unsigned int width, unsigned int height,
                                 unsigned int element_bytes)
{
    uintptr_t p;
    size_t row;
    CUresult r = alloc_pitch(dptr ? &p : NULL, pitch ? &row : NULL, width, height, element_bytes, true);
    if (r == CUDA_SUCCESS) {
        *dptr = (CUdeviceptr_v1)p;
        *pitch = (unsigned int)row;
    }
    return r;
}
