/* Graph features the simulator does not model (sim_graph.c has kernel, empty and memory nodes,
 * instantiate and launch): host, memcpy, memset, event, child-graph, external-semaphore and
 * conditional nodes, graph edits, clones, updates and debug output, user objects, and the graph
 * memory attributes of a device. Each answers CUDA_ERROR_NOT_SUPPORTED, traced under
 * GREY_SIM_TRACE=1, so a runtime call that needs one fails plainly. Written from the
 * declarations in CUDA 13's cuda.h; README lists them. */
#include "sim_internal.h"


CUresult CUDAAPI cuDeviceGetGraphMemAttribute(CUdevice device, CUgraphMem_attribute attr, void* value)
{
    (void)device;
    (void)attr;
    (void)value;
    return sim_not_modelled("cuDeviceGetGraphMemAttribute");
}

CUresult CUDAAPI cuDeviceGraphMemTrim(CUdevice device)
{
    (void)device;
    return sim_not_modelled("cuDeviceGraphMemTrim");
}

CUresult CUDAAPI cuDeviceSetGraphMemAttribute(CUdevice device, CUgraphMem_attribute attr, void* value)
{
    (void)device;
    (void)attr;
    (void)value;
    return sim_not_modelled("cuDeviceSetGraphMemAttribute");
}

CUresult CUDAAPI cuGraphAddChildGraphNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                          size_t numDependencies, CUgraph childGraph)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)childGraph;
    return sim_not_modelled("cuGraphAddChildGraphNode");
}

CUresult CUDAAPI cuGraphAddDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to,
                                        size_t numDependencies)
{
    (void)hGraph;
    (void)from;
    (void)to;
    (void)numDependencies;
    return sim_not_modelled("cuGraphAddDependencies");
}

CUresult CUDAAPI cuGraphAddEventRecordNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                           size_t numDependencies, CUevent event)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)event;
    return sim_not_modelled("cuGraphAddEventRecordNode");
}

CUresult CUDAAPI cuGraphAddEventWaitNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                         size_t numDependencies, CUevent event)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)event;
    return sim_not_modelled("cuGraphAddEventWaitNode");
}

CUresult CUDAAPI cuGraphAddExternalSemaphoresSignalNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                                        const CUgraphNode *dependencies, size_t numDependencies,
                                                        const CUDA_EXT_SEM_SIGNAL_NODE_PARAMS *nodeParams)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)nodeParams;
    return sim_not_modelled("cuGraphAddExternalSemaphoresSignalNode");
}

CUresult CUDAAPI cuGraphAddExternalSemaphoresWaitNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                                      const CUgraphNode *dependencies, size_t numDependencies,
                                                      const CUDA_EXT_SEM_WAIT_NODE_PARAMS *nodeParams)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)nodeParams;
    return sim_not_modelled("cuGraphAddExternalSemaphoresWaitNode");
}

CUresult CUDAAPI cuGraphAddHostNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                    size_t numDependencies, const CUDA_HOST_NODE_PARAMS *nodeParams)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)nodeParams;
    return sim_not_modelled("cuGraphAddHostNode");
}

CUresult CUDAAPI cuGraphAddMemcpyNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                      size_t numDependencies, const CUDA_MEMCPY3D *copyParams, CUcontext ctx)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)copyParams;
    (void)ctx;
    return sim_not_modelled("cuGraphAddMemcpyNode");
}

CUresult CUDAAPI cuGraphAddMemsetNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                      size_t numDependencies, const CUDA_MEMSET_NODE_PARAMS *memsetParams,
                                      CUcontext ctx)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)memsetParams;
    (void)ctx;
    return sim_not_modelled("cuGraphAddMemsetNode");
}

CUresult CUDAAPI cuGraphAddNode(CUgraphNode *phGraphNode, CUgraph hGraph, const CUgraphNode *dependencies,
                                size_t numDependencies, CUgraphNodeParams *nodeParams)
{
    (void)phGraphNode;
    (void)hGraph;
    (void)dependencies;
    (void)numDependencies;
    (void)nodeParams;
    return sim_not_modelled("cuGraphAddNode");
}

