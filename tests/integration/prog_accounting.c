/* Accounting over time, under a cap: run with the hook and GREY_CAP.
 *
 *   prog_accounting pool-cache CAP_BYTES
 *       A pool with a release threshold keeps freed memory; grey keeps it counted until the pool
 *       reuses it or cuMemPoolTrimTo lets it go.
 *   prog_accounting random OPS CAP_BYTES SEED
 *       OPS random allocations and frees across every allocation family, with random sizes;
 *       the cap must hold at every step (checked against grey's own view and the program's
 *       bookkeeping) and, once everything is freed, exactly zero bytes remain in use.
 *   prog_accounting context CAP_BYTES
 *       Destroying a context frees its memory without any cuMemFree; the bytes come back.
 *   prog_accounting context-cost CAP_BYTES   (with GREY_CONTEXT_OVERHEAD=300MiB)
 *       A context's own memory counts from its creation to its destruction.
 *   prog_accounting graph CAP_BYTES
 *       Graph memory nodes, made by hand and captured from a stream, count when the graph
 *       launches; a launch whose allocations do not fit is refused.
 *
 * Prints "FAIL: ..." and exits 1 on any mismatch. */
#include <cuda.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MiB (1ull << 20)


static size_t free_now(void)
{
    size_t f = 0, t = 0;
    CUresult rc = cuMemGetInfo(&f, &t);
    CHECK(rc == CUDA_SUCCESS, "cuMemGetInfo: %d", rc);
    return f;
}

static CUstream stream;

static int pool_cache(unsigned long long cap)
{
    CUmemoryPool pool;
    CUdeviceptr a, b, c;
    CHECK(cuDeviceGetMemPool(&pool, 0) == CUDA_SUCCESS, "cuDeviceGetMemPool");
    cuuint64_t threshold = 1ull << 40;
    CHECK(cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold) == CUDA_SUCCESS,
          "setting the release threshold");
    CHECK(cuMemAllocAsync(&a, 200 * MiB, stream) == CUDA_SUCCESS, "first async block");
    CHECK(cuMemAllocAsync(&b, 200 * MiB, stream) == CUDA_SUCCESS, "second async block");
    CHECK(cuMemFreeAsync(a, stream) == CUDA_SUCCESS && cuMemFreeAsync(b, stream) == CUDA_SUCCESS, "async frees");
    cuStreamSynchronize(stream);
    CHECK(free_now() == cap - 400 * MiB, "the pool's cached 400 MiB must still count (free %zu)", free_now());
    CHECK(cuMemAlloc(&c, 200 * MiB) == CUDA_ERROR_OUT_OF_MEMORY,
          "cuMemAlloc beside a pool holding 400 MiB must be denied under a 512 MiB cap");
    CHECK(cuMemAllocAsync(&a, 200 * MiB, stream) == CUDA_SUCCESS, "reusing the pool's cache must be allowed");
    CHECK(free_now() == cap - 400 * MiB, "reuse must not count the bytes twice");
    CHECK(cuMemFreeAsync(a, stream) == CUDA_SUCCESS, "free");
    CHECK(cuMemPoolTrimTo(pool, 100 * MiB) == CUDA_SUCCESS, "trim to 100 MiB");
    CHECK(free_now() == cap - 100 * MiB, "after trimming to 100 MiB, 100 MiB stay counted (free %zu)", free_now());
    threshold = 0;
    CHECK(cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold) == CUDA_SUCCESS, "threshold 0");
    CHECK(free_now() == cap, "threshold 0 releases the cache (free %zu)", free_now());
    CHECK(cuMemAlloc(&c, 200 * MiB) == CUDA_SUCCESS, "after the release cuMemAlloc fits again");
    cuMemFree(c);
    return 0;
}

/* ------------------------------------------------------------------ random operations */

enum kind { K_ALLOC, K_PITCH, K_MANAGED, K_ASYNC, K_POOL, K_VMM, K_ARRAY, K_KINDS };

struct live {
    enum kind kind;
    unsigned long long handle;
    unsigned long long bytes;
};

static CUmemoryPool own_pool;

/* Sizes are multiples of 2 MiB so every family (VMM granularity, array rows) counts exactly
 * the requested bytes. */
