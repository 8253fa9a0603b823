// __device__ and __constant__ variables through the real runtime on the simulated driver
// (make cuda-libs-tests): cudaGetSymbolSize gives each variable's declared size,
// cudaMemcpyToSymbol / cudaMemcpyFromSymbol round-trip through them (at an offset too),
// cudaGetSymbolAddress gives an address cudaMemcpy can use, and a copy past the end is
// refused. The simulator finds the variables in the program's cubin (tests/simgpu/sim_fatbin.c).
//
//   rt_symbol [FATBIN]
//
// With FATBIN (module_globals.fatbin), also through the driver API: cuModuleLoadData of it,
// cuModuleGetGlobal of `counters` (32 doubles) and of a name it does not have.
// Prints "rt_symbol: ok".
#include <cuda.h>
#include <cuda_runtime.h>
#include <stdlib.h>
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

/* The driver API on an image read from a file: cuModuleGetGlobal finds its variable. */
static void module_globals(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static char image[1 << 20];
    size_t n = fread(image, 1, sizeof image, f);
    fclose(f);
    CHECK(n > 0 && n < sizeof image, "read %zu bytes of %s", n, path);
    CUmodule mod;
    CUresult r = cuModuleLoadData(&mod, image);
    CHECK(r == CUDA_SUCCESS, "cuModuleLoadData: %d", (int)r);
    if (r != CUDA_SUCCESS)
        return;
    CUdeviceptr d = 0;
    size_t bytes = 0;
    r = cuModuleGetGlobal(&d, &bytes, mod, "counters");
    CHECK(r == CUDA_SUCCESS && d && bytes == 32 * sizeof(double), "cuModuleGetGlobal(counters): %d, %zu bytes",
          (int)r, bytes);
    r = cuModuleGetGlobal(&d, &bytes, mod, "no_such_variable");
    CHECK(r == CUDA_ERROR_NOT_FOUND, "cuModuleGetGlobal of an unknown name: %d", (int)r);
    CHECK(cuModuleUnload(mod) == CUDA_SUCCESS, "cuModuleUnload");
}

int main(int argc, char **argv)
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
    if (argc > 1 && argv[1][0])
        module_globals(argv[1]);
    if (!failures)
        printf("rt_symbol: ok\n");
    return failures ? 1 : 0;
}
