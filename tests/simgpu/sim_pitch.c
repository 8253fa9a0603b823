/* cuMemAllocPitch: rows padded to the pitch alignment real devices use for 2D memory. */
#include "sim_internal.h"

#define SIM_PITCH_ALIGN 512u

CUresult CUDAAPI cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
                                    unsigned int element_bytes)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!dptr || !pitch || width == 0 || height == 0 ||
        (element_bytes != 4 && element_bytes != 8 && element_bytes != 16))
        return CUDA_ERROR_INVALID_VALUE;
    size_t row = (width + SIM_PITCH_ALIGN - 1) / SIM_PITCH_ALIGN * SIM_PITCH_ALIGN;
    if (row < width || row > SIZE_MAX / height)
        return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t p;
    r = sim_mem_alloc_device(&p, row * height);
    if (r != CUDA_SUCCESS)
        return r;
    *dptr = (CUdeviceptr)p;
    *pitch = row;
    return CUDA_SUCCESS;
}
