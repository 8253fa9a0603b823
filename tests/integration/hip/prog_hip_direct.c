/* The HIP families called the way most code calls a library: directly, by name, never taking a
 * function's address. That is the path LD_AUDIT covers for linked symbols (calls bound through
 * the PLT; see preload/audit.c), so this is the program the LD_AUDIT tests run; it runs under
 * LD_PRELOAD too.
 *
 *   prog_hip_direct FAMILY EXPECTED_CAP_BYTES      (FAMILY: malloc extmalloc managed async)
 *
 * Checks: floor(cap / 200 MiB) blocks succeed and every further one fails with
 * hipErrorOutOfMemory; hipMemGetInfo reports total = cap and free = cap - used; freeing gives the
 * bytes back; and a forked child is a process of its own: with the parent at its cap, the child
 * can still allocate one block (under LD_AUDIT this needs the hook's fork handlers registered
 * with the program's C library). */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/check.h"

#define BLOCK (200ull << 20)
#define BLOCKS 10

static const char *family;
static hipStream_t stream;

static hipError_t make(void **p)
{
    if (strcmp(family, "malloc") == 0)
        return hipMalloc(p, BLOCK);
    if (strcmp(family, "extmalloc") == 0)
        return hipExtMallocWithFlags(p, BLOCK, 0);
    if (strcmp(family, "managed") == 0)
        return hipMallocManaged(p, BLOCK, hipMemAttachGlobal);
    return hipMallocAsync(p, BLOCK, stream);
}

static hipError_t destroy(void *p)
{
    return strcmp(family, "async") == 0 ? hipFreeAsync(p, stream) : hipFree(p);
}

static size_t free_now(size_t *total)
{
    size_t f = 0, t = 0;
    CHECK(hipMemGetInfo(&f, &t) == hipSuccess, "hipMemGetInfo failed");
    if (total)
        *total = t;
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: prog_hip_direct malloc|extmalloc|managed|async EXPECTED_CAP_BYTES\n");
        return 2;
    }
    family = argv[1];
    unsigned long long cap = strtoull(argv[2], NULL, 10);
    if (hipInit(0) != hipSuccess || hipStreamCreate(&stream) != hipSuccess) {
        printf("FAIL: cannot initialize HIP\n");
        return 1;
    }
    size_t total = 0;
    size_t free0 = free_now(&total);
    if (cap)
        CHECK(total == cap && free0 == cap, "hipMemGetInfo: free %zu total %zu, expected the cap %llu", free0, total,
              cap);
    unsigned expected_ok = cap ? (unsigned)(cap / BLOCK) : BLOCKS, ok = 0;
    void *blocks[BLOCKS] = {0};
    for (unsigned i = 0; i < BLOCKS; i++) {
        hipError_t rc = make(&blocks[i]);
        if (i < expected_ok)
            CHECK(rc == hipSuccess, "%s block %u: %d, expected success", family, i, rc);
        else
            CHECK(rc == hipErrorOutOfMemory, "%s block %u: %d, expected hipErrorOutOfMemory", family, i, rc);
        ok += rc == hipSuccess;
        if (rc != hipSuccess)
            blocks[i] = NULL;
    }
    if (cap)
        CHECK(free_now(NULL) == cap - ok * BLOCK, "free after %u blocks is %zu, not cap - used", ok, free_now(NULL));

    /* The child starts with nothing of its own, whatever its parent holds. */
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        void *p = NULL;
        hipError_t rc = make(&p);
        if (rc != hipSuccess)
            printf("FAIL: %s: a forked child could not allocate one block (%d): counted as its parent?\n", family, rc);
        fflush(stdout);
        _exit(rc == hipSuccess ? 0 : 1);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%s: the forked child failed", family);

    for (unsigned i = 0; i < BLOCKS; i++)
        if (blocks[i])
            CHECK(destroy(blocks[i]) == hipSuccess, "%s: free of block %u failed", family, i);
    hipStreamSynchronize(stream);
    if (cap)
        CHECK(free_now(NULL) == cap, "%s: free memory not back to the cap after freeing everything", family);
    if (failures) {
        printf("prog_hip_direct %s: %d failure(s)\n", family, failures);
        return 1;
    }
    printf("prog_hip_direct %s: ok (%u of %u blocks of 200 MiB)\n", family, ok, BLOCKS);
    return 0;
}
