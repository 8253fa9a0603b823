/* HIP's twin of tests/integration/prog_vmm_share.c: VMM memory shared through a POSIX file
 * descriptor (hipMemExportToShareableHandle, SCM_RIGHTS, hipMemImportFromShareableHandle).
 *
 *   prog_hip_vmm_share self MIB CAP_MIB          one process importing what it exported, 4 times
 *   prog_hip_vmm_share export SOCKET MIB CAP_MIB the creator
 *   prog_hip_vmm_share import SOCKET CAP_MIB     the importer
 *
 * self: with blocks of MIB under CAP_MIB, exactly CAP_MIB / MIB fit, and everything comes back
 * once unmapped. The pair: the importer maps the creator's bytes and its free memory does not
 * shrink; the creator lets go first and its free memory stays short by the block while the
 * importer maps it, then comes back once the importer let go. Uses the simulator's default ABI,
 * ROCm 6's layout of hipMemAllocationProp (spelled out: the installed headers are older). Prints
 * "ok" last. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/check.h"
#include "tests/integration/share_ipc.h"

#define MiB (1ull << 20)
#define PATTERN "the same bytes in both processes"
#define POSIX_FD 1 /* hipMemHandleTypePosixFileDescriptor */

struct alloc_prop_r6 {
    int type, requested_handle_type;
    struct { int type; int id; } location;
    void *win32;
    struct { unsigned char compression, rdma; unsigned short usage; } flags;
};
static const struct alloc_prop_r6 prop = {.type = 1 /* pinned */, .requested_handle_type = POSIX_FD,
                                          .location = {.type = 1 /* device */, .id = 0}};

static hipError_t create(hipMemGenericAllocationHandle_t *h, uint64_t size)
{
    return hipMemCreate(h, size, (const hipMemAllocationProp *)(const void *)&prop, 0);
}

static uint64_t free_bytes(void)
{
    size_t f = 0, t = 0;
    CHECK(hipMemGetInfo(&f, &t) == hipSuccess, "hipMemGetInfo");
    return f;
}

static void *map(hipMemGenericAllocationHandle_t h, size_t size)
{
    void *va = NULL;
    if (hipMemAddressReserve(&va, size, 0, NULL, 0) != hipSuccess)
        return NULL;
    if (hipMemMap(va, size, 0, h, 0) != hipSuccess) {
        hipMemAddressFree(va, size);
        return NULL;
    }
    return va;
}

static void unmap(void *va, size_t size)
{
    CHECK(hipMemUnmap(va, size) == hipSuccess, "hipMemUnmap");
    CHECK(hipMemAddressFree(va, size) == hipSuccess, "hipMemAddressFree");
}

static hipError_t import(hipMemGenericAllocationHandle_t *h, int fd)
{
    return hipMemImportFromShareableHandle(h, (void *)(intptr_t)fd, (hipMemAllocationHandleType)POSIX_FD);
}

static int self_import(uint64_t size, uint64_t cap)
{
    enum { BLOCKS = 4 };
    void *va[BLOCKS];
    int mapped = 0;
    hipError_t r = hipSuccess;
    for (; mapped < BLOCKS; mapped++) {
        hipMemGenericAllocationHandle_t h, again;
        if ((r = create(&h, size)) != hipSuccess)
            break;
        int fd = -1;
        CHECK(hipMemExportToShareableHandle(&fd, h, (hipMemAllocationHandleType)POSIX_FD, 0) == hipSuccess,
              "hipMemExportToShareableHandle");
        CHECK(import(&again, fd) == hipSuccess, "hipMemImportFromShareableHandle of its own export");
        close(fd);
        CHECK(hipMemRelease(h) == hipSuccess, "hipMemRelease of the created handle");
        va[mapped] = map(again, size);
        CHECK(va[mapped] != NULL, "hipMemMap of the imported handle");
        CHECK(hipMemRelease(again) == hipSuccess, "hipMemRelease of the imported handle");
    }
    printf("created, imported back and released: %d blocks, then error %d\n", mapped, (int)r);
    CHECK((uint64_t)mapped == cap / size, "%d blocks fit, wanted %llu", mapped, (unsigned long long)(cap / size));
    CHECK(mapped == BLOCKS || r == hipErrorOutOfMemory, "create %d: %d, wanted out of memory", mapped + 1, (int)r);
    for (int i = 0; i < mapped; i++)
        if (va[i])
            unmap(va[i], size);
    CHECK(free_bytes() == cap, "free %llu MiB after unmapping everything", (unsigned long long)(free_bytes() / MiB));
    return failures;
}