static CUresult make(enum kind k, unsigned long long bytes, unsigned long long *h)
{
    switch (k) {
    case K_ALLOC: return cuMemAlloc((CUdeviceptr *)h, bytes);
    case K_PITCH: {
        size_t pitch;
        return cuMemAllocPitch((CUdeviceptr *)h, &pitch, 2 * MiB, bytes / (2 * MiB), 4);
    }
    case K_MANAGED: return cuMemAllocManaged((CUdeviceptr *)h, bytes, CU_MEM_ATTACH_GLOBAL);
    case K_ASYNC: return cuMemAllocAsync((CUdeviceptr *)h, bytes, stream);
    case K_POOL: return cuMemAllocFromPoolAsync((CUdeviceptr *)h, bytes, own_pool, stream);
    case K_VMM: {
        CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                                    .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};
        return cuMemCreate((CUmemGenericAllocationHandle *)h, bytes, &prop, 0);
    }
    case K_ARRAY: {
        CUDA_ARRAY_DESCRIPTOR d = {.Width = 8192, .Height = bytes / (8192 * 4), .Format = CU_AD_FORMAT_FLOAT,
                                   .NumChannels = 1};
        return cuArrayCreate((CUarray *)h, &d);
    }
    default: return CUDA_ERROR_INVALID_VALUE;
    }
}

static CUresult destroy(const struct live *l)
{
    switch (l->kind) {
    case K_ALLOC:
    case K_PITCH:
    case K_MANAGED: return cuMemFree((CUdeviceptr)l->handle);
    case K_ASYNC:
    case K_POOL: return cuMemFreeAsync((CUdeviceptr)l->handle, stream);
    case K_VMM: return cuMemRelease((CUmemGenericAllocationHandle)l->handle);
    case K_ARRAY: return cuArrayDestroy((CUarray)(uintptr_t)l->handle);
    default: return CUDA_ERROR_INVALID_VALUE;
    }
}

static int random_ops(long ops, unsigned long long cap, unsigned seed)
{
    CUmemPoolProps props = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
                            .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};
    CHECK(cuMemPoolCreate(&own_pool, &props) == CUDA_SUCCESS, "cuMemPoolCreate");
    enum { MAX_LIVE = 512 };
    static struct live live[MAX_LIVE];
    int n = 0;
    unsigned long long used = 0, denied = 0, made = 0;
    srand(seed);
    for (long i = 0; i < ops && !failures; i++) {
        bool do_alloc = n == 0 || (n < MAX_LIVE && rand() % 2);
        if (do_alloc) {
            enum kind k = (enum kind)(rand() % K_KINDS);
            unsigned long long bytes = (unsigned long long)(1 + rand() % 16) * 2 * MiB;
            unsigned long long h = 0;
            CUresult rc = make(k, bytes, &h);
            if (used + bytes <= cap) {
                CHECK(rc == CUDA_SUCCESS, "op %ld: kind %d, %llu bytes with %llu in use under %llu: %d", i, k,
                      bytes, used, cap, rc);
            } else {
                CHECK(rc == CUDA_ERROR_OUT_OF_MEMORY, "op %ld: kind %d over the cap was not denied (%d)", i, k, rc);
            }
            if (rc == CUDA_SUCCESS) {
                live[n++] = (struct live){k, h, bytes};
                used += bytes;
                made++;
            } else {
                denied++;
            }
        } else {
            int victim = rand() % n;
            CHECK(destroy(&live[victim]) == CUDA_SUCCESS, "op %ld: free failed", i);
            used -= live[victim].bytes;
            live[victim] = live[--n];
        }
        if (i % 997 == 0)
            CHECK(free_now() == cap - used, "op %ld: grey says %zu free, the program counts %llu", i, free_now(),
                  cap - used);
    }
    while (n > 0)
        destroy(&live[--n]);
    cuStreamSynchronize(stream);
    CHECK(free_now() == cap, "after freeing everything %zu is free, not the whole cap %llu", free_now(), cap);
    printf("random: %llu allocations, %llu denied\n", made, denied);
    CHECK(made > 0 && denied > 0, "the run must both allocate and hit the cap to mean anything");
    return 0;
}

/* ------------------------------------------------------------------ contexts */

