// cuFFT on the simulated driver (make cuda-libs-tests).
//
//   rt_cufft fits | small
//
// "fits": for a 1024-point (no workspace) and a 1000003-point (prime: Bluestein's algorithm, with
// two 15.4 MiB device buffers of its own and a 30.9 MiB workspace) single C2C transform, cufftPlan1d succeeds, a
// forward cufftExecC2C on cudaMalloc'd data returns CUFFT_SUCCESS and cudaDeviceSynchronize
// cudaSuccess (the simulator runs no device code: the transform is not checked), and cufftDestroy
// succeeds. Peak device memory: about 135 MiB.
//
// "small" (a cap below cuFFT's own device memory, 1 MiB): the prime plan's cufftPlan1d returns
// CUFFT_ALLOC_FAILED (its first allocation, the first 15.4 MiB buffer, is denied) and the process goes
// on. The 1024-point plan must fail too; cuFFT 12 reports the denial of its 6.6 MiB table, or of
// a workspace, as CUFFT_INTERNAL_ERROR (read from libcufft.so.12: any failed cuMemAlloc_v2 on those
// paths sets that status; docs/simgpu.md), so either status is accepted for it.
// Prints "rt_cufft: ok".
#include <cuda_runtime.h>
#include <cufft.h>
#include <stdio.h>
#include <string.h>

// One plan-exec-destroy round; returns the number of failures.
static int transform(int n, bool small)
{
    int failures = 0;
    cufftHandle plan;
    cufftResult s = cufftPlan1d(&plan, n, CUFFT_C2C, 1);
    printf("cufftPlan1d(%d): %d\n", n, (int)s);
    if (small) {
        // the prime plan's allocation failure is cuFFT's own status; the 1024-point one may be either
        bool ok = s == CUFFT_ALLOC_FAILED || (n == 1024 && s == CUFFT_INTERNAL_ERROR);
        if (!ok) {
            printf("FAIL: wanted %d\n", (int)CUFFT_ALLOC_FAILED);
            failures++;
        }
        if (s == CUFFT_SUCCESS)
            cufftDestroy(plan);
        return failures;
    }
    if (s != CUFFT_SUCCESS) {
        printf("FAIL: wanted %d\n", (int)CUFFT_SUCCESS);
        return 1;
    }
    cufftComplex *data = NULL;
    cudaError_t e = cudaMalloc((void **)&data, (size_t)n * sizeof(cufftComplex));
    if (e == cudaSuccess) {
        s = cufftExecC2C(plan, data, data, CUFFT_FORWARD);
        printf("cufftExecC2C(%d): %d\n", n, (int)s);
        if (s != CUFFT_SUCCESS) {
            printf("FAIL: cufftExecC2C\n");
            failures++;
        } else if ((e = cudaDeviceSynchronize()) != cudaSuccess) {
            printf("FAIL: cudaDeviceSynchronize: %d\n", (int)e);
            failures++;
        }
        cudaFree(data);
    } else {
        printf("FAIL: cudaMalloc: %d\n", (int)e);
        failures++;
    }
    s = cufftDestroy(plan);
    if (s != CUFFT_SUCCESS) {
        printf("FAIL: cufftDestroy: %d\n", (int)s);
        failures++;
    }
    return failures;
}

int main(int argc, char **argv)
{
    bool small = argc == 2 && strcmp(argv[1], "small") == 0;
    if (argc != 2 || (!small && strcmp(argv[1], "fits") != 0)) {
        fprintf(stderr, "usage: rt_cufft fits|small\n");
        return 2;
    }
    int failures = transform(1024, small) + transform(1000003, small);
    if (!failures)
        printf("rt_cufft: ok\n");
    return failures ? 1 : 0;
}
