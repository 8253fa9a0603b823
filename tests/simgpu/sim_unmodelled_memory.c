/* Memory features the simulator does not model: array descriptors, planes and sparse
 * properties (simulated arrays have no storage layout), texture and surface objects and
 * references, 3D and batched copies, batched prefetch and discard, range attributes of managed
 * memory, stream attachment of managed memory, and memory pools' access control, export and
 * import and the CUDA 13 per-location default pools. Each answers CUDA_ERROR_NOT_SUPPORTED,
 * traced under GREY_SIM_TRACE=1. Written from the declarations in CUDA 13's cuda.h; README lists
 * them. */
#include "sim_internal.h"


CUresult CUDAAPI cuArray3DGetDescriptor(CUDA_ARRAY3D_DESCRIPTOR_v1 *pArrayDescriptor, CUarray hArray)
{
    (void)pArrayDescriptor;
    (void)hArray;
    return sim_not_modelled("cuArray3DGetDescriptor");
}

CUresult CUDAAPI cuArrayGetDescriptor(CUDA_ARRAY_DESCRIPTOR_v1 *pArrayDescriptor, CUarray hArray)
{
    (void)pArrayDescriptor;
    (void)hArray;
    return sim_not_modelled("cuArrayGetDescriptor");
}

CUresult CUDAAPI cuArrayGetMemoryRequirements(CUDA_ARRAY_MEMORY_REQUIREMENTS *memoryRequirements, CUarray array,
                                              CUdevice device)
{
    (void)memoryRequirements;
    (void)array;
    (void)device;
    return sim_not_modelled("cuArrayGetMemoryRequirements");
}

CUresult CUDAAPI cuArrayGetPlane(CUarray *pPlaneArray, CUarray hArray, unsigned int planeIdx)
{
    (void)pPlaneArray;
    (void)hArray;
    (void)planeIdx;
    return sim_not_modelled("cuArrayGetPlane");
}

CUresult CUDAAPI cuArrayGetSparseProperties(CUDA_ARRAY_SPARSE_PROPERTIES *sparseProperties, CUarray array)
{
    (void)sparseProperties;
    (void)array;
    return sim_not_modelled("cuArrayGetSparseProperties");
}

CUresult CUDAAPI cuMemDiscardAndPrefetchBatchAsync(CUdeviceptr *dptrs, size_t *sizes, size_t count,
                                                   CUmemLocation *prefetchLocs, size_t *prefetchLocIdxs,
                                                   size_t numPrefetchLocs, unsigned long long flags, CUstream hStream)
{
    (void)dptrs;
    (void)sizes;
    (void)count;
    (void)prefetchLocs;
    (void)prefetchLocIdxs;
    (void)numPrefetchLocs;
    (void)flags;
    (void)hStream;
    return sim_not_modelled("cuMemDiscardAndPrefetchBatchAsync");
}

CUresult CUDAAPI cuMemDiscardBatchAsync(CUdeviceptr *dptrs, size_t *sizes, size_t count, unsigned long long flags,
                                        CUstream hStream)
{
    (void)dptrs;
    (void)sizes;
    (void)count;
    (void)flags;
    (void)hStream;
    return sim_not_modelled("cuMemDiscardBatchAsync");
}

CUresult CUDAAPI cuMemGetDefaultMemPool(CUmemoryPool *pool_out, CUmemLocation *location, CUmemAllocationType type)
{
    (void)pool_out;
    (void)location;
    (void)type;
    return sim_not_modelled("cuMemGetDefaultMemPool");
}

CUresult CUDAAPI cuMemGetMemPool(CUmemoryPool *pool, CUmemLocation *location, CUmemAllocationType type)
{
    (void)pool;
    (void)location;
    (void)type;
    return sim_not_modelled("cuMemGetMemPool");
}

CUresult CUDAAPI cuMemPoolExportPointer(CUmemPoolPtrExportData *shareData_out, CUdeviceptr ptr)
{
    (void)shareData_out;
    (void)ptr;
    return sim_not_modelled("cuMemPoolExportPointer");
}

CUresult CUDAAPI cuMemPoolExportToShareableHandle(void *handle_out, CUmemoryPool pool,
                                                  CUmemAllocationHandleType handleType, unsigned long long flags)
{
    (void)handle_out;
    (void)pool;
    (void)handleType;
    (void)flags;
    return sim_not_modelled("cuMemPoolExportToShareableHandle");
}