static int context_teardown(unsigned long long cap)
{
    CUcontext ctx;
    CUdeviceptr p;
    CHECK(cuCtxCreate(&ctx, NULL, 0, 0) == CUDA_SUCCESS, "cuCtxCreate");
    CHECK(cuMemAlloc(&p, 300 * MiB) == CUDA_SUCCESS, "300 MiB in the new context");
    CHECK(free_now() == cap - 300 * MiB, "the allocation counts");
    CHECK(cuCtxDestroy(ctx) == CUDA_SUCCESS, "cuCtxDestroy");
    CUcontext primary;
    cuDevicePrimaryCtxRetain(&primary, 0);
    cuCtxSetCurrent(primary);
    CHECK(free_now() == cap, "the destroyed context's memory must come back (free %zu)", free_now());
    CHECK(cuMemAlloc(&p, 400 * MiB) == CUDA_SUCCESS, "then 400 MiB fit again");
    CHECK(cuDevicePrimaryCtxReset(0) == CUDA_SUCCESS, "cuDevicePrimaryCtxReset");
    cuDevicePrimaryCtxRetain(&primary, 0);
    cuCtxSetCurrent(primary);
    CHECK(free_now() == cap, "a reset primary context's memory must come back (free %zu)", free_now());
    return 0;
}

/* The primary context, retained in main(), already costs 300 MiB. */
static int context_cost(unsigned long long cap)
{
    CUdeviceptr p, q;
    CUcontext extra;
    CHECK(free_now() == cap - 300 * MiB, "the primary context's 300 MiB must count (free %zu)", free_now());
    CHECK(cuMemAlloc(&p, 200 * MiB) == CUDA_SUCCESS, "200 MiB beside the context");
    if (cap < 1024 * MiB)
        CHECK(cuMemAlloc(&q, 200 * MiB) == CUDA_ERROR_OUT_OF_MEMORY, "a second 200 MiB must not fit beside the context");
    if (cap >= 1024 * MiB) {
        CHECK(cuCtxCreate(&extra, NULL, 0, 0) == CUDA_SUCCESS, "a second context fits under a 1 GiB cap");
        CUcontext primary;
        cuDevicePrimaryCtxRetain(&primary, 0);
        cuCtxSetCurrent(primary);
        CHECK(free_now() == cap - 800 * MiB, "two contexts and 200 MiB count (free %zu)", free_now());
        CHECK(cuCtxDestroy(extra) == CUDA_SUCCESS, "destroy the second context");
        cuCtxSetCurrent(primary);
        CHECK(free_now() == cap - 500 * MiB, "its cost comes back (free %zu)", free_now());
    } else {
        CHECK(cuCtxCreate(&extra, NULL, 0, 0) == CUDA_ERROR_OUT_OF_MEMORY, "a context that does not fit is refused");
    }
    cuMemFree(p);
    return 0;
}

/* ------------------------------------------------------------------ graphs */

static CUgraphExec graph_with_alloc(size_t bytes, bool with_free, CUdeviceptr *addr)
{
    CUgraph g;
    CUgraphNode alloc_node, free_node;
    CUgraphExec exec = NULL;
    CUDA_MEM_ALLOC_NODE_PARAMS params = {
        .poolProps = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED, .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}},
        .bytesize = bytes,
    };
    CHECK(cuGraphCreate(&g, 0) == CUDA_SUCCESS, "cuGraphCreate");
    CHECK(cuGraphAddMemAllocNode(&alloc_node, g, NULL, 0, &params) == CUDA_SUCCESS, "cuGraphAddMemAllocNode");
    if (with_free)
        CHECK(cuGraphAddMemFreeNode(&free_node, g, &alloc_node, 1, params.dptr) == CUDA_SUCCESS, "cuGraphAddMemFreeNode");
    CHECK(cuGraphInstantiateWithFlags(&exec, g, 0) == CUDA_SUCCESS, "cuGraphInstantiateWithFlags");
    cuGraphDestroy(g);
    *addr = params.dptr;
    return exec;
}

