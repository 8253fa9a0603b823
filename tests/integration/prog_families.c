/* Allocates ten 200 MiB blocks with one allocation family, reached one way, and checks what a
 * capped (or uncapped) process must see.
 *
 *   prog_families FAMILY PATH EXPECTED_CAP_BYTES
 *
 * FAMILY: alloc pitch managed async frompool vmm array array3d mipmap
 * PATH:   linked      the exported symbols the program was linked against
 *         dlsym       dlopen("libcuda.so.1") + dlsym of the exported names
 *         procaddr    cuGetProcAddress (CUDA 11.3 signature) from dlsym, at version 11040
 *         procaddr_v2 cuGetProcAddress_v2 from cuGetProcAddress at 12000, at version 13000 with
 *                     the per-thread-default-stream flag (CUDA_API_PER_THREAD_DEFAULT_STREAM
 *                     programs: the async family then gets its _ptsz entry points)
 *         v1dlsym     the CUDA 2.x forms (32-bit pointers and sizes) by dlsym of their names
 *                     ("cuMemAlloc", "cuMemGetInfo", ...): families alloc, pitch, array, array3d
 *         v1procaddr  the same through cuGetProcAddress at version 2000
 * EXPECTED_CAP_BYTES: the cap the process runs under, or 0 for none.
 *
 * Checks: floor(cap / 200 MiB) blocks succeed and every further one fails with
 * CUDA_ERROR_OUT_OF_MEMORY; cuMemGetInfo reports total = cap and free = cap - used; bad input
 * (NULL output pointer, zero size, freeing an unknown handle, a double free) gets the driver's
 * own error and moves no counter; freed bytes can be allocated again; at the end free is back
 * to the cap. Prints "FAIL: ..." and exits 1 on any mismatch. */
#include <cuda.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define BLOCK (200ull << 20)
#define BLOCKS 10


/* ------------------------------------------------------------------ reaching the driver */

typedef CUresult (*procaddr_v1_fn)(const char *, void **, int, cuuint64_t);
typedef CUresult (*procaddr_v2_fn)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *);

static const char *path;
static void *libcuda;
static procaddr_v1_fn gpa_v1;
static procaddr_v2_fn gpa_v2;

/* The function base (e.g. "cuMemAllocAsync") as the chosen path gives it. exported is the name
 * the driver exports for the default-stream version, linked the program's own reference. */
static bool legacy; /* a v1 path: the CUDA 2.x forms */

static void *resolve(const char *base, const char *exported, void *linked)
{
    void *p = NULL;
    if (strcmp(path, "v1dlsym") == 0) {
        p = dlsym(libcuda, base);
    } else if (strcmp(path, "v1procaddr") == 0) {
        if (gpa_v1(base, &p, 2000, CU_GET_PROC_ADDRESS_DEFAULT) != CUDA_SUCCESS)
            p = NULL;
    } else if (strcmp(path, "linked") == 0) {
        p = linked;
    } else if (strcmp(path, "dlsym") == 0) {
        p = dlsym(libcuda, exported);
    } else if (strcmp(path, "procaddr") == 0) {
        if (gpa_v1(base, &p, 11040, CU_GET_PROC_ADDRESS_DEFAULT) != CUDA_SUCCESS)
            p = NULL;
    } else {
        CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
        if (gpa_v2(base, &p, 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st) != CUDA_SUCCESS ||
            st != CU_GET_PROC_ADDRESS_SUCCESS)
            p = NULL;
    }
    if (!p) {
        printf("FAIL: %s: cannot resolve %s\n", path, base);
        exit(1);
    }
    return p;
}

static void open_paths(void)
{
    libcuda = dlopen("libcuda.so.1", RTLD_NOW);
    gpa_v1 = libcuda ? (procaddr_v1_fn)dlsym(libcuda, "cuGetProcAddress") : NULL;
    void *v2 = NULL;
    if (gpa_v1)
        gpa_v1("cuGetProcAddress", &v2, 12000, CU_GET_PROC_ADDRESS_DEFAULT);
    gpa_v2 = (procaddr_v2_fn)v2;
    if (!libcuda || !gpa_v1 || !gpa_v2) {
        printf("FAIL: cannot reach libcuda.so.1 / cuGetProcAddress\n");
        exit(1);
    }
}

/* ------------------------------------------------------------------ the families */

/* One family: make a 200 MiB block (handle in *h), free it, and the bad inputs it refuses. */
struct family {
    const char *name;
    void (*resolve)(void);
    CUresult (*make)(unsigned long long *h, size_t bytes);
    CUresult (*destroy)(unsigned long long h);
};

