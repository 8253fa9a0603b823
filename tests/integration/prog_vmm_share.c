/* VMM memory shared between processes through a POSIX file descriptor, the way NCCL, UCX and
 * PyTorch's expandable segments share it: cuMemCreate with CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
 * cuMemExportToShareableHandle, the descriptor sent over a Unix socket (SCM_RIGHTS),
 * cuMemImportFromShareableHandle and cuMemMap in the receiver.
 *
 *   prog_vmm_share export SOCKET MIB CAP_MIB   the creator: MIB MiB, under a cap of CAP_MIB
 *   prog_vmm_share import SOCKET CAP_MIB [pays]  the importer, under a cap of CAP_MIB; with
 *                                              "pays", from a creator without the hook
 *   prog_vmm_share self MIB CAP_MIB            one process importing what it exported, 4 times
 *   prog_vmm_share open MIB CAP_MIB            an exported descriptor kept open after cuMemRelease
 *   prog_vmm_share used                        what the device has in use (total - free), in MiB
 *
 * The driver frees shared memory only when nobody holds it: not its creator, not an importer,
 * not an open exported descriptor. The pair checks, each in its own process, that the importer's
 * cap pays nothing, that the bytes are the same bytes, that the creator's count outlives its own
 * cuMemRelease and cuMemUnmap while the importer still maps the memory (cuMemGetInfo still shows
 * them taken, and a create that would cross the cap is refused), and that it comes back once the
 * importer let go. At SOCKET.held and SOCKET.released the creator stops until SOCKET.go1 and
 * SOCKET.go2 exist, so that the ledger and the device can be read from outside meanwhile. An
 * importer whose creator runs without the hook pays for what it maps itself ("pays": its free
 * memory shrinks by the allocation, and comes back when it let go).
 * `self` checks that importing one's own export does not free the cap: with blocks of MIB under
 * CAP_MIB, exactly CAP_MIB / MIB of them fit. `open` checks that a descriptor still open keeps
 * released memory counted ("Once all shareable handles are closed and the allocation is released,
 * the allocated memory referenced will be released", cuMemExportToShareableHandle) and that
 * closing it gives the bytes back; the simulator does not model that much (docs/simgpu.md), so
 * it is a check of grey's count. Each run prints what it saw, and "ok" last. */
#include <cuda.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "share_ipc.h"

#define MiB (1ull << 20)
#define PATTERN "the same bytes in both processes"

static CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                                   .requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                                   .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};

static void start(void)
{
    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS) {
        printf("FAIL: no device\n");
        exit(1);
    }
}

static uint64_t free_bytes(void)
{
    size_t f = 0, t = 0;
    CHECK(cuMemGetInfo(&f, &t) == CUDA_SUCCESS, "cuMemGetInfo");
    return f;
}

/* Maps handle's size bytes at a new reserved range; 0 when the driver refused. */
static CUdeviceptr map(CUmemGenericAllocationHandle h, size_t size)
{
    CUdeviceptr va = 0;
    if (cuMemAddressReserve(&va, size, 0, 0, 0) != CUDA_SUCCESS)
        return 0;
    if (cuMemMap(va, size, 0, h, 0) != CUDA_SUCCESS) {
        cuMemAddressFree(va, size);
        return 0;
    }
    CUmemAccessDesc access = {.location = prop.location, .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE};
    CHECK(cuMemSetAccess(va, size, &access, 1) == CUDA_SUCCESS, "cuMemSetAccess");
    return va;
}

static void unmap(CUdeviceptr va, size_t size)
{
    CHECK(cuMemUnmap(va, size) == CUDA_SUCCESS, "cuMemUnmap");
    CHECK(cuMemAddressFree(va, size) == CUDA_SUCCESS, "cuMemAddressFree");
}

