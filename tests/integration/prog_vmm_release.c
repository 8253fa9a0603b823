/* The programming guide's VMM pattern: cuMemCreate, cuMemAddressReserve, cuMemMap, then
 * cuMemRelease at once. The driver frees the physical memory only when the handle is released
 * AND its last mapping is unmapped, so the released-but-mapped blocks stay live.
 *
 *   prog_vmm_release EXPECT
 *
 * Maps up to 32 blocks of 64 MiB that way and checks that exactly EXPECT succeed and that the
 * next cuMemCreate fails with CUDA_ERROR_OUT_OF_MEMORY; that a released block's memory still
 * holds what was written into it; that cuMemGetAddressRange gives the mapping an address lies
 * in; that a partial unmap is refused; that unmapping one block lets
 * the next create succeed; that a create released before any mapping gives its bytes back at
 * once; that a handle handed out again by cuMemRetainAllocationHandle keeps the memory until its
 * second release, whether that comes before or after the unmap; and that unmapping everything brings cuMemGetInfo's free bytes back to where they
 * started. Run it under a 512 MiB simulated device (the driver's own count) and under
 * grey-run --cap 512MiB on a large one (grey's count): EXPECT is 8 in both. */
#include <cuda.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define BLOCK (64ull << 20)
#define MAX_BLOCKS 32

static const CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                                         .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};

/* Create, reserve, map, release: the block lives on only through its mapping at *va. */
static CUresult map_released(CUdeviceptr *va)
{
    CUmemGenericAllocationHandle h;
    CUresult r = cuMemCreate(&h, BLOCK, &prop, 0);
    if (r != CUDA_SUCCESS)
        return r;
    CHECK(cuMemAddressReserve(va, BLOCK, 0, 0, 0) == CUDA_SUCCESS, "cuMemAddressReserve");
    CHECK(cuMemMap(*va, BLOCK, 0, h, 0) == CUDA_SUCCESS, "cuMemMap");
    CUmemAccessDesc access = {.location = prop.location, .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE};
    CHECK(cuMemSetAccess(*va, BLOCK, &access, 1) == CUDA_SUCCESS, "cuMemSetAccess");
    CHECK(cuMemRelease(h) == CUDA_SUCCESS, "cuMemRelease of a mapped handle");
    return CUDA_SUCCESS;
}