CUresult CUDAAPI cuGraphChildGraphNodeGetGraph(CUgraphNode hNode, CUgraph *phGraph)
{
    (void)hNode;
    (void)phGraph;
    return sim_not_modelled("cuGraphChildGraphNodeGetGraph");
}

CUresult CUDAAPI cuGraphClone(CUgraph *phGraphClone, CUgraph originalGraph)
{
    (void)phGraphClone;
    (void)originalGraph;
    return sim_not_modelled("cuGraphClone");
}

CUresult CUDAAPI cuGraphConditionalHandleCreate(CUgraphConditionalHandle *pHandle_out, CUgraph hGraph, CUcontext ctx,
                                                unsigned int defaultLaunchValue, unsigned int flags)
{
    (void)pHandle_out;
    (void)hGraph;
    (void)ctx;
    (void)defaultLaunchValue;
    (void)flags;
    return sim_not_modelled("cuGraphConditionalHandleCreate");
}

CUresult CUDAAPI cuGraphDebugDotPrint(CUgraph hGraph, const char *path, unsigned int flags)
{
    (void)hGraph;
    (void)path;
    (void)flags;
    return sim_not_modelled("cuGraphDebugDotPrint");
}

CUresult CUDAAPI cuGraphDestroyNode(CUgraphNode hNode)
{
    (void)hNode;
    return sim_not_modelled("cuGraphDestroyNode");
}

CUresult CUDAAPI cuGraphEventRecordNodeGetEvent(CUgraphNode hNode, CUevent *event_out)
{
    (void)hNode;
    (void)event_out;
    return sim_not_modelled("cuGraphEventRecordNodeGetEvent");
}

CUresult CUDAAPI cuGraphEventRecordNodeSetEvent(CUgraphNode hNode, CUevent event)
{
    (void)hNode;
    (void)event;
    return sim_not_modelled("cuGraphEventRecordNodeSetEvent");
}

CUresult CUDAAPI cuGraphEventWaitNodeGetEvent(CUgraphNode hNode, CUevent *event_out)
{
    (void)hNode;
    (void)event_out;
    return sim_not_modelled("cuGraphEventWaitNodeGetEvent");
}

CUresult CUDAAPI cuGraphEventWaitNodeSetEvent(CUgraphNode hNode, CUevent event)
{
    (void)hNode;
    (void)event;
    return sim_not_modelled("cuGraphEventWaitNodeSetEvent");
}

CUresult CUDAAPI cuGraphExecChildGraphNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode, CUgraph childGraph)
{
    (void)hGraphExec;
    (void)hNode;
    (void)childGraph;
    return sim_not_modelled("cuGraphExecChildGraphNodeSetParams");
}

CUresult CUDAAPI cuGraphExecEventRecordNodeSetEvent(CUgraphExec hGraphExec, CUgraphNode hNode, CUevent event)
{
    (void)hGraphExec;
    (void)hNode;
    (void)event;
    return sim_not_modelled("cuGraphExecEventRecordNodeSetEvent");
}

CUresult CUDAAPI cuGraphExecEventWaitNodeSetEvent(CUgraphExec hGraphExec, CUgraphNode hNode, CUevent event)
{
    (void)hGraphExec;
    (void)hNode;
    (void)event;
    return sim_not_modelled("cuGraphExecEventWaitNodeSetEvent");
}

CUresult CUDAAPI cuGraphExecExternalSemaphoresSignalNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                                                  const CUDA_EXT_SEM_SIGNAL_NODE_PARAMS *nodeParams)
{
    (void)hGraphExec;
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphExecExternalSemaphoresSignalNodeSetParams");
}

CUresult CUDAAPI cuGraphExecExternalSemaphoresWaitNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                                                const CUDA_EXT_SEM_WAIT_NODE_PARAMS *nodeParams)
{
    (void)hGraphExec;
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphExecExternalSemaphoresWaitNodeSetParams");
}

CUresult CUDAAPI cuGraphExecHostNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                              const CUDA_HOST_NODE_PARAMS *nodeParams)
{
    (void)hGraphExec;
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphExecHostNodeSetParams");
}

