/* A GPU process that keeps the device busy, for the fair-share tests (tests/fairshare/run.sh).
 *
 *   fair_load --from T0 --until T1 [--idle-at T] [--depth D] [--kernel NAME] [--entry E]
 *             [--bins FILE] [--bin-ms N]
 *
 * Launches NAME (default work_us200: 200 us on the simulated device) back to back, keeping D
 * (default 4) kernels in flight the way a framework's CPU runs ahead of the GPU: after each
 * launch it records an event, and before each launch it waits for the event D launches back
 * (cuEventSynchronize sleeps, so the process burns no CPU while the device works). T0 and T1
 * are CLOCK_MONOTONIC nanoseconds: kernels seen complete in [T0, T1] are counted, and launches
 * stop at T1 (or at --idle-at, after which the process idles until T1). E picks the entry point:
 * launch (cuLaunchKernel), ptsz (cuLaunchKernel_ptsz from cuGetProcAddress with the
 * per-thread-stream flag), ex (cuLaunchKernelEx), coop (cuLaunchCooperativeKernel), graph
 * (cuGraphLaunch of a one-kernel graph).
 *
 * Prints one JSON object: completed (in the window), launched, the longest single launch call
 * in the window (max_launch_ns: where the pacer makes a launch wait), the first and the last
 * launch times (first_launch_ns: when the process, started up, began to queue work).
 * --bins writes the number of completions per N ms (default 5) since T0, one per line.
 *
 * Queueing the way frameworks do: --depth D keeps D kernels in flight (up to 4096); --batch N
 * instead launches N kernels and then synchronizes the stream (cuStreamSynchronize), counting the
 * part of each batch that ran inside [T0, T1] (batch_in_window), and --batches K stops after K batches (then "done_ns" says when
 * the last one finished); --streams S spreads the launches over S streams in turn; with --entry
 * graph, --graph-kernels N makes the graph a chain of N kernels (one launch, N kernels' time). */
#include <cuda.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 4096
#define MAX_STREAMS 16

/* A batch of n kernels queued at start and seen finished at end (its synchronize returned): the
 * part of it inside [from, until], as if its kernels finished evenly over that time. A deep batch
 * takes long (1024 kernels at a quarter of the device: 0.8 s), so counting whole batches only
 * would make a 6 s share jump by a seventh. */
static double batch_in_window(uint64_t n, uint64_t start, uint64_t end, uint64_t from, uint64_t until)
{
    uint64_t lo = start > from ? start : from, hi = end < until ? end : until;
    if (end <= start)
        return end >= from && end <= until ? (double)n : 0;
    return hi > lo ? (double)n * (double)(hi - lo) / (double)(end - start) : 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, CUresult r)
{
    fprintf(stderr, "fair_load: %s failed (%d)\n", what, (int)r);
    exit(1);
}

#define CK(call)                           \
    do {                                   \
        CUresult r_ = (call);              \
        if (r_ != CUDA_SUCCESS)            \
            die(#call, r_);                \
    } while (0)

typedef CUresult (*ptsz_fn)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                            CUstream, void **, void **);

