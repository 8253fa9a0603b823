/* Every driver function grey intercepts, in one place. A row makes the function reachable through
 * all three paths programs use: the exported symbol (the wrapper itself, exported by
 * preload/exports.map's "cu*" pattern), dlsym on a libcuda handle (by name), and
 * cuGetProcAddress (by the driver's address for the same name). Adding an intercepted function
 * is one row here plus its wrapper. */
#include "cuda_shim.h"
#include "../preload/intercept.h"

const struct grey_intercept grey_intercepts[] = {
    /* the way in for the CUDA runtime and every framework since CUDA 11.3 */
    {"cuGetProcAddress",        (void *)cuGetProcAddress},
    {"cuGetProcAddress_v2",     (void *)cuGetProcAddress_v2},
    /* memory: allocation, free, queries */
    {"cuMemAlloc_v2",           (void *)cuMemAlloc_v2},
    {"cuMemFree_v2",            (void *)cuMemFree_v2},
    {"cuMemGetInfo_v2",         (void *)cuMemGetInfo_v2},
    {"cuDeviceTotalMem_v2",     (void *)cuDeviceTotalMem_v2},
    /* launches */
    {"cuLaunchKernel",          (void *)cuLaunchKernel},
    {"cuLaunchKernel_ptsz",     (void *)cuLaunchKernel_ptsz},
};

const size_t grey_intercept_count = sizeof grey_intercepts / sizeof grey_intercepts[0];
