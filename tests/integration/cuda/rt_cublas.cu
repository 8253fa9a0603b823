// cuBLAS on the simulated driver (make cuda-libs-tests).
//
//   rt_cublas fits | small
//
// "fits": cublasCreate succeeds (it makes its 64 MiB workspace), cublasSetStream succeeds, a
// 64x64 cublasSgemm on cudaMalloc'd A, B, C returns CUBLAS_STATUS_SUCCESS and
// cudaDeviceSynchronize cudaSuccess (the simulator runs no device code: C is not checked), and
// cublasDestroy succeeds. "small" (a cap below the workspace): cublasCreate fails with cuBLAS's
// own CUBLAS_STATUS_ALLOC_FAILED and the process goes on. cuBLAS 13 makes its workspace in
// cublasCreate; the gemm itself allocates nothing. Prints "rt_cublas: ok".
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
            printf("cublasSgemm: %d\n", (int)s);
            if (s != CUBLAS_STATUS_SUCCESS) {
                printf("FAIL: cublasSgemm\n");
                failures++;
            }
            cudaError_t e = cudaDeviceSynchronize();
            if (e != cudaSuccess) {
                printf("FAIL: cudaDeviceSynchronize: %d\n", (int)e);
                failures++;
            }
            cudaFree(a);
        } else {
            printf("FAIL: cudaMalloc\n");
            failures++;
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
