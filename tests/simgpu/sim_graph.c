/* CUDA graphs: graphs, nodes, executable graphs and their launch.
 *
 * A graph is a list of nodes in the order they were added; each node names the nodes it depends
 * on, which can only be nodes added before it, so the list order is a valid execution order.
 * A node is one operation (sim_node_op): a kernel launch, a 1D copy, a 1D memset, or nothing
 * (an empty node). Stream capture (sim_capture.c) builds graphs through sim_graph_new and
 * sim_graph_append; cuGraphAddKernelNode and cuGraphAddEmptyNode build them by hand.
 *
 * Instantiation copies the operations into the executable graph, so that the graph may be
 * changed or destroyed afterwards, as documented. Launching replays them, in order, on the
 * launch stream through the driver's own entry points (cuLaunchKernel, cuMemcpyAsync,
 * cuMemsetD*Async), so they are validated and ordered like directly issued work. Kernel
 * arguments are not kept: simulated kernels do not read them.
 *
 * Memory allocation and free nodes are in sim_graph_mem.c.
 *
 * Not modelled: child graphs, host, event and conditional nodes, graph
 * update, and launching a graph into a capturing stream (refused with
 * CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED). */
#include "sim_internal.h"

#include <stdlib.h>
#include <string.h>

#define SIM_GRAPH_MAGIC 0x4752455947524150ULL /* "GREYGRAP" */
#define SIM_NODE_MAGIC  0x475245594e4f4445ULL /* "GREYNODE" */
#define SIM_EXEC_MAGIC  0x4752455945584543ULL /* "GREYEXEC" */
#define SIM_DEAD_MAGIC  0xdeadULL

struct CUgraphNode_st {
    uint64_t magic;
    CUgraph graph;
    sim_node_op op;
    CUgraphNode *deps;
    size_t ndeps;
    void *argp[SIM_NODE_ARGS]; /* kernelParams as cuGraphKernelNodeGetParams hands them out */
};

struct CUgraph_st {
    uint64_t magic;
    pthread_mutex_t lock; /* guards nodes: a capture may append while another thread reads */
    CUgraphNode *nodes;
    size_t count, cap;
};

struct CUgraphExec_st {
    uint64_t magic;
    unsigned long long flags;
    sim_node_op *ops;
    size_t count;
};

static CUresult check_graph(CUgraph g)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return (g && g->magic == SIM_GRAPH_MAGIC) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

static CUresult check_exec(CUgraphExec e)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return (e && e->magic == SIM_EXEC_MAGIC) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/* ------------------------------------------------------------------ building */

CUresult sim_graph_new(CUgraph *out)
{
    CUgraph g = calloc(1, sizeof *g);
    if (!g)
        return CUDA_ERROR_OUT_OF_MEMORY;
    g->magic = SIM_GRAPH_MAGIC;
    pthread_mutex_init(&g->lock, NULL);
    *out = g;
    return CUDA_SUCCESS;
}

CUresult sim_graph_append(CUgraph g, const sim_node_op *op, const CUgraphNode *deps, size_t ndeps,
                          CUgraphNode *out)
{
    if (ndeps && !deps)
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < ndeps; i++)
        if (!deps[i] || deps[i]->magic != SIM_NODE_MAGIC || deps[i]->graph != g)
            return CUDA_ERROR_INVALID_VALUE;
    CUgraphNode n = calloc(1, sizeof *n);
    CUgraphNode *d = ndeps ? malloc(ndeps * sizeof *d) : NULL;
    if (!n || (ndeps && !d)) {
        free(n);
        free(d);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (ndeps)
        memcpy(d, deps, ndeps * sizeof *d);
    *n = (struct CUgraphNode_st){SIM_NODE_MAGIC, g, *op, d, ndeps, {0}};
    for (unsigned i = 0; i < n->op.nargs; i++)
        n->argp[i] = &n->op.args[i];
    pthread_mutex_lock(&g->lock);
    if (g->count == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 8;
        CUgraphNode *grown = realloc(g->nodes, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&g->lock);
            free(d);
            free(n);
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        g->nodes = grown;
        g->cap = cap;
    }
    g->nodes[g->count++] = n;
    pthread_mutex_unlock(&g->lock);
    if (out)
        *out = n;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphCreate(CUgraph *phGraph, unsigned int flags)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!phGraph || flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    return sim_graph_new(phGraph);
}

