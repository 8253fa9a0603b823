// Pinned host memory through the real CUDA runtime on the simulated driver.
//
//   rt_pinned CAP_BYTES
//
// cudaFree(0) (the idiom that starts the runtime) succeeds. Then more pinned host memory than
// CAP_BYTES, made with cudaMallocHost, cudaHostAlloc (mapped) and cudaHostRegister, all succeed,
// work as copy sources and targets, report their flags and device pointers, and leave
// cudaMemGetInfo's free bytes where they were; a device buffer of 3/4 of CAP_BYTES still fits
// next to them and a second one does not (cudaErrorMemoryAllocation): pinned host memory is
// not VRAM and must not count against a cap. Prints "rt_pinned: ok" when every check held.
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: " __VA_ARGS__);                                                          \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
#define OK(call) CHECK((err = (call)) == cudaSuccess, "%s: %s", #call, cudaGetErrorName(err))

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: rt_pinned CAP_BYTES\n");
        return 2;
    }
    size_t cap = strtoull(argv[1], NULL, 0), pinned = cap / 2 + (16u << 20);
    cudaError_t err;
    OK(cudaFree(0));
    size_t free0, free1, total;
    OK(cudaMemGetInfo(&free0, &total));

    char *a = NULL, *b = NULL, *c = (char *)malloc(pinned);
    OK(cudaMallocHost((void **)&a, pinned));
    OK(cudaHostAlloc((void **)&b, pinned, cudaHostAllocMapped | cudaHostAllocPortable));
    OK(cudaHostRegister(c, pinned, cudaHostRegisterDefault));
    unsigned flags = 0;
    OK(cudaHostGetFlags(&flags, b));
    CHECK(flags & cudaHostAllocMapped, "cudaHostGetFlags: 0x%x has no cudaHostAllocMapped", flags);
    void *dev_view = NULL;
    OK(cudaHostGetDevicePointer(&dev_view, b, 0));
    CHECK(dev_view != NULL, "cudaHostGetDevicePointer gave NULL");
    OK(cudaMemGetInfo(&free1, &total));
    CHECK(free1 == free0, "pinned host memory moved free device memory: %zu -> %zu", free0, free1);

    // The pinned buffers work as copy ends: a -> device -> b, c -> device -> a.
    char *d = NULL, *e = NULL;
    size_t big = cap / 4 * 3;
    OK(cudaMalloc((void **)&d, big));
    memset(a, 0x5a, 1 << 20);
    OK(cudaMemcpy(d, a, 1 << 20, cudaMemcpyHostToDevice));
    OK(cudaMemcpy(b, d, 1 << 20, cudaMemcpyDeviceToHost));
    CHECK(b[0] == 0x5a && b[(1 << 20) - 1] == 0x5a, "round trip through pinned memory");
    memset(c, 0x33, 4096);
    OK(cudaMemcpy(d, c, 4096, cudaMemcpyHostToDevice));
    OK(cudaMemcpy(a, d, 4096, cudaMemcpyDeviceToHost));
    CHECK(a[4095] == 0x33, "round trip through registered memory");
    err = cudaMalloc((void **)&e, big);
    CHECK(err == cudaErrorMemoryAllocation, "second device buffer: %s, wanted cudaErrorMemoryAllocation",
          cudaGetErrorName(err));
    (void)cudaGetLastError();

    OK(cudaFree(d));
    OK(cudaHostUnregister(c));
    OK(cudaFreeHost(b));
    OK(cudaFreeHost(a));
    free(c);
    OK(cudaFree(0));
    if (!failures)
        printf("rt_pinned: ok\n");
    return failures ? 1 : 0;
}
