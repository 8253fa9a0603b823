/* Graph memory: allocation and free nodes (cuGraphAddMemAllocNode, cuGraphAddMemFreeNode, and
 * cuMemAllocAsync / cuMemFreeAsync captured into a graph).
 *
 * As on a real device, the address of a graph allocation is fixed when the node is made, and the
 * memory behind it exists from a launch that runs the node until it is freed: by a free node, by
 * cuMemFreeAsync, or by cuMemFree. Here the address range is an unaccounted mapping made at node
 * creation; a launch counts its bytes against VRAM (out of memory if they do not fit) and the free
 * gives them back. Launching a graph whose allocation from an earlier launch is still live fails
 * with CUDA_ERROR_INVALID_VALUE. */
#include "sim_internal.h"

#include <search.h>
#include <stdlib.h>
#include <sys/mman.h>

struct graph_mem {
    uintptr_t addr;
    size_t size;
    CUdevice dev;
    bool live;
};

static pthread_mutex_t graph_mem_lock = PTHREAD_MUTEX_INITIALIZER;
static void *graph_mem_root;

static int addr_cmp(const void *a, const void *b)
{
    uintptr_t x = ((const struct graph_mem *)a)->addr, y = ((const struct graph_mem *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Callers hold graph_mem_lock. */
static struct graph_mem *find(CUdeviceptr addr)
{
    struct graph_mem key = {.addr = (uintptr_t)addr};
    void *node = addr ? tfind(&key, &graph_mem_root, addr_cmp) : NULL;
    return node ? *(struct graph_mem **)node : NULL;
}

CUresult sim_graph_mem_reserve(size_t bytes, CUdevice dev, CUdeviceptr *addr)
{
    struct graph_mem *m = calloc(1, sizeof *m);
    void *p = m ? mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                : MAP_FAILED;
    if (p == MAP_FAILED) {
        free(m);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *m = (struct graph_mem){.addr = (uintptr_t)p, .size = bytes, .dev = dev};
    pthread_mutex_lock(&graph_mem_lock);
    tsearch(m, &graph_mem_root, addr_cmp);
    pthread_mutex_unlock(&graph_mem_lock);
    *addr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult sim_graph_mem_alloc(CUdeviceptr addr)
{
    pthread_mutex_lock(&graph_mem_lock);
    struct graph_mem *m = find(addr);
    CUresult r = CUDA_SUCCESS;
    if (!m || m->live)
        r = CUDA_ERROR_INVALID_VALUE;
    else if (!sim_vram_reserve(m->dev, m->size))
        r = CUDA_ERROR_OUT_OF_MEMORY;
    else
        m->live = true;
    pthread_mutex_unlock(&graph_mem_lock);
    return r;
}

CUresult sim_graph_mem_free(CUdeviceptr addr)
{
    pthread_mutex_lock(&graph_mem_lock);
    struct graph_mem *m = find(addr);
    CUresult r = CUDA_SUCCESS;
    if (!m)
        r = CUDA_ERROR_NOT_FOUND;
    else if (!m->live)
        r = CUDA_ERROR_INVALID_VALUE;
    else {
        m->live = false;
        sim_vram_release(m->dev, m->size);
    }
    pthread_mutex_unlock(&graph_mem_lock);
    return r;
}

CUresult CUDAAPI cuGraphAddMemAllocNode(CUgraphNode *node, CUgraph graph, const CUgraphNode *deps, size_t ndeps,
                                        CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    if (!node || !graph || !params || params->bytesize == 0 ||
        params->poolProps.location.type != CU_MEM_LOCATION_TYPE_DEVICE)
        return CUDA_ERROR_INVALID_VALUE;
    if ((r = sim_check_device(params->poolProps.location.id)) != CUDA_SUCCESS)
        return r;
    CUdeviceptr addr;
    if ((r = sim_graph_mem_reserve(params->bytesize, params->poolProps.location.id, &addr)) != CUDA_SUCCESS)
        return r;
    sim_node_op op = {.kind = SIM_NODE_MEM_ALLOC, .dst = addr, .n = params->bytesize};
    if ((r = sim_graph_append(graph, &op, deps, ndeps, node)) == CUDA_SUCCESS)
        params->dptr = addr;
    return r;
}

CUresult CUDAAPI cuGraphAddMemFreeNode(CUgraphNode *node, CUgraph graph, const CUgraphNode *deps, size_t ndeps,
                                       CUdeviceptr dptr)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    pthread_mutex_lock(&graph_mem_lock);
    bool known = find(dptr) != NULL;
    pthread_mutex_unlock(&graph_mem_lock);
    if (!node || !graph || !known)
        return CUDA_ERROR_INVALID_VALUE;
    sim_node_op op = {.kind = SIM_NODE_MEM_FREE, .dst = dptr};
    return sim_graph_append(graph, &op, deps, ndeps, node);
}

CUresult CUDAAPI cuGraphMemAllocNodeGetParams(CUgraphNode node, CUDA_MEM_ALLOC_NODE_PARAMS *params)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    const sim_node_op *op = sim_graph_node_op(node);
    if (!op || op->kind != SIM_NODE_MEM_ALLOC || !params)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&graph_mem_lock);
    struct graph_mem *m = find(op->dst);
    CUdevice dev = m ? m->dev : 0;
    pthread_mutex_unlock(&graph_mem_lock);
    *params = (CUDA_MEM_ALLOC_NODE_PARAMS){
        .poolProps = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
                      .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = dev}},
        .bytesize = op->n,
        .dptr = op->dst,
    };
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuGraphMemFreeNodeGetParams(CUgraphNode node, CUdeviceptr *dptr)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    const sim_node_op *op = sim_graph_node_op(node);
    if (!op || op->kind != SIM_NODE_MEM_FREE || !dptr)
        return CUDA_ERROR_INVALID_VALUE;
    *dptr = op->dst;
    return CUDA_SUCCESS;
}
