/* Every vendor function grey intercepts (CUDA driver, NVML; HIP joins here too), in one place. A
 * row makes the function reachable through every path programs use: the exported symbol (the
 * wrapper itself, exported by preload/exports.map's patterns), dlsym on the vendor library's
 * handle (by name), and cuGetProcAddress (by the driver's address for the same name). Adding an
 * intercepted function is one row here plus its wrapper. */
#include "cuda_shim.h"
#include "../preload/intercept.h"
#include "nvml_shim.h"

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

    /* NVML's memory views (shim/nvml_memory.c): reached by name only, NVML has no procaddress */
    {"nvmlDeviceGetMemoryInfo",                  (void *)nvmlDeviceGetMemoryInfo},
    {"nvmlDeviceGetMemoryInfo_v2",               (void *)nvmlDeviceGetMemoryInfo_v2},
    {"nvmlDeviceGetComputeRunningProcesses",     (void *)nvmlDeviceGetComputeRunningProcesses},
    {"nvmlDeviceGetComputeRunningProcesses_v2",  (void *)nvmlDeviceGetComputeRunningProcesses_v2},
    {"nvmlDeviceGetComputeRunningProcesses_v3",  (void *)nvmlDeviceGetComputeRunningProcesses_v3},

    /* launches (shim/cuda_launch.c) */
    {"cuLaunchKernel",                (void *)cuLaunchKernel},
    {"cuLaunchKernel_ptsz",           (void *)cuLaunchKernel_ptsz},
};

const size_t grey_intercept_count = sizeof grey_intercepts / sizeof grey_intercepts[0];
