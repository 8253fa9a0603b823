/* cuGetProcAddress and cuGetProcAddress_v2: versioned lookup of driver entry points.
 *
 * The CUDA runtime reaches the driver almost only through this function, and grey's hook
 * intercepts it, so it follows the documented semantics closely:
 *   - `symbol` is the base name ("cuMemAlloc", never "cuMemAlloc_v2");
 *   - among the entries for that name, the one with the highest version <= cudaVersion wins;
 *   - with CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, the per-thread-default-stream variant
 *     (_ptds/_ptsz) is chosen when the function has one at that version; functions without a
 *     stream variant are found the same way under every flag;
 *   - unknown name: *pfn = NULL, CUDA_ERROR_NOT_FOUND, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
 *     known name but every entry newer than cudaVersion: *pfn = NULL, CUDA_ERROR_NOT_FOUND,
 *     CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT.
 * It works before cuInit, as the runtime calls it first.
 *
 * The versions are those in which each entry point appeared (the PFN_<name>_v<version> typedefs
 * of cudaTypedefs.h). The pointers are this library's own functions: the library is linked with
 * -Bsymbolic-functions, so &cuMemAlloc_v2 here is the address dlsym(libcuda, "cuMemAlloc_v2")
 * returns, even when a preloaded library exports the same name (which is how the real driver
 * behaves, and what grey's hook relies on to find the real functions). */
#include "sim_internal.h"
#include "sim_unmodelled.h"

#include <cudaProfiler.h>

#include <string.h>

typedef struct proc_entry {
    const char *name;  /* base name */
    int version;       /* CUDA version that introduced this entry point (e.g. 3020 = 3.2) */
    bool per_thread;   /* the per-thread default stream variant */
    void *fn;
} proc_entry;

#define P(name, ver, fn)  {name, ver, false, (void *)&(fn)}
#define PT(name, ver, fn) {name, ver, true, (void *)&(fn)}

