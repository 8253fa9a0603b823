/* Allocates ten 200 MiB blocks through one of the ways programs reach the driver, and checks
 * what a capped (or uncapped) process must see.
 *
 *   prog_caps PATH EXPECTED_CAP_BYTES
 *
 * PATH: linked      the exported symbols the program was linked against
 *       dlsym       dlopen("libcuda.so.1") + dlsym("cuMemAlloc_v2", ...)
 *       procaddr    cuGetProcAddress (CUDA 11.3 signature) from dlsym, as runtimes up to 12.4 do
 *       procaddr_v2 cuGetProcAddress_v2 obtained from cuGetProcAddress itself at version 12000,
 *                   as the CUDA 12.5+ runtime does, with the per-thread-stream flag set
 * EXPECTED_CAP_BYTES: the cap the process runs under, or 0 for none.
 *
 * Checks: floor(cap / 200 MiB) blocks succeed and every further one fails with
 * CUDA_ERROR_OUT_OF_MEMORY; cuMemGetInfo reports total = cap and free = cap - used; bad input
 * (NULL pointer, zero size, unknown and double frees) gets the driver's own error and moves no
 * counter; freed bytes can be allocated again. Prints "FAIL: ..." and exits 1 on any mismatch. */
#include <cuda.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (200ull << 20)
#define BLOCKS 10

typedef CUresult (*alloc_fn)(CUdeviceptr *, size_t);
typedef CUresult (*free_fn)(CUdeviceptr);
typedef CUresult (*info_fn)(size_t *, size_t *);
typedef CUresult (*total_fn)(size_t *, CUdevice);
typedef CUresult (*procaddr_v1_fn)(const char *, void **, int, cuuint64_t);
typedef CUresult (*procaddr_v2_fn)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *);

struct api {
    alloc_fn alloc;
    free_fn free;
    info_fn info;
    total_fn total;
};

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: " __VA_ARGS__);                                                          \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void *must(void *p, const char *what)
{
    if (!p) {
        printf("FAIL: could not resolve %s\n", what);
        exit(1);
    }
    return p;
}

static void resolve(const char *path, struct api *api)
{
    if (strcmp(path, "linked") == 0) {
        api->alloc = cuMemAlloc;
        api->free = cuMemFree;
        api->info = cuMemGetInfo;
        api->total = cuDeviceTotalMem;
        return;
    }
    void *h = must(dlopen("libcuda.so.1", RTLD_NOW), "libcuda.so.1");
    if (strcmp(path, "dlsym") == 0) {
        api->alloc = (alloc_fn)must(dlsym(h, "cuMemAlloc_v2"), "cuMemAlloc_v2");
        api->free = (free_fn)must(dlsym(h, "cuMemFree_v2"), "cuMemFree_v2");
        api->info = (info_fn)must(dlsym(h, "cuMemGetInfo_v2"), "cuMemGetInfo_v2");
        api->total = (total_fn)must(dlsym(h, "cuDeviceTotalMem_v2"), "cuDeviceTotalMem_v2");
        return;
    }
    procaddr_v1_fn v1 = (procaddr_v1_fn)must(dlsym(h, "cuGetProcAddress"), "cuGetProcAddress");
    if (strcmp(path, "procaddr") == 0) {
        void *p[4] = {0};
        const char *names[4] = {"cuMemAlloc", "cuMemFree", "cuMemGetInfo", "cuDeviceTotalMem"};
        for (int i = 0; i < 4; i++)
            if (v1(names[i], &p[i], 11030, CU_GET_PROC_ADDRESS_DEFAULT) != CUDA_SUCCESS || !p[i])
                must(NULL, names[i]);
        api->alloc = (alloc_fn)p[0];
        api->free = (free_fn)p[1];
        api->info = (info_fn)p[2];
        api->total = (total_fn)p[3];
        return;
    }
    if (strcmp(path, "procaddr_v2") == 0) {
        void *vp = NULL;
        if (v1("cuGetProcAddress", &vp, 12000, CU_GET_PROC_ADDRESS_DEFAULT) != CUDA_SUCCESS)
            must(NULL, "cuGetProcAddress at 12000");
        procaddr_v2_fn v2 = (procaddr_v2_fn)must(vp, "cuGetProcAddress_v2");
        void *p[4] = {0};
        const char *names[4] = {"cuMemAlloc", "cuMemFree", "cuMemGetInfo", "cuDeviceTotalMem"};
        for (int i = 0; i < 4; i++) {
            CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
            if (v2(names[i], &p[i], 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st) != CUDA_SUCCESS ||
                st != CU_GET_PROC_ADDRESS_SUCCESS || !p[i])
                must(NULL, names[i]);
        }
        api->alloc = (alloc_fn)p[0];
        api->free = (free_fn)p[1];
        api->info = (info_fn)p[2];
        api->total = (total_fn)p[3];
        return;
    }
    printf("FAIL: unknown path '%s'\n", path);
    exit(2);
}

