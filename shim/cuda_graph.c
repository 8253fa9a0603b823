/* Graph memory: allocations made by a graph's memory nodes (cuGraphAddMemAllocNode, or
 * cuMemAllocAsync captured from a stream) take device memory when the graph is launched, not when
 * the node is made. grey reads the memory nodes of every graph when it is instantiated and, at each
 * launch, admits the graph's allocations against the cap before the launch (refusing the launch
 * with CUDA_ERROR_OUT_OF_MEMORY, as the driver would, when they do not fit) and applies its free
 * nodes after it. Memory a graph allocates and leaves live is tracked by address, so a later
 * cuMemFreeAsync or cuMemFree of it gives the bytes back. */
#include "cuda_shim.h"

#include <stdlib.h>

#include "core/log.h"
#include "policy/quota.h"
#include "launch_gate.h"

struct graph_alloc {
    CUdeviceptr addr;
    size_t bytes;
    int dev;
};

/* What one executable graph does with memory; immutable once published. */
struct mem_plan {
    CUgraphExec exec;
    size_t nallocs, nfrees;
    struct graph_alloc *allocs;
    CUdeviceptr *frees;
};

/* Executable graphs that have memory nodes, in an open-addressed table: launches look them up
 * without a lock (most graphs have no memory nodes and are never entered). */
#define PLAN_SLOTS 1024
static struct mem_plan *_Atomic plans[PLAN_SLOTS];
static struct mem_plan removed; /* tombstone */

static size_t plan_hash(CUgraphExec exec) { return (size_t)((((uintptr_t)exec >> 4) * 0x9E3779B97F4A7C15ull) >> 54); }

static struct mem_plan *_Atomic *plan_slot(CUgraphExec exec)
{
    size_t h = plan_hash(exec);
    for (size_t i = 0; i < PLAN_SLOTS; i++) {
        struct mem_plan *_Atomic *slot = &plans[(h + i) % PLAN_SLOTS];
        struct mem_plan *p = atomic_load_explicit(slot, memory_order_acquire);
        if (!p)
            return NULL;
        if (p != &removed && p->exec == exec)
            return slot;
    }
    return NULL;
}

static void plan_free(struct mem_plan *p)
{
    if (p && p != &removed) {
        free(p->allocs);
        free(p->frees);
        free(p);
    }
}

static void plan_publish(struct mem_plan *p)
{
    size_t h = plan_hash(p->exec);
    for (size_t i = 0; i < PLAN_SLOTS; i++) {
        struct mem_plan *_Atomic *slot = &plans[(h + i) % PLAN_SLOTS];
        struct mem_plan *seen = atomic_load(slot);
        if ((!seen || seen == &removed) && atomic_compare_exchange_strong(slot, &seen, p))
            return;
    }
    grey_warn("more than %d executable graphs with memory nodes; their launches are not counted", PLAN_SLOTS);
    plan_free(p);
}

static void plan_remove(CUgraphExec exec)
{
    struct mem_plan *_Atomic *slot = plan_slot(exec);
    if (slot)
        plan_free(atomic_exchange(slot, &removed));
}

/* Reads the memory nodes of graph; NULL when it has none (or they cannot be read). */
static struct mem_plan *plan_read(CUgraphExec exec, CUgraph graph)
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
    if (p)
        p->allocs = calloc(n, sizeof *p->allocs), p->frees = calloc(n, sizeof *p->frees);
    if (!nodes || !p || !p->allocs || !p->frees || get_nodes(graph, nodes, &n) != CUDA_SUCCESS) {
        free(nodes);
        plan_free(p);
        return NULL;
    }
    p->exec = exec;
    for (size_t i = 0; i < n; i++) {
        CUgraphNodeType type;
        if (get_type(nodes[i], &type) != CUDA_SUCCESS)
            continue;
        CUDA_MEM_ALLOC_NODE_PARAMS params;
        if (type == CU_GRAPH_NODE_TYPE_MEM_ALLOC && alloc_params && alloc_params(nodes[i], &params) == CUDA_SUCCESS)
            p->allocs[p->nallocs++] = (struct graph_alloc){params.dptr, params.bytesize, params.poolProps.location.id};
        else if (type == CU_GRAPH_NODE_TYPE_MEM_FREE && free_params &&
                 free_params(nodes[i], &p->frees[p->nfrees]) == CUDA_SUCCESS)
            p->nfrees++;
    }
    free(nodes);
    if (p->nallocs == 0 && p->nfrees == 0) {
        plan_free(p);
        return NULL;
    }
    return p;
}

static CUresult after_instantiate(CUresult rc, CUgraphExec *exec, CUgraph graph)
{
    if (rc == CUDA_SUCCESS && exec) {
        plan_remove(*exec); /* a recycled handle must not keep an old graph's plan */
        struct mem_plan *p = plan_read(*exec, graph);
        if (p)
            plan_publish(p);
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
        plan_remove(exec);
    return rc;
}

/* A graph launch passes the launch gate as one launch (the fair-share pacer weighs it by the
 * device time it measures, whatever the graph holds); sample_stream is where its timing events
 * go (the per-thread stream for _ptsz). */
static CUresult launch_paced(CUgraphExec exec, CUstream stream, CUstream sample_stream, PFN_cuGraphLaunch_v10000 real)
{
    struct grey_launch t = grey_launch_begin(&grey_cuda_vendor, sample_stream);
    CUresult rc = real(exec, stream);
    grey_launch_end(t, &grey_cuda_vendor, sample_stream, rc == CUDA_SUCCESS);
    return rc;
}

/* The shared launch path: admit the allocations, launch, then commit them and apply the frees. */
static CUresult launch(CUgraphExec exec, CUstream stream, CUstream sample_stream, PFN_cuGraphLaunch_v10000 real)
{
    struct mem_plan *_Atomic *slot = plan_slot(exec);
    struct mem_plan *p = slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
    if (!p || p == &removed)
        return launch_paced(exec, stream, sample_stream, real);

    struct grey_admission adm[p->nallocs ? p->nallocs : 1];
    size_t admitted = 0;
    for (; admitted < p->nallocs; admitted++)
        if (grey_cuda_admit_on(&adm[admitted], p->allocs[admitted].dev, p->allocs[admitted].bytes) != CUDA_SUCCESS)
            break;
    CUresult rc = admitted == p->nallocs ? launch_paced(exec, stream, sample_stream, real) : CUDA_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < admitted; i++)
        grey_cuda_settle(&adm[i], rc, (uint64_t)p->allocs[i].addr, GREY_API_GRAPH_MEM_NODE);
    if (rc != CUDA_SUCCESS)
        return rc;
    for (size_t i = 0; i < p->nfrees; i++) {
        struct grey_buffer_info info;
        bool tracked = grey_cuda_untrack((uint64_t)p->frees[i], &info);
        grey_cuda_forget(tracked, &info, CUDA_SUCCESS);
    }
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
