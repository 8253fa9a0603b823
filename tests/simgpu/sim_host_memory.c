/* Page-locked (pinned) host memory: cuMemAllocHost, cuMemHostAlloc, cuMemFreeHost,
 * cuMemHostRegister/Unregister, cuMemHostGetDevicePointer, cuMemHostGetFlags. It is real host
 * memory, kept in the allocation registry (sim_memory.c) so that copies may use it and frees
 * can be checked, and never counted against VRAM. With unified addressing (the simulator's
 * CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING) the device pointer of pinned memory is its host
 * address, as the driver API reference says of cuMemHostGetDevicePointer on such systems. */
#include "sim_internal.h"

#define HOSTALLOC_KNOWN (CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED)
#define HOSTREGISTER_KNOWN                                                                         \
    (CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP | CU_MEMHOSTREGISTER_IOMEMORY |    \
     CU_MEMHOSTREGISTER_READ_ONLY)

CUresult CUDAAPI cuMemHostAlloc(void **pp, size_t bytesize, unsigned int Flags)
{
    if (Flags & ~(unsigned)HOSTALLOC_KNOWN)
        return CUDA_ERROR_INVALID_VALUE;
    return sim_mem_host_alloc(pp, bytesize, Flags);
}

CUresult CUDAAPI cuMemAllocHost_v2(void **pp, size_t bytesize) { return sim_mem_host_alloc(pp, bytesize, 0); }

CUresult CUDAAPI cuMemAllocHost(void **pp, unsigned int bytesize) { return sim_mem_host_alloc(pp, bytesize, 0); }

CUresult CUDAAPI cuMemFreeHost(void *p) { return sim_mem_host_free(p); }

CUresult CUDAAPI cuMemHostRegister_v2(void *p, size_t bytesize, unsigned int Flags)
{
    if (Flags & ~(unsigned)HOSTREGISTER_KNOWN)
        return CUDA_ERROR_INVALID_VALUE;
    return sim_mem_host_register(p, bytesize, Flags);
}

/* The CUDA 4.0 form; same arguments. */
CUresult CUDAAPI cuMemHostRegister(void *p, size_t bytesize, unsigned int Flags)
{
    return cuMemHostRegister_v2(p, bytesize, Flags);
}

CUresult CUDAAPI cuMemHostUnregister(void *p) { return sim_mem_host_unregister(p); }

/* Flags must be 0 (the reference); any address inside pinned memory has its device pointer. */
CUresult CUDAAPI cuMemHostGetDevicePointer_v2(CUdeviceptr *pdptr, void *p, unsigned int Flags)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    unsigned flags;
    bool registered;
    if (!pdptr || Flags != 0 || !sim_mem_host_find(p, &flags, &registered))
        return CUDA_ERROR_INVALID_VALUE;
    *pdptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

/* Only memory from cuMemAllocHost / cuMemHostAlloc has flags (the reference); registered memory
 * is refused. cuMemAllocHost's memory reports 0 (the reference names no flags for it). */
CUresult CUDAAPI cuMemHostGetFlags(unsigned int *pFlags, void *p)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    unsigned flags;
    bool registered;
    if (!pFlags || !sim_mem_host_find(p, &flags, &registered) || registered)
        return CUDA_ERROR_INVALID_VALUE;
    *pFlags = flags;
    return CUDA_SUCCESS;
}
