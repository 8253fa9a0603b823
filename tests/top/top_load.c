/* A hooked process for the grey-top terminal test (tests/top/top_tests.sh): it holds MIB MiB on
 * the simulated GPU and launches one short kernel every PERIOD_MS, until SIGTERM.
 *
 *   top_load MIB PERIOD_MS
 *
 * Sleeping between launches keeps 30 of them cheap on a shared machine, while each still shows
 * memory, a launch count that grows at its own rate, and a measured share in grey-top. */
#include <cuda.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: top_load MIB PERIOD_MS\n");
        return 2;
    }
    size_t bytes = (size_t)strtoull(argv[1], NULL, 10) << 20;
    long period_ms = strtol(argv[2], NULL, 10);
    signal(SIGTERM, on_term);
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CUfunction f;
    CUdeviceptr p = 0;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx) ||
        cuModuleLoadData(&mod, "top_load") || cuModuleGetFunction(&f, mod, "work_us200")) {
        fprintf(stderr, "top_load: no simulated GPU\n");
        return 1;
    }
    if (bytes && cuMemAlloc(&p, bytes) != CUDA_SUCCESS) {
        fprintf(stderr, "top_load: cuMemAlloc of %s MiB refused\n", argv[1]);
        return 3;
    }
    struct timespec nap = {period_ms / 1000, (period_ms % 1000) * 1000000L};
    while (!stop) {
        cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL);
        cuCtxSynchronize();
        nanosleep(&nap, NULL);
    }
    if (p)
        cuMemFree(p);
    return 0;
}
