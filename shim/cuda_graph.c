/* Graph memory: allocations made by a graph's memory nodes (cuGraphAddMemAllocNode, or
 * cuMemAllocAsync captured from a stream) take device memory when the graph is launched, not when
 * the node is made. grey reads the memory nodes of every graph when it is instantiated and, at each
 * launch, admits the graph's allocations against the cap before the launch (refusing the launch
 * with CUDA_ERROR_OUT_OF_MEMORY, as the driver would, when they do not fit) and applies its free
 * nodes after it. Memory a graph allocates and leaves live is tracked by address, so a later
 * cuMemFreeAsync or cuMemFree of it gives the bytes back. */
#include "cuda_shim.h"

#include <stdlib.h>

#include "dedup.h"
#include "devices.h"
#include "graph_table.h"
#include "launch_gate.h"

struct graph_alloc {
    CUdeviceptr addr;
    size_t bytes;
    uint8_t dev; /* index into the plan's devs */
};

/* A device's share of a launch: the sum of the graph's allocations on it, admitted as one. */
struct device_total {
    int ordinal;
    uint64_t bytes;
};

/* What one executable graph does with memory; immutable once published (graph_table.h says how
 * launches find it and when it is freed). At most GREY_ORDINALS devices: allocations on other
 * ordinals are never counted (shim/devices.h), so the plan leaves them out. */
struct mem_plan {
    struct grey_graph_entry entry; /* first: the table hands back &entry */
    size_t nallocs, nfrees, ndevs, nuses;
    struct graph_alloc *allocs;
    CUdeviceptr *frees;
    struct device_total *devs;
    uint64_t *uses; /* with GREY_DEDUP: device addresses its kernels, copies and memsets use */
};

static void plan_free(struct mem_plan *p)
{
    if (p) {
        free(p->allocs);
        free(p->frees);
        free(p->devs);
        free(p->uses);
        free(p);
    }
}

static void plan_destroy(struct grey_graph_entry *e)
{
    plan_free((struct mem_plan *)e);
}

/* Adds an allocation node to p, totalled by device (none for a device grey never counts). */
static void plan_add(struct mem_plan *p, const CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
    int ordinal = params->poolProps.location.id;
    if (ordinal < 0 || ordinal >= GREY_ORDINALS)
        return;
    size_t d = 0;
    while (d < p->ndevs && p->devs[d].ordinal != ordinal)
        d++;
    if (d == p->ndevs)
        p->devs[p->ndevs++] = (struct device_total){ordinal, 0};
    /* Saturating: a total past 2^64 cannot be admitted, and no driver hands it out. */
    if (__builtin_add_overflow(p->devs[d].bytes, (uint64_t)params->bytesize, &p->devs[d].bytes))
        p->devs[d].bytes = UINT64_MAX;
    p->allocs[p->nallocs++] = (struct graph_alloc){params->dptr, params->bytesize, (uint8_t)d};
}

/* With GREY_DEDUP, what the work nodes use: a kernel's pointer arguments, a copy's device ends,
 * a memset's destination (the waste patterns see them at each launch of the graph). */
#define USES_PER_NODE 16
static void plan_uses(struct mem_plan *p, CUgraphNode node, CUgraphNodeType type)
{
    static void *kernel_fn, *copy_fn, *set_fn;
    uint64_t *out = p->uses + p->nuses;
    if (type == CU_GRAPH_NODE_TYPE_KERNEL) {
        PFN_cuGraphKernelNodeGetParams_v12000 get = grey_cuda_real(&kernel_fn, "cuGraphKernelNodeGetParams_v2");
        CUDA_KERNEL_NODE_PARAMS k;
        if (get && get(node, &k) == CUDA_SUCCESS)
            p->nuses += grey_dedup_kernel_pointers(k.func, k.kernelParams, out, USES_PER_NODE);
    } else if (type == CU_GRAPH_NODE_TYPE_MEMCPY) {
        PFN_cuGraphMemcpyNodeGetParams_v10000 get = grey_cuda_real(&copy_fn, "cuGraphMemcpyNodeGetParams");
        CUDA_MEMCPY3D c;
        if (get && get(node, &c) == CUDA_SUCCESS) {
            if (c.srcMemoryType == CU_MEMORYTYPE_DEVICE || c.srcMemoryType == CU_MEMORYTYPE_UNIFIED)
                p->uses[p->nuses++] = c.srcDevice;
            if (c.dstMemoryType == CU_MEMORYTYPE_DEVICE || c.dstMemoryType == CU_MEMORYTYPE_UNIFIED)
                p->uses[p->nuses++] = c.dstDevice;
        }
    } else if (type == CU_GRAPH_NODE_TYPE_MEMSET) {
        PFN_cuGraphMemsetNodeGetParams_v10000 get = grey_cuda_real(&set_fn, "cuGraphMemsetNodeGetParams");
        CUDA_MEMSET_NODE_PARAMS m;
        if (get && get(node, &m) == CUDA_SUCCESS)
            p->uses[p->nuses++] = m.dst;
    }
}