int main(int argc, char **argv)
{
    uint64_t from = 0, until = 0, idle_at = 0;
    int depth = 4, bin_ms = 5, batch = 0, batches = 0, nstreams = 1, graph_kernels = 1;
    const char *kernel = "work_us200", *entry = "launch", *bins_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--from"))
            from = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--until"))
            until = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--idle-at"))
            idle_at = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--depth"))
            depth = atoi(v);
        else if (!strcmp(k, "--kernel"))
            kernel = v;
        else if (!strcmp(k, "--entry"))
            entry = v;
        else if (!strcmp(k, "--bins"))
            bins_path = v;
        else if (!strcmp(k, "--bin-ms"))
            bin_ms = atoi(v);
        else if (!strcmp(k, "--batch"))
            batch = atoi(v);
        else if (!strcmp(k, "--batches"))
            batches = atoi(v);
        else if (!strcmp(k, "--streams"))
            nstreams = atoi(v);
        else if (!strcmp(k, "--graph-kernels"))
            graph_kernels = atoi(v);
        else {
            fprintf(stderr, "fair_load: unknown option %s\n", k);
            return 2;
        }
    }
    if (!until || depth < 1 || depth > MAX_DEPTH || bin_ms < 1 || batch < 0 || batches < 0 || nstreams < 1 ||
        nstreams > MAX_STREAMS || graph_kernels < 1 || graph_kernels > MAX_DEPTH) {
        fprintf(stderr, "usage: fair_load --from T0 --until T1 [--idle-at T] [--depth 1..4096] [--batch N] "
                        "[--batches K] [--streams 1..16] [--graph-kernels N] [--kernel NAME] [--entry launch|ptsz|ex|coop|graph] "
                        "[--bins FILE] [--bin-ms N]\n");
        return 2;
    }
    if (!idle_at || idle_at > until)
        idle_at = until;

    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CUfunction f;
    CUstream streams[MAX_STREAMS], stream;
    CK(cuInit(0));
    CK(cuDeviceGet(&dev, 0));
    CK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CK(cuCtxSetCurrent(ctx));
    CK(cuModuleLoadData(&mod, "fair_load"));
    CK(cuModuleGetFunction(&f, mod, kernel));
    bool ptsz = !strcmp(entry, "ptsz");
    for (int i = 0; i < nstreams; i++)
        CK(cuStreamCreate(&streams[i], CU_STREAM_NON_BLOCKING));
    stream = streams[0];

    ptsz_fn launch_ptsz = NULL;
    if (ptsz) {
        CUresult (*gpa)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *) =
            (CUresult(*)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *))dlsym(
                RTLD_DEFAULT, "cuGetProcAddress_v2");
        CUdriverProcAddressQueryResult st;
        if (!gpa || gpa("cuLaunchKernel", (void **)&launch_ptsz, 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
                        &st) != CUDA_SUCCESS || !launch_ptsz) {
            fprintf(stderr, "fair_load: no cuLaunchKernel_ptsz from cuGetProcAddress_v2\n");
            return 1;
        }
    }
    CUgraphExec exec = NULL;
    if (!strcmp(entry, "graph")) {
        CUgraph g;
        CUDA_KERNEL_NODE_PARAMS p = {.func = f, .gridDimX = 1, .gridDimY = 1, .gridDimZ = 1, .blockDimX = 1,
                                     .blockDimY = 1, .blockDimZ = 1};
        CUgraphNode node, prev = NULL;
        CK(cuGraphCreate(&g, 0));
        for (int i = 0; i < graph_kernels; i++, prev = node) /* a chain: each after the one before */
            CK(cuGraphAddKernelNode(&node, g, prev ? &prev : NULL, prev ? 1 : 0, &p));
        CK(cuGraphInstantiateWithFlags(&exec, g, 0));
    }

    CUevent *ev = calloc((size_t)depth, sizeof *ev);
    if (!ev)
        return 1;
    for (int i = 0; i < depth; i++)
        CK(cuEventCreate(&ev[i], CU_EVENT_DISABLE_TIMING));

    size_t nbins = (size_t)((until - from) / ((uint64_t)bin_ms * 1000000) + 1);
    unsigned *bins = calloc(nbins, sizeof *bins);
    if (!bins)
        return 1;
    uint64_t launched = 0, completed = 0, max_launch = 0, first_launch = 0, last_launch = 0, done = 0;
    int batches_done = 0;
    uint64_t t, batch_start = now_ns();
    double window_part = 0; /* --batch: kernels completed inside [T0, T1], batches cut at its ends */
    while ((t = now_ns()) < idle_at) {
        int k = (int)(launched % (uint64_t)depth);
        stream = streams[launched % (uint64_t)nstreams];
        CUstream launch_stream = ptsz ? NULL : stream; /* ptsz: the per-thread default stream */
        CUstream event_stream = ptsz ? CU_STREAM_PER_THREAD : stream;
        if (batch && launched && launched % (uint64_t)batch == 0) { /* a batch queued: wait for all of it */
            for (int i = 0; i < nstreams; i++)
                CK(cuStreamSynchronize(ptsz ? CU_STREAM_PER_THREAD : streams[i]));
            t = done = now_ns();
            window_part += batch_in_window((uint64_t)batch, batch_start, t, from, until);
            batch_start = t;
            if (batches && ++batches_done >= batches)
                break;
            if (t >= idle_at)
                break;
        } else if (!batch && launched >= (uint64_t)depth) { /* the kernel D launches back has finished */
            CK(cuEventSynchronize(ev[k]));
            t = now_ns();
            if (t >= from && t <= until) {
                completed++;
                bins[(t - from) / ((uint64_t)bin_ms * 1000000)]++;
            }
            if (t >= idle_at)
                break;
        }
        CUresult r;
        if (!launched)
            first_launch = t;
        if (ptsz) {
            r = launch_ptsz(f, 1, 1, 1, 1, 1, 1, 0, launch_stream, NULL, NULL);
        } else if (!strcmp(entry, "ex")) {
            CUlaunchConfig cfg = {.gridDimX = 1, .gridDimY = 1, .gridDimZ = 1, .blockDimX = 1, .blockDimY = 1,
                                  .blockDimZ = 1, .hStream = stream};
            r = cuLaunchKernelEx(&cfg, f, NULL, NULL);
        } else if (!strcmp(entry, "coop")) {
            r = cuLaunchCooperativeKernel(f, 1, 1, 1, 1, 1, 1, 0, stream, NULL);
        } else if (exec) {
            r = cuGraphLaunch(exec, stream);
        } else {
            r = cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, stream, NULL, NULL);
        }
        uint64_t t2 = now_ns();
        if (r != CUDA_SUCCESS)
            die(entry, r);
        if (t >= from && t2 - t > max_launch)
            max_launch = t2 - t;
        last_launch = t2;
        CK(cuEventRecord(ev[k], event_stream));
        launched++;
    }
    /* The kernels still in flight complete too (they count when inside the window). */
    if (batch && launched % (uint64_t)batch) {
        for (int i = 0; i < nstreams; i++)
            CK(cuStreamSynchronize(ptsz ? CU_STREAM_PER_THREAD : streams[i]));
        t = done = now_ns();
        window_part += batch_in_window(launched % (uint64_t)batch, batch_start, t, from, until);
    }
    if (batch)
        completed = (uint64_t)(window_part + 0.5);
    for (uint64_t i = launched > (uint64_t)depth ? launched - (uint64_t)depth : 0; !batch && i < launched; i++) {
        CK(cuEventSynchronize(ev[i % (uint64_t)depth]));
        t = now_ns();
        if (t >= from && t <= until) {
            completed++;
            bins[(t - from) / ((uint64_t)bin_ms * 1000000)]++;
        }
    }
    while ((t = now_ns()) < until) { /* idle until the window closes, like a process doing CPU work */
        struct timespec ts = {.tv_sec = (time_t)((until - t) / 1000000000ull),
                              .tv_nsec = (long)((until - t) % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
    if (bins_path) {
        FILE *b = fopen(bins_path, "w");
        if (!b)
            return 1;
        for (size_t i = 0; i < nbins; i++)
            fprintf(b, "%u\n", bins[i]);
        fclose(b);
    }
    printf("{\"pid\": %d, \"completed\": %llu, \"launched\": %llu, \"max_launch_ns\": %llu, \"first_launch_ns\": %llu, "
           "\"last_launch_ns\": %llu, \"done_ns\": %llu}\n",
           (int)getpid(), (unsigned long long)completed, (unsigned long long)launched, (unsigned long long)max_launch,
           (unsigned long long)first_launch, (unsigned long long)last_launch, (unsigned long long)done);
    free(bins);
    free(ev);
    return 0;
}