CUresult CUDAAPI cuGraphExecMemcpyNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                                const CUDA_MEMCPY3D *copyParams, CUcontext ctx)
{
    (void)hGraphExec;
    (void)hNode;
    (void)copyParams;
    (void)ctx;
    return sim_not_modelled("cuGraphExecMemcpyNodeSetParams");
}

CUresult CUDAAPI cuGraphExecMemsetNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode,
                                                const CUDA_MEMSET_NODE_PARAMS *memsetParams, CUcontext ctx)
{
    (void)hGraphExec;
    (void)hNode;
    (void)memsetParams;
    (void)ctx;
    return sim_not_modelled("cuGraphExecMemsetNodeSetParams");
}

CUresult CUDAAPI cuGraphExecNodeSetParams(CUgraphExec hGraphExec, CUgraphNode hNode, CUgraphNodeParams *nodeParams)
{
    (void)hGraphExec;
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphExecNodeSetParams");
}

CUresult CUDAAPI cuGraphExecUpdate(CUgraphExec hGraphExec, CUgraph hGraph, CUgraphNode *hErrorNode_out,
                                   CUgraphExecUpdateResult *updateResult_out)
{
    (void)hGraphExec;
    (void)hGraph;
    (void)hErrorNode_out;
    (void)updateResult_out;
    return sim_not_modelled("cuGraphExecUpdate");
}

CUresult CUDAAPI cuGraphExternalSemaphoresSignalNodeGetParams(CUgraphNode hNode,
                                                              CUDA_EXT_SEM_SIGNAL_NODE_PARAMS *params_out)
{
    (void)hNode;
    (void)params_out;
    return sim_not_modelled("cuGraphExternalSemaphoresSignalNodeGetParams");
}

CUresult CUDAAPI cuGraphExternalSemaphoresSignalNodeSetParams(CUgraphNode hNode,
                                                              const CUDA_EXT_SEM_SIGNAL_NODE_PARAMS *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphExternalSemaphoresSignalNodeSetParams");
}

CUresult CUDAAPI cuGraphExternalSemaphoresWaitNodeGetParams(CUgraphNode hNode,
                                                            CUDA_EXT_SEM_WAIT_NODE_PARAMS *params_out)
{
    (void)hNode;
    (void)params_out;
    return sim_not_modelled("cuGraphExternalSemaphoresWaitNodeGetParams");
}

CUresult CUDAAPI cuGraphExternalSemaphoresWaitNodeSetParams(CUgraphNode hNode,
                                                            const CUDA_EXT_SEM_WAIT_NODE_PARAMS *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphExternalSemaphoresWaitNodeSetParams");
}

CUresult CUDAAPI cuGraphGetEdges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, size_t *numEdges)
{
    (void)hGraph;
    (void)from;
    (void)to;
    (void)numEdges;
    return sim_not_modelled("cuGraphGetEdges");
}

CUresult CUDAAPI cuGraphHostNodeGetParams(CUgraphNode hNode, CUDA_HOST_NODE_PARAMS *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphHostNodeGetParams");
}

CUresult CUDAAPI cuGraphHostNodeSetParams(CUgraphNode hNode, const CUDA_HOST_NODE_PARAMS *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphHostNodeSetParams");
}

CUresult CUDAAPI cuGraphKernelNodeCopyAttributes(CUgraphNode dst, CUgraphNode src)
{
    (void)dst;
    (void)src;
    return sim_not_modelled("cuGraphKernelNodeCopyAttributes");
}

CUresult CUDAAPI cuGraphKernelNodeGetAttribute(CUgraphNode hNode, CUkernelNodeAttrID attr,
                                               CUkernelNodeAttrValue *value_out)
{
    (void)hNode;
    (void)attr;
    (void)value_out;
    return sim_not_modelled("cuGraphKernelNodeGetAttribute");
}

CUresult CUDAAPI cuGraphKernelNodeSetAttribute(CUgraphNode hNode, CUkernelNodeAttrID attr,
                                               const CUkernelNodeAttrValue *value)
{
    (void)hNode;
    (void)attr;
    (void)value;
    return sim_not_modelled("cuGraphKernelNodeSetAttribute");
}