static int exporter(const char *path, uint64_t size, uint64_t cap)
{
    start();
    CUmemGenericAllocationHandle h;
    CHECK(cuMemCreate(&h, size, &prop, 0) == CUDA_SUCCESS, "cuMemCreate");
    CUdeviceptr va = map(h, size);
    CHECK(va != 0, "cuMemMap");
    CHECK(cuMemcpyHtoD(va, PATTERN, sizeof PATTERN) == CUDA_SUCCESS, "cuMemcpyHtoD");
    int fd = -1;
    CHECK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0) == CUDA_SUCCESS &&
              fd >= 0, "cuMemExportToShareableHandle");
    CHECK(free_bytes() == cap - size, "creator: free %llu MiB, wanted %llu", (unsigned long long)(free_bytes() / MiB),
          (unsigned long long)((cap - size) / MiB));

    int s = accept_one(path);
    if (s < 0 && failures)
        return 1;
    CHECK(s >= 0, "accept");
    send_fd(s, fd, size);
    close(fd); /* sent: the importer's copy is the same open file */
    hear(s, 'm');
    touch(path, "held");
    wait_file(path, "go1");

    /* The creator lets go of everything; the importer still maps the memory. */
    unmap(va, size);
    CHECK(cuMemRelease(h) == CUDA_SUCCESS, "cuMemRelease");
    expect_free("creator let go while the importer maps it", free_bytes(), cap - size, cap,
                "creator: the shared memory stopped counting while the importer maps it");
    CUmemGenericAllocationHandle big;
    CUresult r = cuMemCreate(&big, cap - size + 2 * MiB, &prop, 0);
    CHECK(r == CUDA_ERROR_OUT_OF_MEMORY, "creator: a create past the cap gave %d, wanted out of memory", (int)r);
    if (r == CUDA_SUCCESS)
        cuMemRelease(big);
    touch(path, "released");
    wait_file(path, "go2");
    say(s, 'r');
    hear(s, 'g');

    expect_free("after the importer let go", free_bytes(), cap, cap,
                "creator: the bytes did not come back once nobody held them");
    r = cuMemCreate(&big, cap - size + 2 * MiB, &prop, 0);
    CHECK(r == CUDA_SUCCESS, "creator: the same create now gave %d", (int)r);
    if (r == CUDA_SUCCESS)
        CHECK(cuMemRelease(big) == CUDA_SUCCESS, "cuMemRelease");
    close(s);
    unlink(path);
    if (failures)
        return 1;
    printf("ok\n");
    return 0;
}

static int importer(const char *path, uint64_t cap, bool pays)
{
    start();
    int s;
    uint64_t size = 0;
    int fd = receive_from(path, &s, &size);
    if (fd < 0)
        return 1;
    CUmemGenericAllocationHandle h;
    CUresult r = cuMemImportFromShareableHandle(&h, (void *)(intptr_t)fd, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR);
    CHECK(r == CUDA_SUCCESS, "cuMemImportFromShareableHandle: %d", (int)r);
    close(fd);
    CUmemAllocationProp got;
    CHECK(cuMemGetAllocationPropertiesFromHandle(&got, h) == CUDA_SUCCESS && got.location.id == 0 &&
              got.location.type == CU_MEM_LOCATION_TYPE_DEVICE, "cuMemGetAllocationPropertiesFromHandle");
    CUdeviceptr va = map(h, size);
    CHECK(va != 0, "importer: cuMemMap of %llu MiB under a %llu MiB cap", (unsigned long long)(size / MiB),
          (unsigned long long)(cap / MiB));
    CHECK(cuMemRelease(h) == CUDA_SUCCESS, "importer: cuMemRelease of the mapped import");
    char back[sizeof PATTERN] = {0};
    CHECK(va && cuMemcpyDtoH(back, va, sizeof back) == CUDA_SUCCESS && memcmp(back, PATTERN, sizeof back) == 0,
          "importer: not the creator's bytes");
    uint64_t f = free_bytes();
    printf("importer maps %llu MiB: free %llu of %llu MiB\n", (unsigned long long)(size / MiB),
           (unsigned long long)(f / MiB), (unsigned long long)(cap / MiB));
    if (pays)
        CHECK(f == cap - size, "importer: it did not pay for memory nobody else counts");
    else
        CHECK(f == cap, "importer: its cap paid for memory it imported");
    say(s, 'm');
    hear(s, 'r');
    memset(back, 0, sizeof back);
    CHECK(va && cuMemcpyDtoH(back, va, sizeof back) == CUDA_SUCCESS && memcmp(back, PATTERN, sizeof back) == 0,
          "importer: the memory went with its creator");
    if (va)
        unmap(va, size);
    CHECK(free_bytes() == cap, "importer: free %llu MiB after it let go, wanted %llu",
          (unsigned long long)(free_bytes() / MiB), (unsigned long long)(cap / MiB));
    say(s, 'g');
    close(s);
    if (failures)
        return 1;
    printf("ok\n");
    return 0;
}

