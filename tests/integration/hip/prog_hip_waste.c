/* The HIP twin of prog_waste (tests/integration/prog_waste.c) for what HIP feeds the waste
 * patterns: the launch clock (every HIP launch ticks it; HIP kernels' arguments are not read),
 * hipMemcpy, hipMemcpyAsync, hipMemset and hipMemsetAsync. Run by waste_tests.sh:
 *
 *   prog_hip_waste early      a 1 MiB buffer uploaded and read back 20 hipModuleLaunchKernel
 *                             launches after its allocation
 *   prog_hip_waste deadwrite  a 1 MiB buffer set by hipMemset, set again by hipMemsetAsync before
 *                             anything read it, then read by hipMemcpyAsync
 *   prog_hip_waste clean      a 1 MiB buffer uploaded at once, read back, freed
 *
 * Prints "buffer subject 0x..." and "FAIL: ..." with exit 1 on any error. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1u << 20)

#define CK(call)                                                                                   \
    do {                                                                                           \
        hipError_t rc_ = (call);                                                                   \
        if (rc_ != hipSuccess) {                                                                   \
            printf("FAIL: %s: error %d\n", #call, (int)rc_);                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

__attribute__((noinline, noipa)) static void *alloc_hip_subject(void)
{
    void *d;
    CK(hipMalloc(&d, MiB));
    return d;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    static unsigned char host[MiB];
    memset(host, 3, sizeof host);
    hipModule_t mod;
    hipFunction_t f;
    CK(hipModuleLoadData(&mod, "prog_hip_waste"));
    CK(hipModuleGetFunction(&f, mod, "filler"));
    void *s = alloc_hip_subject();
    printf("buffer subject 0x%llx\n", (unsigned long long)(uintptr_t)s);
    if (strcmp(mode, "early") == 0) {
        for (int i = 0; i < 20; i++)
            CK(hipModuleLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
        CK(hipMemcpy(s, host, MiB, hipMemcpyHostToDevice));
        CK(hipMemcpy(host, s, MiB, hipMemcpyDeviceToHost));
    } else if (strcmp(mode, "deadwrite") == 0) {
        CK(hipMemset(s, 0, MiB));
        CK(hipMemsetAsync(s, 1, MiB, NULL)); /* the first memset was for nothing */
        CK(hipMemcpyAsync(host, s, MiB, hipMemcpyDeviceToHost, NULL));
    } else if (strcmp(mode, "clean") == 0) {
        CK(hipMemcpy(s, host, MiB, hipMemcpyHostToDevice));
        CK(hipMemcpy(host, s, MiB, hipMemcpyDeviceToHost));
    } else {
        fprintf(stderr, "usage: prog_hip_waste early|deadwrite|clean\n");
        return 2;
    }
    CK(hipDeviceSynchronize());
    CK(hipFree(s));
    return 0;
}
