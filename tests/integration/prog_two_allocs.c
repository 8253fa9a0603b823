/* Allocates twice with a pause between, for tests that change the ledger under a live process
 * (tests/hardening/run.sh truncates it).
 *
 *   prog_two_allocs FIRST SECOND GO_FILE
 *
 * cuMemAlloc(FIRST) on device 0, then waits (up to 20 s) until GO_FILE exists, then
 * cuMemAlloc(SECOND), frees both and exits. Prints "first ok|denied", "second ok|denied" on
 * stdout. Exit status: 0 when both calls returned (whatever they returned), 1 on any other
 * failure (a driver error other than out-of-memory, a missing GO_FILE). */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int alloc(const char *name, size_t bytes, CUdeviceptr *p)
{
    CUresult r = cuMemAlloc(p, bytes);
    if (r != CUDA_SUCCESS && r != CUDA_ERROR_OUT_OF_MEMORY) {
        fprintf(stderr, "prog_two_allocs: %s cuMemAlloc: error %d\n", name, (int)r);
        return -1;
    }
    printf("%s %s\n", name, r == CUDA_SUCCESS ? "ok" : "denied");
    fflush(stdout);
    if (r != CUDA_SUCCESS)
        *p = 0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: prog_two_allocs FIRST SECOND GO_FILE\n");
        return 1;
    }
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        fprintf(stderr, "prog_two_allocs: no device\n");
        return 1;
    }
    CUdeviceptr a = 0, b = 0;
    if (alloc("first", strtoull(argv[1], NULL, 10), &a) != 0)
        return 1;
    int waited = 0;
    while (access(argv[3], F_OK) != 0) {
        if (++waited > 2000) {
            fprintf(stderr, "prog_two_allocs: %s never appeared\n", argv[3]);
            return 1;
        }
        usleep(10000);
    }
    if (alloc("second", strtoull(argv[2], NULL, 10), &b) != 0)
        return 1;
    if (a)
        cuMemFree(a);
    if (b)
        cuMemFree(b);
    return 0;
}