CUresult CUDAAPI cuGraphDestroy(CUgraph hGraph)
{
    CUresult r = check_graph(hGraph);
    if (r != CUDA_SUCCESS)
        return r;
    hGraph->magic = SIM_DEAD_MAGIC;
    for (size_t i = 0; i < hGraph->count; i++) {
        hGraph->nodes[i]->magic = SIM_DEAD_MAGIC;
        free(hGraph->nodes[i]->deps);
        free(hGraph->nodes[i]);
    }
    free(hGraph->nodes);
    pthread_mutex_destroy(&hGraph->lock);
    free(hGraph);
    return CUDA_SUCCESS;
}

/* The launch configuration is checked when the graph is launched, as cuLaunchKernel checks it. */
CUresult CUDAAPI cuGraphAddKernelNode_v2(CUgraphNode *phGraphNode, CUgraph hGraph,
                                         const CUgraphNode *dependencies, size_t numDependencies,
                                         const CUDA_KERNEL_NODE_PARAMS *nodeParams)
{
    CUresult r = check_graph(hGraph);
    if (r != CUDA_SUCCESS)
        return r;
    if (!phGraphNode || !nodeParams)
        return CUDA_ERROR_INVALID_VALUE;
    CUfunction f = nodeParams->func ? nodeParams->func
                                    : sim_kernel_function((CUfunction)(void *)nodeParams->kern);
    if ((r = sim_function_check(sim_kernel_function(f))) != CUDA_SUCCESS)
        return r;
    sim_node_op op = {.kind = SIM_NODE_KERNEL, .f = f,
                      .grid = {nodeParams->gridDimX, nodeParams->gridDimY, nodeParams->gridDimZ},
                      .block = {nodeParams->blockDimX, nodeParams->blockDimY, nodeParams->blockDimZ},
                      .shmem = nodeParams->sharedMemBytes};
    op.nargs = sim_kernel_args(f, nodeParams->kernelParams, op.args);
    return sim_graph_append(hGraph, &op, dependencies, numDependencies, phGraphNode);
}

/* The CUDA 10 form: the same fields without the kernel and context at the end. */
CUresult CUDAAPI cuGraphAddKernelNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                      const CUgraphNode *dependencies, size_t numDependencies,
                                      const CUDA_KERNEL_NODE_PARAMS_v1 *nodeParams)
{
    if (!nodeParams)
        return cuGraphAddKernelNode_v2(phGraphNode, hGraph, dependencies, numDependencies, NULL);
    CUDA_KERNEL_NODE_PARAMS p;
    memset(&p, 0, sizeof p);
    p.func = nodeParams->func;
    p.gridDimX = nodeParams->gridDimX;
    p.gridDimY = nodeParams->gridDimY;
    p.gridDimZ = nodeParams->gridDimZ;
    p.blockDimX = nodeParams->blockDimX;
    p.blockDimY = nodeParams->blockDimY;
    p.blockDimZ = nodeParams->blockDimZ;
    p.sharedMemBytes = nodeParams->sharedMemBytes;
    p.kernelParams = nodeParams->kernelParams;
    return cuGraphAddKernelNode_v2(phGraphNode, hGraph, dependencies, numDependencies, &p);
}

CUresult CUDAAPI cuGraphAddEmptyNode(CUgraphNode *phGraphNode, CUgraph hGraph,
                                     const CUgraphNode *dependencies, size_t numDependencies)
{
    CUresult r = check_graph(hGraph);
    if (r != CUDA_SUCCESS)
        return r;
    if (!phGraphNode)
        return CUDA_ERROR_INVALID_VALUE;
    sim_node_op op = {.kind = SIM_NODE_EMPTY};
    return sim_graph_append(hGraph, &op, dependencies, numDependencies, phGraphNode);
}

