/* cuMemAllocManaged: on the simulator managed memory is device memory that the host can also
 * touch, which all simulated memory already is; it is accounted against VRAM like cuMemAlloc and
 * freed by cuMemFree. */
#include "sim_internal.h"

CUresult CUDAAPI cuMemAllocManaged(CUdeviceptr *dptr, size_t bytesize, unsigned int flags)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (flags != CU_MEM_ATTACH_GLOBAL && flags != CU_MEM_ATTACH_HOST)
        return CUDA_ERROR_INVALID_VALUE;
    if (!dptr)
        return CUDA_ERROR_INVALID_VALUE;
    uintptr_t p;
    r = sim_mem_alloc_device(&p, bytesize);
    if (r == CUDA_SUCCESS)
        *dptr = (CUdeviceptr)p;
    return r;
}
