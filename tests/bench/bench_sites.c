/* Call-site capture cost as stacks get deeper, and as the number of distinct stacks grows
 * (make bench-sites).
 *
 *   bench_sites PAIRS NEST [STACKS]
 *
 * Times PAIRS cuMemAlloc_v2/cuMemFree_v2 pairs made NEST calls below main, best of 7 rounds, and
 * prints one JSON object. tests/bench/bench_hook allocates straight from a shallow loop, where
 * deeper capture settings have nothing more to walk; a real program allocates from deep inside
 * a framework, so this one nests its calls first.
 *
 * Pair i is made from stack i % STACKS (default 1) of up to 100 000 distinct ones: below the
 * nest, every pair goes through FAN_LEVELS calls, each made from one of ten call sites chosen by
 * a decimal digit of its stack number, so the innermost frames spell the number. Every stack
 * count takes the same calls, and the unwinder meets the same few return addresses; only what
 * the hook does with the stacks changes (how many it has interned, how full its table is). */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 7
#define FAN_LEVELS 5         /* 10^5 distinct stacks */
#define STACKS_MAX 100000

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

__attribute__((noinline)) static double alloc_free(void)
{
    CUdeviceptr p;
    if (cuMemAlloc(&p, 1 << 20) != CUDA_SUCCESS || cuMemFree(p) != CUDA_SUCCESS) {
        fprintf(stderr, "bench_sites: allocation failed\n");
        exit(1);
    }
    return 0;
}

typedef double (*fan_fn)(int level, long code);
static const fan_fn fans[10];

/* Ten functions, not one with ten call sites: the compiler may merge identical calls within a
 * function, never the return addresses of distinct ones. The constant keeps their bodies apart
 * (identical functions may be folded into one) and, with the barrier, the call from being a
 * tail call, which would leave no frame. */
#define FAN(k)                                                                              \
    __attribute__((noinline)) static double fan##k(int level, long code)                    \
    {                                                                                       \
        double r = level ? fans[code % 10](level - 1, code / 10) : alloc_free();            \
        __asm__ volatile("" : "+x"(r));                                                     \
        return r + k;                                                                       \
    }
FAN(0) FAN(1) FAN(2) FAN(3) FAN(4) FAN(5) FAN(6) FAN(7) FAN(8) FAN(9)
static const fan_fn fans[10] = {fan0, fan1, fan2, fan3, fan4, fan5, fan6, fan7, fan8, fan9};

static double pairs(long n, long stacks)
{
    double best = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++) {
            long code = i % stacks;
            fans[code % 10](FAN_LEVELS - 1, code / 10);
        }
        double per = (now_ns() - t0) / n;
        if (per < best)
            best = per;
    }
    return best;
}

/* Not inlined and not a tail call: every level is a real frame for the unwinder. */
__attribute__((noinline)) static double nest(int depth, long n, long stacks)
{
    if (depth == 0)
        return pairs(n, stacks);
    double r = nest(depth - 1, n, stacks);
    __asm__ volatile("" : "+x"(r));
    return r;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int depth = argc > 2 ? atoi(argv[2]) : 24;
    long stacks = argc > 3 ? atol(argv[3]) : 1;
    if (n < 1 || depth < 0 || stacks < 1 || stacks > STACKS_MAX) {
        fprintf(stderr, "usage: bench_sites PAIRS NEST [STACKS, 1 to %d]\n", STACKS_MAX);
        return 2;
    }
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx)) {
        fprintf(stderr, "bench_sites: setup failed\n");
        return 1;
    }
    printf("{\"alloc_free_pair_ns\": %.1f, \"nest\": %d, \"stacks\": %ld}\n", nest(depth, n, stacks), depth,
           stacks);
    return 0;
}
