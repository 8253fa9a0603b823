/* A program linked against both the CUDA driver and the HIP runtime, under a cap of 512 MiB.
 *
 * Device numbers are per process: CUDA device 0 and HIP device 0 are both grey's device 0, so
 * their allocations count against one cap (on a machine with one kind of GPU they are the same
 * device; on a mixed machine grey errs on the safe side). Checks: one 200 MiB block through each
 * API fits, a third through either is refused with that API's own out-of-memory error; both
 * memory queries report total = 512 MiB and free = 112 MiB; cuGetProcAddress and
 * hipGetProcAddress each hand out grey's wrapper for their own function (each looked up among
 * its own vendor's rows); freeing through each API gives the bytes back. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include <cuda.h>
#include <dlfcn.h>
#include <string.h>

#include "tests/integration/check.h"

#define MiB (1ull << 20)
#define BLOCK (200 * MiB)
#define CAP (512 * MiB)

hipError_t hipGetProcAddress(const char *, void **, int, uint64_t, int *); /* ROCm 6.1+ */

static bool in_hook(void *fn)
{
    Dl_info info;
    return fn && dladdr(fn, &info) && info.dli_fname && strstr(info.dli_fname, "libgreyhook.so");
}

int main(void)
{
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS ||
        hipInit(0) != hipSuccess || hipSetDevice(0) != hipSuccess) {
        printf("FAIL: cannot initialize both CUDA and HIP\n");
        return 1;
    }

    void *cu_fn = NULL, *hip_fn = NULL;
    CHECK(cuGetProcAddress("cuMemAlloc", &cu_fn, 12000, CU_GET_PROC_ADDRESS_DEFAULT, NULL) == CUDA_SUCCESS &&
              in_hook(cu_fn), "cuGetProcAddress(cuMemAlloc) did not reach the hook");
    int status = -1;
    CHECK(hipGetProcAddress("hipMalloc", &hip_fn, 600, 0, &status) == hipSuccess && in_hook(hip_fn),
          "hipGetProcAddress(hipMalloc) did not reach the hook");

    CUdeviceptr d = 0;
    void *h = NULL, *extra = NULL;
    CUdeviceptr extra_d = 0;
    CHECK(cuMemAlloc(&d, BLOCK) == CUDA_SUCCESS, "cuMemAlloc of the first 200 MiB failed");
    CHECK(hipMalloc(&h, BLOCK) == hipSuccess, "hipMalloc of the second 200 MiB failed");
    CHECK(hipMalloc(&extra, BLOCK) == hipErrorOutOfMemory, "a third 200 MiB through HIP was not refused");
    CHECK(cuMemAlloc(&extra_d, BLOCK) == CUDA_ERROR_OUT_OF_MEMORY, "a third 200 MiB through CUDA was not refused");

    size_t cf = 0, ct = 0, hf = 0, ht = 0;
    CHECK(cuMemGetInfo(&cf, &ct) == CUDA_SUCCESS && ct == CAP && cf == CAP - 2 * BLOCK,
          "cuMemGetInfo: free %zu total %zu, expected %llu of %llu", cf, ct, CAP - 2 * BLOCK, CAP);
    CHECK(hipMemGetInfo(&hf, &ht) == hipSuccess && ht == CAP && hf == CAP - 2 * BLOCK,
          "hipMemGetInfo: free %zu total %zu, expected %llu of %llu", hf, ht, CAP - 2 * BLOCK, CAP);

    CHECK(hipFree(h) == hipSuccess, "hipFree failed");
    CHECK(cuMemFree(d) == CUDA_SUCCESS, "cuMemFree failed");
    CHECK(hipMemGetInfo(&hf, &ht) == hipSuccess && hf == CAP, "hipMemGetInfo free %zu after both frees", hf);
    if (failures)
        return 1;
    printf("prog_hip_both: ok\n");
    return 0;
}