static void unmap(CUdeviceptr va)
{
    CHECK(cuMemUnmap(va, BLOCK) == CUDA_SUCCESS, "cuMemUnmap");
    CHECK(cuMemAddressFree(va, BLOCK) == CUDA_SUCCESS, "cuMemAddressFree");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: prog_vmm_release EXPECT\n");
        return 2;
    }
    int expect = atoi(argv[1]);
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        printf("FAIL: no device\n");
        return 1;
    }
    size_t free0, total, free1;
    CHECK(cuMemGetInfo(&free0, &total) == CUDA_SUCCESS, "cuMemGetInfo");

    CUdeviceptr va[MAX_BLOCKS];
    int mapped = 0;
    CUresult r = CUDA_SUCCESS;
    while (mapped < MAX_BLOCKS && (r = map_released(&va[mapped])) == CUDA_SUCCESS)
        mapped++;
    printf("mapped and released: %d of %d blocks, then error %d\n", mapped, MAX_BLOCKS, (int)r);
    CHECK(mapped == expect, "%d blocks mapped, wanted %d", mapped, expect);
    CHECK(r == CUDA_ERROR_OUT_OF_MEMORY, "create %d: error %d, wanted CUDA_ERROR_OUT_OF_MEMORY", mapped + 1, (int)r);

    /* The released block is still memory: a round trip through it. */
    if (mapped > 0) {
        char in[64] = "still mapped after cuMemRelease", out[64] = {0};
        CHECK(cuMemcpyHtoD(va[0], in, sizeof in) == CUDA_SUCCESS, "cuMemcpyHtoD into a released block");
        CHECK(cuMemcpyDtoH(out, va[0], sizeof out) == CUDA_SUCCESS, "cuMemcpyDtoH");
        CHECK(memcmp(in, out, sizeof in) == 0, "a released block kept its bytes");
        /* The range an address inside a mapping lies in is that mapping (what NCCL frees by). */
        CUdeviceptr base = 0;
        size_t size = 0;
        CHECK(cuMemGetAddressRange(&base, &size, va[0] + 4096) == CUDA_SUCCESS && base == va[0] && size == BLOCK,
              "cuMemGetAddressRange inside a mapping: %llx+%zu", (unsigned long long)base, size);
        /* Half a mapping cannot be unmapped (cuMemUnmap: the whole range that was mapped). */
        CHECK(cuMemUnmap(va[0], BLOCK / 2) == CUDA_ERROR_INVALID_VALUE, "partial cuMemUnmap refused");
        CUdeviceptr again;
        CHECK(cuMemCreate(&(CUmemGenericAllocationHandle){0}, BLOCK, &prop, 0) == CUDA_ERROR_OUT_OF_MEMORY,
              "still full after the refused unmap");
        /* Unmapping the last mapping frees the block: the next one fits. */
        unmap(va[0]);
        CHECK(map_released(&again) == CUDA_SUCCESS, "a block fits after one was unmapped");
        va[0] = again;
    }

    /* Released before it was ever mapped: freed at once, the next create fits again. */
    if (mapped > 0) {
        unmap(va[mapped - 1]);
        CUmemGenericAllocationHandle h;
        CHECK(cuMemCreate(&h, BLOCK, &prop, 0) == CUDA_SUCCESS, "create into the freed block");
        CHECK(cuMemRelease(h) == CUDA_SUCCESS, "release of an unmapped handle");
        CHECK(map_released(&va[mapped - 1]) == CUDA_SUCCESS, "its bytes came back at once");
    }

    /* cuMemRetainAllocationHandle: one more reference, released last or before the unmap. */
    if (mapped > 0) {
        CUmemGenericAllocationHandle again;
        CHECK(cuMemRetainAllocationHandle(&again, (void *)(uintptr_t)(va[0] + 4096)) == CUDA_SUCCESS,
              "cuMemRetainAllocationHandle");
        unmap(va[0]);
        CHECK(cuMemCreate(&(CUmemGenericAllocationHandle){0}, BLOCK, &prop, 0) == CUDA_ERROR_OUT_OF_MEMORY,
              "the retained handle still holds its block after the unmap");
        CHECK(cuMemRelease(again) == CUDA_SUCCESS, "release of the retained handle");
        CHECK(map_released(&va[0]) == CUDA_SUCCESS, "its block came back at that release");

        CHECK(cuMemRetainAllocationHandle(&again, (void *)(uintptr_t)va[0]) == CUDA_SUCCESS,
              "cuMemRetainAllocationHandle of a released, mapped handle");
        CHECK(cuMemRelease(again) == CUDA_SUCCESS, "its release");
        CHECK(cuMemCreate(&(CUmemGenericAllocationHandle){0}, BLOCK, &prop, 0) == CUDA_ERROR_OUT_OF_MEMORY,
              "still mapped, still counted");
        CUmemGenericAllocationHandle none;
        int local;
        CHECK(cuMemRetainAllocationHandle(&none, &local) != CUDA_SUCCESS, "an address not mapped is refused");
    }

    for (int i = 0; i < mapped; i++)
        unmap(va[i]);
    CHECK(cuMemGetInfo(&free1, &total) == CUDA_SUCCESS, "cuMemGetInfo");
    CHECK(free1 == free0, "free after unmapping everything: %zu, at the start %zu", free1, free0);
    if (!failures)
        printf("prog_vmm_release: ok\n");
    return failures ? 1 : 0;
}
