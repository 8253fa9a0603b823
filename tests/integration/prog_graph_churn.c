/* Many executable graphs with memory nodes, made and destroyed one after another: run with the hook
 * and a cap (grey-run --cap), GREY_LOG=1 to see the hook's graph table at exit.
 *
 *   prog_graph_churn churn N CAP_BYTES
 *       N graphs, instantiated, launched and destroyed in batches of 1500, their memory made three
 *       ways (an allocation and a free node; cuMemAllocAsync and cuMemFreeAsync captured from a
 *       stream; an allocation node whose memory the program frees with cuMemFreeAsync). After each
 *       batch's launches exactly what they left live counts; after its frees and destructions, the
 *       count is back at zero. A graph without memory nodes is launched beside each; the times
 *       of the first and last 1000 of both kinds of launch are printed (a benchmark line, not a
 *       check: whether a lookup's work stays flat is what the hook's GREY_LOG line says).
 *   prog_graph_churn huge NODES CAP_BYTES
 *       One graph of NODES 4 KiB allocation nodes, each with its free node, launched from a thread
 *       with a 256 KiB stack: it runs, counts nothing afterwards, and is refused when the cap has
 *       no room for all of its nodes at once.
 *   prog_graph_churn devices 0 CAP_BYTES      (GREY_SIM_DEVICES=2)
 *       One graph with allocation nodes on two devices: admitted device by device, each against its
 *       own cap; refused whole when one device has no room; each allocation freed on its own.
 *   prog_graph_churn race N CAP_BYTES
 *       N graphs made in batches of 900, each launched and destroyed, while a second thread keeps
 *       launching a graph with memory nodes and one without: lookups walking the table while
 *       records leave it (for ASan to watch). The count ends at zero.
 *
 * Prints "FAIL: ..." and exits 1 on any mismatch. */
#include <cuda.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define MiB (1ull << 20)
#define BLOCK (64ull << 10)
#define WINDOW 1000
/* Graphs live at once in churn: more than fit a table of 1024 entries, so that handles are many
 * and distinct (an allocator that hands a freed handle's address straight back would otherwise
 * keep reusing a few table entries). */
#define BATCH 1500
#define RACE_BATCH 900

static CUcontext ctx;
static unsigned long long cap;

static size_t free_now(void)
{
    size_t f = 0, t = 0;
    CUresult rc = cuMemGetInfo(&f, &t);
    CHECK(rc == CUDA_SUCCESS, "cuMemGetInfo: %d", rc);
    return f;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static const CUDA_MEM_ALLOC_NODE_PARAMS device0 = {
    .poolProps = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED, .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}},
};

/* A graph of n allocation nodes of bytes each, each followed by its free node when with_free. */
static CUgraphExec alloc_graph(size_t n, size_t bytes, bool with_free, CUdeviceptr *first)
{
    CUgraph g;
    CUgraphExec exec = NULL;
    if (cuGraphCreate(&g, 0) != CUDA_SUCCESS) {
        CHECK(false, "cuGraphCreate");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        CUgraphNode alloc_node, free_node;
        CUDA_MEM_ALLOC_NODE_PARAMS params = device0;
        params.bytesize = bytes;
        if (cuGraphAddMemAllocNode(&alloc_node, g, NULL, 0, &params) != CUDA_SUCCESS ||
            (with_free && cuGraphAddMemFreeNode(&free_node, g, &alloc_node, 1, params.dptr) != CUDA_SUCCESS)) {
            CHECK(false, "memory node %zu of %zu", i, n);
            break;
        }
        if (i == 0 && first)
            *first = params.dptr;
    }
    CHECK(cuGraphInstantiateWithFlags(&exec, g, 0) == CUDA_SUCCESS, "cuGraphInstantiateWithFlags");
    cuGraphDestroy(g);
    return exec;
}

static CUgraphExec captured_graph(CUstream s)
{
    CUgraph g;
    CUgraphExec exec = NULL;
    CUdeviceptr d;
    CHECK(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL) == CUDA_SUCCESS, "begin capture");
    CHECK(cuMemAllocAsync(&d, BLOCK, s) == CUDA_SUCCESS, "captured cuMemAllocAsync");
    CHECK(cuMemFreeAsync(d, s) == CUDA_SUCCESS, "captured cuMemFreeAsync");
    CHECK(cuStreamEndCapture(s, &g) == CUDA_SUCCESS, "end capture");
    CHECK(cuGraphInstantiateWithFlags(&exec, g, 0) == CUDA_SUCCESS, "instantiate captured graph");
    cuGraphDestroy(g);
    return exec;
}

