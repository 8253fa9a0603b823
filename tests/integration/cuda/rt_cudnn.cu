// cuDNN handle creation on the simulated driver (make cuda-libs-tests).
//
//   rt_cudnn fits | small
//
// "fits": cudnnCreate and cudnnDestroy succeed. "small" (a cap below the handle's own device
// memory): cudnnCreate fails with cuDNN's CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED
// and the process goes on. Prints "rt_cudnn: ok".
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    bool small = argc == 2 && strcmp(argv[1], "small") == 0;
    if (argc != 2 || (!small && strcmp(argv[1], "fits") != 0)) {
        fprintf(stderr, "usage: rt_cudnn fits|small\n");
        return 2;
    }
    if (cudaFree(0) != cudaSuccess) {
        printf("FAIL: cudaFree(0)\n");
        return 1;
    }
    cudnnHandle_t h;
    cudnnStatus_t s = cudnnCreate(&h);
    printf("cudnnCreate: %d %s\n", (int)s, cudnnGetErrorString(s));
    cudnnStatus_t want = small ? CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED : CUDNN_STATUS_SUCCESS;
    int failures = s != want;
    if (failures)
        printf("FAIL: wanted %d %s\n", (int)want, cudnnGetErrorString(want));
    if (s == CUDNN_STATUS_SUCCESS && cudnnDestroy(h) != CUDNN_STATUS_SUCCESS) {
        printf("FAIL: cudnnDestroy\n");
        failures++;
    }
    if (!failures)
        printf("rt_cudnn: ok\n");
    return failures ? 1 : 0;
}