static CUresult (*f_alloc)(CUdeviceptr *, size_t);
static CUresult (*f_free)(CUdeviceptr);
static CUresult (*f_info)(size_t *, size_t *);
static CUresult (*f_total)(size_t *, CUdevice);
static CUresult (*f_pitch)(CUdeviceptr *, size_t *, size_t, size_t, unsigned);
static CUresult (*f_managed)(CUdeviceptr *, size_t, unsigned);
static CUresult (*f_async)(CUdeviceptr *, size_t, CUstream);
static CUresult (*f_free_async)(CUdeviceptr, CUstream);
static CUresult (*f_from_pool)(CUdeviceptr *, size_t, CUmemoryPool, CUstream);
static CUresult (*f_create)(CUmemGenericAllocationHandle *, size_t, const CUmemAllocationProp *, unsigned long long);
static CUresult (*f_release)(CUmemGenericAllocationHandle);
static CUresult (*f_array)(CUarray *, const CUDA_ARRAY_DESCRIPTOR *);
static CUresult (*f_array3d)(CUarray *, const CUDA_ARRAY3D_DESCRIPTOR *);
static CUresult (*f_array_destroy)(CUarray);
static CUresult (*f_mipmap)(CUmipmappedArray *, const CUDA_ARRAY3D_DESCRIPTOR *, unsigned);
static CUresult (*f_mipmap_destroy)(CUmipmappedArray);
static CUmemoryPool pool;
static CUstream stream;

#define RESOLVE(var, base, exported, linked) var = (__typeof__(var))resolve(base, exported, (void *)(linked))

/* The CUDA 2.x forms, and adapters that give them the current forms' types for the checks. cuda.h
 * declares their types only for the driver's own build (__CUDA_API_VERSION_INTERNAL, which would
 * also bind this program's linked calls to them), so they are spelled out here as cuda.h has them. */
typedef unsigned int CUdeviceptr_v1;
typedef struct {
    unsigned int Width, Height;
    CUarray_format Format;
    unsigned int NumChannels;
} CUDA_ARRAY_DESCRIPTOR_v1;
typedef struct {
    unsigned int Width, Height, Depth;
    CUarray_format Format;
    unsigned int NumChannels, Flags;
} CUDA_ARRAY3D_DESCRIPTOR_v1;

static CUresult (*l_alloc)(CUdeviceptr_v1 *, unsigned);
static CUresult (*l_free)(CUdeviceptr_v1);
static CUresult (*l_info)(unsigned *, unsigned *);
static CUresult (*l_total)(unsigned *, CUdevice);
static CUresult (*l_pitch)(CUdeviceptr_v1 *, unsigned *, unsigned, unsigned, unsigned);
static CUresult (*l_array)(CUarray *, const CUDA_ARRAY_DESCRIPTOR_v1 *);
static CUresult (*l_array3d)(CUarray *, const CUDA_ARRAY3D_DESCRIPTOR_v1 *);

static CUresult a_alloc(CUdeviceptr *p, size_t n)
{
    CUdeviceptr_v1 v = 0;
    CUresult rc = l_alloc(p ? &v : NULL, (unsigned)n);
    if (p && rc == CUDA_SUCCESS)
        *p = v;
    return rc;
}
static CUresult a_free(CUdeviceptr p) { return l_free((CUdeviceptr_v1)p); }
static CUresult a_info(size_t *f, size_t *t)
{
    unsigned a = 0, b = 0;
    CUresult rc = l_info(f ? &a : NULL, t ? &b : NULL);
    if (rc == CUDA_SUCCESS)
        *f = a, *t = b;
    return rc;
}
static CUresult a_total(size_t *bytes, CUdevice d)
{
    unsigned b = 0;
    CUresult rc = l_total(bytes ? &b : NULL, d);
    if (rc == CUDA_SUCCESS)
        *bytes = b;
    return rc;
}
static CUresult a_pitch(CUdeviceptr *p, size_t *pitch, size_t w, size_t h, unsigned e)
{
    CUdeviceptr_v1 v = 0;
    unsigned pt = 0;
    CUresult rc = l_pitch(p ? &v : NULL, pitch ? &pt : NULL, (unsigned)w, (unsigned)h, e);
    if (rc == CUDA_SUCCESS)
        *p = v, *pitch = pt;
    return rc;
}
static CUresult a_array(CUarray *a, const CUDA_ARRAY_DESCRIPTOR *d)
{
    CUDA_ARRAY_DESCRIPTOR_v1 v = {(unsigned)d->Width, (unsigned)d->Height, d->Format, d->NumChannels};
    return l_array(a, &v);
}
static CUresult a_array3d(CUarray *a, const CUDA_ARRAY3D_DESCRIPTOR *d)
{
    CUDA_ARRAY3D_DESCRIPTOR_v1 v = {(unsigned)d->Width, (unsigned)d->Height, (unsigned)d->Depth, d->Format,
                                    d->NumChannels, d->Flags};
    return l_array3d(a, &v);
}