CUresult CUDAAPI cuGraphKernelNodeSetParams(CUgraphNode hNode, const CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphKernelNodeSetParams");
}

CUresult CUDAAPI cuGraphMemcpyNodeSetParams(CUgraphNode hNode, const CUDA_MEMCPY3D *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphMemcpyNodeSetParams");
}

CUresult CUDAAPI cuGraphMemsetNodeSetParams(CUgraphNode hNode, const CUDA_MEMSET_NODE_PARAMS *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphMemsetNodeSetParams");
}

CUresult CUDAAPI cuGraphNodeFindInClone(CUgraphNode *phNode, CUgraphNode hOriginalNode, CUgraph hClonedGraph)
{
    (void)phNode;
    (void)hOriginalNode;
    (void)hClonedGraph;
    return sim_not_modelled("cuGraphNodeFindInClone");
}

CUresult CUDAAPI cuGraphNodeGetDependencies(CUgraphNode hNode, CUgraphNode *dependencies, size_t *numDependencies)
{
    (void)hNode;
    (void)dependencies;
    (void)numDependencies;
    return sim_not_modelled("cuGraphNodeGetDependencies");
}

CUresult CUDAAPI cuGraphNodeGetDependentNodes(CUgraphNode hNode, CUgraphNode *dependentNodes, size_t *numDependentNodes)
{
    (void)hNode;
    (void)dependentNodes;
    (void)numDependentNodes;
    return sim_not_modelled("cuGraphNodeGetDependentNodes");
}

CUresult CUDAAPI cuGraphNodeGetEnabled(CUgraphExec hGraphExec, CUgraphNode hNode, unsigned int *isEnabled)
{
    (void)hGraphExec;
    (void)hNode;
    (void)isEnabled;
    return sim_not_modelled("cuGraphNodeGetEnabled");
}

CUresult CUDAAPI cuGraphNodeSetEnabled(CUgraphExec hGraphExec, CUgraphNode hNode, unsigned int isEnabled)
{
    (void)hGraphExec;
    (void)hNode;
    (void)isEnabled;
    return sim_not_modelled("cuGraphNodeSetEnabled");
}

CUresult CUDAAPI cuGraphNodeSetParams(CUgraphNode hNode, CUgraphNodeParams *nodeParams)
{
    (void)hNode;
    (void)nodeParams;
    return sim_not_modelled("cuGraphNodeSetParams");
}

CUresult CUDAAPI cuGraphReleaseUserObject(CUgraph graph, CUuserObject object, unsigned int count)
{
    (void)graph;
    (void)object;
    (void)count;
    return sim_not_modelled("cuGraphReleaseUserObject");
}

CUresult CUDAAPI cuGraphRemoveDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to,
                                           size_t numDependencies)
{
    (void)hGraph;
    (void)from;
    (void)to;
    (void)numDependencies;
    return sim_not_modelled("cuGraphRemoveDependencies");
}

CUresult CUDAAPI cuGraphRetainUserObject(CUgraph graph, CUuserObject object, unsigned int count, unsigned int flags)
{
    (void)graph;
    (void)object;
    (void)count;
    (void)flags;
    return sim_not_modelled("cuGraphRetainUserObject");
}

CUresult CUDAAPI cuUserObjectCreate(CUuserObject *object_out, void *ptr, CUhostFn destroy, unsigned int initialRefcount,
                                    unsigned int flags)
{
    (void)object_out;
    (void)ptr;
    (void)destroy;
    (void)initialRefcount;
    (void)flags;
    return sim_not_modelled("cuUserObjectCreate");
}

CUresult CUDAAPI cuUserObjectRelease(CUuserObject object, unsigned int count)
{
    (void)object;
    (void)count;
    return sim_not_modelled("cuUserObjectRelease");
}

CUresult CUDAAPI cuUserObjectRetain(CUuserObject object, unsigned int count)
{
    (void)object;
    (void)count;
    return sim_not_modelled("cuUserObjectRetain");
}