static const proc_entry table[] = {
    P("cuInit", 2000, cuInit),
    P("cuDriverGetVersion", 2020, cuDriverGetVersion),
    P("cuGetErrorName", 6000, cuGetErrorName),
    P("cuGetErrorString", 6000, cuGetErrorString),
    P("cuGetExportTable", 3000, cuGetExportTable),
    P("cuGetProcAddress", 11030, cuGetProcAddress),
    P("cuGetProcAddress", 12000, cuGetProcAddress_v2),

    /* devices */
    P("cuDeviceGet", 2000, cuDeviceGet),
    P("cuDeviceGetCount", 2000, cuDeviceGetCount),
    P("cuDeviceGetName", 2000, cuDeviceGetName),
    P("cuDeviceTotalMem", 2000, cuDeviceTotalMem),
    P("cuDeviceTotalMem", 3020, cuDeviceTotalMem_v2),
    P("cuDeviceGetAttribute", 2000, cuDeviceGetAttribute),
    P("cuDeviceGetUuid", 9020, cuDeviceGetUuid),
    P("cuDeviceGetUuid", 11040, cuDeviceGetUuid_v2),
    P("cuDeviceGetPCIBusId", 4010, cuDeviceGetPCIBusId),
    P("cuDeviceGetByPCIBusId", 4010, cuDeviceGetByPCIBusId),
    P("cuDeviceComputeCapability", 2000, cuDeviceComputeCapability),

    /* primary contexts */
    P("cuDevicePrimaryCtxRetain", 7000, cuDevicePrimaryCtxRetain),
    P("cuDevicePrimaryCtxRelease", 7000, cuDevicePrimaryCtxRelease),
    P("cuDevicePrimaryCtxRelease", 11000, cuDevicePrimaryCtxRelease_v2),
    P("cuDevicePrimaryCtxReset", 7000, cuDevicePrimaryCtxReset),
    P("cuDevicePrimaryCtxReset", 11000, cuDevicePrimaryCtxReset_v2),
    P("cuDevicePrimaryCtxSetFlags", 7000, cuDevicePrimaryCtxSetFlags),
    P("cuDevicePrimaryCtxSetFlags", 11000, cuDevicePrimaryCtxSetFlags_v2),
    P("cuDevicePrimaryCtxGetState", 7000, cuDevicePrimaryCtxGetState),

    /* contexts */
    P("cuCtxCreate", 2000, cuCtxCreate),
    P("cuCtxCreate", 3020, cuCtxCreate_v2),
    P("cuCtxCreate", 11040, cuCtxCreate_v3),
    P("cuCtxCreate", 12050, cuCtxCreate_v4),
    P("cuCtxDestroy", 2000, cuCtxDestroy),
    P("cuCtxDestroy", 4000, cuCtxDestroy_v2),
    P("cuCtxPushCurrent", 2000, cuCtxPushCurrent),
    P("cuCtxPushCurrent", 4000, cuCtxPushCurrent_v2),
    P("cuCtxPopCurrent", 2000, cuCtxPopCurrent),
    P("cuCtxPopCurrent", 4000, cuCtxPopCurrent_v2),
    P("cuCtxSetCurrent", 4000, cuCtxSetCurrent),
    P("cuCtxGetCurrent", 4000, cuCtxGetCurrent),
    P("cuCtxGetDevice", 2000, cuCtxGetDevice),
    P("cuCtxGetDevice", 13000, cuCtxGetDevice_v2),
    P("cuCtxSynchronize", 2000, cuCtxSynchronize),
    P("cuCtxSynchronize", 13000, cuCtxSynchronize_v2),
    P("cuCtxGetApiVersion", 3020, cuCtxGetApiVersion),
    P("cuCtxGetFlags", 7000, cuCtxGetFlags),
    P("cuCtxGetStreamPriorityRange", 5050, cuCtxGetStreamPriorityRange),

    /* memory */
    P("cuMemAlloc", 2000, cuMemAlloc),
    P("cuMemAlloc", 3020, cuMemAlloc_v2),
    P("cuMemFree", 2000, cuMemFree),
    P("cuMemFree", 3020, cuMemFree_v2),
    P("cuMemGetInfo", 2000, cuMemGetInfo),
    P("cuMemGetInfo", 3020, cuMemGetInfo_v2),
    P("cuMemGetAddressRange", 3020, cuMemGetAddressRange_v2),
    P("cuMemAllocPitch", 2000, cuMemAllocPitch),
    P("cuMemAllocPitch", 3020, cuMemAllocPitch_v2),

    /* managed memory and stream-ordered allocation (sim_managed.c, sim_pool.c) */
    P("cuMemAllocManaged", 6000, cuMemAllocManaged),
    P("cuMemAllocAsync", 11020, cuMemAllocAsync),
    PT("cuMemAllocAsync", 11020, cuMemAllocAsync_ptsz),
    P("cuMemFreeAsync", 11020, cuMemFreeAsync),
    PT("cuMemFreeAsync", 11020, cuMemFreeAsync_ptsz),
    P("cuMemAllocFromPoolAsync", 11020, cuMemAllocFromPoolAsync),
    PT("cuMemAllocFromPoolAsync", 11020, cuMemAllocFromPoolAsync_ptsz),
    P("cuMemPoolCreate", 11020, cuMemPoolCreate),
    P("cuMemPoolDestroy", 11020, cuMemPoolDestroy),
    P("cuMemPoolTrimTo", 11020, cuMemPoolTrimTo),
    P("cuMemPoolSetAttribute", 11020, cuMemPoolSetAttribute),
    P("cuMemPoolGetAttribute", 11020, cuMemPoolGetAttribute),
    P("cuDeviceGetDefaultMemPool", 11020, cuDeviceGetDefaultMemPool),
    P("cuDeviceGetMemPool", 11020, cuDeviceGetMemPool),
    P("cuDeviceSetMemPool", 11020, cuDeviceSetMemPool),

    /* arrays (sim_array.c) */
    P("cuArrayCreate", 2000, cuArrayCreate),
    P("cuArrayCreate", 3020, cuArrayCreate_v2),
    P("cuArray3DCreate", 2000, cuArray3DCreate),
    P("cuArray3DCreate", 3020, cuArray3DCreate_v2),
    P("cuArrayDestroy", 2000, cuArrayDestroy),
    P("cuMipmappedArrayCreate", 5000, cuMipmappedArrayCreate),
    P("cuMipmappedArrayDestroy", 5000, cuMipmappedArrayDestroy),

    /* virtual memory management (sim_vmm.c) */
    P("cuMemGetAllocationGranularity", 10020, cuMemGetAllocationGranularity),
    P("cuMemCreate", 10020, cuMemCreate),
    P("cuMemRelease", 10020, cuMemRelease),
    P("cuMemAddressReserve", 10020, cuMemAddressReserve),
    P("cuMemAddressFree", 10020, cuMemAddressFree),
    P("cuMemMap", 10020, cuMemMap),
    P("cuMemUnmap", 10020, cuMemUnmap),
    P("cuMemSetAccess", 10020, cuMemSetAccess),
    P("cuMemRetainAllocationHandle", 11000, cuMemRetainAllocationHandle),
    P("cuMemExportToShareableHandle", 10020, cuMemExportToShareableHandle),
    P("cuMemImportFromShareableHandle", 10020, cuMemImportFromShareableHandle),
    P("cuMemGetAllocationPropertiesFromHandle", 10020, cuMemGetAllocationPropertiesFromHandle),
    /* pinned host memory (sim_host_memory.c) */
    P("cuMemAllocHost", 2000, cuMemAllocHost),
    P("cuMemAllocHost", 3020, cuMemAllocHost_v2),
    P("cuMemFreeHost", 2000, cuMemFreeHost),
    P("cuMemHostAlloc", 2020, cuMemHostAlloc),
    P("cuMemHostRegister", 4000, cuMemHostRegister),
    P("cuMemHostRegister", 6050, cuMemHostRegister_v2),
    P("cuMemHostUnregister", 4000, cuMemHostUnregister),
    P("cuMemHostGetDevicePointer", 3020, cuMemHostGetDevicePointer_v2),
    P("cuMemHostGetFlags", 2030, cuMemHostGetFlags),

    /* copies and memsets: _ptds for synchronous ones, _ptsz for those taking a stream */
    P("cuMemcpyHtoD", 3020, cuMemcpyHtoD_v2),
    PT("cuMemcpyHtoD", 7000, cuMemcpyHtoD_v2_ptds),
    P("cuMemcpyDtoH", 3020, cuMemcpyDtoH_v2),
    PT("cuMemcpyDtoH", 7000, cuMemcpyDtoH_v2_ptds),
    P("cuMemcpyDtoD", 3020, cuMemcpyDtoD_v2),
    PT("cuMemcpyDtoD", 7000, cuMemcpyDtoD_v2_ptds),
    P("cuMemcpy", 4000, cuMemcpy),
    PT("cuMemcpy", 7000, cuMemcpy_ptds),
    P("cuMemcpyHtoDAsync", 3020, cuMemcpyHtoDAsync_v2),
    PT("cuMemcpyHtoDAsync", 7000, cuMemcpyHtoDAsync_v2_ptsz),
    P("cuMemcpyDtoHAsync", 3020, cuMemcpyDtoHAsync_v2),
    PT("cuMemcpyDtoHAsync", 7000, cuMemcpyDtoHAsync_v2_ptsz),
    P("cuMemcpyDtoDAsync", 3020, cuMemcpyDtoDAsync_v2),
    PT("cuMemcpyDtoDAsync", 7000, cuMemcpyDtoDAsync_v2_ptsz),
    P("cuMemcpyAsync", 4000, cuMemcpyAsync),
    PT("cuMemcpyAsync", 7000, cuMemcpyAsync_ptsz),
    P("cuMemsetD8", 3020, cuMemsetD8_v2),
    PT("cuMemsetD8", 7000, cuMemsetD8_v2_ptds),
    P("cuMemsetD16", 3020, cuMemsetD16_v2),
    PT("cuMemsetD16", 7000, cuMemsetD16_v2_ptds),
    P("cuMemsetD32", 3020, cuMemsetD32_v2),
    PT("cuMemsetD32", 7000, cuMemsetD32_v2_ptds),
    P("cuMemsetD8Async", 3020, cuMemsetD8Async),
    PT("cuMemsetD8Async", 7000, cuMemsetD8Async_ptsz),
    P("cuMemsetD16Async", 3020, cuMemsetD16Async),
    PT("cuMemsetD16Async", 7000, cuMemsetD16Async_ptsz),
    P("cuMemsetD32Async", 3020, cuMemsetD32Async),
    PT("cuMemsetD32Async", 7000, cuMemsetD32Async_ptsz),
    P("cuMemcpy2D", 3020, cuMemcpy2D_v2),
    PT("cuMemcpy2D", 7000, cuMemcpy2D_v2_ptds),
    P("cuMemcpy2DUnaligned", 3020, cuMemcpy2DUnaligned_v2),
    PT("cuMemcpy2DUnaligned", 7000, cuMemcpy2DUnaligned_v2_ptds),
    P("cuMemcpy2DAsync", 3020, cuMemcpy2DAsync_v2),
    PT("cuMemcpy2DAsync", 7000, cuMemcpy2DAsync_v2_ptsz),
    P("cuMemcpy3D", 3020, cuMemcpy3D_v2),
    PT("cuMemcpy3D", 7000, cuMemcpy3D_v2_ptds),
    P("cuMemcpy3DAsync", 3020, cuMemcpy3DAsync_v2),
    PT("cuMemcpy3DAsync", 7000, cuMemcpy3DAsync_v2_ptsz),
    P("cuMemcpyPeer", 4000, cuMemcpyPeer),
    PT("cuMemcpyPeer", 7000, cuMemcpyPeer_ptds),
    P("cuMemcpyPeerAsync", 4000, cuMemcpyPeerAsync),
    PT("cuMemcpyPeerAsync", 7000, cuMemcpyPeerAsync_ptsz),
    P("cuMemsetD2D8", 3020, cuMemsetD2D8_v2),
    PT("cuMemsetD2D8", 7000, cuMemsetD2D8_v2_ptds),
    P("cuMemsetD2D16", 3020, cuMemsetD2D16_v2),
    PT("cuMemsetD2D16", 7000, cuMemsetD2D16_v2_ptds),
    P("cuMemsetD2D32", 3020, cuMemsetD2D32_v2),
    PT("cuMemsetD2D32", 7000, cuMemsetD2D32_v2_ptds),
    P("cuMemsetD2D8Async", 3020, cuMemsetD2D8Async),
    PT("cuMemsetD2D8Async", 7000, cuMemsetD2D8Async_ptsz),
    P("cuMemsetD2D16Async", 3020, cuMemsetD2D16Async),
    PT("cuMemsetD2D16Async", 7000, cuMemsetD2D16Async_ptsz),
    P("cuMemsetD2D32Async", 3020, cuMemsetD2D32Async),
    PT("cuMemsetD2D32Async", 7000, cuMemsetD2D32Async_ptsz),

    /* modules and launches */
    P("cuModuleLoad", 2000, cuModuleLoad),
    P("cuModuleLoadData", 2000, cuModuleLoadData),
    P("cuModuleLoadDataEx", 2010, cuModuleLoadDataEx),
    P("cuModuleLoadFatBinary", 2000, cuModuleLoadFatBinary),
    P("cuModuleUnload", 2000, cuModuleUnload),
    P("cuModuleGetFunction", 2000, cuModuleGetFunction),
    P("cuLaunchKernel", 4000, cuLaunchKernel),
    PT("cuLaunchKernel", 7000, cuLaunchKernel_ptsz),
    P("cuLaunchKernelEx", 11060, cuLaunchKernelEx),
    PT("cuLaunchKernelEx", 11060, cuLaunchKernelEx_ptsz),
    P("cuLaunchCooperativeKernel", 9000, cuLaunchCooperativeKernel),
    PT("cuLaunchCooperativeKernel", 9000, cuLaunchCooperativeKernel_ptsz),
    P("cuModuleGetLoadingMode", 11070, cuModuleGetLoadingMode),

    /* stream capture (sim_capture.c) */
    P("cuStreamBeginCapture", 10000, cuStreamBeginCapture),
    PT("cuStreamBeginCapture", 10000, cuStreamBeginCapture_ptsz),
    P("cuStreamBeginCapture", 10010, cuStreamBeginCapture_v2),
    PT("cuStreamBeginCapture", 10010, cuStreamBeginCapture_v2_ptsz),
    P("cuStreamBeginCaptureToGraph", 12030, cuStreamBeginCaptureToGraph),
    PT("cuStreamBeginCaptureToGraph", 12030, cuStreamBeginCaptureToGraph_ptsz),
    P("cuStreamEndCapture", 10000, cuStreamEndCapture),
    PT("cuStreamEndCapture", 10000, cuStreamEndCapture_ptsz),
    P("cuStreamIsCapturing", 10000, cuStreamIsCapturing),
    PT("cuStreamIsCapturing", 10000, cuStreamIsCapturing_ptsz),
    P("cuStreamGetCaptureInfo", 10010, cuStreamGetCaptureInfo),
    PT("cuStreamGetCaptureInfo", 10010, cuStreamGetCaptureInfo_ptsz),
    P("cuStreamGetCaptureInfo", 11030, cuStreamGetCaptureInfo_v2),
    PT("cuStreamGetCaptureInfo", 11030, cuStreamGetCaptureInfo_v2_ptsz),
    P("cuStreamGetCaptureInfo", 12030, cuStreamGetCaptureInfo_v3),
    PT("cuStreamGetCaptureInfo", 12030, cuStreamGetCaptureInfo_v3_ptsz),
    P("cuStreamUpdateCaptureDependencies", 11030, cuStreamUpdateCaptureDependencies),
    PT("cuStreamUpdateCaptureDependencies", 11030, cuStreamUpdateCaptureDependencies_ptsz),
    P("cuStreamUpdateCaptureDependencies", 12030, cuStreamUpdateCaptureDependencies_v2),
    PT("cuStreamUpdateCaptureDependencies", 12030, cuStreamUpdateCaptureDependencies_v2_ptsz),
    P("cuThreadExchangeStreamCaptureMode", 10010, cuThreadExchangeStreamCaptureMode),

    /* graphs (sim_graph.c) */
    P("cuGraphCreate", 10000, cuGraphCreate),
    P("cuGraphDestroy", 10000, cuGraphDestroy),
    P("cuGraphAddKernelNode", 10000, cuGraphAddKernelNode),
    P("cuGraphAddKernelNode", 12000, cuGraphAddKernelNode_v2),
    P("cuGraphAddEmptyNode", 10000, cuGraphAddEmptyNode),
    P("cuGraphGetNodes", 10000, cuGraphGetNodes),
    P("cuGraphGetRootNodes", 10000, cuGraphGetRootNodes),
    P("cuGraphNodeGetType", 10000, cuGraphNodeGetType),
    P("cuGraphKernelNodeGetParams", 12000, cuGraphKernelNodeGetParams_v2),
    P("cuGraphMemcpyNodeGetParams", 10000, cuGraphMemcpyNodeGetParams),
    P("cuGraphMemsetNodeGetParams", 10000, cuGraphMemsetNodeGetParams),
    P("cuGraphInstantiate", 10000, cuGraphInstantiate),
    P("cuGraphInstantiate", 11000, cuGraphInstantiate_v2),
    P("cuGraphInstantiateWithFlags", 11040, cuGraphInstantiateWithFlags),
    P("cuGraphInstantiateWithParams", 12000, cuGraphInstantiateWithParams),
    PT("cuGraphInstantiateWithParams", 12000, cuGraphInstantiateWithParams_ptsz),
    P("cuGraphExecGetFlags", 12000, cuGraphExecGetFlags),
    P("cuGraphAddMemAllocNode", 11040, cuGraphAddMemAllocNode),
    P("cuGraphAddMemFreeNode", 11040, cuGraphAddMemFreeNode),
    P("cuGraphMemAllocNodeGetParams", 11040, cuGraphMemAllocNodeGetParams),
    P("cuGraphMemFreeNodeGetParams", 11040, cuGraphMemFreeNodeGetParams),
    P("cuGraphExecDestroy", 10000, cuGraphExecDestroy),
    P("cuGraphLaunch", 10000, cuGraphLaunch),
    PT("cuGraphLaunch", 10000, cuGraphLaunch_ptsz),
    P("cuGraphUpload", 11010, cuGraphUpload),
    PT("cuGraphUpload", 11010, cuGraphUpload_ptsz),

    /* function attributes (sim_func_attr.c) */
    P("cuFuncGetAttribute", 2020, cuFuncGetAttribute),
    P("cuFuncSetAttribute", 9000, cuFuncSetAttribute),
    P("cuFuncSetCacheConfig", 3000, cuFuncSetCacheConfig),
    P("cuFuncGetName", 12030, cuFuncGetName),
    P("cuFuncGetParamInfo", 12040, cuFuncGetParamInfo),

    /* libraries and kernels, what the CUDA 12+ runtime registers fatbins with (sim_library.c) */
    P("cuLibraryLoadData", 12000, cuLibraryLoadData),
    P("cuLibraryLoadFromFile", 12000, cuLibraryLoadFromFile),
    P("cuLibraryUnload", 12000, cuLibraryUnload),
    P("cuLibraryGetKernel", 12000, cuLibraryGetKernel),
    P("cuLibraryGetModule", 12000, cuLibraryGetModule),
    P("cuLibraryGetKernelCount", 12040, cuLibraryGetKernelCount),
    P("cuLibraryGetGlobal", 12000, cuLibraryGetGlobal),
    P("cuLibraryGetManaged", 12000, cuLibraryGetManaged),
    P("cuKernelGetFunction", 12000, cuKernelGetFunction),
    P("cuKernelGetLibrary", 12050, cuKernelGetLibrary),
    P("cuKernelGetName", 12030, cuKernelGetName),
    P("cuKernelGetAttribute", 12000, cuKernelGetAttribute),
    P("cuKernelSetAttribute", 12000, cuKernelSetAttribute),

    /* libraries' start-up needs (cuFFT resolves all of these): sim_peer.c, sim_link.c,
     * sim_memcpy2d.c, sim_pointer.c, sim_stream_extra.c, sim_graph_params.c, sim_module.c */
    P("cuDeviceCanAccessPeer", 4000, cuDeviceCanAccessPeer),
    P("cuDeviceGetP2PAttribute", 8000, cuDeviceGetP2PAttribute),
    P("cuCtxEnablePeerAccess", 4000, cuCtxEnablePeerAccess),
    P("cuCtxDisablePeerAccess", 4000, cuCtxDisablePeerAccess),
    P("cuLinkCreate", 5050, cuLinkCreate_v2),
    P("cuLinkCreate", 6050, cuLinkCreate_v2),
    P("cuLinkAddData", 5050, cuLinkAddData_v2),
    P("cuLinkAddData", 6050, cuLinkAddData_v2),
    P("cuLinkAddFile", 5050, cuLinkAddFile_v2),
    P("cuLinkAddFile", 6050, cuLinkAddFile_v2),
    P("cuLinkComplete", 5050, cuLinkComplete),
    P("cuLinkDestroy", 5050, cuLinkDestroy),
    P("cuMemcpy2D", 3020, cuMemcpy2D_v2),
    P("cuMemcpy2DUnaligned", 3020, cuMemcpy2DUnaligned_v2),
    P("cuMemcpy2DAsync", 3020, cuMemcpy2DAsync_v2),
    P("cuMemcpy3D", 3020, cuMemcpy3D_v2), /* the 2.0 forms stay not modelled (sim_unmodelled_memory.c) */
    P("cuMemcpy3DAsync", 3020, cuMemcpy3DAsync_v2),
    P("cuPointerGetAttribute", 4000, cuPointerGetAttribute),
    P("cuPointerGetAttributes", 7000, cuPointerGetAttributes),
    P("cuStreamGetCtx", 9020, cuStreamGetCtx),
    PT("cuStreamGetCtx", 9020, cuStreamGetCtx_ptsz),
    P("cuMemPrefetchAsync", 8000, cuMemPrefetchAsync),
    P("cuMemPrefetchAsync", 12020, cuMemPrefetchAsync_v2),
    P("cuMemAdvise", 8000, cuMemAdvise),
    P("cuMemAdvise", 12020, cuMemAdvise_v2),
    P("cuStreamWaitValue32", 8000, cuStreamWaitValue32),
    P("cuStreamWaitValue32", 11070, cuStreamWaitValue32_v2),
    P("cuStreamWriteValue32", 8000, cuStreamWriteValue32),
    P("cuStreamWriteValue32", 11070, cuStreamWriteValue32_v2),
    P("cuStreamBatchMemOp", 8000, cuStreamBatchMemOp),
    P("cuStreamBatchMemOp", 11070, cuStreamBatchMemOp_v2),
    P("cuModuleGetGlobal", 3020, cuModuleGetGlobal_v2),
    P("cuGraphKernelNodeGetParams", 10000, cuGraphKernelNodeGetParams),
    P("cuGraphKernelNodeGetParams", 12000, cuGraphKernelNodeGetParams_v2),
    P("cuGraphExecKernelNodeSetParams", 10010, cuGraphExecKernelNodeSetParams),
    P("cuGraphExecKernelNodeSetParams", 12000, cuGraphExecKernelNodeSetParams_v2),

    /* context limits and preferences (sim_ctx_limits.c) */
    P("cuCtxGetLimit", 3010, cuCtxGetLimit),
    P("cuCtxSetLimit", 3010, cuCtxSetLimit),
    P("cuCtxGetCacheConfig", 3020, cuCtxGetCacheConfig),
    P("cuCtxSetCacheConfig", 3020, cuCtxSetCacheConfig),
    P("cuCtxGetSharedMemConfig", 4020, cuCtxGetSharedMemConfig),
    P("cuCtxSetSharedMemConfig", 4020, cuCtxSetSharedMemConfig),
    P("cuFuncSetSharedMemConfig", 4020, cuFuncSetSharedMemConfig),

    /* stream properties and host functions (sim_stream_event.c), fixed answers (sim_small_calls.c),
     * 2D memsets (sim_memcpy2d.c), peer copies (sim_peer.c) */
    P("cuStreamGetFlags", 5050, cuStreamGetFlags),
    PT("cuStreamGetFlags", 7000, cuStreamGetFlags_ptsz),
    P("cuStreamGetPriority", 5050, cuStreamGetPriority),
    PT("cuStreamGetPriority", 7000, cuStreamGetPriority_ptsz),
    P("cuStreamGetId", 12000, cuStreamGetId),
    PT("cuStreamGetId", 12000, cuStreamGetId_ptsz),
    P("cuStreamGetDevice", 12080, cuStreamGetDevice),
    PT("cuStreamGetDevice", 12080, cuStreamGetDevice_ptsz),
    P("cuEventRecordWithFlags", 11010, cuEventRecordWithFlags),
    PT("cuEventRecordWithFlags", 11010, cuEventRecordWithFlags_ptsz),
    P("cuLaunchHostFunc", 10000, cuLaunchHostFunc),
    PT("cuLaunchHostFunc", 10000, cuLaunchHostFunc_ptsz),
    P("cuStreamAddCallback", 5000, cuStreamAddCallback),
    PT("cuStreamAddCallback", 7000, cuStreamAddCallback_ptsz),
    P("cuProfilerInitialize", 4000, cuProfilerInitialize),
    P("cuProfilerStart", 4000, cuProfilerStart),
    P("cuProfilerStop", 4000, cuProfilerStop),
    P("cuCtxResetPersistingL2Cache", 11000, cuCtxResetPersistingL2Cache),
    P("cuFlushGPUDirectRDMAWrites", 11030, cuFlushGPUDirectRDMAWrites),
    P("cuDeviceGetTexture1DLinearMaxWidth", 11010, cuDeviceGetTexture1DLinearMaxWidth),
    P("cuMemsetD2D8", 3020, cuMemsetD2D8_v2),
    P("cuMemsetD2D8Async", 3020, cuMemsetD2D8Async),
    P("cuMemcpyPeer", 4000, cuMemcpyPeer),
    P("cuMemcpyPeerAsync", 4000, cuMemcpyPeerAsync),

    /* present but not modelled: CUDA_ERROR_NOT_SUPPORTED (sim_unmodelled_*.c) */
#include "sim_unmodelled_rows.h"

    /* occupancy (sim_occupancy.c) */
    P("cuOccupancyMaxActiveBlocksPerMultiprocessor", 6050, cuOccupancyMaxActiveBlocksPerMultiprocessor),
    P("cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags", 7000,
      cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags),
    P("cuOccupancyMaxPotentialBlockSize", 6050, cuOccupancyMaxPotentialBlockSize),
    P("cuOccupancyMaxPotentialBlockSizeWithFlags", 7000, cuOccupancyMaxPotentialBlockSizeWithFlags),
    P("cuOccupancyAvailableDynamicSMemPerBlock", 10020, cuOccupancyAvailableDynamicSMemPerBlock),
    P("cuOccupancyMaxActiveClusters", 11070, cuOccupancyMaxActiveClusters),
    P("cuOccupancyMaxPotentialClusterSize", 11070, cuOccupancyMaxPotentialClusterSize),
    P("cuKernelSetCacheConfig", 12000, cuKernelSetCacheConfig),

    /* streams and events */
    P("cuStreamCreate", 2000, cuStreamCreate),
    P("cuStreamCreateWithPriority", 5050, cuStreamCreateWithPriority),
    P("cuStreamDestroy", 2000, cuStreamDestroy),
    P("cuStreamDestroy", 4000, cuStreamDestroy_v2),
    P("cuStreamSynchronize", 2000, cuStreamSynchronize),
    PT("cuStreamSynchronize", 7000, cuStreamSynchronize_ptsz),
    P("cuStreamQuery", 2000, cuStreamQuery),
    PT("cuStreamQuery", 7000, cuStreamQuery_ptsz),
    P("cuStreamWaitEvent", 3020, cuStreamWaitEvent),
    PT("cuStreamWaitEvent", 7000, cuStreamWaitEvent_ptsz),
    P("cuEventCreate", 2000, cuEventCreate),
    P("cuEventRecord", 2000, cuEventRecord),
    PT("cuEventRecord", 7000, cuEventRecord_ptsz),
    P("cuEventQuery", 2000, cuEventQuery),
    P("cuEventSynchronize", 2000, cuEventSynchronize),
    P("cuEventElapsedTime", 2000, cuEventElapsedTime),
    P("cuEventElapsedTime", 12080, cuEventElapsedTime_v2),
    P("cuEventDestroy", 2000, cuEventDestroy),
    P("cuEventDestroy", 4000, cuEventDestroy_v2),
};