static void resolve_common(void)
{
    if (legacy) {
        RESOLVE(l_info, "cuMemGetInfo", "cuMemGetInfo", NULL);
        RESOLVE(l_total, "cuDeviceTotalMem", "cuDeviceTotalMem", NULL);
        f_info = a_info;
        f_total = a_total;
        return;
    }
    RESOLVE(f_info, "cuMemGetInfo", "cuMemGetInfo_v2", cuMemGetInfo);
    RESOLVE(f_total, "cuDeviceTotalMem", "cuDeviceTotalMem_v2", cuDeviceTotalMem);
}

static void r_alloc(void)
{
    if (legacy) {
        RESOLVE(l_alloc, "cuMemAlloc", "cuMemAlloc", NULL);
        RESOLVE(l_free, "cuMemFree", "cuMemFree", NULL);
        f_alloc = a_alloc;
        f_free = a_free;
        return;
    }
    RESOLVE(f_alloc, "cuMemAlloc", "cuMemAlloc_v2", cuMemAlloc);
    RESOLVE(f_free, "cuMemFree", "cuMemFree_v2", cuMemFree);
}
static CUresult m_alloc(unsigned long long *h, size_t n) { return f_alloc((CUdeviceptr *)h, n); }
static CUresult d_free(unsigned long long h) { return f_free((CUdeviceptr)h); }

static void r_pitch(void)
{
    r_alloc();
    if (legacy) {
        RESOLVE(l_pitch, "cuMemAllocPitch", "cuMemAllocPitch", NULL);
        f_pitch = a_pitch;
        return;
    }
    RESOLVE(f_pitch, "cuMemAllocPitch", "cuMemAllocPitch_v2", cuMemAllocPitch);
}
/* 200 MiB as 1024 rows of 200 KiB (a multiple of the pitch alignment, so no padding). */
static CUresult m_pitch(unsigned long long *h, size_t n)
{
    size_t pitch = 0;
    if (n == 0)
        return f_pitch((CUdeviceptr *)h, &pitch, 0, 1024, 4);
    return f_pitch((CUdeviceptr *)h, h ? &pitch : NULL, n / 1024, 1024, 4);
}

static void r_managed(void)
{
    r_alloc();
    RESOLVE(f_managed, "cuMemAllocManaged", "cuMemAllocManaged", cuMemAllocManaged);
}
static CUresult m_managed(unsigned long long *h, size_t n) { return f_managed((CUdeviceptr *)h, n, CU_MEM_ATTACH_GLOBAL); }

static void r_async(void)
{
    RESOLVE(f_async, "cuMemAllocAsync", "cuMemAllocAsync", cuMemAllocAsync);
    RESOLVE(f_free_async, "cuMemFreeAsync", "cuMemFreeAsync", cuMemFreeAsync);
}
static CUresult m_async(unsigned long long *h, size_t n) { return f_async((CUdeviceptr *)h, n, stream); }
static CUresult d_async(unsigned long long h) { return f_free_async((CUdeviceptr)h, stream); }

static void r_from_pool(void)
{
    r_async();
    RESOLVE(f_from_pool, "cuMemAllocFromPoolAsync", "cuMemAllocFromPoolAsync", cuMemAllocFromPoolAsync);
    CUmemPoolProps props = {.allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
                            .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};
    if (cuMemPoolCreate(&pool, &props) != CUDA_SUCCESS) {
        printf("FAIL: cuMemPoolCreate\n");
        exit(1);
    }
}
static CUresult m_from_pool(unsigned long long *h, size_t n) { return f_from_pool((CUdeviceptr *)h, n, pool, stream); }

