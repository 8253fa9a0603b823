/* Every vendor function grey intercepts (CUDA driver, NVML, HIP runtime), in one place. A
 * row makes the function reachable through every path programs use: the exported symbol (the
 * wrapper itself, exported by preload/exports.map's patterns), dlsym on the vendor library's
 * handle (by name), and cuGetProcAddress / hipGetProcAddress (by the vendor's address for the
 * same name). Adding an intercepted function is one row here plus its wrapper. */
#include "cuda_shim.h"
#include "../preload/intercept.h"
#include "nvml_shim.h"
#include "hip_shim.h"

const struct grey_intercept grey_intercepts[] = {
    /* the way in for the CUDA runtime and every framework since CUDA 11.3 */
    {"cuGetProcAddress",              (void *)cuGetProcAddress},
    {"cuGetProcAddress_v2",           (void *)cuGetProcAddress_v2},

    /* device memory (shim/cuda_memory.c) */
    {"cuMemAlloc_v2",                 (void *)cuMemAlloc_v2},
    {"cuMemAllocPitch_v2",            (void *)cuMemAllocPitch_v2},
    {"cuMemAllocManaged",             (void *)cuMemAllocManaged},
    {"cuMemFree_v2",                  (void *)cuMemFree_v2},
    {"cuMemGetInfo_v2",               (void *)cuMemGetInfo_v2},
    {"cuDeviceTotalMem_v2",           (void *)cuDeviceTotalMem_v2},

    /* stream-ordered allocation and pools (shim/cuda_async.c) */
    {"cuMemAllocAsync",               (void *)cuMemAllocAsync},
    {"cuMemAllocAsync_ptsz",          (void *)cuMemAllocAsync_ptsz},
    {"cuMemAllocFromPoolAsync",       (void *)cuMemAllocFromPoolAsync},
    {"cuMemAllocFromPoolAsync_ptsz",  (void *)cuMemAllocFromPoolAsync_ptsz},
    {"cuMemFreeAsync",                (void *)cuMemFreeAsync},
    {"cuMemFreeAsync_ptsz",           (void *)cuMemFreeAsync_ptsz},
    {"cuMemPoolTrimTo",               (void *)cuMemPoolTrimTo},
    {"cuMemPoolSetAttribute",         (void *)cuMemPoolSetAttribute},
    {"cuMemPoolDestroy",              (void *)cuMemPoolDestroy},

    /* virtual memory management and arrays (shim/cuda_vmm_array.c) */
    {"cuMemCreate",                   (void *)cuMemCreate},
    {"cuMemRelease",                  (void *)cuMemRelease},
    {"cuArrayCreate_v2",              (void *)cuArrayCreate_v2},
    {"cuArray3DCreate_v2",            (void *)cuArray3DCreate_v2},
    {"cuArrayDestroy",                (void *)cuArrayDestroy},
    {"cuMipmappedArrayCreate",        (void *)cuMipmappedArrayCreate},
    {"cuMipmappedArrayDestroy",       (void *)cuMipmappedArrayDestroy},

    /* graph memory nodes: counted when the graph launches (shim/cuda_graph.c) */
    {"cuGraphInstantiateWithFlags",        (void *)cuGraphInstantiateWithFlags},
    {"cuGraphInstantiateWithParams",       (void *)cuGraphInstantiateWithParams},
    {"cuGraphInstantiateWithParams_ptsz",  (void *)cuGraphInstantiateWithParams_ptsz},
    {"cuGraphExecDestroy",                 (void *)cuGraphExecDestroy},
    {"cuGraphLaunch",                      (void *)cuGraphLaunch},
    {"cuGraphLaunch_ptsz",                 (void *)cuGraphLaunch_ptsz},

    /* contexts cost memory and take memory with them (shim/cuda_context.c) */
    {"cuDevicePrimaryCtxRetain",      (void *)cuDevicePrimaryCtxRetain},
    {"cuCtxCreate_v2",                (void *)cuCtxCreate_v2},
    {"cuCtxCreate_v3",                (void *)cuCtxCreate_v3},
    {"cuCtxCreate_v4",                (void *)cuCtxCreate_v4},
    {"cuCtxDestroy_v2",               (void *)cuCtxDestroy_v2},
    {"cuDevicePrimaryCtxRelease_v2",  (void *)cuDevicePrimaryCtxRelease_v2},
    {"cuDevicePrimaryCtxReset_v2",    (void *)cuDevicePrimaryCtxReset_v2},
    {"cuDevicePrimaryCtxRelease",     (void *)cuDevicePrimaryCtxRelease},
    {"cuDevicePrimaryCtxReset",       (void *)cuDevicePrimaryCtxReset},

    /* NVML's memory views (shim/nvml_memory.c): reached by name only, NVML has no procaddress */
    {"nvmlDeviceGetMemoryInfo",                  (void *)nvmlDeviceGetMemoryInfo},
    {"nvmlDeviceGetMemoryInfo_v2",               (void *)nvmlDeviceGetMemoryInfo_v2},
    {"nvmlDeviceGetComputeRunningProcesses",     (void *)nvmlDeviceGetComputeRunningProcesses},
    {"nvmlDeviceGetComputeRunningProcesses_v2",  (void *)nvmlDeviceGetComputeRunningProcesses_v2},
    {"nvmlDeviceGetComputeRunningProcesses_v3",  (void *)nvmlDeviceGetComputeRunningProcesses_v3},

    /* copies and memsets: observed for the buffer report with GREY_DEDUP (shim/cuda_copy.c) */
    {"cuMemcpyHtoD_v2",               (void *)cuMemcpyHtoD_v2},
    {"cuMemcpyHtoD_v2_ptds",          (void *)cuMemcpyHtoD_v2_ptds},
    {"cuMemcpyHtoDAsync_v2",          (void *)cuMemcpyHtoDAsync_v2},
    {"cuMemcpyHtoDAsync_v2_ptsz",     (void *)cuMemcpyHtoDAsync_v2_ptsz},
    {"cuMemcpyDtoH_v2",               (void *)cuMemcpyDtoH_v2},
    {"cuMemcpyDtoH_v2_ptds",          (void *)cuMemcpyDtoH_v2_ptds},
    {"cuMemcpyDtoHAsync_v2",          (void *)cuMemcpyDtoHAsync_v2},
    {"cuMemcpyDtoHAsync_v2_ptsz",     (void *)cuMemcpyDtoHAsync_v2_ptsz},
    {"cuMemcpyDtoD_v2",               (void *)cuMemcpyDtoD_v2},
    {"cuMemcpyDtoD_v2_ptds",          (void *)cuMemcpyDtoD_v2_ptds},
    {"cuMemcpyDtoDAsync_v2",          (void *)cuMemcpyDtoDAsync_v2},
    {"cuMemcpyDtoDAsync_v2_ptsz",     (void *)cuMemcpyDtoDAsync_v2_ptsz},
    {"cuMemcpy",                      (void *)cuMemcpy},
    {"cuMemcpy_ptds",                 (void *)cuMemcpy_ptds},
    {"cuMemcpyAsync",                 (void *)cuMemcpyAsync},
    {"cuMemcpyAsync_ptsz",            (void *)cuMemcpyAsync_ptsz},
    {"cuMemsetD8_v2",                 (void *)cuMemsetD8_v2},
    {"cuMemsetD8_v2_ptds",            (void *)cuMemsetD8_v2_ptds},
    {"cuMemsetD8Async",               (void *)cuMemsetD8Async},
    {"cuMemsetD8Async_ptsz",          (void *)cuMemsetD8Async_ptsz},
    {"cuMemsetD16_v2",                (void *)cuMemsetD16_v2},
    {"cuMemsetD16_v2_ptds",           (void *)cuMemsetD16_v2_ptds},
    {"cuMemsetD16Async",              (void *)cuMemsetD16Async},
    {"cuMemsetD16Async_ptsz",         (void *)cuMemsetD16Async_ptsz},
    {"cuMemsetD32_v2",                (void *)cuMemsetD32_v2},
    {"cuMemsetD32_v2_ptds",           (void *)cuMemsetD32_v2_ptds},
    {"cuMemsetD32Async",              (void *)cuMemsetD32Async},
    {"cuMemsetD32Async_ptsz",         (void *)cuMemsetD32Async_ptsz},

    /* launches, paced by the fair-share gate (shim/cuda_launch.c; graph launches above) */
    {"cuLaunchKernel",                (void *)cuLaunchKernel},
    {"cuLaunchKernel_ptsz",           (void *)cuLaunchKernel_ptsz},
    {"cuLaunchKernelEx",              (void *)cuLaunchKernelEx},
    {"cuLaunchKernelEx_ptsz",         (void *)cuLaunchKernelEx_ptsz},
    {"cuLaunchCooperativeKernel",     (void *)cuLaunchCooperativeKernel},
    {"cuLaunchCooperativeKernel_ptsz", (void *)cuLaunchCooperativeKernel_ptsz},

    /* HIP: the way in for Triton and ROCm 7 frameworks (shim/hip_procaddress.c) */
    {"hipGetProcAddress",             (void *)hipGetProcAddress},
    {"hipGetProcAddress_spt",         (void *)hipGetProcAddress_spt},

    /* HIP device memory and its views (shim/hip_memory.c) */
    {"hipMalloc",                     (void *)hipMalloc},
    {"hipExtMallocWithFlags",         (void *)hipExtMallocWithFlags},
    {"hipMallocManaged",              (void *)hipMallocManaged},
    {"hipMallocPitch",                (void *)hipMallocPitch},
    {"hipMalloc3D",                   (void *)hipMalloc3D},
    {"hipFree",                       (void *)hipFree},
    {"hipMemGetInfo",                 (void *)hipMemGetInfo},
    {"hipDeviceTotalMem",             (void *)hipDeviceTotalMem},
    {"hipDeviceReset",                (void *)hipDeviceReset},
    {"hipMemcpy",                     (void *)hipMemcpy}, /* GREY_DEDUP's uploads (shim/hip_dedup.c) */

    /* HIP stream-ordered allocation and pools (shim/hip_async.c) */
    {"hipMallocAsync",                (void *)hipMallocAsync},
    {"hipMallocFromPoolAsync",        (void *)hipMallocFromPoolAsync},
    {"hipFreeAsync",                  (void *)hipFreeAsync},
    {"hipMemPoolTrimTo",              (void *)hipMemPoolTrimTo},
    {"hipMemPoolSetAttribute",        (void *)hipMemPoolSetAttribute},
    {"hipMemPoolDestroy",             (void *)hipMemPoolDestroy},

    /* HIP virtual memory and arrays (shim/hip_vmm_array.c) */
    {"hipMemCreate",                  (void *)hipMemCreate},
    {"hipMemRelease",                 (void *)hipMemRelease},
    {"hipMallocArray",                (void *)hipMallocArray},
    {"hipArrayCreate",                (void *)hipArrayCreate},
    {"hipFreeArray",                  (void *)hipFreeArray},
    {"hipArrayDestroy",               (void *)hipArrayDestroy},

    /* HIP launches (shim/hip_launch.c) */
    {"hipLaunchKernel",               (void *)hipLaunchKernel},
    {"hipLaunchKernel_spt",           (void *)hipLaunchKernel_spt},
    {"hipModuleLaunchKernel",         (void *)hipModuleLaunchKernel},
    {"hipExtLaunchKernel",            (void *)hipExtLaunchKernel},
    {"hipLaunchCooperativeKernel",    (void *)hipLaunchCooperativeKernel},
    {"hipLaunchCooperativeKernel_spt", (void *)hipLaunchCooperativeKernel_spt},
    {"hipGraphLaunch",                (void *)hipGraphLaunch},
    {"hipGraphLaunch_spt",            (void *)hipGraphLaunch_spt},
};

const size_t grey_intercept_count = sizeof grey_intercepts / sizeof grey_intercepts[0];