CUresult CUDAAPI cuMemPoolGetAccess(CUmemAccess_flags *flags, CUmemoryPool memPool, CUmemLocation *location)
{
    (void)flags;
    (void)memPool;
    (void)location;
    return sim_not_modelled("cuMemPoolGetAccess");
}

CUresult CUDAAPI cuMemPoolImportFromShareableHandle(CUmemoryPool *pool_out, void *handle,
                                                    CUmemAllocationHandleType handleType, unsigned long long flags)
{
    (void)pool_out;
    (void)handle;
    (void)handleType;
    (void)flags;
    return sim_not_modelled("cuMemPoolImportFromShareableHandle");
}

CUresult CUDAAPI cuMemPoolImportPointer(CUdeviceptr *ptr_out, CUmemoryPool pool, CUmemPoolPtrExportData *shareData)
{
    (void)ptr_out;
    (void)pool;
    (void)shareData;
    return sim_not_modelled("cuMemPoolImportPointer");
}

CUresult CUDAAPI cuMemPoolSetAccess(CUmemoryPool pool, const CUmemAccessDesc *map, size_t count)
{
    (void)pool;
    (void)map;
    (void)count;
    return sim_not_modelled("cuMemPoolSetAccess");
}

CUresult CUDAAPI cuMemPrefetchBatchAsync(CUdeviceptr *dptrs, size_t *sizes, size_t count, CUmemLocation *prefetchLocs,
                                         size_t *prefetchLocIdxs, size_t numPrefetchLocs, unsigned long long flags,
                                         CUstream hStream)
{
    (void)dptrs;
    (void)sizes;
    (void)count;
    (void)prefetchLocs;
    (void)prefetchLocIdxs;
    (void)numPrefetchLocs;
    (void)flags;
    (void)hStream;
    return sim_not_modelled("cuMemPrefetchBatchAsync");
}

CUresult CUDAAPI cuMemRangeGetAttribute(void *data, size_t dataSize, CUmem_range_attribute attribute,
                                        CUdeviceptr devPtr, size_t count)
{
    (void)data;
    (void)dataSize;
    (void)attribute;
    (void)devPtr;
    (void)count;
    return sim_not_modelled("cuMemRangeGetAttribute");
}

CUresult CUDAAPI cuMemRangeGetAttributes(void **data, size_t *dataSizes, CUmem_range_attribute *attributes,
                                         size_t numAttributes, CUdeviceptr devPtr, size_t count)
{
    (void)data;
    (void)dataSizes;
    (void)attributes;
    (void)numAttributes;
    (void)devPtr;
    (void)count;
    return sim_not_modelled("cuMemRangeGetAttributes");
}

CUresult CUDAAPI cuMemSetMemPool(CUmemLocation *location, CUmemAllocationType type, CUmemoryPool pool)
{
    (void)location;
    (void)type;
    (void)pool;
    return sim_not_modelled("cuMemSetMemPool");
}

CUresult CUDAAPI cuMemcpy3D(const CUDA_MEMCPY3D_v1 *pCopy)
{
    (void)pCopy;
    return sim_not_modelled("cuMemcpy3D");
}

CUresult CUDAAPI cuMemcpy3DAsync(const CUDA_MEMCPY3D_v1 *pCopy, CUstream hStream)
{
    (void)pCopy;
    (void)hStream;
    return sim_not_modelled("cuMemcpy3DAsync");
}

CUresult CUDAAPI cuMemcpy3DBatchAsync(size_t numOps, CUDA_MEMCPY3D_BATCH_OP *opList, size_t *failIdx,
                                      unsigned long long flags, CUstream hStream)
{
    (void)numOps;
    (void)opList;
    (void)failIdx;
    (void)flags;
    (void)hStream;
    return sim_not_modelled("cuMemcpy3DBatchAsync");
}

CUresult CUDAAPI cuMemcpy3DPeer(const CUDA_MEMCPY3D_PEER *pCopy)
{
    (void)pCopy;
    return sim_not_modelled("cuMemcpy3DPeer");
}

CUresult CUDAAPI cuMemcpy3DPeerAsync(const CUDA_MEMCPY3D_PEER *pCopy, CUstream hStream)
{
    (void)pCopy;
    (void)hStream;
    return sim_not_modelled("cuMemcpy3DPeerAsync");
}

CUresult CUDAAPI cuMemcpyBatchAsync(CUdeviceptr *dsts, CUdeviceptr *srcs, size_t *sizes, size_t count,
                                    CUmemcpyAttributes *attrs, size_t *attrsIdxs, size_t numAttrs, size_t *failIdx,
                                    CUstream hStream)
{
    (void)dsts;
    (void)srcs;
    (void)sizes;
    (void)count;
    (void)attrs;
    (void)attrsIdxs;
    (void)numAttrs;
    (void)failIdx;
    (void)hStream;
    return sim_not_modelled("cuMemcpyBatchAsync");
}

