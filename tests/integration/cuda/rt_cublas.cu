// cuBLAS handle creation on the simulated driver (make cuda-libs-tests).
//
//   rt_cublas fits | small
//
// "fits": cublasCreate succeeds (it makes its 64 MiB workspace), cublasSetStream and
// cublasDestroy succeed. "small" (a cap below the workspace): cublasCreate fails with cuBLAS's
// own CUBLAS_STATUS_ALLOC_FAILED and the process goes on. cublasSgemm is called and its status
// printed but not checked: on the simulator it still answers CUBLAS_STATUS_NOT_SUPPORTED
// (docs/cuda-runtime-on-simgpu.md). Prints "rt_cublas: ok".
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    bool small = argc == 2 && strcmp(argv[1], "small") == 0;
    if (argc != 2 || (!small && strcmp(argv[1], "fits") != 0)) {
        fprintf(stderr, "usage: rt_cublas fits|small\n");
        return 2;
    }
    int failures = 0;
    cublasHandle_t h;
    cublasStatus_t s = cublasCreate(&h);
    printf("cublasCreate: %d\n", (int)s);
    cublasStatus_t want = small ? CUBLAS_STATUS_ALLOC_FAILED : CUBLAS_STATUS_SUCCESS;
    if (s != want) {
        printf("FAIL: wanted %d\n", (int)want);
        failures++;
    }
    if (s == CUBLAS_STATUS_SUCCESS) {
        if (cublasSetStream(h, 0) != CUBLAS_STATUS_SUCCESS) {
            printf("FAIL: cublasSetStream\n");
            failures++;
        }
        float *a = NULL;
        const int n = 64;
        const float one = 1, zero = 0;
        if (cudaMalloc((void **)&a, 3 * n * n * sizeof(float)) == cudaSuccess) {
            s = cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, a + n * n, n, &zero, a + 2 * n * n, n);
            printf("cublasSgemm: %d (not checked)\n", (int)s);
            cudaFree(a);
        }
        if (cublasDestroy(h) != CUBLAS_STATUS_SUCCESS) {
            printf("FAIL: cublasDestroy\n");
            failures++;
        }
    }
    if (!failures)
        printf("rt_cublas: ok\n");
    return failures ? 1 : 0;
}