/* ------------------------------------------------------------------ queries */

CUresult CUDAAPI cuGraphGetNodes(CUgraph hGraph, CUgraphNode *nodes, size_t *numNodes)
{
    CUresult r = check_graph(hGraph);
    if (r != CUDA_SUCCESS)
        return r;
    if (!numNodes)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&hGraph->lock);
    if (nodes) {
        size_t n = *numNodes < hGraph->count ? *numNodes : hGraph->count;
        memcpy(nodes, hGraph->nodes, n * sizeof *nodes);
        for (size_t i = n; i < *numNodes; i++)
            nodes[i] = NULL;
        *numNodes = n;
    } else {
        *numNodes = hGraph->count;
    }
    pthread_mutex_unlock(&hGraph->lock);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphGetRootNodes(CUgraph hGraph, CUgraphNode *rootNodes, size_t *numRootNodes)
{
    CUresult r = check_graph(hGraph);
    if (r != CUDA_SUCCESS)
        return r;
    if (!numRootNodes)
        return CUDA_ERROR_INVALID_VALUE;
    size_t found = 0;
    pthread_mutex_lock(&hGraph->lock);
    for (size_t i = 0; i < hGraph->count; i++) {
        if (hGraph->nodes[i]->ndeps)
            continue;
        if (rootNodes && found < *numRootNodes)
            rootNodes[found] = hGraph->nodes[i];
        found++;
    }
    pthread_mutex_unlock(&hGraph->lock);
    if (rootNodes) {
        for (size_t i = found; i < *numRootNodes; i++)
            rootNodes[i] = NULL;
        if (found > *numRootNodes)
            found = *numRootNodes;
    }
    *numRootNodes = found;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphNodeGetType(CUgraphNode hNode, CUgraphNodeType *type)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!hNode || hNode->magic != SIM_NODE_MAGIC || !type)
        return CUDA_ERROR_INVALID_VALUE;
    switch (hNode->op.kind) {
    case SIM_NODE_KERNEL: *type = CU_GRAPH_NODE_TYPE_KERNEL; break;
    case SIM_NODE_MEMCPY: *type = CU_GRAPH_NODE_TYPE_MEMCPY; break;
    case SIM_NODE_MEMSET: *type = CU_GRAPH_NODE_TYPE_MEMSET; break;
    case SIM_NODE_MEM_ALLOC: *type = CU_GRAPH_NODE_TYPE_MEM_ALLOC; break;
    case SIM_NODE_MEM_FREE: *type = CU_GRAPH_NODE_TYPE_MEM_FREE; break;
    default: *type = CU_GRAPH_NODE_TYPE_EMPTY; break;
    }
    return CUDA_SUCCESS;
}

/* What a node was made with, read back as the driver's getters give it. The simulator's copies
 * and memsets are linear, so a copy is a 3D copy of one row and a memset one of height 1. */
