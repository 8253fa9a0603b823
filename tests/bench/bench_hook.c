/* What the hook adds per call, measured on the simulated driver.
 *
 *   bench_hook PAIRS LAUNCHES [LIVE]
 *
 * Times PAIRS cuMemAlloc_v2/cuMemFree_v2 pairs of 1 MiB and LAUNCHES cuLaunchKernel calls, each
 * through the linked symbols and through pointers from cuGetProcAddress_v2 (the CUDA runtime's
 * way), best of several rounds to keep scheduler noise out. scripts/bench.sh runs it with and
 * without the hook and subtracts. Output: one JSON object.
 *
 * LIVE (default 1) is how many buffers are live during a pair, the pair's own included: LIVE - 1
 * of 64 KiB are allocated first and held, so the hook's tracker holds that many records while
 * the pairs are timed (scripts/bench_sites.sh times 1, 1000 and 100 000).
 *
 * Before timing, it asks every device for its memory the way the CUDA runtime does when it
 * starts (cuDeviceTotalMem, and cuMemGetInfo in each device's primary context), so that on a
 * node of several GPUs the launches are timed in a process that sees them all and uses one. */
#include <cuda.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 7

typedef CUresult (*alloc_fn)(CUdeviceptr *, size_t);
typedef CUresult (*free_fn)(CUdeviceptr);
typedef CUresult (*launch_fn)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                              unsigned, CUstream, void **, void **);
typedef CUresult (*procaddr_fn)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double pairs_ns(alloc_fn a, free_fn f, long n)
{
    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            CUdeviceptr p;
            if (a(&p, 1 << 20) != CUDA_SUCCESS || f(p) != CUDA_SUCCESS) {
                fprintf(stderr, "bench_hook: allocation failed\n");
                exit(1);
            }
        }
        double per = (now_ns() - t0) / n;
        if (per < best)
            best = per;
    }
    return best;
}

static double launches_ns(launch_fn l, CUfunction k, long n)
{
    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (l(k, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL) != CUDA_SUCCESS) {
                fprintf(stderr, "bench_hook: launch failed\n");
                exit(1);
            }
        double per = (now_ns() - t0) / n;
        if (per < best)
            best = per;
    }
    return best;
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? atol(argv[1]) : 200000;
    long launches = argc > 2 ? atol(argv[2]) : 2000000;
    long live = argc > 3 ? atol(argv[3]) : 1;
    if (pairs < 1 || launches < 1 || live < 1) {
        fprintf(stderr, "usage: bench_hook PAIRS LAUNCHES [LIVE]\n");
        return 2;
    }
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CUfunction k;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx) ||
        cuModuleLoadData(&mod, "bench") || cuModuleGetFunction(&k, mod, "empty")) {
        fprintf(stderr, "bench_hook: setup failed\n");
        return 1;
    }
    int ndev = 0;
    if (cuDeviceGetCount(&ndev) != CUDA_SUCCESS)
        ndev = 1;
    for (int d = 0; d < ndev; d++) {
        CUdevice other;
        CUcontext c;
        size_t total, free_bytes;
        if (cuDeviceGet(&other, d) || cuDeviceTotalMem(&total, other) || cuDevicePrimaryCtxRetain(&c, other) ||
            cuCtxSetCurrent(c) || cuMemGetInfo(&free_bytes, &total)) {
            fprintf(stderr, "bench_hook: cannot ask device %d for its memory\n", d);
            return 1;
        }
    }
    if (cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        fprintf(stderr, "bench_hook: setup failed\n");
        return 1;
    }
    for (long i = 1; i < live; i++) { /* held to the end: the exit takes them */
        CUdeviceptr p;
        if (cuMemAlloc(&p, 64 << 10) != CUDA_SUCCESS) {
            fprintf(stderr, "bench_hook: cannot hold %ld buffers\n", live - 1);
            return 1;
        }
    }
    procaddr_fn gpa = (procaddr_fn)dlsym(dlopen("libcuda.so.1", RTLD_NOW), "cuGetProcAddress_v2");
    void *pa = NULL, *pf = NULL, *pl = NULL;
    CUdriverProcAddressQueryResult st;
    if (!gpa || gpa("cuMemAlloc", &pa, 13000, 0, &st) || gpa("cuMemFree", &pf, 13000, 0, &st) ||
        gpa("cuLaunchKernel", &pl, 13000, 0, &st)) {
        fprintf(stderr, "bench_hook: cuGetProcAddress_v2 failed\n");
        return 1;
    }
    printf("{\"alloc_free_pair_ns\": %.1f, \"alloc_free_pair_procaddr_ns\": %.1f, "
           "\"launch_ns\": %.2f, \"launch_procaddr_ns\": %.2f, \"live\": %ld, \"devices\": %d}\n",
           pairs_ns(cuMemAlloc, cuMemFree, pairs), pairs_ns((alloc_fn)pa, (free_fn)pf, pairs),
           launches_ns(cuLaunchKernel, k, launches), launches_ns((launch_fn)pl, k, launches), live, ndev);
    return 0;
}
