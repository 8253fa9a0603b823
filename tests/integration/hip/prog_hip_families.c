/* Allocates ten 200 MiB blocks with one HIP allocation family, reached one way, and checks what a
 * capped (or uncapped) process must see. The HIP twin of ../prog_families.c.
 *
 *   prog_hip_families FAMILY PATH EXPECTED_CAP_BYTES
 *
 * FAMILY: malloc extmalloc managed pitch malloc3d async frompool vmm array arraycreate
 * PATH:   linked        the exported symbols the program was linked against (hipMalloc@hip_4.2)
 *         dlsym         dlopen("libamdhip64.so.5") + dlsym of the exported names
 *         dlvsym        the same with dlvsym and the runtime's version node, "hip_4.2"
 *         procaddr      hipGetProcAddress (from dlsym) at HIP version 600
 *         procaddr_spt  the same with the per-thread-default-stream flag
 * EXPECTED_CAP_BYTES: the cap the process runs under, or 0 for none.
 *
 * Checks: floor(cap / 200 MiB) blocks succeed and every further one fails with
 * hipErrorOutOfMemory; hipMemGetInfo reports total = cap and free = cap - used, and
 * hipDeviceTotalMem the cap; a block's memory is usable (hipMemcpy round trip); bad input (NULL
 * output, zero size, freeing an unknown handle, a double free) gets the runtime's own answer and
 * moves no counter; freed bytes can be allocated again; at the end free is back to the cap.
 * Prints "FAIL: ..." and exits 1 on any mismatch. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/check.h"

#define BLOCK (200ull << 20)
#define BLOCKS 10

/* Declared from the ROCm 6.1+ ABI (newer than Debian's 5.2 headers). */
typedef hipError_t (*procaddr_fn)(const char *, void **, int, uint64_t, int *);
#define PROC_PER_THREAD (1 << 1)

/* hipMemAllocationProp as ROCm 6.0 and later lay it out (the simulator's default ABI), and as
 * ROCm 5.x did (GREY_SIM_HIP_VERSION=5xxxxxxx): a program passes the layout of the headers it
 * was built with, which match its runtime. */
struct alloc_prop_r6 {
    int type, requested_handle_type;
    struct { int type; int id; } location;
    void *win32;
    struct { unsigned char compression, rdma; unsigned short usage; } flags;
};
struct alloc_prop_r5 {
    unsigned char compression;
    struct { int type; int id; } location;
    int requested_handle_type, type;
    unsigned short usage;
    void *win32;
};

/* ------------------------------------------------------------------ reaching the runtime */

static const char *path;
static void *libhip;
static procaddr_fn gpa;

static void *resolve(const char *name, void *linked)
{
    void *p = NULL;
    if (strcmp(path, "linked") == 0) {
        p = linked;
    } else if (strcmp(path, "dlsym") == 0) {
        p = dlsym(libhip, name);
    } else if (strcmp(path, "dlvsym") == 0) {
        p = dlvsym(libhip, name, "hip_4.2");
    } else {
        int status = -1;
        uint64_t flags = strcmp(path, "procaddr_spt") == 0 ? PROC_PER_THREAD : 0;
        if (gpa(name, &p, 600, flags, &status) != hipSuccess || status != 0)
            p = NULL;
    }
    if (!p) {
        printf("FAIL: %s: cannot resolve %s\n", path, name);
        exit(1);
    }
    return p;
}

#define RESOLVE(var, name) var = (__typeof__(var))resolve(#name, (void *)name)

/* ------------------------------------------------------------------ the families */

struct family {
    const char *name;
    void (*resolve)(void);
    hipError_t (*make)(void **h, size_t bytes);
    hipError_t (*destroy)(void *h);
    bool copyable; /* the handle is a device pointer hipMemcpy can reach */
};