static int exporter(const char *path, uint64_t size, uint64_t cap)
{
    hipMemGenericAllocationHandle_t h;
    CHECK(create(&h, size) == hipSuccess, "hipMemCreate");
    void *va = map(h, size);
    CHECK(va && hipMemcpy(va, PATTERN, sizeof PATTERN, hipMemcpyHostToDevice) == hipSuccess, "hipMemMap and a copy into it");
    int fd = -1;
    CHECK(hipMemExportToShareableHandle(&fd, h, (hipMemAllocationHandleType)POSIX_FD, 0) == hipSuccess,
          "hipMemExportToShareableHandle");
    int s = accept_one(path);
    if (s < 0)
        return 1;
    send_fd(s, fd, size);
    close(fd);
    hear(s, 'm');
    touch(path, "held");
    wait_file(path, "go1");
    if (va)
        unmap(va, size);
    CHECK(hipMemRelease(h) == hipSuccess, "hipMemRelease");
    expect_free("creator let go while the importer maps it", free_bytes(), cap - size, cap,
                "creator: the shared memory stopped counting while the importer maps it");
    say(s, 'r');
    hear(s, 'g');
    expect_free("after the importer let go", free_bytes(), cap, cap,
                "creator: the bytes did not come back once nobody held them");
    close(s);
    unlink(path);
    return failures;
}

static int importer(const char *path, uint64_t cap)
{
    int s;
    uint64_t size = 0;
    int fd = receive_from(path, &s, &size);
    if (fd < 0)
        return 1;
    hipMemGenericAllocationHandle_t h;
    CHECK(import(&h, fd) == hipSuccess, "hipMemImportFromShareableHandle");
    close(fd);
    void *va = map(h, size);
    CHECK(va != NULL, "importer: hipMemMap of %llu MiB under a %llu MiB cap", (unsigned long long)(size / MiB),
          (unsigned long long)(cap / MiB));
    CHECK(hipMemRelease(h) == hipSuccess, "importer: hipMemRelease of the mapped import");
    char back[sizeof PATTERN] = {0};
    CHECK(va && hipMemcpy(back, va, sizeof back, hipMemcpyDeviceToHost) == hipSuccess && memcmp(back, PATTERN, sizeof back) == 0,
          "importer: not the creator's bytes");
    CHECK(free_bytes() == cap, "importer: its cap paid for memory it imported");
    say(s, 'm');
    hear(s, 'r');
    if (va)
        unmap(va, size);
    say(s, 'g');
    close(s);
    return failures;
}

int main(int argc, char **argv)
{
    int bad = -1;
    if (argc == 4 && strcmp(argv[1], "self") == 0)
        bad = self_import(strtoull(argv[2], NULL, 10) * MiB, strtoull(argv[3], NULL, 10) * MiB);
    else if (argc == 5 && strcmp(argv[1], "export") == 0)
        bad = exporter(argv[2], strtoull(argv[3], NULL, 10) * MiB, strtoull(argv[4], NULL, 10) * MiB);
    else if (argc == 4 && strcmp(argv[1], "import") == 0)
        bad = importer(argv[2], strtoull(argv[3], NULL, 10) * MiB);
    if (bad < 0) {
        fprintf(stderr, "usage: prog_hip_vmm_share self MIB CAP_MIB | export SOCKET MIB CAP_MIB | import SOCKET CAP_MIB\n");
        return 2;
    }
    if (bad)
        return 1;
    printf("ok\n");
    return 0;
}
