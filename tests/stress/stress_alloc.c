/* One stress worker: THREADS threads allocating and freeing at random through the driver API
 * (cuMemAlloc / cuMemFree, so through libgreyhook.so when it is preloaded) for SECONDS, then
 * freeing everything. Run by stress_check, which kills some workers half-way.
 *
 *   stress_alloc THREADS SECONDS SEED
 *
 * Exit status 0, or 1 when the driver answered something other than success or
 * CUDA_ERROR_OUT_OF_MEMORY (a denial is expected: the budget is far smaller than the demand). */
#include <cuda.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_HELD 16
#define MiB (1024ull * 1024)

static CUcontext ctx;
static double deadline;
static _Atomic int errors;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    if (cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        errors++;
        return NULL;
    }
    CUdeviceptr held[MAX_HELD];
    int n = 0;
    while (now() < deadline) {
        if (n < MAX_HELD && (n == 0 || rand_r(&seed) % 2)) {
            size_t bytes = (1 + rand_r(&seed) % 64) * MiB;
            CUresult rc = cuMemAlloc(&held[n], bytes);
            if (rc == CUDA_SUCCESS)
                n++;
            else if (rc != CUDA_ERROR_OUT_OF_MEMORY)
                errors++;
        } else {
            int i = (int)(rand_r(&seed) % (unsigned)n);
            if (cuMemFree(held[i]) != CUDA_SUCCESS)
                errors++;
            held[i] = held[--n];
        }
    }
    while (n > 0)
        if (cuMemFree(held[--n]) != CUDA_SUCCESS)
            errors++;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: stress_alloc THREADS SECONDS SEED\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    deadline = now() + atof(argv[2]);
    unsigned seed = (unsigned)strtoul(argv[3], NULL, 10);
    CUdevice dev;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "stress_alloc: THREADS must be 1..64\n");
        return 2;
    }
    CUresult rc;
    const char *step = "cuInit";
    if ((rc = cuInit(0)) == CUDA_SUCCESS && (step = "cuDeviceGet", rc = cuDeviceGet(&dev, 0)) == CUDA_SUCCESS)
        step = "cuDevicePrimaryCtxRetain", rc = cuDevicePrimaryCtxRetain(&ctx, dev);
    if (rc != CUDA_SUCCESS) {
        fprintf(stderr, "stress_alloc: cannot set up: %s returned %d\n", step, (int)rc);
        return 1;
    }
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(seed * 64 + (unsigned)i + 1));
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    if (errors) {
        fprintf(stderr, "stress_alloc: %d unexpected driver errors\n", (int)errors);
        return 1;
    }
    return 0;
}