static void r_vmm(void)
{
    RESOLVE(f_create, "cuMemCreate", "cuMemCreate", cuMemCreate);
    RESOLVE(f_release, "cuMemRelease", "cuMemRelease", cuMemRelease);
}
static CUresult m_vmm(unsigned long long *h, size_t n)
{
    CUmemAllocationProp prop = {.type = CU_MEM_ALLOCATION_TYPE_PINNED,
                                .location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0}};
    return f_create((CUmemGenericAllocationHandle *)h, n, &prop, 0);
}
static CUresult d_vmm(unsigned long long h) { return f_release((CUmemGenericAllocationHandle)h); }

/* Arrays: float, one channel, rows of 32 KiB (8192 elements): 200 MiB is 6400 rows. */
static void r_array(void)
{
    if (legacy) {
        RESOLVE(l_array, "cuArrayCreate", "cuArrayCreate", NULL);
        f_array = a_array;
    } else {
        RESOLVE(f_array, "cuArrayCreate", "cuArrayCreate_v2", cuArrayCreate);
    }
    RESOLVE(f_array_destroy, "cuArrayDestroy", "cuArrayDestroy", cuArrayDestroy);
}
static CUresult m_array(unsigned long long *h, size_t n)
{
    CUDA_ARRAY_DESCRIPTOR d = {.Width = n ? 8192 : 0, .Height = n / (8192 * 4), .Format = CU_AD_FORMAT_FLOAT,
                               .NumChannels = 1};
    return f_array((CUarray *)h, &d);
}
static CUresult d_array(unsigned long long h) { return f_array_destroy((CUarray)(uintptr_t)h); }

static void r_array3d(void)
{
    if (legacy) {
        RESOLVE(l_array3d, "cuArray3DCreate", "cuArray3DCreate", NULL);
        f_array3d = a_array3d;
    } else {
        RESOLVE(f_array3d, "cuArray3DCreate", "cuArray3DCreate_v2", cuArray3DCreate);
    }
    RESOLVE(f_array_destroy, "cuArrayDestroy", "cuArrayDestroy", cuArrayDestroy);
}
static CUresult m_array3d(unsigned long long *h, size_t n)
{
    CUDA_ARRAY3D_DESCRIPTOR d = {.Width = n ? 8192 : 0, .Height = 64, .Depth = n / (8192 * 4 * 64),
                                 .Format = CU_AD_FORMAT_FLOAT, .NumChannels = 1};
    return f_array3d((CUarray *)h, &d);
}

static void r_mipmap(void)
{
    RESOLVE(f_mipmap, "cuMipmappedArrayCreate", "cuMipmappedArrayCreate", cuMipmappedArrayCreate);
    RESOLVE(f_mipmap_destroy, "cuMipmappedArrayDestroy", "cuMipmappedArrayDestroy", cuMipmappedArrayDestroy);
}
static CUresult m_mipmap(unsigned long long *h, size_t n)
{
    CUDA_ARRAY3D_DESCRIPTOR d = {.Width = n ? 8192 : 0, .Height = n / (8192 * 4), .Depth = 0,
                                 .Format = CU_AD_FORMAT_FLOAT, .NumChannels = 1};
    return f_mipmap((CUmipmappedArray *)h, &d, 1);
}
static CUresult d_mipmap(unsigned long long h) { return f_mipmap_destroy((CUmipmappedArray)(uintptr_t)h); }

static const struct family families[] = {
    {"alloc", r_alloc, m_alloc, d_free},
    {"pitch", r_pitch, m_pitch, d_free},
    {"managed", r_managed, m_managed, d_free},
    {"async", r_async, m_async, d_async},
    {"frompool", r_from_pool, m_from_pool, d_async},
    {"vmm", r_vmm, m_vmm, d_vmm},
    {"array", r_array, m_array, d_array},
    {"array3d", r_array3d, m_array3d, d_array},
    {"mipmap", r_mipmap, m_mipmap, d_mipmap},
};

/* ------------------------------------------------------------------ the checks */

