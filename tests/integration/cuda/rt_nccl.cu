// NCCL on the simulated driver and NVML (make cuda-libs-tests).
//
//   rt_nccl NGPUS fits | small
//
// "fits": ncclGetVersion says 2.x, ncclCommInitAll over the first NGPUS simulated GPUs returns
// ncclSuccess, one ncclAllReduce (sum of 1024 floats) per GPU inside a group, then each stream's
// cudaStreamSynchronize, return success, and ncclCommDestroy does too. The simulator runs no
// device code, so the sums are not checked. "small" (a cap below NCCL's own buffers):
// ncclCommInitAll fails with NCCL's own ncclUnhandledCudaError (its cudaMalloc failed) and the
// process goes on. Prints
// "rt_nccl: ok".
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GPUS 8

int main(int argc, char **argv)
{
    bool small = argc == 3 && strcmp(argv[2], "small") == 0;
    int n = argc == 3 ? atoi(argv[1]) : 0;
    if (n < 1 || n > MAX_GPUS || (!small && strcmp(argv[2], "fits") != 0)) {
        fprintf(stderr, "usage: rt_nccl NGPUS fits|small\n");
        return 2;
    }
    int failures = 0, version = 0;
    ncclResult_t s = ncclGetVersion(&version);
    printf("ncclGetVersion: %d (%d)\n", (int)s, version);
    if (s != ncclSuccess || version / 10000 != 2) {
        printf("FAIL: ncclGetVersion\n");
        failures++;
    }
    ncclComm_t comms[MAX_GPUS];
    int devs[MAX_GPUS];
    for (int i = 0; i < n; i++)
        devs[i] = i;
    s = ncclCommInitAll(comms, n, devs);
    printf("ncclCommInitAll(%d): %d (%s)\n", n, (int)s, ncclGetErrorString(s));
    ncclResult_t want = small ? ncclUnhandledCudaError : ncclSuccess;
    if (s != want) {
        printf("FAIL: wanted %d (%s)\n", (int)want, ncclGetErrorString(want));
        failures++;
    }
    if (s == ncclSuccess) {
        const size_t count = 1024;
        float *buf[MAX_GPUS] = {0};
        cudaStream_t streams[MAX_GPUS];
        for (int i = 0; i < n; i++) {
            cudaSetDevice(i);
            if (cudaMalloc((void **)&buf[i], 2 * count * sizeof(float)) != cudaSuccess ||
                cudaStreamCreate(&streams[i]) != cudaSuccess) {
                printf("FAIL: cudaMalloc/cudaStreamCreate on %d\n", i);
                return 1;
            }
        }
        ncclResult_t g = ncclGroupStart();
        for (int i = 0; i < n && g == ncclSuccess; i++) {
            s = ncclAllReduce(buf[i], buf[i] + count, count, ncclFloat, ncclSum, comms[i], streams[i]);
            if (s != ncclSuccess) {
                printf("FAIL: ncclAllReduce on %d: %d (%s)\n", i, (int)s, ncclGetErrorString(s));
                failures++;
            }
        }
        s = ncclGroupEnd();
        printf("ncclGroupEnd: %d (%s)\n", (int)s, ncclGetErrorString(s));
        if (g != ncclSuccess || s != ncclSuccess) {
            printf("FAIL: group\n");
            failures++;
        }
        for (int i = 0; i < n; i++) {
            cudaSetDevice(i);
            cudaError_t e = cudaStreamSynchronize(streams[i]);
            if (e != cudaSuccess) {
                printf("FAIL: cudaStreamSynchronize on %d: %d\n", i, (int)e);
                failures++;
            }
        }
        for (int i = 0; i < n; i++) {
            s = ncclCommDestroy(comms[i]);
            if (s != ncclSuccess) {
                printf("FAIL: ncclCommDestroy on %d: %d\n", i, (int)s);
                failures++;
            }
            cudaSetDevice(i);
            cudaFree(buf[i]);
            cudaStreamDestroy(streams[i]);
        }
    }
    if (!failures)
        printf("rt_nccl: ok\n");
    return failures ? 1 : 0;
}
