// The buffer report with the real CUDA runtime (built with nvcc -g, static and shared cudart),
// on the simulated driver: the runtime tears its contexts down in an atexit handler of its own,
// so grey's exit snapshot must come before it, and a cudaDeviceReset must be caught as it
// happens.
//
//   rt_dedup END
//
// Four 4 MiB buffers from load_embeddings(): the first filled by cudaMemcpy from the host, the
// second by cudaMemcpyAsync of the same bytes, the third copied from the first on the device,
// the fourth given other bytes. END: "exit" returns with everything allocated, "reset" calls
// cudaDeviceReset first. Prints the buffers ("buffer NAME 0x...") and "rt_dedup: ok".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

static const size_t kSize = 4u << 20;

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            printf("FAIL: %s: %s\n", #call, cudaGetErrorString(e_));                               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

__attribute__((noinline)) static void *load_embeddings(void)
{
    void *p = nullptr;
    CK(cudaMalloc(&p, kSize));
    return p;
}

int main(int argc, char **argv)
{
    const char *end = argc > 1 ? argv[1] : "exit";
    unsigned char *same = (unsigned char *)malloc(kSize), *other = (unsigned char *)malloc(kSize);
    for (size_t i = 0; i < kSize; i++) {
        same[i] = (unsigned char)(i * 17 + (i >> 10));
        other[i] = (unsigned char)(i * 29 + 3);
    }
    void *b[4];
    for (int i = 0; i < 4; i++)
        b[i] = load_embeddings();
    cudaStream_t s;
    CK(cudaStreamCreate(&s));
    CK(cudaMemcpy(b[0], same, kSize, cudaMemcpyHostToDevice));
    CK(cudaMemcpyAsync(b[1], same, kSize, cudaMemcpyHostToDevice, s));
    CK(cudaStreamSynchronize(s));
    CK(cudaMemcpy(b[2], b[0], kSize, cudaMemcpyDeviceToDevice));
    CK(cudaMemcpy(b[3], other, kSize, cudaMemcpyHostToDevice));
    for (int i = 0; i < 4; i++)
        printf("buffer b%d %p\n", i, b[i]);
    if (strcmp(end, "reset") == 0)
        CK(cudaDeviceReset());
    printf("rt_dedup: ok\n");
    return 0;
}