static hipError_t (*f_malloc)(void **, size_t);
static hipError_t (*f_free)(void *);
static hipError_t (*f_info)(size_t *, size_t *);
static hipError_t (*f_total)(size_t *, hipDevice_t);
static hipError_t (*f_ext)(void **, size_t, unsigned);
static hipError_t (*f_managed)(void **, size_t, unsigned);
static hipError_t (*f_pitch)(void **, size_t *, size_t, size_t);
static hipError_t (*f_3d)(hipPitchedPtr *, hipExtent);
static hipError_t (*f_async)(void **, size_t, hipStream_t);
static hipError_t (*f_from_pool)(void **, size_t, hipMemPool_t, hipStream_t);
static hipError_t (*f_free_async)(void *, hipStream_t);
static hipError_t (*f_create)(hipMemGenericAllocationHandle_t *, size_t, const void *, unsigned long long);
static hipError_t (*f_release)(hipMemGenericAllocationHandle_t);
static hipError_t (*f_malloc_array)(hipArray **, const hipChannelFormatDesc *, size_t, size_t, unsigned);
static hipError_t (*f_array_create)(hipArray **, const HIP_ARRAY_DESCRIPTOR *);
static hipError_t (*f_free_array)(hipArray *);
static hipError_t (*f_array_destroy)(hipArray *);
static hipStream_t stream;
static hipMemPool_t pool;

static void r_common(void)
{
    RESOLVE(f_info, hipMemGetInfo);
    RESOLVE(f_total, hipDeviceTotalMem);
}

static void r_malloc(void)
{
    RESOLVE(f_malloc, hipMalloc);
    RESOLVE(f_free, hipFree);
}
static hipError_t m_malloc(void **h, size_t n) { return f_malloc(h, n); }
static hipError_t d_free(void *h) { return f_free(h); }

static void r_ext(void)
{
    r_malloc();
    RESOLVE(f_ext, hipExtMallocWithFlags);
}
static hipError_t m_ext(void **h, size_t n) { return f_ext(h, n, 1 /* hipDeviceMallocFinegrained */); }

static void r_managed(void)
{
    r_malloc();
    RESOLVE(f_managed, hipMallocManaged);
}
static hipError_t m_managed(void **h, size_t n) { return f_managed(h, n, hipMemAttachGlobal); }

/* 200 MiB as 1024 rows of 200 KiB (a multiple of every pitch alignment: no padding). */
static void r_pitch(void)
{
    r_malloc();
    RESOLVE(f_pitch, hipMallocPitch);
}
static hipError_t m_pitch(void **h, size_t n)
{
    size_t pitch = 0;
    return f_pitch(h, h ? &pitch : NULL, n / 1024, 1024);
}

/* 200 MiB as 64 slices of 16 rows of 200 KiB. */
static void r_3d(void)
{
    r_malloc();
    RESOLVE(f_3d, hipMalloc3D);
}
static hipError_t m_3d(void **h, size_t n)
{
    hipPitchedPtr p = {0};
    hipExtent e = {.width = n / 1024, .height = 16, .depth = n ? 64 : 0};
    hipError_t rc = f_3d(h ? &p : NULL, e);
    if (h)
        *h = rc == hipSuccess ? p.ptr : NULL;
    return rc;
}

static void r_async(void)
{
    RESOLVE(f_async, hipMallocAsync);
    RESOLVE(f_free_async, hipFreeAsync);
}
static hipError_t m_async(void **h, size_t n) { return f_async(h, n, stream); }
static hipError_t d_async(void *h) { return f_free_async(h, stream); }

static void r_from_pool(void)
{
    r_async();
    RESOLVE(f_from_pool, hipMallocFromPoolAsync);
    hipMemPoolProps props = {.allocType = hipMemAllocationTypePinned,
                             .location = {.type = hipMemLocationTypeDevice, .id = 0}};
    if (hipMemPoolCreate(&pool, &props) != hipSuccess) {
        printf("FAIL: hipMemPoolCreate\n");
        exit(1);
    }
}
static hipError_t m_from_pool(void **h, size_t n) { return f_from_pool(h, n, pool, stream); }

static void r_vmm(void)
{
    RESOLVE(f_create, hipMemCreate);
    RESOLVE(f_release, hipMemRelease);
}
static hipError_t m_vmm(void **h, size_t n)
{
    int version = 0;
    hipRuntimeGetVersion(&version);
    struct alloc_prop_r6 r6 = {.type = 1 /* pinned */, .location = {.type = 1 /* device */, .id = 0}};
    struct alloc_prop_r5 r5 = {.type = 1, .location = {.type = 1, .id = 0}};
    return f_create((hipMemGenericAllocationHandle_t *)h, n, version >= 60000000 ? (void *)&r6 : (void *)&r5, 0);
}
static hipError_t d_vmm(void *h) { return f_release((hipMemGenericAllocationHandle_t)h); }

