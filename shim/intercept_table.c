/* Every vendor function grey intercepts (CUDA driver, NVML, HIP runtime), in one place. A
 * row makes the function reachable through every path programs use: the exported symbol (the
 * wrapper itself, exported by preload/exports.map's patterns), dlsym on the vendor library's
 * handle (by name), and cuGetProcAddress / hipGetProcAddress (by the vendor's address for the
 * same name). Adding an intercepted function is one row here plus its wrapper. */
#include "cuda_shim.h"
#include "hip_shim.h"
#include "intercept.h"
#include "nvml_shim.h"

/* One row: the vendor library, the exported name and grey's function of that same name. */
#define CUDA(fn) {GREY_LIB_CUDA, #fn, (void *)fn}
#define NVML(fn) {GREY_LIB_NVML, #fn, (void *)fn}
#define HIP(fn) {GREY_LIB_HIP, #fn, (void *)fn}

const struct grey_intercept grey_intercepts[] = {
    /* the way in for the CUDA runtime and every framework since CUDA 11.3 */
    CUDA(cuGetProcAddress),
    CUDA(cuGetProcAddress_v2),

    /* device memory (shim/cuda_memory.c) */
    CUDA(cuMemAlloc_v2),
    CUDA(cuMemAllocPitch_v2),
    CUDA(cuMemAllocManaged),
    CUDA(cuMemFree_v2),
    CUDA(cuMemGetInfo_v2),
    CUDA(cuDeviceTotalMem_v2),
    CUDA(cuMemAlloc), /* the CUDA 2.x forms, 32-bit (shim/cuda_memory.c) */
    CUDA(cuMemAllocPitch),
    CUDA(cuMemFree),
    CUDA(cuMemGetInfo),
    CUDA(cuDeviceTotalMem),

    /* stream-ordered allocation and pools (shim/cuda_async.c) */
    CUDA(cuMemAllocAsync),
    CUDA(cuMemAllocAsync_ptsz),
    CUDA(cuMemAllocFromPoolAsync),
    CUDA(cuMemAllocFromPoolAsync_ptsz),
    CUDA(cuMemFreeAsync),
    CUDA(cuMemFreeAsync_ptsz),
    CUDA(cuMemPoolTrimTo),
    CUDA(cuMemPoolSetAttribute),
    CUDA(cuMemPoolDestroy),

    /* virtual memory management (shim/cuda_vmm.c) and arrays (shim/cuda_vmm_array.c) */
    CUDA(cuMemCreate),
    CUDA(cuMemRelease),
    CUDA(cuMemMap),
    CUDA(cuMemUnmap),
    CUDA(cuMemRetainAllocationHandle),
    CUDA(cuMemExportToShareableHandle),
    CUDA(cuMemImportFromShareableHandle),
    CUDA(cuArrayCreate_v2),
    CUDA(cuArray3DCreate_v2),
    CUDA(cuArrayCreate),
    CUDA(cuArray3DCreate),
    CUDA(cuArrayDestroy),
    CUDA(cuMipmappedArrayCreate),
    CUDA(cuMipmappedArrayDestroy),

    /* graph memory nodes: counted when the graph launches (shim/cuda_graph.c) */
    CUDA(cuGraphInstantiateWithFlags),
    CUDA(cuGraphInstantiateWithParams),
    CUDA(cuGraphInstantiateWithParams_ptsz),
    CUDA(cuGraphExecDestroy),
    CUDA(cuGraphLaunch),
    CUDA(cuGraphLaunch_ptsz),

    /* contexts cost memory and take memory with them (shim/cuda_context.c) */
    CUDA(cuDevicePrimaryCtxRetain),
    CUDA(cuCtxCreate_v2),
    CUDA(cuCtxCreate_v3),
    CUDA(cuCtxCreate_v4),
    CUDA(cuCtxDestroy_v2),
    CUDA(cuCtxCreate),
    CUDA(cuCtxDestroy),
    CUDA(cuDevicePrimaryCtxRelease_v2),
    CUDA(cuDevicePrimaryCtxReset_v2),
    CUDA(cuDevicePrimaryCtxRelease),
    CUDA(cuDevicePrimaryCtxReset),

    /* NVML's memory views (shim/nvml_memory.c): reached by name only, NVML has no procaddress */
    NVML(nvmlDeviceGetMemoryInfo),
    NVML(nvmlDeviceGetMemoryInfo_v2),
    NVML(nvmlDeviceGetComputeRunningProcesses),
    NVML(nvmlDeviceGetComputeRunningProcesses_v2),
    NVML(nvmlDeviceGetComputeRunningProcesses_v3),

    /* copies and memsets: observed for the buffer report with GREY_DEDUP (shim/cuda_copy.c) */
    CUDA(cuMemcpyHtoD_v2),
    CUDA(cuMemcpyHtoD_v2_ptds),
    CUDA(cuMemcpyHtoDAsync_v2),
    CUDA(cuMemcpyHtoDAsync_v2_ptsz),
    CUDA(cuMemcpyDtoH_v2),
    CUDA(cuMemcpyDtoH_v2_ptds),
    CUDA(cuMemcpyDtoHAsync_v2),
    CUDA(cuMemcpyDtoHAsync_v2_ptsz),
    CUDA(cuMemcpyDtoD_v2),
    CUDA(cuMemcpyDtoD_v2_ptds),
    CUDA(cuMemcpyDtoDAsync_v2),
    CUDA(cuMemcpyDtoDAsync_v2_ptsz),
    CUDA(cuMemcpy2D_v2),
    CUDA(cuMemcpy2D_v2_ptds),
    CUDA(cuMemcpy2DUnaligned_v2),
    CUDA(cuMemcpy2DUnaligned_v2_ptds),
    CUDA(cuMemcpy2DAsync_v2),
    CUDA(cuMemcpy2DAsync_v2_ptsz),
    CUDA(cuMemcpy3D_v2),
    CUDA(cuMemcpy3D_v2_ptds),
    CUDA(cuMemcpy3DAsync_v2),
    CUDA(cuMemcpy3DAsync_v2_ptsz),
    CUDA(cuMemcpyPeer),
    CUDA(cuMemcpyPeer_ptds),
    CUDA(cuMemcpyPeerAsync),
    CUDA(cuMemcpyPeerAsync_ptsz),
    CUDA(cuMemsetD2D8_v2),
    CUDA(cuMemsetD2D8_v2_ptds),
    CUDA(cuMemsetD2D16_v2),
    CUDA(cuMemsetD2D16_v2_ptds),
    CUDA(cuMemsetD2D32_v2),
    CUDA(cuMemsetD2D32_v2_ptds),
    CUDA(cuMemsetD2D8Async),
    CUDA(cuMemsetD2D8Async_ptsz),
    CUDA(cuMemsetD2D16Async),
    CUDA(cuMemsetD2D16Async_ptsz),
    CUDA(cuMemsetD2D32Async),
    CUDA(cuMemsetD2D32Async_ptsz),
    CUDA(cuMemcpy),
    CUDA(cuMemcpy_ptds),
    CUDA(cuMemcpyAsync),
    CUDA(cuMemcpyAsync_ptsz),
    CUDA(cuMemsetD8_v2),
    CUDA(cuMemsetD8_v2_ptds),
    CUDA(cuMemsetD8Async),
    CUDA(cuMemsetD8Async_ptsz),
    CUDA(cuMemsetD16_v2),
    CUDA(cuMemsetD16_v2_ptds),
    CUDA(cuMemsetD16Async),
    CUDA(cuMemsetD16Async_ptsz),
    CUDA(cuMemsetD32_v2),
    CUDA(cuMemsetD32_v2_ptds),
    CUDA(cuMemsetD32Async),
    CUDA(cuMemsetD32Async_ptsz),

    /* launches, paced by the fair-share gate (shim/cuda_launch.c; graph launches above) */
    CUDA(cuLaunchKernel),
    CUDA(cuLaunchKernel_ptsz),
    CUDA(cuLaunchKernelEx),
    CUDA(cuLaunchKernelEx_ptsz),
    CUDA(cuLaunchCooperativeKernel),
    CUDA(cuLaunchCooperativeKernel_ptsz),

    /* HIP: the way in for Triton and ROCm 7 frameworks (shim/hip_procaddress.c) */
    HIP(hipGetProcAddress),
    HIP(hipGetProcAddress_spt),

    /* HIP device memory and its views (shim/hip_memory.c) */
    HIP(hipMalloc),
    HIP(hipExtMallocWithFlags),
    HIP(hipMallocManaged),
    HIP(hipMallocPitch),
    HIP(hipMalloc3D),
    HIP(hipFree),
    HIP(hipMemGetInfo),
    HIP(hipDeviceTotalMem),
    HIP(hipDeviceReset),
    HIP(hipMemcpy), /* GREY_DEDUP's uploads and uses (shim/hip_dedup.c) */
    HIP(hipMemcpyAsync),
    HIP(hipMemset),
    HIP(hipMemsetAsync),

    /* HIP stream-ordered allocation and pools (shim/hip_async.c) */
    HIP(hipMallocAsync),
    HIP(hipMallocFromPoolAsync),
    HIP(hipFreeAsync),
    HIP(hipMemPoolTrimTo),
    HIP(hipMemPoolSetAttribute),
    HIP(hipMemPoolDestroy),

    /* HIP virtual memory and arrays (shim/hip_vmm_array.c) */
    HIP(hipMemCreate),
    HIP(hipMemRelease),
    HIP(hipMemMap),
    HIP(hipMemUnmap),
    HIP(hipMemExportToShareableHandle),
    HIP(hipMemImportFromShareableHandle),
    HIP(hipMallocArray),
    HIP(hipArrayCreate),
    HIP(hipFreeArray),
    HIP(hipArrayDestroy),

    /* HIP launches (shim/hip_launch.c) */
    HIP(hipLaunchKernel),
    HIP(hipLaunchKernel_spt),
    HIP(hipModuleLaunchKernel),
    HIP(hipExtLaunchKernel),
    HIP(hipLaunchCooperativeKernel),
    HIP(hipLaunchCooperativeKernel_spt),
    HIP(hipGraphLaunch),
    HIP(hipGraphLaunch_spt),
};

const size_t grey_intercept_count = sizeof grey_intercepts / sizeof grey_intercepts[0];
void *grey_intercept_vendor_address[sizeof grey_intercepts / sizeof grey_intercepts[0]];
