/* Launches an empty kernel back to back for a while and says how many launches it made: for
 * fair share on drivers whose launches do not block (tests/integration/drivers_tests.sh).
 *
 *   prog_launch_loop FROM_NS UNTIL_NS [MAX]
 *
 * Times are CLOCK_MONOTONIC nanoseconds: launches stop at UNTIL_NS (or after MAX launches), and
 * those made from FROM_NS on are counted apart, so that a test can leave out how processes
 * started. Prints "launched N counted M". Exit status 0, or 1 when a call failed. */
#include <cuda.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: prog_launch_loop FROM_NS UNTIL_NS [MAX]\n");
        return 1;
    }
    uint64_t from = strtoull(argv[1], NULL, 10), until = strtoull(argv[2], NULL, 10);
    uint64_t max = argc == 4 ? strtoull(argv[3], NULL, 10) : UINT64_MAX;
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    CUfunction k;
    if (cuInit(0) || cuDeviceGet(&dev, 0) || cuDevicePrimaryCtxRetain(&ctx, dev) || cuCtxSetCurrent(ctx) ||
        cuModuleLoadData(&mod, "empty") || cuModuleGetFunction(&k, mod, "empty")) {
        fprintf(stderr, "prog_launch_loop: setup failed\n");
        return 1;
    }
    uint64_t n = 0, before = 0;
    bool counting = false;
    while (n < max) {
        if (n % 64 == 0) { /* the clock every 64 launches: the loop is about launches */
            uint64_t t = now_ns();
            if (t >= until)
                break;
            if (!counting && t >= from) {
                counting = true;
                before = n;
            }
        }
        if (cuLaunchKernel(k, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL) != CUDA_SUCCESS) {
            fprintf(stderr, "prog_launch_loop: launch %llu failed\n", (unsigned long long)n);
            return 1;
        }
        n++;
    }
    printf("launched %llu counted %llu\n", (unsigned long long)n, (unsigned long long)(counting ? n - before : 0));
    return 0;
}
