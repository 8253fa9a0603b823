/* Call-site capture cost as stacks get deeper (make bench-sites).
 *
 *   bench_sites PAIRS NEST
 *
 * Times PAIRS cuMemAlloc_v2/cuMemFree_v2 pairs made NEST calls below main, best of 7 rounds, and
 * prints one JSON object. tests/bench/bench_hook allocates straight from a shallow loop, where
 * deeper capture settings have nothing more to walk; a real program allocates from deep inside
 * a framework, so this one nests its calls first. */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 7

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double pairs(long n)
{
    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            CUdeviceptr p;
            if (cuMemAlloc(&p, 1 << 20) != CUDA_SUCCESS || cuMemFree(p) != CUDA_SUCCESS) {
                fprintf(stderr, "bench_sites: allocation failed\n");
                exit(1);
            }
        }
        double per = (now_ns() - t0) / n;
        if (per < best)
            best = per;
    }
    return best;
}

/* Not inlined and not a tail call: every level is a real frame for the unwinder. */
__attribute__((noinline)) static double nest(int depth, long n)
{
    if (depth == 0)
        return pairs(n);
    double r = nest(depth - 1, n);
    __asm__ volatile("" : "+x"(r));
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int depth = argc > 2 ? atoi(argv[2]) : 24;
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx)) {
        fprintf(stderr, "bench_sites: setup failed\n");
        return 1;
    }
    printf("{\"alloc_free_pair_ns\": %.1f, \"nest\": %d}\n", nest(depth, n), depth);
    return 0;
}