static int graphs(unsigned long long cap)
{
    CUdeviceptr a, b, c, held;
    CUgraphExec keep = graph_with_alloc(300 * MiB, false, &a);
    CUgraphExec keep2 = graph_with_alloc(300 * MiB, false, &b);
    CUgraphExec roundtrip = graph_with_alloc(300 * MiB, true, &c);
    CHECK(free_now() == cap, "making and instantiating graphs allocates nothing (free %zu)", free_now());
    CHECK(cuGraphLaunch(keep, stream) == CUDA_SUCCESS, "launching a 300 MiB graph allocation");
    CHECK(free_now() == cap - 300 * MiB, "the launched graph's 300 MiB count (free %zu)", free_now());
    CHECK(cuGraphLaunch(keep2, stream) == CUDA_ERROR_OUT_OF_MEMORY, "a second 300 MiB graph allocation must be refused");
    CHECK(free_now() == cap - 300 * MiB, "a refused launch counts nothing");
    CHECK(cuMemFreeAsync(a, stream) == CUDA_SUCCESS, "freeing the graph's allocation");
    cuStreamSynchronize(stream);
    CHECK(free_now() == cap, "freed graph memory comes back (free %zu)", free_now());
    CHECK(cuGraphLaunch(roundtrip, stream) == CUDA_SUCCESS, "a graph that allocates and frees");
    CHECK(free_now() == cap, "alloc + free in one graph leaves nothing counted (free %zu)", free_now());
    CHECK(cuMemAlloc(&held, 400 * MiB) == CUDA_SUCCESS, "holding 400 MiB");
    CHECK(cuGraphLaunch(roundtrip, stream) == CUDA_ERROR_OUT_OF_MEMORY,
          "even a graph that frees what it allocates needs room for it while it runs");
    cuMemFree(held);

    /* Captured from a stream: cuMemAllocAsync inside a capture becomes an allocation node. */
    CUgraph captured;
    CUgraphExec captured_exec;
    CUdeviceptr d;
    CHECK(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_SUCCESS, "begin capture");
    CHECK(cuMemAllocAsync(&d, 300 * MiB, stream) == CUDA_SUCCESS, "captured cuMemAllocAsync");
    CHECK(cuStreamEndCapture(stream, &captured) == CUDA_SUCCESS, "end capture");
    CHECK(free_now() == cap, "a captured allocation counts nothing until the graph runs (free %zu)", free_now());
    CHECK(cuGraphInstantiateWithFlags(&captured_exec, captured, 0) == CUDA_SUCCESS, "instantiate captured graph");
    CHECK(cuGraphLaunch(captured_exec, stream) == CUDA_SUCCESS, "launch captured graph");
    CHECK(free_now() == cap - 300 * MiB, "the captured allocation counts once launched (free %zu)", free_now());
    CHECK(cuMemFreeAsync(d, stream) == CUDA_SUCCESS, "free the captured allocation");
    cuStreamSynchronize(stream);
    CHECK(free_now() == cap, "and comes back when freed (free %zu)", free_now());
    cuGraphExecDestroy(keep);
    cuGraphExecDestroy(keep2);
    cuGraphExecDestroy(roundtrip);
    cuGraphExecDestroy(captured_exec);
    cuGraphDestroy(captured);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: prog_accounting pool-cache CAP | random OPS CAP SEED | context CAP | context-cost CAP | graph CAP\n");
        return 2;
    }
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx) ||
        cuStreamCreate(&stream, 0)) {
        printf("FAIL: setup\n");
        return 1;
    }
    if (strcmp(argv[1], "pool-cache") == 0)
        pool_cache(strtoull(argv[2], NULL, 10));
    else if (strcmp(argv[1], "random") == 0 && argc == 5)
        random_ops(atol(argv[2]), strtoull(argv[3], NULL, 10), (unsigned)atoi(argv[4]));
    else if (strcmp(argv[1], "context") == 0)
        context_teardown(strtoull(argv[2], NULL, 10));
    else if (strcmp(argv[1], "context-cost") == 0)
        context_cost(strtoull(argv[2], NULL, 10));
    else if (strcmp(argv[1], "graph") == 0)
        graphs(strtoull(argv[2], NULL, 10));
    else {
        fprintf(stderr, "prog_accounting: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    if (failures) {
        printf("prog_accounting %s: %d failure(s)\n", argv[1], failures);
        return 1;
    }
    printf("prog_accounting %s: ok\n", argv[1]);
    return 0;
}