static int self_import(uint64_t size, uint64_t cap)
{
    start();
    enum { BLOCKS = 4 };
    CUdeviceptr va[BLOCKS];
    int mapped = 0;
    CUresult r = CUDA_SUCCESS;
    for (; mapped < BLOCKS; mapped++) {
        CUmemGenericAllocationHandle h, again;
        if ((r = cuMemCreate(&h, size, &prop, 0)) != CUDA_SUCCESS)
            break;
        int fd = -1;
        CHECK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0) == CUDA_SUCCESS,
              "cuMemExportToShareableHandle");
        CHECK(cuMemImportFromShareableHandle(&again, (void *)(intptr_t)fd, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) ==
                  CUDA_SUCCESS, "cuMemImportFromShareableHandle of its own export");
        close(fd);
        CHECK(cuMemRelease(h) == CUDA_SUCCESS, "cuMemRelease of the created handle");
        va[mapped] = map(again, size);
        CHECK(va[mapped] != 0, "cuMemMap of the imported handle");
        CHECK(cuMemRelease(again) == CUDA_SUCCESS, "cuMemRelease of the imported handle");
    }
    uint64_t expect = cap / size;
    printf("created, imported back and released: %d blocks, then error %d\n", mapped, (int)r);
    CHECK((uint64_t)mapped == expect, "%d blocks fit, wanted %llu", mapped, (unsigned long long)expect);
    CHECK(mapped == BLOCKS || r == CUDA_ERROR_OUT_OF_MEMORY, "create %d: %d, wanted out of memory", mapped + 1, (int)r);
    for (int i = 0; i < mapped; i++)
        unmap(va[i], size);
    CHECK(free_bytes() == cap, "free %llu MiB after unmapping everything, wanted %llu",
          (unsigned long long)(free_bytes() / MiB), (unsigned long long)(cap / MiB));
    if (failures)
        return 1;
    printf("ok\n");
    return 0;
}

static int open_descriptor(uint64_t size, uint64_t cap)
{
    start();
    CUmemGenericAllocationHandle h;
    CHECK(cuMemCreate(&h, size, &prop, 0) == CUDA_SUCCESS, "cuMemCreate");
    int fd = -1;
    CHECK(cuMemExportToShareableHandle(&fd, h, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0) == CUDA_SUCCESS,
          "cuMemExportToShareableHandle");
    CHECK(cuMemRelease(h) == CUDA_SUCCESS, "cuMemRelease");
    uint64_t f = free_bytes();
    printf("released, descriptor open: free %llu of %llu MiB\n", (unsigned long long)(f / MiB),
           (unsigned long long)(cap / MiB));
    CHECK(f == cap - size, "the open descriptor did not keep the memory counted");
    close(fd);
    f = free_bytes();
    printf("descriptor closed: free %llu of %llu MiB\n", (unsigned long long)(f / MiB), (unsigned long long)(cap / MiB));
    CHECK(f == cap, "closing the last descriptor did not give the bytes back");
    if (failures)
        return 1;
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "export") == 0)
        return exporter(argv[2], strtoull(argv[3], NULL, 10) * MiB, strtoull(argv[4], NULL, 10) * MiB);
    if ((argc == 4 || (argc == 5 && strcmp(argv[4], "pays") == 0)) && strcmp(argv[1], "import") == 0)
        return importer(argv[2], strtoull(argv[3], NULL, 10) * MiB, argc == 5);
    if (argc == 4 && strcmp(argv[1], "self") == 0)
        return self_import(strtoull(argv[2], NULL, 10) * MiB, strtoull(argv[3], NULL, 10) * MiB);
    if (argc == 4 && strcmp(argv[1], "open") == 0)
        return open_descriptor(strtoull(argv[2], NULL, 10) * MiB, strtoull(argv[3], NULL, 10) * MiB);
    if (argc == 2 && strcmp(argv[1], "used") == 0) {
        start();
        size_t f = 0, t = 0;
        if (cuMemGetInfo(&f, &t) != CUDA_SUCCESS)
            return 1;
        printf("%llu\n", (unsigned long long)((t - f) / MiB));
        return 0;
    }
    fprintf(stderr, "usage: prog_vmm_share export SOCKET MIB CAP_MIB | import SOCKET CAP_MIB [pays] | self|open MIB CAP_MIB | used\n");
    return 2;
}