/* Arrays: 32-bit floats, rows of 8192 elements (32 KiB): 200 MiB is 6400 rows. */
static void r_array(void)
{
    RESOLVE(f_malloc_array, hipMallocArray);
    RESOLVE(f_free_array, hipFreeArray);
}
static hipError_t m_array(void **h, size_t n)
{
    hipChannelFormatDesc d = {.x = 32, .f = hipChannelFormatKindFloat};
    return f_malloc_array((hipArray **)h, &d, n ? 8192 : 0, n / (8192 * 4), 0);
}
static hipError_t d_array(void *h) { return f_free_array(h); }

static void r_array_create(void)
{
    RESOLVE(f_array_create, hipArrayCreate);
    RESOLVE(f_array_destroy, hipArrayDestroy);
}
static hipError_t m_array_create(void **h, size_t n)
{
    HIP_ARRAY_DESCRIPTOR d = {.Width = n ? 8192 : 0, .Height = n / (8192 * 4), .Format = HIP_AD_FORMAT_FLOAT,
                              .NumChannels = 1};
    return f_array_create((hipArray **)h, &d);
}
static hipError_t d_array_destroy(void *h) { return f_array_destroy(h); }

static const struct family families[] = {
    {"malloc", r_malloc, m_malloc, d_free, true},
    {"extmalloc", r_ext, m_ext, d_free, true},
    {"managed", r_managed, m_managed, d_free, true},
    {"pitch", r_pitch, m_pitch, d_free, true},
    {"malloc3d", r_3d, m_3d, d_free, true},
    {"async", r_async, m_async, d_async, true},
    {"frompool", r_from_pool, m_from_pool, d_async, true},
    {"vmm", r_vmm, m_vmm, d_vmm, false},
    {"array", r_array, m_array, d_array, false},
    {"arraycreate", r_array_create, m_array_create, d_array_destroy, false},
};

/* ------------------------------------------------------------------ the checks */

static size_t free_now(size_t *total)
{
    size_t f = 0, t = 0;
    hipError_t rc = f_info(&f, &t);
    CHECK(rc == hipSuccess, "hipMemGetInfo returned %d", rc);
    if (total)
        *total = t;
    return f;
}

