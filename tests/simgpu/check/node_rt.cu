// The real CUDA runtime's view of the simulated node (built with nvcc, run by node_tests.sh):
// one line per device the runtime enumerates, "rt ORDINAL uuid=... pci=... vram=...", from
// cudaGetDeviceProperties, after a cudaMalloc, a kernel launch and a copy back on each device.
// Getting that far means the runtime accepted the driver's integrity check (whose hash covers
// every visible device's UUID and PCI address), so running this under CUDA_VISIBLE_DEVICES
// subsets and reorderings checks that the check holds for them. Prints "FAIL: ..." and exits 1
// on any error.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            printf("FAIL: %s: %s\n", #call, cudaGetErrorName(e_));                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

__global__ void touch(int *p) { *p = 1; }

int main()
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        printf("rt-init %s\n", cudaGetErrorName(e));
        return 0;
    }
    printf("rt-count %d\n", n);
    for (int i = 0; i < n; i++) {
        CK(cudaSetDevice(i));
        int *p = nullptr, v = 0;
        CK(cudaMalloc(&p, sizeof *p));
        touch<<<1, 1>>>(p);
        CK(cudaGetLastError());
        CK(cudaMemcpy(&v, p, sizeof v, cudaMemcpyDeviceToHost));
        CK(cudaFree(p));
        cudaDeviceProp prop;
        CK(cudaGetDeviceProperties(&prop, i));
        const unsigned char *u = reinterpret_cast<const unsigned char *>(prop.uuid.bytes);
        printf("rt %d uuid=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x "
               "pci=%04x:%02x:%02x.0 vram=%zu\n",
               i, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
               u[15], prop.pciDomainID, prop.pciBusID, prop.pciDeviceID, prop.totalGlobalMem);
    }
    return 0;
}
