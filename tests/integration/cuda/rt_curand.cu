// cuRAND on the simulated driver (make cuda-libs-tests).
//
//   rt_curand fits | small
//
// Creates a pseudo-random generator, generates 16K uniform floats into a 64 KiB device buffer
// and destroys the generator. "fits" (run under a cap with room for the generator's state):
// every call succeeds. "small" (a cap that holds the 64 KiB buffer but not the state): the
// buffer is made, and creating or generating fails with cuRAND's own
// CURAND_STATUS_ALLOCATION_FAILED, not a crash and not another status. No device code runs on
// the simulator, so the numbers themselves are not checked. Prints "rt_curand: ok".
#include <cuda_runtime.h>
#include <curand.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    bool small = argc == 2 && strcmp(argv[1], "small") == 0;
    if (argc != 2 || (!small && strcmp(argv[1], "fits") != 0)) {
        fprintf(stderr, "usage: rt_curand fits|small\n");
        return 2;
    }
    float *out = NULL;
    cudaError_t err = cudaMalloc((void **)&out, 64 << 10);
    if (err != cudaSuccess) {
        printf("FAIL: cudaMalloc of the 64 KiB output: %s\n", cudaGetErrorName(err));
        return 1;
    }
    curandGenerator_t gen;
    curandStatus_t s = curandCreateGenerator(&gen, CURAND_RNG_PSEUDO_DEFAULT);
    curandStatus_t g = s == CURAND_STATUS_SUCCESS ? curandGenerateUniform(gen, out, 16 << 10) : s;
    printf("curandCreateGenerator %d, curandGenerateUniform %d\n", (int)s, (int)g);
    int failures = 0;
    if (!small && (s != CURAND_STATUS_SUCCESS || g != CURAND_STATUS_SUCCESS)) {
        printf("FAIL: wanted both to succeed\n");
        failures++;
    }
    if (small && g != CURAND_STATUS_ALLOCATION_FAILED) {
        printf("FAIL: wanted CURAND_STATUS_ALLOCATION_FAILED (%d)\n", (int)CURAND_STATUS_ALLOCATION_FAILED);
        failures++;
    }
    if (s == CURAND_STATUS_SUCCESS && curandDestroyGenerator(gen) != CURAND_STATUS_SUCCESS) {
        printf("FAIL: curandDestroyGenerator\n");
        failures++;
    }
    cudaFree(out);
    if (!failures)
        printf("rt_curand: ok\n");
    return failures ? 1 : 0;
}