/* Reads the memory nodes of graph (and with GREY_DEDUP what its work nodes use); NULL when it
 * has none (or they cannot be read). */
static struct mem_plan *plan_read(CUgraph graph)
{
    static void *nodes_fn, *type_fn, *alloc_fn, *free_fn;
    PFN_cuGraphGetNodes_v10000 get_nodes = grey_cuda_real(&nodes_fn, "cuGraphGetNodes");
    PFN_cuGraphNodeGetType_v10000 get_type = grey_cuda_real(&type_fn, "cuGraphNodeGetType");
    PFN_cuGraphMemAllocNodeGetParams_v11040 alloc_params = grey_cuda_real(&alloc_fn, "cuGraphMemAllocNodeGetParams");
    PFN_cuGraphMemFreeNodeGetParams_v11040 free_params = grey_cuda_real(&free_fn, "cuGraphMemFreeNodeGetParams");
    size_t n = 0;
    if (!get_nodes || !get_type || get_nodes(graph, NULL, &n) != CUDA_SUCCESS || n == 0)
        return NULL;
    CUgraphNode *nodes = malloc(n * sizeof *nodes);
    struct mem_plan *p = calloc(1, sizeof *p);
    if (p) {
        p->allocs = calloc(n, sizeof *p->allocs), p->frees = calloc(n, sizeof *p->frees);
        p->devs = calloc(n < GREY_ORDINALS ? n : GREY_ORDINALS, sizeof *p->devs);
        if (grey_dedup_on() && n <= SIZE_MAX / USES_PER_NODE / sizeof *p->uses)
            p->uses = malloc(n * USES_PER_NODE * sizeof *p->uses);
    }
    if (!nodes || !p || !p->allocs || !p->frees || !p->devs || get_nodes(graph, nodes, &n) != CUDA_SUCCESS) {
        free(nodes);
        plan_free(p);
        return NULL;
    }
    p->entry.destroy = plan_destroy;
    for (size_t i = 0; i < n; i++) {
        CUgraphNodeType type;
        if (get_type(nodes[i], &type) != CUDA_SUCCESS)
            continue;
        CUDA_MEM_ALLOC_NODE_PARAMS params;
        if (type == CU_GRAPH_NODE_TYPE_MEM_ALLOC && alloc_params && alloc_params(nodes[i], &params) == CUDA_SUCCESS)
            plan_add(p, &params);
        else if (type == CU_GRAPH_NODE_TYPE_MEM_FREE && free_params &&
                 free_params(nodes[i], &p->frees[p->nfrees]) == CUDA_SUCCESS)
            p->nfrees++;
        else if (p->uses)
            plan_uses(p, nodes[i], type);
    }
    free(nodes);
    if (p->nallocs == 0 && p->nfrees == 0 && p->nuses == 0) {
        plan_free(p);
        return NULL;
    }
    return p;
}

static CUresult after_instantiate(CUresult rc, CUgraphExec *exec, CUgraph graph)
{
    if (rc == CUDA_SUCCESS && exec) {
        struct mem_plan *p = plan_read(graph);
        if (p) /* replaces a recycled handle's old plan */
            grey_graph_insert(&p->entry, (uintptr_t)*exec);
        else /* a recycled handle must not keep an old graph's plan */
            grey_graph_remove((uintptr_t)*exec);
    }
    return rc;
}

GREY_EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph, unsigned long long flags)
{
    static void *real_fn;
    PFN_cuGraphInstantiateWithFlags_v11040 real = grey_cuda_real(&real_fn, "cuGraphInstantiateWithFlags");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return after_instantiate(real(exec, graph, flags), exec, graph);
}

GREY_EXPORT CUresult cuGraphInstantiateWithParams(CUgraphExec *exec, CUgraph graph, CUDA_GRAPH_INSTANTIATE_PARAMS *params)
{
    static void *real_fn;
    PFN_cuGraphInstantiateWithParams_v12000 real = grey_cuda_real(&real_fn, "cuGraphInstantiateWithParams");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return after_instantiate(real(exec, graph, params), exec, graph);
}

