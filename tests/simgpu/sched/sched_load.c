/* A plain CUDA process (no grey hook) for the scheduler tests (tests/simgpu/sched/sched_tests.sh),
 * linked against the simulated driver. Kernels are named work_usN: N us of device time.
 *
 *   sched_load init                    prints "init OK" or "init <CUresult>" (settings refused)
 *   sched_load load FROM UNTIL DEPTH   keeps DEPTH 200 us kernels in flight until UNTIL
 *                                      (CLOCK_MONOTONIC ns) and prints "completed N": kernels whose
 *                                      completion was seen inside [FROM, UNTIL]
 *   sched_load queue MS                queues MS kernels of 1 ms, prints "queued", waits for them
 *   sched_load one US warm|cold        one US-us kernel between two timing events; warm: after a
 *                                      5 ms warm-up kernel (so the start event completes when the
 *                                      warm-up does, and the pair spans the kernel alone); cold:
 *                                      on an idle stream (the start event completes at once, so
 *                                      the pair spans the wait for the device too); prints
 *                                      "wait-us W elapsed-us E": W the wall time from the first
 *                                      launch to cuEventSynchronize returning, E cuEventElapsedTime
 *   sched_load now                     prints CLOCK_MONOTONIC in ns (for FROM and UNTIL) */
#include <cuda.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 1024

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CK(call)                                                              \
    do {                                                                      \
        CUresult r_ = (call);                                                 \
        if (r_ != CUDA_SUCCESS) {                                             \
            fprintf(stderr, "sched_load: %s failed (%d)\n", #call, (int)r_); \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static CUstream stream;

static CUfunction setup(const char *kernel)
{
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CUfunction f;
    CK(cuInit(0));
    CK(cuDeviceGet(&dev, 0));
    CK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CK(cuCtxSetCurrent(ctx));
    CK(cuModuleLoadData(&mod, "sched_load"));
    CK(cuModuleGetFunction(&f, mod, kernel));
    CK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
    return f;
}

static void launch(CUfunction f)
{
    CK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, stream, NULL, NULL));
}

static int load(uint64_t from, uint64_t until, int depth)
{
    static CUevent ev[MAX_DEPTH];
    CUfunction f = setup("work_us200");
    for (int i = 0; i < depth; i++)
        CK(cuEventCreate(&ev[i], CU_EVENT_DISABLE_TIMING));
    uint64_t launched = 0, completed = 0, t;
    while ((t = now_ns()) < until) {
        int k = (int)(launched % (uint64_t)depth);
        if (launched >= (uint64_t)depth) { /* the kernel DEPTH launches back has finished */
            CK(cuEventSynchronize(ev[k]));
            t = now_ns();
            completed += t >= from && t <= until;
        }
        launch(f);
        CK(cuEventRecord(ev[k], stream));
        launched++;
    }
    printf("completed %llu launched %llu\n", (unsigned long long)completed, (unsigned long long)launched);
    return 0;
}

static int queue(int ms)
{
    CUfunction f = setup("work_us1000");
    for (int i = 0; i < ms; i++)
        launch(f);
    printf("queued\n");
    fflush(stdout);
    CK(cuCtxSynchronize());
    return 0;
}

static int one(unsigned us, bool warm_up)
{
    char name[32];
    snprintf(name, sizeof name, "work_us%u", us);
    CUfunction f = setup(name);
    CUmodule mod;
    CUfunction warm;
    CK(cuModuleLoadData(&mod, "sched_load_warm"));
    CK(cuModuleGetFunction(&warm, mod, "warm_us5000"));
    CUevent a, b;
    CK(cuEventCreate(&a, 0));
    CK(cuEventCreate(&b, 0));
    uint64_t t0 = now_ns();
    if (warm_up)
        launch(warm);
    CK(cuEventRecord(a, stream));
    launch(f);
    CK(cuEventRecord(b, stream));
    CK(cuEventSynchronize(b));
    uint64_t wait = now_ns() - t0;
    float ms;
    CK(cuEventElapsedTime(&ms, a, b));
    printf("wait-us %llu elapsed-us %.0f\n", (unsigned long long)(wait / 1000), (double)ms * 1000.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "init")) {
        CUresult r = cuInit(0);
        if (r == CUDA_SUCCESS)
            printf("init OK\n");
        else
            printf("init %d\n", (int)r);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "load")) {
        int depth = atoi(argv[4]);
        if (depth < 1 || depth > MAX_DEPTH)
            return 2;
        return load(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), depth);
    }
    if (argc == 3 && !strcmp(argv[1], "queue"))
        return queue(atoi(argv[2]));
    if (argc == 4 && !strcmp(argv[1], "one"))
        return one((unsigned)atoi(argv[2]), !strcmp(argv[3], "warm"));
    if (argc == 2 && !strcmp(argv[1], "now")) {
        printf("%llu\n", (unsigned long long)now_ns());
        return 0;
    }
    fprintf(stderr, "usage: sched_load init | load FROM UNTIL DEPTH | queue MS | one US warm|cold | now\n");
    return 2;
}
