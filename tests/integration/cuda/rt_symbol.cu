// __device__ and __constant__ variables through the real runtime on the simulated driver
// (make cuda-libs-tests): cudaGetSymbolSize gives each variable's declared size,
// cudaMemcpyToSymbol / cudaMemcpyFromSymbol round-trip through them (at an offset too),
// cudaGetSymbolAddress gives an address cudaMemcpy can use, and a copy past the end is
// refused. The simulator finds the variables in the program's cubin (tests/simgpu/sim_fatbin.c).
// Prints "rt_symbol: ok".
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

__device__ int table[100];
__constant__ float weights[16];

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: " __VA_ARGS__);                                                          \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(void)
{
    size_t size = 0;
    cudaError_t err = cudaGetSymbolSize(&size, table);
    CHECK(err == cudaSuccess && size == sizeof(int) * 100, "cudaGetSymbolSize(table): %s, %zu",
          cudaGetErrorName(err), size);
    err = cudaGetSymbolSize(&size, weights);
    CHECK(err == cudaSuccess && size == sizeof(float) * 16, "cudaGetSymbolSize(weights): %s, %zu",
          cudaGetErrorName(err), size);

    int in[100], out[100];
    for (int i = 0; i < 100; i++)
        in[i] = i * 7;
    err = cudaMemcpyToSymbol(table, in, sizeof in);
    CHECK(err == cudaSuccess, "cudaMemcpyToSymbol: %s", cudaGetErrorName(err));
    memset(out, 0, sizeof out);
    err = cudaMemcpyFromSymbol(out, table, sizeof out);
    CHECK(err == cudaSuccess && memcmp(in, out, sizeof in) == 0, "cudaMemcpyFromSymbol: %s", cudaGetErrorName(err));

    float w[4] = {1, 2, 3, 4}, back[4] = {0};
    err = cudaMemcpyToSymbol(weights, w, sizeof w, 8 * sizeof(float));
    CHECK(err == cudaSuccess, "cudaMemcpyToSymbol at an offset: %s", cudaGetErrorName(err));
    void *addr = NULL;
    err = cudaGetSymbolAddress(&addr, weights);
    CHECK(err == cudaSuccess && addr, "cudaGetSymbolAddress: %s", cudaGetErrorName(err));
    if (addr) {
        err = cudaMemcpy(back, (float *)addr + 8, sizeof back, cudaMemcpyDeviceToHost);
        CHECK(err == cudaSuccess && memcmp(w, back, sizeof w) == 0, "cudaMemcpy from the symbol's address: %s",
              cudaGetErrorName(err));
    }
    err = cudaMemcpyToSymbol(weights, w, sizeof w, 14 * sizeof(float));
    CHECK(err != cudaSuccess, "a copy past the end of weights was accepted");
    (void)cudaGetLastError();
    if (!failures)
        printf("rt_symbol: ok\n");
    return failures ? 1 : 0;
}