/* A block is real memory: what goes in comes back out. */
static void check_copy(void *block)
{
    static char in[4096], out[4096];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (char)(i * 7 + 1);
    CHECK(hipMemcpy((char *)block + BLOCK - sizeof in, in, sizeof in, hipMemcpyHostToDevice) == hipSuccess,
          "hipMemcpy host to device failed");
    CHECK(hipMemcpy(out, (char *)block + BLOCK - sizeof in, sizeof out, hipMemcpyDeviceToHost) == hipSuccess,
          "hipMemcpy device to host failed");
    CHECK(memcmp(in, out, sizeof in) == 0, "hipMemcpy round trip changed the data");
    CHECK(hipMemcpy(out, (char *)block + BLOCK - 16, 32, hipMemcpyDeviceToHost) == hipErrorInvalidValue,
          "hipMemcpy past the end of a block not refused");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: prog_hip_families FAMILY linked|dlsym|dlvsym|procaddr|procaddr_spt EXPECTED_CAP_BYTES\n");
        return 2;
    }
    const struct family *fam = NULL;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcmp(families[i].name, argv[1]) == 0)
            fam = &families[i];
    if (!fam) {
        fprintf(stderr, "prog_hip_families: unknown family '%s'\n", argv[1]);
        return 2;
    }
    path = argv[2];
    unsigned long long cap = strtoull(argv[3], NULL, 10);

    if (hipInit(0) != hipSuccess || hipSetDevice(0) != hipSuccess || hipStreamCreate(&stream) != hipSuccess) {
        printf("FAIL: cannot initialize HIP and create a stream\n");
        return 1;
    }
    libhip = dlopen("libamdhip64.so.5", RTLD_NOW);
    gpa = libhip ? (procaddr_fn)dlsym(libhip, "hipGetProcAddress") : NULL;
    if (!libhip || !gpa) {
        printf("FAIL: cannot reach libamdhip64.so.5 / hipGetProcAddress\n");
        return 1;
    }
    r_common();
    fam->resolve();

    size_t total = 0, physical = 0;
    size_t free0 = free_now(&total);
    CHECK(f_total(&physical, 0) == hipSuccess, "hipDeviceTotalMem failed");
    if (cap) {
        CHECK(total == cap, "hipMemGetInfo total %zu, expected the cap %llu", total, cap);
        CHECK(physical == cap, "hipDeviceTotalMem %zu, expected the cap %llu", physical, cap);
        CHECK(free0 == cap, "hipMemGetInfo free %zu before any allocation, expected %llu", free0, cap);
    }

    unsigned expected_ok = cap ? (unsigned)(cap / BLOCK) : BLOCKS;
    if (expected_ok > BLOCKS)
        expected_ok = BLOCKS;
    void *blocks[BLOCKS] = {0};
    unsigned ok = 0;
    for (unsigned i = 0; i < BLOCKS; i++) {
        hipError_t rc = fam->make(&blocks[i], BLOCK);
        if (i < expected_ok)
            CHECK(rc == hipSuccess, "%s block %u: %d, expected success", fam->name, i, rc);
        else
            CHECK(rc == hipErrorOutOfMemory, "%s block %u: %d, expected hipErrorOutOfMemory", fam->name, i, rc);
        if (rc == hipSuccess)
            ok++;
        else
            blocks[i] = NULL;
    }
    if (cap)
        CHECK(free_now(NULL) == cap - ok * BLOCK, "free after %u blocks is %zu, not cap - used", ok, free_now(NULL));
    if (fam->copyable && blocks[0])
        check_copy(blocks[0]);

    /* Bad input: the runtime's own answer, and no counter moves. HIP answers a zero-byte hipMalloc
     * with success and a NULL pointer; the other families refuse it. */
    size_t before = free_now(NULL);
    CHECK(fam->make(NULL, BLOCK) == hipErrorInvalidValue, "%s: NULL output not refused as invalid value", fam->name);
    void *zero = (void *)1;
    hipError_t z = fam->make(&zero, 0);
    CHECK(z == hipErrorInvalidValue || (z == hipSuccess && zero == NULL), "%s: zero size gave %d", fam->name, z);
    hipError_t unknown = fam->destroy((void *)0x1234500);
    CHECK(unknown == hipErrorInvalidValue || unknown == hipErrorInvalidHandle,
          "%s: freeing an unknown handle not refused (%d)", fam->name, unknown);
    CHECK(free_now(NULL) == before, "%s: bad input moved the accounting", fam->name);

    /* Free one block, free it again, and the bytes come back exactly once. */
    if (ok > 0) {
        CHECK(fam->destroy(blocks[0]) == hipSuccess, "%s: free of block 0 failed", fam->name);
        hipError_t twice = fam->destroy(blocks[0]);
        CHECK(twice == hipErrorInvalidValue || twice == hipErrorInvalidHandle, "%s: double free not refused (%d)",
              fam->name, twice);
        if (cap)
            CHECK(free_now(NULL) == before + BLOCK, "%s: free did not give 200 MiB back exactly once", fam->name);
        CHECK(fam->make(&blocks[0], BLOCK) == hipSuccess, "%s: freed bytes could not be allocated again", fam->name);
        if (cap && expected_ok < BLOCKS) {
            void *extra;
            CHECK(fam->make(&extra, BLOCK) == hipErrorOutOfMemory, "%s: cap not enforced after reallocation",
                  fam->name);
        }
    }
    for (unsigned i = 0; i < BLOCKS; i++)
        if (blocks[i])
            fam->destroy(blocks[i]);
    hipStreamSynchronize(stream);
    if (cap)
        CHECK(free_now(NULL) == cap, "%s: free memory not back to the cap after freeing everything", fam->name);

    if (failures) {
        printf("prog_hip_families %s %s: %d failure(s)\n", fam->name, path, failures);
        return 1;
    }
    printf("prog_hip_families %s %s: ok (%u of %u blocks of 200 MiB)\n", fam->name, path, ok, BLOCKS);
    return 0;
}