static CUgraphExec plain_graph(void)
{
    CUgraph g;
    CUgraphNode n;
    CUgraphExec exec = NULL;
    CHECK(cuGraphCreate(&g, 0) == CUDA_SUCCESS && cuGraphAddEmptyNode(&n, g, NULL, 0) == CUDA_SUCCESS &&
              cuGraphInstantiateWithFlags(&exec, g, 0) == CUDA_SUCCESS,
          "a graph without memory nodes");
    cuGraphDestroy(g);
    return exec;
}

/* One graph of kind i % 3; *left is the allocation it leaves live when launched (kind 2), else 0. */
static CUgraphExec some_graph(long i, CUstream s, CUdeviceptr *left)
{
    *left = 0;
    if (i % 3 == 0)
        return alloc_graph(1, BLOCK, true, NULL);
    if (i % 3 == 1)
        return captured_graph(s);
    return alloc_graph(1, BLOCK, false, left);
}

static void churn(long n, CUstream s)
{
    CUgraphExec plain = plain_graph();
    static CUgraphExec execs[BATCH];
    static CUdeviceptr left[BATCH];
    double mem_ns[2] = {0}, plain_ns[2] = {0};
    for (long base = 0; base < n && failures < 10; base += BATCH) {
        long k = n - base < BATCH ? n - base : BATCH;
        unsigned long long live = 0;
        for (long j = 0; j < k; j++)
            execs[j] = some_graph(base + j, s, &left[j]);
        for (long j = 0; j < k; j++) {
            long i = base + j;
            int w = i < WINDOW ? 0 : i >= n - WINDOW ? 1 : -1;
            double t0 = now_ns();
            CUresult rc = cuGraphLaunch(execs[j], s);
            double t1 = now_ns();
            CUresult plain_rc = cuGraphLaunch(plain, s);
            double t2 = now_ns();
            if (w >= 0)
                mem_ns[w] += t1 - t0, plain_ns[w] += t2 - t1;
            CHECK(rc == CUDA_SUCCESS && plain_rc == CUDA_SUCCESS, "graph %ld: launch %d, plain launch %d", i, rc,
                  plain_rc);
            live += left[j] ? BLOCK : 0;
        }
        CHECK(free_now() == cap - live, "graphs %ld-%ld: the %llu bytes they left live count (free %zu of %llu)", base,
              base + k - 1, live, free_now(), cap);
        for (long j = 0; j < k; j++) {
            if (left[j])
                CHECK(cuMemFreeAsync(left[j], s) == CUDA_SUCCESS, "graph %ld: cuMemFreeAsync", base + j);
            CHECK(cuGraphExecDestroy(execs[j]) == CUDA_SUCCESS, "graph %ld: cuGraphExecDestroy", base + j);
        }
        CHECK(free_now() == cap, "graphs %ld-%ld: the count is back at zero (free %zu of %llu)", base, base + k - 1,
              free_now(), cap);
    }
    cuGraphExecDestroy(plain);
    if (n >= 2 * WINDOW)
        printf("benchmark: graph launches, first %d vs last %d of %ld: with memory nodes %.0f vs %.0f ns, "
               "without %.0f vs %.0f ns\n", WINDOW, WINDOW, n, mem_ns[0] / WINDOW, mem_ns[1] / WINDOW,
               plain_ns[0] / WINDOW, plain_ns[1] / WINDOW);
}

/* ------------------------------------------------------------------ a huge graph, a small stack */

static size_t huge_nodes;

