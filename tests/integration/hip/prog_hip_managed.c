/* Managed memory under GREY_COUNT_MANAGED, beside device memory, in one capped process.
 *
 *   prog_hip_managed counted|uncounted CAP_BYTES
 *
 * The simulated runtime's hipMallocManaged allocates through the exported hipMalloc (as ROCm's
 * was reported to), so a hook that counted the runtime's inner call would count managed memory
 * even with GREY_COUNT_MANAGED=0, or twice without it. Checks, in order:
 *   - ten 200 MiB hipMallocManaged blocks: counted, floor(cap / 200 MiB) of them succeed and
 *     hipMemGetInfo's free drops by each; uncounted (GREY_COUNT_MANAGED=0), all ten succeed and
 *     free stays at the cap;
 *   - all but one freed: free is back to the cap less that one (counted) or the cap;
 *   - with that one held, hipMalloc and then hipMallocAsync blocks: exactly what the cap has left
 *     (all of it when managed memory is not counted) succeed, each counted once;
 *   - everything freed: free is back at the cap.
 * Prints "FAIL: ..." and exits 1 on any mismatch. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include <stdlib.h>
#include <string.h>

#include "tests/integration/check.h"

#define BLOCK (200ull << 20)
#define BLOCKS 10

static size_t free_now(void)
{
    size_t f = 0, t = 0;
    CHECK(hipMemGetInfo(&f, &t) == hipSuccess, "hipMemGetInfo failed");
    return f;
}

/* Allocates up to BLOCKS blocks with make; expects exactly want to succeed, the rest to be
 * refused with hipErrorOutOfMemory. Returns how many succeeded. */
static unsigned fill(const char *what, void **blocks, unsigned want, hipError_t (*make)(void **))
{
    unsigned got = 0;
    for (unsigned i = 0; i < BLOCKS; i++) {
        hipError_t rc = make(&blocks[i]);
        if (i < want)
            CHECK(rc == hipSuccess, "%s block %u: %d, expected success", what, i, rc);
        else
            CHECK(rc == hipErrorOutOfMemory, "%s block %u: %d, expected hipErrorOutOfMemory", what, i, rc);
        if (rc == hipSuccess)
            got++;
        else
            blocks[i] = NULL;
    }
    return got;
}

static hipStream_t stream;
static hipError_t make_managed(void **p) { return hipMallocManaged(p, BLOCK, hipMemAttachGlobal); }
static hipError_t make_device(void **p) { return hipMalloc(p, BLOCK); }
static hipError_t make_async(void **p) { return hipMallocAsync(p, BLOCK, stream); }

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "counted") != 0 && strcmp(argv[1], "uncounted") != 0)) {
        fprintf(stderr, "usage: prog_hip_managed counted|uncounted CAP_BYTES\n");
        return 2;
    }
    bool counted = strcmp(argv[1], "counted") == 0;
    unsigned long long cap = strtoull(argv[2], NULL, 10);
    unsigned room = (unsigned)(cap / BLOCK);
    if (hipInit(0) != hipSuccess || hipStreamCreate(&stream) != hipSuccess) {
        printf("FAIL: cannot initialize HIP\n");
        return 1;
    }
    CHECK(free_now() == cap, "free %zu before anything, expected the cap %llu", free_now(), cap);

    void *managed[BLOCKS], *device[BLOCKS], *async[BLOCKS];
    unsigned m = fill("hipMallocManaged", managed, counted ? room : BLOCKS, make_managed);
    unsigned used = counted ? m : 0;
    CHECK(free_now() == cap - used * BLOCK, "after %u managed blocks free is %zu, expected %llu (%s)", m, free_now(),
          cap - used * BLOCK, counted ? "each counted once" : "none counted");

    /* Keep one managed block: what the cap has left for device memory says how it was counted. */
    for (unsigned i = 1; i < BLOCKS; i++)
        if (managed[i]) {
            CHECK(hipFree(managed[i]) == hipSuccess, "hipFree of managed block %u", i);
            managed[i] = NULL;
        }
    used = counted && m ? 1 : 0;
    CHECK(free_now() == cap - used * BLOCK, "with one managed block kept free is %zu, expected %llu", free_now(),
          cap - used * BLOCK);

    unsigned d = fill("hipMalloc", device, room - used, make_device);
    used += d;
    CHECK(free_now() == cap - used * BLOCK, "after %u device blocks free is %zu, expected %llu", d, free_now(),
          cap - used * BLOCK);
    for (unsigned i = 0; i < BLOCKS; i++)
        if (device[i])
            CHECK(hipFree(device[i]) == hipSuccess, "hipFree of device block %u", i);
    used -= d;

    unsigned a = fill("hipMallocAsync", async, room - used, make_async);
    used += a;
    CHECK(free_now() == cap - used * BLOCK, "after %u async blocks free is %zu, expected %llu", a, free_now(),
          cap - used * BLOCK);
    for (unsigned i = 0; i < BLOCKS; i++)
        if (async[i])
            CHECK(hipFreeAsync(async[i], stream) == hipSuccess, "hipFreeAsync of async block %u", i);
    hipStreamSynchronize(stream);

    for (unsigned i = 0; i < BLOCKS; i++)
        if (managed[i])
            CHECK(hipFree(managed[i]) == hipSuccess, "hipFree of managed block %u", i);
    CHECK(free_now() == cap, "free %zu after freeing everything, expected the cap %llu", free_now(), cap);
    if (failures) {
        printf("prog_hip_managed %s: %d failure(s)\n", argv[1], failures);
        return 1;
    }
    printf("prog_hip_managed %s: ok (%u managed, %u device, %u async blocks of 200 MiB)\n", argv[1], m, d, a);
    return 0;
}