CUresult CUDAAPI cuMipmappedArrayGetLevel(CUarray *pLevelArray, CUmipmappedArray hMipmappedArray, unsigned int level)
{
    (void)pLevelArray;
    (void)hMipmappedArray;
    (void)level;
    return sim_not_modelled("cuMipmappedArrayGetLevel");
}

CUresult CUDAAPI cuMipmappedArrayGetMemoryRequirements(CUDA_ARRAY_MEMORY_REQUIREMENTS *memoryRequirements,
                                                       CUmipmappedArray mipmap, CUdevice device)
{
    (void)memoryRequirements;
    (void)mipmap;
    (void)device;
    return sim_not_modelled("cuMipmappedArrayGetMemoryRequirements");
}

CUresult CUDAAPI cuMipmappedArrayGetSparseProperties(CUDA_ARRAY_SPARSE_PROPERTIES *sparseProperties,
                                                     CUmipmappedArray mipmap)
{
    (void)sparseProperties;
    (void)mipmap;
    return sim_not_modelled("cuMipmappedArrayGetSparseProperties");
}

CUresult CUDAAPI cuModuleGetSurfRef(CUsurfref *pSurfRef, CUmodule hmod, const char *name)
{
    (void)pSurfRef;
    (void)hmod;
    (void)name;
    return sim_not_modelled("cuModuleGetSurfRef");
}

CUresult CUDAAPI cuModuleGetTexRef(CUtexref *pTexRef, CUmodule hmod, const char *name)
{
    (void)pTexRef;
    (void)hmod;
    (void)name;
    return sim_not_modelled("cuModuleGetTexRef");
}

CUresult CUDAAPI cuStreamAttachMemAsync(CUstream hStream, CUdeviceptr dptr, size_t length, unsigned int flags)
{
    (void)hStream;
    (void)dptr;
    (void)length;
    (void)flags;
    return sim_not_modelled("cuStreamAttachMemAsync");
}

CUresult CUDAAPI cuSurfObjectCreate(CUsurfObject *pSurfObject, const CUDA_RESOURCE_DESC *pResDesc)
{
    (void)pSurfObject;
    (void)pResDesc;
    return sim_not_modelled("cuSurfObjectCreate");
}

CUresult CUDAAPI cuSurfObjectDestroy(CUsurfObject surfObject)
{
    (void)surfObject;
    return sim_not_modelled("cuSurfObjectDestroy");
}

CUresult CUDAAPI cuSurfObjectGetResourceDesc(CUDA_RESOURCE_DESC *pResDesc, CUsurfObject surfObject)
{
    (void)pResDesc;
    (void)surfObject;
    return sim_not_modelled("cuSurfObjectGetResourceDesc");
}

CUresult CUDAAPI cuTexObjectCreate(CUtexObject *pTexObject, const CUDA_RESOURCE_DESC *pResDesc,
                                   const CUDA_TEXTURE_DESC *pTexDesc, const CUDA_RESOURCE_VIEW_DESC *pResViewDesc)
{
    (void)pTexObject;
    (void)pResDesc;
    (void)pTexDesc;
    (void)pResViewDesc;
    return sim_not_modelled("cuTexObjectCreate");
}

CUresult CUDAAPI cuTexObjectDestroy(CUtexObject texObject)
{
    (void)texObject;
    return sim_not_modelled("cuTexObjectDestroy");
}

CUresult CUDAAPI cuTexObjectGetResourceDesc(CUDA_RESOURCE_DESC *pResDesc, CUtexObject texObject)
{
    (void)pResDesc;
    (void)texObject;
    return sim_not_modelled("cuTexObjectGetResourceDesc");
}

CUresult CUDAAPI cuTexObjectGetResourceViewDesc(CUDA_RESOURCE_VIEW_DESC *pResViewDesc, CUtexObject texObject)
{
    (void)pResViewDesc;
    (void)texObject;
    return sim_not_modelled("cuTexObjectGetResourceViewDesc");
}

CUresult CUDAAPI cuTexObjectGetTextureDesc(CUDA_TEXTURE_DESC *pTexDesc, CUtexObject texObject)
{
    (void)pTexDesc;
    (void)texObject;
    return sim_not_modelled("cuTexObjectGetTextureDesc");
}