static void *huge_thread(void *arg)
{
    (void)arg;
    CUstream s;
    CUdeviceptr held;
    cuCtxSetCurrent(ctx);
    CHECK(cuStreamCreate(&s, 0) == CUDA_SUCCESS, "cuStreamCreate");
    CUgraphExec exec = alloc_graph(huge_nodes, 4096, true, NULL);
    CHECK(cuGraphLaunch(exec, s) == CUDA_SUCCESS, "a graph of %zu allocation nodes launches", huge_nodes);
    CHECK(free_now() == cap, "and counts nothing once its free nodes ran (free %zu)", free_now());
    /* Leave room for all but one of its nodes. */
    CHECK(cuMemAlloc(&held, cap - huge_nodes * 4096 + 4096) == CUDA_SUCCESS, "holding all but %zu nodes' room",
          huge_nodes - 1);
    CHECK(cuGraphLaunch(exec, s) == CUDA_ERROR_OUT_OF_MEMORY, "a launch that does not fit is refused");
    CHECK(free_now() == cap - (cap - huge_nodes * 4096 + 4096), "a refused launch counts nothing");
    cuMemFree(held);
    cuGraphExecDestroy(exec);
    CHECK(free_now() == cap, "everything back (free %zu)", free_now());
    return NULL;
}

