/* The pacer and the tracker under ThreadSanitizer: built with -fsanitize=thread against a hook
 * built the same way (mk/pacer-tsan.mk), this program's threads launch 200 us kernels on streams
 * of their own, synchronize every few launches and allocate and free beside them, while a second
 * copy of it does the same on the same simulated device under another weight, so the launches
 * go through every part of the pacer a multi-threaded framework reaches: turns, handoffs, the
 * bound on work in flight, samples and markers read back by whichever thread comes next.
 *
 *   tsan_pacer UNTIL_NS THREADS
 *
 * Prints "launched N allocated M"; exit status 0, 1 when a call failed (ThreadSanitizer makes a
 * race exit 66, as TSAN_OPTIONS says). */
#include <cuda.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static CUcontext ctx;
static CUfunction kernel;
static uint64_t until_ns;
static _Atomic uint64_t launched, allocated;
static _Atomic int failed;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what, CUresult r)
{
    fprintf(stderr, "tsan_pacer: %s failed (%d)\n", what, (int)r);
    failed = 1;
}

/* Even threads launch (every fourth with a synchronize after 16 launches, the others keep going
 * until the bound on work in flight holds them); odd ones also allocate and free between
 * launches, so the tracker's tables change under the pacer's feet. */
static void *worker(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    CUresult r;
    CUstream s;
    if ((r = cuCtxSetCurrent(ctx)) != CUDA_SUCCESS || (r = cuStreamCreate(&s, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS) {
        fail("stream setup", r);
        return NULL;
    }
    for (uint64_t n = 0; !failed && now_ns() < until_ns; n++) {
        if ((r = cuLaunchKernel(kernel, 1, 1, 1, 1, 1, 1, 0, s, NULL, NULL)) != CUDA_SUCCESS) {
            fail("cuLaunchKernel", r);
            break;
        }
        launched++;
        if (id % 4 == 0 && n % 16 == 15 && (r = cuStreamSynchronize(s)) != CUDA_SUCCESS) {
            fail("cuStreamSynchronize", r);
            break;
        }
        if (id % 2 == 1) {
            CUdeviceptr p;
            if ((r = cuMemAlloc(&p, 1u << (12 + n % 8))) != CUDA_SUCCESS || (r = cuMemFree(p)) != CUDA_SUCCESS) {
                fail("cuMemAlloc/cuMemFree", r);
                break;
            }
            allocated++;
        }
    }
    if ((r = cuStreamSynchronize(s)) != CUDA_SUCCESS || (r = cuStreamDestroy(s)) != CUDA_SUCCESS)
        fail("stream teardown", r);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: tsan_pacer UNTIL_NS THREADS\n");
        return 1;
    }
    /* The hook is loaded; the symbolizer ThreadSanitizer starts for a report must not load it
     * again (it has no ThreadSanitizer runtime to resolve the hook's against). */
    unsetenv("LD_PRELOAD");
    until_ns = strtoull(argv[1], NULL, 10);
    unsigned threads = (unsigned)atoi(argv[2]);
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "tsan_pacer: THREADS must be 1..64\n");
        return 1;
    }
    CUdevice dev;
    CUmodule mod;
    CUresult r;
    if ((r = cuInit(0)) || (r = cuDeviceGet(&dev, 0)) || (r = cuDevicePrimaryCtxRetain(&ctx, dev)) ||
        (r = cuCtxSetCurrent(ctx)) || (r = cuModuleLoadData(&mod, "busy_us200")) ||
        (r = cuModuleGetFunction(&kernel, mod, "busy_us200"))) {
        fail("setup", r);
        return 1;
    }
    pthread_t t[64];
    for (unsigned i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i)) {
            fprintf(stderr, "tsan_pacer: pthread_create failed\n");
            return 1;
        }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("launched %llu allocated %llu\n", (unsigned long long)launched, (unsigned long long)allocated);
    return failed;
}