static CUresult node_of(CUgraphNode n, sim_node_kind kind, const void *out)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!n || n->magic != SIM_NODE_MAGIC || !out || n->op.kind != kind)
        return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphKernelNodeGetParams_v2(CUgraphNode hNode, CUDA_KERNEL_NODE_PARAMS *p)
{
    CUresult r = node_of(hNode, SIM_NODE_KERNEL, p);
    if (r != CUDA_SUCCESS)
        return r;
    memset(p, 0, sizeof *p);
    p->func = hNode->op.f;
    p->gridDimX = hNode->op.grid[0], p->gridDimY = hNode->op.grid[1], p->gridDimZ = hNode->op.grid[2];
    p->blockDimX = hNode->op.block[0], p->blockDimY = hNode->op.block[1], p->blockDimZ = hNode->op.block[2];
    p->sharedMemBytes = hNode->op.shmem;
    p->kernelParams = hNode->op.nargs ? hNode->argp : NULL;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphMemcpyNodeGetParams(CUgraphNode hNode, CUDA_MEMCPY3D *p)
{
    CUresult r = node_of(hNode, SIM_NODE_MEMCPY, p);
    if (r != CUDA_SUCCESS)
        return r;
    memset(p, 0, sizeof *p);
    p->srcMemoryType = p->dstMemoryType = CU_MEMORYTYPE_UNIFIED;
    p->srcDevice = hNode->op.src;
    p->dstDevice = hNode->op.dst;
    p->WidthInBytes = hNode->op.n;
    p->srcPitch = p->dstPitch = hNode->op.n;
    p->Height = p->Depth = 1;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphMemsetNodeGetParams(CUgraphNode hNode, CUDA_MEMSET_NODE_PARAMS *p)
{
    CUresult r = node_of(hNode, SIM_NODE_MEMSET, p);
    if (r != CUDA_SUCCESS)
        return r;
    memset(p, 0, sizeof *p);
    p->dst = hNode->op.dst;
    p->value = hNode->op.value;
    p->elementSize = hNode->op.width;
    p->width = hNode->op.n;
    p->height = 1;
    p->pitch = hNode->op.n * hNode->op.width;
    return CUDA_SUCCESS;
}

const sim_node_op *sim_graph_node_op(CUgraphNode node)
{
    return node && node->magic == SIM_NODE_MAGIC ? &node->op : NULL;
}

/* ------------------------------------------------------------------ instantiate */

static CUresult instantiate(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags)
{
    CUresult r = check_graph(hGraph);
    if (r != CUDA_SUCCESS)
        return r;
    if (!phGraphExec)
        return CUDA_ERROR_INVALID_VALUE;
    CUgraphExec e = calloc(1, sizeof *e);
    if (!e)
        return CUDA_ERROR_OUT_OF_MEMORY;
    pthread_mutex_lock(&hGraph->lock);
    e->count = hGraph->count;
    e->ops = e->count ? malloc(e->count * sizeof *e->ops) : NULL;
    if (e->ops)
        for (size_t i = 0; i < e->count; i++)
            e->ops[i] = hGraph->nodes[i]->op;
    pthread_mutex_unlock(&hGraph->lock);
    if (e->count && !e->ops) {
        free(e);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    e->magic = SIM_EXEC_MAGIC;
    e->flags = flags;
    *phGraphExec = e;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph,
                                             unsigned long long flags)
{
    return instantiate(phGraphExec, hGraph, flags);
}

/* CUDA 10/11 form: an error node and log buffer, left empty since nothing can fail here. */
CUresult CUDAAPI cuGraphInstantiate_v2(CUgraphExec *phGraphExec, CUgraph hGraph,
                                       CUgraphNode *phErrorNode, char *logBuffer, size_t bufferSize)
{
    if (phErrorNode)
        *phErrorNode = NULL;
    if (logBuffer && bufferSize)
        logBuffer[0] = '\0';
    return instantiate(phGraphExec, hGraph, 0);
}

CUresult CUDAAPI cuGraphInstantiate(CUgraphExec *phGraphExec, CUgraph hGraph,
                                    CUgraphNode *phErrorNode, char *logBuffer, size_t bufferSize)
{
    return cuGraphInstantiate_v2(phGraphExec, hGraph, phErrorNode, logBuffer, bufferSize);
}

static CUresult instantiate_with_params(CUgraphExec *phGraphExec, CUgraph hGraph,
                                        CUDA_GRAPH_INSTANTIATE_PARAMS *params)
{
    if (!params)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = instantiate(phGraphExec, hGraph, params->flags);
    params->hErrNode_out = NULL;
    params->result_out = r == CUDA_SUCCESS ? CUDA_GRAPH_INSTANTIATE_SUCCESS
                                           : CUDA_GRAPH_INSTANTIATE_ERROR;
    return r;
}

CUresult CUDAAPI cuGraphInstantiateWithParams(CUgraphExec *phGraphExec, CUgraph hGraph,
                                              CUDA_GRAPH_INSTANTIATE_PARAMS *instantiateParams)
{
    return instantiate_with_params(phGraphExec, hGraph, instantiateParams);
}

CUresult CUDAAPI cuGraphInstantiateWithParams_ptsz(CUgraphExec *phGraphExec, CUgraph hGraph,
                                                   CUDA_GRAPH_INSTANTIATE_PARAMS *instantiateParams)
{
    return instantiate_with_params(phGraphExec, hGraph, instantiateParams);
}

CUresult CUDAAPI cuGraphExecGetFlags(CUgraphExec hGraphExec, cuuint64_t *flags)
{
    CUresult r = check_exec(hGraphExec);
    if (r == CUDA_SUCCESS && !flags)
        r = CUDA_ERROR_INVALID_VALUE;
    if (r == CUDA_SUCCESS)
        *flags = hGraphExec->flags;
    return r;
}

CUresult CUDAAPI cuGraphExecDestroy(CUgraphExec hGraphExec)
{
    CUresult r = check_exec(hGraphExec);
    if (r != CUDA_SUCCESS)
        return r;
    hGraphExec->magic = SIM_DEAD_MAGIC;
    free(hGraphExec->ops);
    free(hGraphExec);
    return CUDA_SUCCESS;
}

/* ------------------------------------------------------------------ launch */

static CUresult run_op(const sim_node_op *op, CUstream s, bool per_thread)
{
    switch (op->kind) {
    case SIM_NODE_KERNEL:
        return (per_thread ? cuLaunchKernel_ptsz : cuLaunchKernel)(
            op->f, op->grid[0], op->grid[1], op->grid[2], op->block[0], op->block[1],
            op->block[2], op->shmem, s, NULL, NULL);
    case SIM_NODE_MEMCPY:
        return (per_thread ? cuMemcpyAsync_ptsz : cuMemcpyAsync)(op->dst, op->src, op->n, s);
    case SIM_NODE_MEMSET:
        if (op->width == 1)
            return (per_thread ? cuMemsetD8Async_ptsz : cuMemsetD8Async)(
                op->dst, (unsigned char)op->value, op->n, s);
        if (op->width == 2)
            return (per_thread ? cuMemsetD16Async_ptsz : cuMemsetD16Async)(
                op->dst, (unsigned short)op->value, op->n, s);
        return (per_thread ? cuMemsetD32Async_ptsz : cuMemsetD32Async)(op->dst, op->value,
                                                                        op->n, s);
    case SIM_NODE_MEM_ALLOC:
        return sim_graph_mem_alloc(op->dst);
    case SIM_NODE_MEM_FREE:
        return sim_graph_mem_free(op->dst);
    default:
        return CUDA_SUCCESS;
    }
}

static CUresult launch(CUgraphExec e, CUstream s, bool per_thread)
{
    CUresult r = check_exec(e);
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx = sim_ctx_current();
    sim_timeline *tl;
    if ((r = sim_stream_timeline(s, per_thread, &ctx, &tl)) != CUDA_SUCCESS)
        return r;
    if (sim_capturing() && sim_capture_graph(tl))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    for (size_t i = 0; i < e->count && r == CUDA_SUCCESS; i++)
        r = run_op(&e->ops[i], s, per_thread);
    return r;
}

CUresult CUDAAPI cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream)
{
    return launch(hGraphExec, hStream, false);
}

CUresult CUDAAPI cuGraphLaunch_ptsz(CUgraphExec hGraphExec, CUstream hStream)
{
    return launch(hGraphExec, hStream, true);
}

/* Nothing to upload: launching does all the work. */
static CUresult upload(CUgraphExec e, CUstream s, bool per_thread)
{
    CUresult r = check_exec(e);
    if (r != CUDA_SUCCESS)
        return r;
    CUcontext ctx = sim_ctx_current();
    sim_timeline *tl;
    return sim_stream_timeline(s, per_thread, &ctx, &tl);
}

CUresult CUDAAPI cuGraphUpload(CUgraphExec hGraphExec, CUstream hStream)
{
    return upload(hGraphExec, hStream, false);
}

CUresult CUDAAPI cuGraphUpload_ptsz(CUgraphExec hGraphExec, CUstream hStream)
{
    return upload(hGraphExec, hStream, true);
}