static size_t free_now(const struct api *api, size_t *total)
{
    size_t f = 0, t = 0;
    CUresult rc = api->info(&f, &t);
    CHECK(rc == CUDA_SUCCESS, "cuMemGetInfo returned %d", rc);
    if (total)
        *total = t;
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: prog_caps linked|dlsym|procaddr|procaddr_v2 EXPECTED_CAP_BYTES\n");
        return 2;
    }
    const char *path = argv[1];
    unsigned long long cap = strtoull(argv[2], NULL, 10);

    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        printf("FAIL: cannot set up a context\n");
        return 1;
    }
    struct api api;
    resolve(path, &api);

    size_t total = 0, physical = 0;
    size_t free0 = free_now(&api, &total);
    CHECK(api.total(&physical, dev) == CUDA_SUCCESS, "cuDeviceTotalMem failed");
    if (cap) {
        CHECK(total == cap, "cuMemGetInfo total %zu, expected the cap %llu", total, cap);
        CHECK(physical == cap, "cuDeviceTotalMem %zu, expected the cap %llu", physical, cap);
        CHECK(free0 == cap, "cuMemGetInfo free %zu before any allocation, expected %llu", free0, cap);
    }

    unsigned expected_ok = cap ? (unsigned)(cap / BLOCK) : BLOCKS;
    if (expected_ok > BLOCKS)
        expected_ok = BLOCKS;
    CUdeviceptr blocks[BLOCKS] = {0};
    unsigned ok = 0;
    for (unsigned i = 0; i < BLOCKS; i++) {
        CUresult rc = api.alloc(&blocks[i], BLOCK);
        if (i < expected_ok)
            CHECK(rc == CUDA_SUCCESS, "block %u: %d, expected success", i, rc);
        else
            CHECK(rc == CUDA_ERROR_OUT_OF_MEMORY, "block %u: %d, expected CUDA_ERROR_OUT_OF_MEMORY", i, rc);
        if (rc == CUDA_SUCCESS)
            ok++;
        else
            blocks[i] = 0;
    }
    if (cap)
        CHECK(free_now(&api, NULL) == cap - ok * BLOCK, "free after %u blocks is not cap - used", ok);

    /* Bad input: the driver's own error, and no counter moves. */
    size_t before = free_now(&api, NULL);
    CHECK(api.alloc(NULL, BLOCK) == CUDA_ERROR_INVALID_VALUE, "NULL pointer not refused as invalid value");
    CUdeviceptr p0 = 0;
    CHECK(api.alloc(&p0, 0) == CUDA_ERROR_INVALID_VALUE, "zero size not refused as invalid value");
    CHECK(api.free((CUdeviceptr)0x1234500) == CUDA_ERROR_INVALID_VALUE, "unknown pointer free not refused");
    CHECK(free_now(&api, NULL) == before, "bad input moved the accounting");

    /* Free one block, free it again, and the bytes come back exactly once. */
    if (ok > 0) {
        CHECK(api.free(blocks[0]) == CUDA_SUCCESS, "free of block 0 failed");
        CHECK(api.free(blocks[0]) == CUDA_ERROR_INVALID_VALUE, "double free not refused");
        if (cap)
            CHECK(free_now(&api, NULL) == before + BLOCK, "free did not give 200 MiB back exactly once");
        CHECK(api.alloc(&blocks[0], BLOCK) == CUDA_SUCCESS, "freed bytes could not be allocated again");
        if (cap && expected_ok < BLOCKS) {
            CUdeviceptr extra;
            CHECK(api.alloc(&extra, BLOCK) == CUDA_ERROR_OUT_OF_MEMORY, "cap not enforced after reallocation");
        }
    }
    for (unsigned i = 0; i < BLOCKS; i++)
        if (blocks[i])
            api.free(blocks[i]);
    if (cap)
        CHECK(free_now(&api, NULL) == cap, "free memory not back to the cap after freeing everything");

    if (failures) {
        printf("prog_caps %s: %d failure(s)\n", path, failures);
        return 1;
    }
    printf("prog_caps %s: ok (%u of %u blocks of 200 MiB)\n", path, ok, BLOCKS);
    return 0;
}