static void huge(size_t nodes)
{
    huge_nodes = nodes;
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);
    CHECK(pthread_create(&t, &attr, huge_thread, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
}

/* ------------------------------------------------------------------ two devices */

static size_t free_on(int ordinal)
{
    CUdevice dev;
    CUcontext c;
    size_t f = 0;
    if (cuDeviceGet(&dev, ordinal) == CUDA_SUCCESS && cuDevicePrimaryCtxRetain(&c, dev) == CUDA_SUCCESS &&
        cuCtxSetCurrent(c) == CUDA_SUCCESS)
        f = free_now();
    else
        CHECK(false, "no context on device %d", ordinal);
    cuCtxSetCurrent(ctx);
    return f;
}

/* A graph with allocation nodes of mib MiB each on the devices given (-1 ends the list), each
 * with its free node when with_free; their addresses go to addrs. */
static CUgraphExec spread_graph(const int *devs, const size_t *mib, bool with_free, CUdeviceptr *addrs)
{
    CUgraph g;
    CUgraphExec exec = NULL;
    CHECK(cuGraphCreate(&g, 0) == CUDA_SUCCESS, "cuGraphCreate");
    for (int i = 0; devs[i] >= 0; i++) {
        CUgraphNode a, f;
        CUDA_MEM_ALLOC_NODE_PARAMS params = device0;
        params.poolProps.location.id = devs[i];
        params.bytesize = mib[i] * MiB;
        CHECK(cuGraphAddMemAllocNode(&a, g, NULL, 0, &params) == CUDA_SUCCESS, "allocation node on device %d", devs[i]);
        addrs[i] = params.dptr;
        if (with_free)
            CHECK(cuGraphAddMemFreeNode(&f, g, &a, 1, params.dptr) == CUDA_SUCCESS, "free node");
    }
    CHECK(cuGraphInstantiateWithFlags(&exec, g, 0) == CUDA_SUCCESS, "cuGraphInstantiateWithFlags");
    cuGraphDestroy(g);
    return exec;
}

/* Run with GREY_SIM_DEVICES=2: each device's allocations are admitted together, against that
 * device's cap, and a launch that does not fit on one device counts nothing on the other. */
static void devices(CUstream s)
{
    const int fits_devs[] = {0, 1, 0, 1, -1}, over_devs[] = {0, 1, 1, -1};
    const size_t fits_mib[] = {200, 200, 200, 100, 0}, over_mib[] = {100, 300, 300, 0};
    CUdeviceptr fits_addrs[4], over_addrs[3];
    CUgraphExec fits = spread_graph(fits_devs, fits_mib, false, fits_addrs);
    CUgraphExec over = spread_graph(over_devs, over_mib, true, over_addrs);
    CHECK(cuGraphLaunch(over, s) == CUDA_ERROR_OUT_OF_MEMORY, "600 MiB on device 1 does not fit its 512 MiB cap");
    CHECK(free_on(0) == cap && free_on(1) == cap, "the refused launch counts nothing on either device (%zu, %zu)",
          free_on(0), free_on(1));
    CHECK(cuGraphLaunch(fits, s) == CUDA_SUCCESS, "400 MiB on device 0 and 300 MiB on device 1 fit");
    CHECK(free_on(0) == cap - 400 * MiB && free_on(1) == cap - 300 * MiB,
          "each device counts its own nodes (free %zu, %zu)", free_on(0), free_on(1));
    CHECK(cuGraphExecDestroy(fits) == CUDA_SUCCESS && cuGraphExecDestroy(over) == CUDA_SUCCESS, "destroy");
    /* The four allocations it left live were admitted as two sums; each free gives its own
     * share back. */
    size_t used[2] = {400 * MiB, 300 * MiB};
    for (int i = 0; i < 4; i++) {
        CHECK(cuMemFreeAsync(fits_addrs[i], s) == CUDA_SUCCESS, "cuMemFreeAsync of allocation %d", i);
        used[fits_devs[i]] -= fits_mib[i] * MiB;
        CHECK(free_on(0) == cap - used[0] && free_on(1) == cap - used[1],
              "after freeing allocation %d: free %zu, %zu (expected %zu, %zu)", i, free_on(0), free_on(1),
              (size_t)(cap - used[0]), (size_t)(cap - used[1]));
    }
}

/* ------------------------------------------------------------------ racing lookups */

static atomic_bool stop;
static atomic_int racer_failures;
static atomic_long racer_launches;

static void *racer(void *arg)
{
    (void)arg;
    CUstream s;
    cuCtxSetCurrent(ctx);
    if (cuStreamCreate(&s, 0) != CUDA_SUCCESS) {
        racer_failures++;
        return NULL;
    }
    CUgraphExec mem = alloc_graph(1, BLOCK, true, NULL), plain = plain_graph();
    while (!atomic_load(&stop)) {
        CUresult a = cuGraphLaunch(mem, s), b = cuGraphLaunch(plain, s);
        if (a != CUDA_SUCCESS || b != CUDA_SUCCESS) {
            printf("FAIL: racing launches: %d, %d\n", a, b);
            racer_failures++;
            break;
        }
        racer_launches++;
    }
    cuGraphExecDestroy(mem);
    cuGraphExecDestroy(plain);
    cuStreamDestroy(s);
    return NULL;
}

static void race(long n, CUstream s)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, racer, NULL) == 0, "pthread_create");
    while (atomic_load(&racer_launches) == 0 && atomic_load(&racer_failures) == 0)
        sched_yield(); /* start racing only once the racer does */
    /* In batches, so that many records are in the table while the racer's lookups walk it. */
    static CUgraphExec execs[RACE_BATCH];
    for (long base = 0; base < n; base += RACE_BATCH) {
        long k = n - base < RACE_BATCH ? n - base : RACE_BATCH;
        for (long j = 0; j < k; j++)
            execs[j] = j % 2 ? alloc_graph(1, BLOCK, true, NULL) : captured_graph(s);
        for (long j = 0; j < k; j++) {
            CUresult rc = cuGraphLaunch(execs[j], s);
            CHECK(rc == CUDA_SUCCESS, "graph %ld: launch %d", base + j, rc);
            CHECK(cuGraphExecDestroy(execs[j]) == CUDA_SUCCESS, "graph %ld: cuGraphExecDestroy", base + j);
        }
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    failures += racer_failures;
    CHECK(racer_launches > 0, "the racing thread launched");
    CHECK(free_now() == cap, "the count is back at zero (free %zu of %llu)", free_now(), cap);
    printf("race: %ld graphs made and destroyed beside %ld racing launch pairs\n", n, (long)racer_launches);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: prog_graph_churn churn|huge|race|devices N CAP_BYTES\n");
        return 2;
    }
    long n = atol(argv[2]);
    cap = strtoull(argv[3], NULL, 10);
    CUdevice dev;
    CUstream s;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx) ||
        cuStreamCreate(&s, 0)) {
        printf("FAIL: setup\n");
        return 1;
    }
    if (strcmp(argv[1], "churn") == 0)
        churn(n, s);
    else if (strcmp(argv[1], "huge") == 0)
        huge((size_t)n);
    else if (strcmp(argv[1], "race") == 0)
        race(n, s);
    else if (strcmp(argv[1], "devices") == 0)
        devices(s);
    else {
        fprintf(stderr, "prog_graph_churn: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    if (failures) {
        printf("prog_graph_churn %s: %d failure(s)\n", argv[1], failures);
        return 1;
    }
    printf("prog_graph_churn %s: ok\n", argv[1]);
    return 0;
}