static size_t free_now(size_t *total)
{
    size_t f = 0, t = 0;
    CUresult rc = f_info(&f, &t);
    CHECK(rc == CUDA_SUCCESS, "cuMemGetInfo returned %d", rc);
    if (total)
        *total = t;
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: prog_families FAMILY linked|dlsym|procaddr|procaddr_v2|v1dlsym|v1procaddr EXPECTED_CAP_BYTES\n");
        return 2;
    }
    const struct family *fam = NULL;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcmp(families[i].name, argv[1]) == 0)
            fam = &families[i];
    if (!fam) {
        fprintf(stderr, "prog_families: unknown family '%s'\n", argv[1]);
        return 2;
    }
    path = argv[2];
    legacy = strncmp(path, "v1", 2) == 0;
    unsigned long long cap = strtoull(argv[3], NULL, 10);

    CUdevice dev;
    CUcontext ctx;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&ctx, dev) != CUDA_SUCCESS || cuCtxSetCurrent(ctx) != CUDA_SUCCESS ||
        cuStreamCreate(&stream, 0) != CUDA_SUCCESS) {
        printf("FAIL: cannot set up a context and stream\n");
        return 1;
    }
    open_paths();
    resolve_common();
    fam->resolve();

    size_t total = 0, physical = 0;
    size_t free0 = free_now(&total);
    CHECK(f_total(&physical, dev) == CUDA_SUCCESS, "cuDeviceTotalMem failed");
    if (cap) {
        CHECK(total == cap, "cuMemGetInfo total %zu, expected the cap %llu", total, cap);
        CHECK(physical == cap, "cuDeviceTotalMem %zu, expected the cap %llu", physical, cap);
        CHECK(free0 == cap, "cuMemGetInfo free %zu before any allocation, expected %llu", free0, cap);
    }

    unsigned expected_ok = cap ? (unsigned)(cap / BLOCK) : BLOCKS;
    if (expected_ok > BLOCKS)
        expected_ok = BLOCKS;
    unsigned long long blocks[BLOCKS] = {0};
    unsigned ok = 0;
    for (unsigned i = 0; i < BLOCKS; i++) {
        CUresult rc = fam->make(&blocks[i], BLOCK);
        if (i < expected_ok)
            CHECK(rc == CUDA_SUCCESS, "%s block %u: %d, expected success", fam->name, i, rc);
        else
            CHECK(rc == CUDA_ERROR_OUT_OF_MEMORY, "%s block %u: %d, expected CUDA_ERROR_OUT_OF_MEMORY", fam->name,
                  i, rc);
        if (rc == CUDA_SUCCESS)
            ok++;
        else
            blocks[i] = 0;
    }
    if (cap)
        CHECK(free_now(NULL) == cap - ok * BLOCK, "free after %u blocks is %zu, not cap - used", ok, free_now(NULL));

    /* Bad input: the driver's own error, and no counter moves. */
    size_t before = free_now(NULL);
    CHECK(fam->make(NULL, BLOCK) == CUDA_ERROR_INVALID_VALUE, "%s: NULL output not refused as invalid value",
          fam->name);
    unsigned long long zero = 0;
    CHECK(fam->make(&zero, 0) == CUDA_ERROR_INVALID_VALUE, "%s: zero size not refused as invalid value", fam->name);
    CUresult unknown = fam->destroy(0x1234500);
    CHECK(unknown == CUDA_ERROR_INVALID_VALUE || unknown == CUDA_ERROR_INVALID_HANDLE,
          "%s: freeing an unknown handle not refused (%d)", fam->name, unknown);
    CHECK(free_now(NULL) == before, "%s: bad input moved the accounting", fam->name);

    /* Free one block, free it again, and the bytes come back exactly once. */
    if (ok > 0) {
        CHECK(fam->destroy(blocks[0]) == CUDA_SUCCESS, "%s: free of block 0 failed", fam->name);
        CUresult twice = fam->destroy(blocks[0]);
        CHECK(twice == CUDA_ERROR_INVALID_VALUE || twice == CUDA_ERROR_INVALID_HANDLE, "%s: double free not refused",
              fam->name);
        if (cap)
            CHECK(free_now(NULL) == before + BLOCK, "%s: free did not give 200 MiB back exactly once", fam->name);
        CHECK(fam->make(&blocks[0], BLOCK) == CUDA_SUCCESS, "%s: freed bytes could not be allocated again", fam->name);
        if (cap && expected_ok < BLOCKS) {
            unsigned long long extra;
            CHECK(fam->make(&extra, BLOCK) == CUDA_ERROR_OUT_OF_MEMORY, "%s: cap not enforced after reallocation",
                  fam->name);
        }
    }
    for (unsigned i = 0; i < BLOCKS; i++)
        if (blocks[i])
            fam->destroy(blocks[i]);
    cuStreamSynchronize(stream);
    if (cap)
        CHECK(free_now(NULL) == cap, "%s: free memory not back to the cap after freeing everything", fam->name);

    if (failures) {
        printf("prog_families %s %s: %d failure(s)\n", fam->name, path, failures);
        return 1;
    }
    printf("prog_families %s %s: ok (%u of %u blocks of 200 MiB)\n", fam->name, path, ok, BLOCKS);
    return 0;
}
