/* Reading and changing a kernel node's parameters (cuGraphKernelNodeGetParams,
 * cuGraphExecKernelNodeSetParams, v1 and v2 layouts) is not modelled: sim_graph.c keeps a node's
 * launch but not the parameter structure the reference hands back. They answer
 * CUDA_ERROR_NOT_SUPPORTED (traced), so that a library that only resolves them (cuFFT opens every
 * entry point it might use) starts, and one that calls them learns it plainly. */
#include "sim_internal.h"

static CUresult not_modelled(const char *name, const void *node, const void *params)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!node || !params)
        return CUDA_ERROR_INVALID_VALUE;
    sim_trace("%s: kernel node parameters are not modelled", name);
    return CUDA_ERROR_NOT_SUPPORTED;
}

CUresult CUDAAPI cuGraphKernelNodeGetParams(CUgraphNode hNode, CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams)
{ return not_modelled("cuGraphKernelNodeGetParams", hNode, nodeParams); }
CUresult CUDAAPI cuGraphExecKernelNodeSetParams(CUgraphExec e, CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS_v1 *p)
{ return not_modelled("cuGraphExecKernelNodeSetParams", e ? hNode : NULL, p); }
CUresult CUDAAPI cuGraphExecKernelNodeSetParams_v2(CUgraphExec e, CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS *p)
{ return not_modelled("cuGraphExecKernelNodeSetParams_v2", e ? hNode : NULL, p); }
