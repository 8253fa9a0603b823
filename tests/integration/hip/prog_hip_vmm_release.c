/* HIP's twin of tests/integration/prog_vmm_release.c: hipMemCreate, hipMemAddressReserve,
 * hipMemMap, then hipMemRelease at once; the memory lives until its last mapping is unmapped.
 *
 *   prog_hip_vmm_release EXPECT
 *
 * Maps up to 32 blocks of 64 MiB that way: exactly EXPECT succeed and the next hipMemCreate
 * fails with hipErrorOutOfMemory; unmapping one lets the next create succeed; unmapping all
 * brings hipMemGetInfo's free bytes back to where they started. Uses the simulator's default
 * ABI, ROCm 6's layout of hipMemAllocationProp (spelled out here: the installed headers are
 * older, as in prog_hip_families.c). */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/integration/check.h"

#define BLOCK (64ull << 20)
#define MAX_BLOCKS 32

struct alloc_prop_r6 {
    int type, requested_handle_type;
    struct { int type; int id; } location;
    void *win32;
    struct { unsigned char compression, rdma; unsigned short usage; } flags;
};

static hipError_t map_released(void **va)
{
    struct alloc_prop_r6 prop = {.type = 1 /* pinned */, .location = {.type = 1 /* device */, .id = 0}};
    hipMemGenericAllocationHandle_t h;
    hipError_t r = hipMemCreate(&h, BLOCK, (const hipMemAllocationProp *)(const void *)&prop, 0);
    if (r != hipSuccess)
        return r;
    CHECK(hipMemAddressReserve(va, BLOCK, 0, NULL, 0) == hipSuccess, "hipMemAddressReserve");
    CHECK(hipMemMap(*va, BLOCK, 0, h, 0) == hipSuccess, "hipMemMap");
    CHECK(hipMemRelease(h) == hipSuccess, "hipMemRelease of a mapped handle");
    return hipSuccess;
}

static void unmap(void *va)
{
    CHECK(hipMemUnmap(va, BLOCK) == hipSuccess, "hipMemUnmap");
    CHECK(hipMemAddressFree(va, BLOCK) == hipSuccess, "hipMemAddressFree");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: prog_hip_vmm_release EXPECT\n");
        return 2;
    }
    int expect = atoi(argv[1]);
    size_t free0, free1, total;
    CHECK(hipSetDevice(0) == hipSuccess, "hipSetDevice");
    CHECK(hipMemGetInfo(&free0, &total) == hipSuccess, "hipMemGetInfo");
    void *va[MAX_BLOCKS];
    int mapped = 0;
    hipError_t r = hipSuccess;
    while (mapped < MAX_BLOCKS && (r = map_released(&va[mapped])) == hipSuccess)
        mapped++;
    printf("mapped and released: %d of %d blocks, then error %d\n", mapped, MAX_BLOCKS, (int)r);
    CHECK(mapped == expect, "%d blocks mapped, wanted %d", mapped, expect);
    CHECK(r == hipErrorOutOfMemory, "create %d: error %d, wanted hipErrorOutOfMemory", mapped + 1, (int)r);
    if (mapped > 0) {
        CHECK(hipMemUnmap(va[0], BLOCK / 2) == hipErrorInvalidValue, "partial hipMemUnmap refused");
        unmap(va[0]);
        CHECK(map_released(&va[0]) == hipSuccess, "a block fits after one was unmapped");
    }
    for (int i = 0; i < mapped; i++)
        unmap(va[i]);
    CHECK(hipMemGetInfo(&free1, &total) == hipSuccess, "hipMemGetInfo");
    CHECK(free1 == free0, "free after unmapping everything: %zu, at the start %zu", free1, free0);
    if (!failures)
        printf("prog_hip_vmm_release: ok\n");
    return failures ? 1 : 0;
}