#define N_ENTRIES (sizeof table / sizeof table[0])

/* Highest version <= cudaVersion among the entries of `name` with the given variant. */
static const proc_entry *best(const char *name, int cudaVersion, bool per_thread)
{
    const proc_entry *found = NULL;
    for (size_t i = 0; i < N_ENTRIES; i++) {
        const proc_entry *e = &table[i];
        if (e->per_thread == per_thread && e->version <= cudaVersion &&
            (!found || e->version > found->version) && strcmp(e->name, name) == 0)
            found = e;
    }
    return found;
}

static bool known(const char *name)
{
    for (size_t i = 0; i < N_ENTRIES; i++)
        if (strcmp(table[i].name, name) == 0)
            return true;
    return false;
}

static CUresult lookup(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
                       CUdriverProcAddressQueryResult *status)
{
    const cuuint64_t all = CU_GET_PROC_ADDRESS_LEGACY_STREAM |
                           CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    if (!symbol || !pfn || (flags & ~all))
        return CUDA_ERROR_INVALID_VALUE;
    *pfn = NULL;
    const proc_entry *e = NULL;
    if (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)
        e = best(symbol, cudaVersion, true);
    if (!e)
        e = best(symbol, cudaVersion, false);
    CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SUCCESS;
    if (!e)
        st = known(symbol) ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT
                           : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    if (status)
        *status = st;
    if (!e) {
        sim_trace("cuGetProcAddress miss: %s version %d flags %llu%s", symbol, cudaVersion,
                  (unsigned long long)flags, known(symbol) ? " (version not sufficient)" : "");
        if ((*pfn = sim_missing_stub(symbol)) != NULL) { /* GREY_SIM_STUB_MISSING=1 (sim_missing.c) */
            if (status)
                *status = CU_GET_PROC_ADDRESS_SUCCESS;
            return CUDA_SUCCESS;
        }
        return CUDA_ERROR_NOT_FOUND;
    }
    *pfn = e->fn;
    return CUDA_SUCCESS;
}

/* CUDA 11.3 - 11.8 signature. */
CUresult CUDAAPI cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
{
    return lookup(symbol, pfn, cudaVersion, flags, NULL);
}

/* CUDA 12.0+ signature; symbolStatus is optional. */
CUresult CUDAAPI cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion,
                                     cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus)
{
    return lookup(symbol, pfn, cudaVersion, flags, symbolStatus);
}
