/* Pointer attributes (cuPointerGetAttribute, cuPointerGetAttributes) from the allocation
 * registry (sim_memory.c). What is known: the context, memory type (device for cuMemAlloc and
 * friends, host for pinned and registered memory), device and host pointers (the same address:
 * unified addressing), the range, the device ordinal, a buffer id (the range's base),
 * CU_POINTER_ATTRIBUTE_MAPPED (1) and SYNC_MEMOPS (1). Managed memory is reported as device
 * memory with IS_MANAGED 0 (the registry does not mark it: a gap), VMM mappings are not in the
 * registry at all. As the reference says, cuPointerGetAttribute fails with
 * CUDA_ERROR_INVALID_VALUE for an address CUDA does not know, while cuPointerGetAttributes
 * succeeds and leaves the defaults (NULL, 0; memory type 0, device ordinal -2 as documented for
 * CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL is not specified: we write -1). Other attributes are
 * CUDA_ERROR_NOT_SUPPORTED from cuPointerGetAttribute. */
#include "sim_internal.h"

#include <string.h>

/* Writes one attribute of a known or unknown (d == NULL) pointer; false for an attribute the
 * simulator does not model. */
static bool attribute(void *out, CUpointer_attribute attr, CUdeviceptr ptr, const sim_mem_desc *d)
{
    switch (attr) {
    case CU_POINTER_ATTRIBUTE_CONTEXT: *(CUcontext *)out = d ? d->ctx : NULL; return true;
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
        *(unsigned *)out = d ? (d->host ? CU_MEMORYTYPE_HOST : CU_MEMORYTYPE_DEVICE) : 0;
        return true;
    case CU_POINTER_ATTRIBUTE_DEVICE_POINTER: *(CUdeviceptr *)out = d ? ptr : 0; return true;
    case CU_POINTER_ATTRIBUTE_HOST_POINTER: *(void **)out = d && d->host ? (void *)(uintptr_t)ptr : NULL; return true;
    case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS: *(int *)out = d ? 1 : 0; return true;
    case CU_POINTER_ATTRIBUTE_BUFFER_ID: *(unsigned long long *)out = d ? d->base : 0; return true;
    case CU_POINTER_ATTRIBUTE_IS_MANAGED: *(int *)out = 0; return true;
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: *(int *)out = d ? (int)d->dev : -1; return true;
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: *(CUdeviceptr *)out = d ? d->base : 0; return true;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE: *(size_t *)out = d ? d->size : 0; return true;
    case CU_POINTER_ATTRIBUTE_MAPPED: *(int *)out = d ? 1 : 0; return true;
    case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE: *(int *)out = 0; return true;
    case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES: *(unsigned long long *)out = 0; return true;
    case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE: *(CUmemoryPool *)out = NULL; return true;
    default: return false;
    }
}

CUresult CUDAAPI cuPointerGetAttribute(void *data, CUpointer_attribute attribute_id, CUdeviceptr ptr)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    sim_mem_desc d;
    if (!data || !sim_mem_describe(ptr, &d))
        return CUDA_ERROR_INVALID_VALUE;
    return attribute(data, attribute_id, ptr, &d) ? CUDA_SUCCESS : CUDA_ERROR_NOT_SUPPORTED;
}

CUresult CUDAAPI cuPointerGetAttributes(unsigned int numAttributes, CUpointer_attribute *attributes, void **data,
                                        CUdeviceptr ptr)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!numAttributes || !attributes || !data)
        return CUDA_ERROR_INVALID_VALUE;
    sim_mem_desc d;
    bool known = sim_mem_describe(ptr, &d);
    for (unsigned i = 0; i < numAttributes; i++)
        if (!data[i] || !attribute(data[i], attributes[i], ptr, known ? &d : NULL))
            return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}