GREY_EXPORT CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *exec, CUgraph graph,
                                                      CUDA_GRAPH_INSTANTIATE_PARAMS *params)
{
    static void *real_fn;
    PFN_cuGraphInstantiateWithParams_v12000_ptsz real = grey_cuda_real(&real_fn, "cuGraphInstantiateWithParams_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return after_instantiate(real(exec, graph, params), exec, graph);
}

GREY_EXPORT CUresult cuGraphExecDestroy(CUgraphExec exec)
{
    static void *real_fn;
    PFN_cuGraphExecDestroy_v10000 real = grey_cuda_real(&real_fn, "cuGraphExecDestroy");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    CUresult rc = real(exec);
    if (rc == CUDA_SUCCESS)
        grey_graph_remove((uintptr_t)exec);
    return rc;
}

/* A graph launch passes the launch gate as one launch (the fair-share pacer weighs it by the
 * device time it measures, whatever the graph holds); sample_stream is where its timing events
 * go (the per-thread stream for _ptsz). */
static CUresult launch_paced(CUgraphExec exec, CUstream stream, CUstream sample_stream, PFN_cuGraphLaunch_v10000 real,
                             const struct mem_plan *p)
{
    struct grey_launch t = grey_launch_begin(&grey_cuda_vendor, sample_stream);
    if (grey_dedup_on()) /* one tick of the waste patterns' launch clock, with what its nodes use */
        grey_dedup_launch_uses(p ? p->uses : NULL, p ? p->nuses : 0);
    CUresult rc = real(exec, stream);
    grey_launch_end(t, &grey_cuda_vendor, sample_stream, rc == CUDA_SUCCESS);
    return rc;
}

/* The shared launch path: admit the allocations, launch, then commit them and apply the frees.
 * Each device's allocations are admitted as one sum (all of them run, or the launch is refused:
 * a denial is recorded for that sum), so the work before the launch is bounded by the number of
 * devices, and the stack by GREY_ORDINALS admissions, however many nodes the graph has. */
static CUresult launch(CUgraphExec exec, CUstream stream, CUstream sample_stream, PFN_cuGraphLaunch_v10000 real)
{
    struct grey_graph_entry *e = grey_graph_get((uintptr_t)exec);
    if (!e)
        return launch_paced(exec, stream, sample_stream, real, NULL);
    const struct mem_plan *p = (const struct mem_plan *)e;

    struct grey_admission adm[GREY_ORDINALS];
    size_t admitted = 0;
    for (; admitted < p->ndevs; admitted++)
        if (grey_cuda_admit_on(&adm[admitted], p->devs[admitted].ordinal, p->devs[admitted].bytes) != CUDA_SUCCESS)
            break;
    CUresult rc = admitted == p->ndevs ? launch_paced(exec, stream, sample_stream, real, p) : CUDA_ERROR_OUT_OF_MEMORY;
    if (rc != CUDA_SUCCESS) {
        for (size_t d = 0; d < admitted; d++)
            grey_cuda_settle(&adm[d], rc, 0, GREY_API_GRAPH_MEM_NODE);
        grey_graph_put(e);
        return rc;
    }
    for (size_t i = 0; i < p->nallocs; i++)
        grey_settle_part(&adm[p->allocs[i].dev], p->allocs[i].bytes, (uint64_t)p->allocs[i].addr,
                         GREY_API_GRAPH_MEM_NODE);
    for (size_t i = 0; i < p->nfrees; i++) {
        struct grey_buffer_info info;
        bool tracked = grey_cuda_untrack((uint64_t)p->frees[i], &info);
        grey_cuda_forget(tracked, &info, CUDA_SUCCESS);
    }
    grey_graph_put(e);
    return rc;
}

GREY_EXPORT CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream)
{
    static void *real_fn;
    PFN_cuGraphLaunch_v10000 real = grey_cuda_real(&real_fn, "cuGraphLaunch");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return launch(exec, stream, stream, real);
}

GREY_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec exec, CUstream stream)
{
    static void *real_fn;
    PFN_cuGraphLaunch_v10000_ptsz real = grey_cuda_real(&real_fn, "cuGraphLaunch_ptsz");
    if (!real)
        return CUDA_ERROR_NOT_FOUND;
    return launch(exec, stream, stream ? stream : CU_STREAM_PER_THREAD, real);
}
