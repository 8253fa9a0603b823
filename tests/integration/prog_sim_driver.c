/* Checks the simulated CUDA driver (build/sim/libcuda.so.1) against the behaviour grey relies on:
 * GREY_SIM_* settings, VRAM accounting and out-of-memory, the allocation registry, copies and
 * memsets, contexts, versioned cuGetProcAddress, launches, streams and events.
 *
 * Self-contained: the program pins its own settings before cuInit (two devices, 1 GiB and 2 GiB),
 * so it gives the same answer however it is started. Malformed settings are checked in forked
 * children, before this process initializes the driver.
 *
 * Build and run:  make build/sim/libcuda.so.1 build/tests/integration/prog_sim_driver
 *                 LD_LIBRARY_PATH=build/sim build/tests/integration/prog_sim_driver
 * Prints "FAIL: ..." and exits 1 at the first mismatch, "prog_sim_driver: ok" at the end. */
#include <cuda.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GiB (1024ULL * 1024 * 1024)
#define MiB (1024ULL * 1024)

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: %s:%d: ", __FILE__, __LINE__);                                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            FAIL(__VA_ARGS__);                                                                     \
    } while (0)

/* Calls `call` and checks it returned `want`, naming both codes on a mismatch. */
#define EXPECT(call, want)                                                                         \
    do {                                                                                           \
        CUresult got_ = (call);                                                                    \
        if (got_ != (want))                                                                        \
            FAIL("%s returned %d (%s), expected %d (%s)", #call, (int)got_, errname(got_),       \
                 (int)(want), errname(want));                                                      \
    } while (0)

#define OK(call) EXPECT(call, CUDA_SUCCESS)

static const char *errname(CUresult r)
{
    const char *s = NULL;
    return cuGetErrorName(r, &s) == CUDA_SUCCESS && s ? s : "?";
}

static void *libcuda;

static void *sym(const char *name)
{
    void *p = dlsym(libcuda, name);
    CHECK(p, "dlsym(libcuda.so.1, %s) failed: %s", name, dlerror());
    return p;
}

static size_t free_bytes(void)
{
    size_t f, t;
    OK(cuMemGetInfo(&f, &t));
    return f;
}

/* ------------------------------------------------------------------ settings (forked children) */

/* Runs cuInit in a child with var=value and checks the result, and for a malformed value the
 * one-line message "simgpu: VAR: reason" on stderr. */
static void check_setting(const char *var, const char *value, CUresult want)
{
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        setenv(var, value, 1);
        _exit((int)cuInit(0));
    }
    close(fds[1]);
    char msg[512] = {0};
    size_t n = 0;
    ssize_t k;
    while (n < sizeof msg - 1 && (k = read(fds[0], msg + n, sizeof msg - 1 - n)) > 0)
        n += (size_t)k;
    close(fds[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status), "child for %s", var);
    CHECK(WEXITSTATUS(status) == (int)want, "%s=%s: cuInit returned %d, expected %d", var, value,
          WEXITSTATUS(status), (int)want);
    if (want == CUDA_ERROR_INVALID_VALUE) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "simgpu: %s: ", var);
        CHECK(strncmp(msg, prefix, strlen(prefix)) == 0 && strchr(msg, '\n') == msg + n - 1,
              "%s=%s: expected one line starting '%s', got '%s'", var, value, prefix, msg);
    }
}

static void test_settings(void)
{
    check_setting("GREY_SIM_VRAM", "12XB", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_VRAM", "-1", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_VRAM_1", "lots", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_DEVICES", "17", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_DEVICES", "two", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_DEVICES", "0", CUDA_ERROR_NO_DEVICE);
    check_setting("GREY_SIM_SMS", "0", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_CC", "nine", CUDA_ERROR_INVALID_VALUE);
    check_setting("GREY_SIM_VRAM", "24GiB", CUDA_SUCCESS);
}

/* ------------------------------------------------------------------ before cuInit */

static void test_before_init(void)
{
    int n, v;
    CUdeviceptr p;
    size_t f, t;
    EXPECT(cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
    EXPECT(cuMemAlloc(&p, 16), CUDA_ERROR_NOT_INITIALIZED);
    EXPECT(cuMemGetInfo(&f, &t), CUDA_ERROR_NOT_INITIALIZED);
    OK(cuDriverGetVersion(&v));
    CHECK(v == 13000, "driver version %d", v);
    /* The runtime resolves everything through cuGetProcAddress before calling cuInit. */
    void *fn = NULL;
    CUdriverProcAddressQueryResult st;
    OK(cuGetProcAddress_v2("cuInit", &fn, 12000, CU_GET_PROC_ADDRESS_DEFAULT, &st));
    CHECK(fn == sym("cuInit") && st == CU_GET_PROC_ADDRESS_SUCCESS, "cuInit before cuInit");
    EXPECT(cuInit(1), CUDA_ERROR_INVALID_VALUE);
}

/* ------------------------------------------------------------------ devices */

static void test_devices(void)
{
    int n, v, major, minor;
    CUdevice d0, d1, bad;
    char name[256], bus[32];
    size_t total;

    OK(cuDeviceGetCount(&n));
    CHECK(n == 2, "device count %d, expected 2", n);
    OK(cuDeviceGet(&d0, 0));
    OK(cuDeviceGet(&d1, 1));
    EXPECT(cuDeviceGet(&bad, 2), CUDA_ERROR_INVALID_DEVICE);
    EXPECT(cuDeviceGet(NULL, 0), CUDA_ERROR_INVALID_VALUE);

    OK(cuDeviceGetName(name, sizeof name, d1));
    CHECK(strcmp(name, "Test GPU") == 0, "name '%s'", name);
    OK(cuDeviceTotalMem(&total, d0));
    CHECK(total == 1 * GiB, "device 0 total %zu, expected 1 GiB (GREY_SIM_VRAM)", total);
    OK(cuDeviceTotalMem(&total, d1));
    CHECK(total == 2 * GiB, "device 1 total %zu, expected 2 GiB (GREY_SIM_VRAM_1)", total);
    EXPECT(cuDeviceTotalMem(NULL, d0), CUDA_ERROR_INVALID_VALUE);

    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d0));
    CHECK(v == 100, "SMs %d", v);
    OK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d0));
    OK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d0));
    CHECK(major == 8 && minor == 6, "cc %d.%d", major, minor);
    /* Deprecated in the header (and so -Werror refuses a direct call), still exported. */
    typedef CUresult (*cc_fn)(int *, int *, CUdevice);
    OK(((cc_fn)sym("cuDeviceComputeCapability"))(&major, &minor, d1));
    CHECK(major == 8 && minor == 6, "cc %d.%d", major, minor);
    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, d0));
    CHECK(v == 32, "warp %d", v);
    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, d0));
    CHECK(v == 1, "UVA %d", v);
    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_INTEGRATED, d0));
    CHECK(v == 0, "integrated %d", v);
    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, d0));
    CHECK(v == 1, "pools %d", v);
    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, d0));
    CHECK(v == 1024, "threads/block %d", v);
    EXPECT(cuDeviceGetAttribute(&v, (CUdevice_attribute)0, d0), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuDeviceGetAttribute(&v, (CUdevice_attribute)100000, d0), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 7), CUDA_ERROR_INVALID_DEVICE);

    CUuuid u0, u0b, u1;
    OK(cuDeviceGetUuid(&u0, d0));
    OK(cuDeviceGetUuid(&u0b, d0));
    OK(cuDeviceGetUuid(&u1, d1));
    CHECK(memcmp(&u0, &u0b, sizeof u0) == 0 && memcmp(&u0, &u1, sizeof u0) != 0, "uuids");

    OK(cuDeviceGetPCIBusId(bus, sizeof bus, d1));
    OK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, d1));
    char want[32];
    snprintf(want, sizeof want, "0000:%02x:00.0", v);
    CHECK(strcmp(bus, want) == 0, "PCI bus id '%s' vs attribute '%s'", bus, want);

    const char *s;
    OK(cuGetErrorName(CUDA_ERROR_OUT_OF_MEMORY, &s));
    CHECK(strcmp(s, "CUDA_ERROR_OUT_OF_MEMORY") == 0, "error name '%s'", s);
    OK(cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &s));
    CHECK(strcmp(s, "out of memory") == 0, "error string '%s'", s);
    OK(cuGetErrorString(CUDA_ERROR_STREAM_CAPTURE_MERGE, &s));
    CHECK(s && *s, "derived error string");
    EXPECT(cuGetErrorName((CUresult)12345, &s), CUDA_ERROR_INVALID_VALUE);
}

/* ------------------------------------------------------------------ memory */

static void test_no_context(void)
{
    CUdeviceptr p;
    size_t f, t;
    CUcontext cur = (CUcontext)1;
    OK(cuCtxGetCurrent(&cur));
    CHECK(cur == NULL, "a context is current before any was made");
    EXPECT(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT(cuMemGetInfo(&f, &t), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
}

static void test_alloc_free(void)
{
    size_t f, t;
    OK(cuMemGetInfo(&f, &t));
    CHECK(t == 1 * GiB && f == t, "fresh device 0: free %zu total %zu", f, t);
    EXPECT(cuMemGetInfo(NULL, &t), CUDA_ERROR_INVALID_VALUE);

    CUdeviceptr p, base;
    size_t size;
    EXPECT(cuMemAlloc(&p, 0), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuMemAlloc(NULL, 16), CUDA_ERROR_INVALID_VALUE);
    OK(cuMemAlloc(&p, 1));
    CHECK(free_bytes() == t - 512, "1 byte should count as 512 (512-byte granularity)");
    OK(cuMemFree(p));
    OK(cuMemAlloc(&p, 1000));
    CHECK(free_bytes() == t - 1024, "1000 bytes should count as 1024 (512-byte granularity)");
    OK(cuMemGetAddressRange(&base, &size, p + 10));
    CHECK(base == p && size == 1000, "address range %llx+%zu", (unsigned long long)base, size);
    EXPECT(cuMemGetAddressRange(&base, &size, p + 4096), CUDA_ERROR_NOT_FOUND);

    int local;
    EXPECT(cuMemFree(p + 8), CUDA_ERROR_INVALID_VALUE);                         /* interior */
    EXPECT(cuMemFree((CUdeviceptr)(uintptr_t)&local), CUDA_ERROR_INVALID_VALUE); /* unknown */
    /* 0 is a no-op: the reference is silent, but the CUDA 13 runtime's cudaFree(0) passes it down
     * and must succeed (docs/simgpu.md). */
    OK(cuMemFree(0));
    CHECK(free_bytes() == t - 1024, "cuMemFree(0) moved the free bytes");
    OK(cuMemFree(p));
    CHECK(free_bytes() == t, "free did not return the bytes");
    EXPECT(cuMemFree(p), CUDA_ERROR_INVALID_VALUE); /* double free */

    /* Allocate until the device is full: 1 GiB holds exactly 16 blocks of 64 MiB. */
    CUdeviceptr blocks[32];
    int n = 0;
    CUresult r;
    while (n < 32 && (r = cuMemAlloc(&blocks[n], 64 * MiB)) == CUDA_SUCCESS)
        n++;
    CHECK(n == 16, "%d blocks of 64 MiB fit in 1 GiB, expected 16", n);
    CHECK(r == CUDA_ERROR_OUT_OF_MEMORY, "allocation past VRAM returned %s", errname(r));
    CHECK(free_bytes() == 0, "full device reports %zu free", free_bytes());
    EXPECT(cuMemAlloc(&p, 1), CUDA_ERROR_OUT_OF_MEMORY);
    OK(cuMemFree(blocks[3]));
    CHECK(free_bytes() == 64 * MiB, "one freed block");
    OK(cuMemAlloc(&blocks[3], 64 * MiB));
    for (int i = 0; i < n; i++)
        OK(cuMemFree(blocks[i]));
    CHECK(free_bytes() == t, "all freed");
    EXPECT(cuMemAlloc(&p, 2 * GiB), CUDA_ERROR_OUT_OF_MEMORY);
    CHECK(free_bytes() == t, "a refused allocation must not hold bytes");

    /* The CUDA 2.x entry point hands out 32-bit device pointers; they are ordinary allocations
     * (x86-64 only: elsewhere the simulator reports CUDA_ERROR_NOT_SUPPORTED). */
    typedef CUresult (*alloc32_fn)(unsigned int *, unsigned int);
    unsigned int p32 = 0;
    CUresult r32 = ((alloc32_fn)sym("cuMemAlloc"))(&p32, 4096);
    CHECK(r32 == CUDA_SUCCESS || r32 == CUDA_ERROR_NOT_SUPPORTED, "legacy cuMemAlloc: %s", errname(r32));
    if (r32 == CUDA_SUCCESS) {
        CHECK(p32 != 0 && free_bytes() == t - 4096, "legacy allocation accounting");
        OK(cuMemFree((CUdeviceptr)p32));
        CHECK(free_bytes() == t, "legacy allocation freed");
    }

    /* Pinned host memory does not count against VRAM and is not device memory for free. */
    void *h;
    OK(cuMemAllocHost(&h, 4096));
    CHECK(free_bytes() == t, "host allocation counted against VRAM");
    EXPECT(cuMemFree((CUdeviceptr)(uintptr_t)h), CUDA_ERROR_INVALID_VALUE);
    OK(cuMemFreeHost(h));
    EXPECT(cuMemFreeHost(h), CUDA_ERROR_INVALID_VALUE);
}

static void test_copies(void)
{
    enum { N = 1 << 16 };
    static unsigned char src[N], dst[N];
    for (int i = 0; i < N; i++)
        src[i] = (unsigned char)(i * 7 + 3);
    CUdeviceptr a, b;
    OK(cuMemAlloc(&a, N));
    OK(cuMemAlloc(&b, N));
    OK(cuMemcpyHtoD(a, src, N));
    OK(cuMemcpyDtoD(b, a, N));
    OK(cuMemcpyDtoH(dst, b, N));
    CHECK(memcmp(src, dst, N) == 0, "HtoD/DtoD/DtoH round trip changed the data");

    EXPECT(cuMemcpyHtoD(a + N - 1, src, 2), CUDA_ERROR_INVALID_VALUE); /* past the end */
    EXPECT(cuMemcpyDtoH(dst, (CUdeviceptr)(uintptr_t)src, 4), CUDA_ERROR_INVALID_VALUE);
    OK(cuMemcpyHtoD(a, src, 0));

    OK(cuMemsetD8(a, 0xab, N));
    OK(cuMemcpyDtoH(dst, a, N));
    for (int i = 0; i < N; i++)
        CHECK(dst[i] == 0xab, "memsetD8 at %d: %x", i, dst[i]);
    OK(cuMemsetD32(b + 16, 0x01020304u, 8));
    uint32_t w[10];
    OK(cuMemcpyDtoH(w, b + 12, sizeof w));
    CHECK(w[0] != 0x01020304u && w[1] == 0x01020304u && w[8] == 0x01020304u && w[9] != 0x01020304u,
          "memsetD32 range");
    EXPECT(cuMemsetD32(b + 2, 0, 4), CUDA_ERROR_INVALID_VALUE); /* misaligned */
    EXPECT(cuMemsetD32(b, 0, N), CUDA_ERROR_INVALID_VALUE);     /* 4*N bytes: too long */

    /* Unified addressing: cuMemcpy takes host or device pointers on either side. */
    OK(cuMemcpy(a, (CUdeviceptr)(uintptr_t)src, N));
    memset(dst, 0, N);
    OK(cuMemcpy((CUdeviceptr)(uintptr_t)dst, a, N));
    CHECK(memcmp(src, dst, N) == 0, "cuMemcpy round trip");

    OK(cuMemFree(a));
    OK(cuMemFree(b));
}

/* ------------------------------------------------------------------ contexts */

static void test_contexts(CUcontext primary0)
{
    CUcontext c1, cur, popped;
    CUdevice dev;
    size_t f, t;
    OK(cuCtxCreate(&c1, NULL, 0, 1)); /* cuCtxCreate_v4 in CUDA 13's header */
    OK(cuCtxGetCurrent(&cur));
    CHECK(cur == c1, "a new context is made current");
    OK(cuCtxGetDevice(&dev));
    CHECK(dev == 1, "context device %d", dev);
    OK(cuMemGetInfo(&f, &t));
    CHECK(t == 2 * GiB && f == t, "device 1 info: free %zu total %zu", f, t);
    CUdeviceptr p;
    OK(cuMemAlloc(&p, 512 * MiB));
    OK(cuMemGetInfo(&f, &t));
    CHECK(f == 1536 * MiB, "device 1 after 512 MiB: %zu free", f);
    unsigned int api;
    OK(cuCtxGetApiVersion(c1, &api));
    CHECK(api >= 3020, "api version %u", api);

    /* The stack: push primary(0) over c1, then pop back. */
    OK(cuCtxPushCurrent(primary0));
    OK(cuCtxGetDevice(&dev));
    CHECK(dev == 0, "after push: device %d", dev);
    CHECK(free_bytes() == 1 * GiB, "device 0 unaffected by device 1 allocations");
    OK(cuCtxPopCurrent(&popped));
    CHECK(popped == primary0, "popped the wrong context");
    OK(cuCtxGetCurrent(&cur));
    CHECK(cur == c1, "after pop");

    /* Destroying a context frees its memory and pops it (back to primary0 under it). */
    OK(cuCtxDestroy(c1));
    OK(cuCtxGetCurrent(&cur));
    CHECK(cur == primary0, "destroyed context still current");
    EXPECT(cuCtxPushCurrent(c1), CUDA_ERROR_CONTEXT_IS_DESTROYED);
    CUcontext c2;
    OK(cuCtxCreate(&c2, NULL, 0, 1));
    OK(cuMemGetInfo(&f, &t));
    CHECK(f == t, "cuCtxDestroy did not free its allocations (%zu of %zu free)", f, t);
    OK(cuCtxDestroy(c2));
    OK(cuCtxPopCurrent(&popped));
    CHECK(popped == primary0, "stack under created contexts");
    EXPECT(cuCtxPopCurrent(&popped), CUDA_ERROR_INVALID_CONTEXT); /* empty stack */
    EXPECT(cuCtxCreate(&c2, NULL, 0, 5), CUDA_ERROR_INVALID_DEVICE);
    OK(cuCtxSetCurrent(primary0));

    /* Primary context of device 1: refcounted; the last release frees its memory. */
    CUcontext pa, pb;
    unsigned int flags;
    int active;
    OK(cuDevicePrimaryCtxGetState(1, &flags, &active));
    CHECK(!active, "primary context of device 1 active before retain");
    OK(cuDevicePrimaryCtxRetain(&pa, 1));
    OK(cuDevicePrimaryCtxRetain(&pb, 1));
    CHECK(pa == pb, "primary context is one per device");
    OK(cuCtxPushCurrent(pa));
    OK(cuMemAlloc(&p, 1 * GiB));
    OK(cuDevicePrimaryCtxRelease(1));
    OK(cuDevicePrimaryCtxGetState(1, &flags, &active));
    CHECK(active, "released once of twice: still active");
    OK(cuDevicePrimaryCtxRelease(1));
    OK(cuDevicePrimaryCtxGetState(1, &flags, &active));
    CHECK(!active, "released twice: inactive");
    EXPECT(cuDevicePrimaryCtxRelease(1), CUDA_ERROR_INVALID_CONTEXT);
    EXPECT(cuMemAlloc(&p, 16), CUDA_ERROR_INVALID_CONTEXT); /* current, but inactive */
    OK(cuCtxPopCurrent(&popped));
    OK(cuDevicePrimaryCtxRetain(&pa, 1));
    OK(cuCtxPushCurrent(pa));
    OK(cuMemGetInfo(&f, &t));
    CHECK(f == t, "inactive primary context kept its memory");
    OK(cuCtxPopCurrent(&popped));
    OK(cuDevicePrimaryCtxRelease(1));
}

/* ------------------------------------------------------------------ cuGetProcAddress */

static void expect_proc(const char *symbol, int version, cuuint64_t flags, const char *want)
{
    void *fn = (void *)1;
    CUdriverProcAddressQueryResult st = (CUdriverProcAddressQueryResult)-1;
    CUresult r = cuGetProcAddress_v2(symbol, &fn, version, flags, &st);
    CHECK(r == CUDA_SUCCESS && st == CU_GET_PROC_ADDRESS_SUCCESS,
          "cuGetProcAddress_v2(%s, %d, %llu): %s, status %d", symbol, version,
          (unsigned long long)flags, errname(r), (int)st);
    CHECK(fn == sym(want), "cuGetProcAddress_v2(%s, %d, %llu) is not %s", symbol, version,
          (unsigned long long)flags, want);
}

static void expect_proc_missing(const char *symbol, int version, CUdriverProcAddressQueryResult want)
{
    void *fn = (void *)1;
    CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SUCCESS;
    EXPECT(cuGetProcAddress_v2(symbol, &fn, version, CU_GET_PROC_ADDRESS_DEFAULT, &st),
           CUDA_ERROR_NOT_FOUND);
    CHECK(fn == NULL && st == want, "%s at %d: pfn %p status %d, expected status %d", symbol,
          version, fn, (int)st, (int)want);
}

static void test_proc_address(void)
{
    const cuuint64_t PT = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    const cuuint64_t LEGACY = CU_GET_PROC_ADDRESS_LEGACY_STREAM;

    expect_proc("cuMemAlloc", 12000, 0, "cuMemAlloc_v2");
    expect_proc("cuMemAlloc", 3020, 0, "cuMemAlloc_v2");
    expect_proc("cuMemAlloc", 3010, 0, "cuMemAlloc");
    expect_proc("cuMemFree", 12000, PT, "cuMemFree_v2");
    expect_proc("cuMemGetInfo", 12000, 0, "cuMemGetInfo_v2");
    expect_proc("cuDeviceTotalMem", 12000, 0, "cuDeviceTotalMem_v2");
    expect_proc("cuLaunchKernel", 12000, PT, "cuLaunchKernel_ptsz");
    expect_proc("cuLaunchKernel", 12000, LEGACY, "cuLaunchKernel");
    expect_proc("cuLaunchKernel", 12000, 0, "cuLaunchKernel");
    expect_proc("cuLaunchKernel", 6050, PT, "cuLaunchKernel"); /* no per-thread before 7.0 */
    expect_proc("cuMemcpyHtoD", 12000, PT, "cuMemcpyHtoD_v2_ptds");
    expect_proc("cuMemcpyHtoDAsync", 12000, PT, "cuMemcpyHtoDAsync_v2_ptsz");
    expect_proc("cuMemcpyHtoDAsync", 12000, 0, "cuMemcpyHtoDAsync_v2");
    expect_proc("cuStreamSynchronize", 13000, PT, "cuStreamSynchronize_ptsz");
    expect_proc("cuCtxSynchronize", 13000, 0, "cuCtxSynchronize_v2");
    expect_proc("cuCtxSynchronize", 12080, 0, "cuCtxSynchronize");
    expect_proc("cuEventElapsedTime", 12080, 0, "cuEventElapsedTime_v2");
    expect_proc("cuCtxCreate", 12050, 0, "cuCtxCreate_v4");
    expect_proc("cuCtxCreate", 12000, 0, "cuCtxCreate_v3");
    expect_proc("cuGetProcAddress", 12000, 0, "cuGetProcAddress_v2");
    expect_proc("cuGetProcAddress", 11030, 0, "cuGetProcAddress");

    expect_proc_missing("cuNoSuchFunction", 12000, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    expect_proc_missing("cuMemAlloc_v2", 12000, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    expect_proc_missing("cuLaunchKernel", 3020, CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
    expect_proc_missing("cuGetProcAddress", 11020, CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);

    void *fn;
    EXPECT(cuGetProcAddress_v2(NULL, &fn, 12000, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuGetProcAddress_v2("cuInit", NULL, 12000, 0, NULL), CUDA_ERROR_INVALID_VALUE);
    OK(cuGetProcAddress_v2("cuInit", &fn, 12000, 0, NULL)); /* status is optional */

    /* The 11.3 entry point, reached as an old runtime would. */
    typedef CUresult (*gpa_v1)(const char *, void **, int, cuuint64_t);
    gpa_v1 old = (gpa_v1)sym("cuGetProcAddress");
    OK(old("cuMemcpyDtoH", &fn, 11080, PT));
    CHECK(fn == sym("cuMemcpyDtoH_v2_ptds"), "cuGetProcAddress (v1) per-thread copy");
    EXPECT(old("cuNoSuchFunction", &fn, 11080, 0), CUDA_ERROR_NOT_FOUND);

    /* What it returns must work: query memory through the looked-up pointer. */
    typedef CUresult (*meminfo_fn)(size_t *, size_t *);
    OK(cuGetProcAddress_v2("cuMemGetInfo", &fn, 12000, 0, NULL));
    size_t f, t;
    OK(((meminfo_fn)fn)(&f, &t));
    CHECK(t == 1 * GiB, "cuMemGetInfo through cuGetProcAddress");
}

/* ------------------------------------------------------------------ launches, streams, events */

static void test_launch_streams_events(void)
{
    static const char image[] = "// any image is accepted by the simulator";
    CUmodule mod;
    CUfunction k, k2;
    OK(cuModuleLoadData(&mod, image));
    OK(cuModuleGetFunction(&k, mod, "saxpy"));
    OK(cuModuleGetFunction(&k2, mod, "saxpy"));
    CHECK(k == k2, "the same kernel name gives the same handle");
    EXPECT(cuModuleGetFunction(&k2, NULL, "saxpy"), CUDA_ERROR_INVALID_HANDLE);
    EXPECT(cuModuleLoad(&mod, "/nonexistent/kernel.cubin"), CUDA_ERROR_FILE_NOT_FOUND);

    CUstream s;
    CUevent e0, e1, nt;
    OK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    EXPECT(cuStreamCreate(&s, 0x80), CUDA_ERROR_INVALID_VALUE);
    OK(cuEventCreate(&e0, CU_EVENT_DEFAULT));
    OK(cuEventCreate(&e1, CU_EVENT_DEFAULT));
    OK(cuEventCreate(&nt, CU_EVENT_DISABLE_TIMING));
    EXPECT(cuEventCreate(&nt, CU_EVENT_INTERPROCESS), CUDA_ERROR_INVALID_VALUE);

    float x = 1.0f;
    void *args[] = {&x};
    float ms;
    EXPECT(cuEventElapsedTime(&ms, e0, e1), CUDA_ERROR_INVALID_HANDLE); /* never recorded */
    OK(cuEventRecord(e0, s));
    OK(cuLaunchKernel(k, 128, 1, 1, 256, 1, 1, 0, s, args, NULL));
    OK(cuLaunchKernel(k, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    OK(cuEventRecord(e1, s));
    OK(cuEventRecord(nt, s));
    OK(cuStreamSynchronize(s));
    OK(cuStreamQuery(s));
    OK(cuEventSynchronize(e1));
    OK(cuEventQuery(e1));
    OK(cuEventElapsedTime(&ms, e0, e1));
    CHECK(ms >= 0.0f && ms < 1000.0f, "elapsed %f ms", ms);
    EXPECT(cuEventElapsedTime(&ms, e0, nt), CUDA_ERROR_INVALID_HANDLE);
    OK(cuStreamWaitEvent(NULL, e1, 0));
    OK(cuStreamSynchronize(NULL));
    OK(cuCtxSynchronize());

    EXPECT(cuLaunchKernel(k, 0, 1, 1, 1, 1, 1, 0, s, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuLaunchKernel(k, 1, 1, 1, 1, 0, 1, 0, s, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuLaunchKernel(k, 1, 1, 1, 2048, 1, 1, 0, s, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    EXPECT(cuLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, s, NULL, NULL), CUDA_ERROR_INVALID_HANDLE);

    /* The per-thread-stream launch, found the way the runtime finds it. */
    typedef CUresult (*launch_fn)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                                  unsigned, unsigned, CUstream, void **, void **);
    void *fn;
    OK(cuGetProcAddress_v2("cuLaunchKernel", &fn, 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, NULL));
    OK(((launch_fn)fn)(k, 4, 4, 1, 32, 8, 1, 1024, NULL, args, NULL));
    OK(cuStreamSynchronize(CU_STREAM_PER_THREAD));

    /* Asynchronous copies on the stream. */
    enum { N = 4096 };
    static char src[N], dst[N];
    memset(src, 'g', N);
    CUdeviceptr d;
    OK(cuMemAlloc(&d, N));
    OK(cuMemcpyHtoDAsync(d, src, N, s));
    OK(cuMemsetD8Async(d + 100, 'x', 10, s));
    OK(cuMemcpyDtoHAsync(dst, d, N, s));
    OK(cuStreamSynchronize(s));
    CHECK(dst[0] == 'g' && dst[100] == 'x' && dst[109] == 'x' && dst[110] == 'g', "async copies");
    OK(cuMemFree(d));

    OK(cuEventDestroy(e0));
    OK(cuEventDestroy(e1));
    OK(cuEventDestroy(nt));
    OK(cuStreamDestroy(s));
    EXPECT(cuStreamDestroy(NULL), CUDA_ERROR_INVALID_HANDLE);
    OK(cuModuleUnload(mod));
}

/* ------------------------------------------------------------------ threads */

static CUcontext thread_ctx;

static void *churn(void *arg)
{
    (void)arg;
    if (cuCtxSetCurrent(thread_ctx) != CUDA_SUCCESS)
        return (void *)"set current";
    CUdeviceptr p[8];
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 8; i++)
            if (cuMemAlloc(&p[i], (size_t)(i + 1) * 100000) != CUDA_SUCCESS)
                return (void *)"alloc";
        for (int i = 0; i < 8; i++)
            if (cuMemFree(p[i]) != CUDA_SUCCESS)
                return (void *)"free";
    }
    return NULL;
}

static void test_threads(CUcontext primary0)
{
    enum { T = 8 };
    pthread_t th[T];
    thread_ctx = primary0;
    size_t before = free_bytes();
    for (int i = 0; i < T; i++)
        CHECK(pthread_create(&th[i], NULL, churn, NULL) == 0, "pthread_create");
    for (int i = 0; i < T; i++) {
        void *err;
        pthread_join(th[i], &err);
        CHECK(err == NULL, "thread %d: %s failed", i, (const char *)err);
    }
    CHECK(free_bytes() == before, "concurrent alloc/free leaked accounting");
}

int main(void)
{
    /* Pinned settings, so the checks below do not depend on how the program was started. */
    setenv("GREY_SIM_VRAM", "1GiB", 1);
    setenv("GREY_SIM_DEVICES", "2", 1);
    setenv("GREY_SIM_VRAM_1", "2GiB", 1);
    unsetenv("GREY_SIM_VRAM_0");
    setenv("GREY_SIM_SMS", "100", 1);
    setenv("GREY_SIM_NAME", "Test GPU", 1);
    setenv("GREY_SIM_CC", "8.6", 1);

    libcuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!libcuda)
        libcuda = dlopen("libcuda.so.1", RTLD_NOW);
    CHECK(libcuda, "dlopen(libcuda.so.1): %s", dlerror());

    test_settings();
    test_before_init();
    OK(cuInit(0));
    test_devices();
    test_no_context();

    CUcontext primary0;
    OK(cuDevicePrimaryCtxRetain(&primary0, 0));
    OK(cuCtxSetCurrent(primary0));
    test_alloc_free();
    test_copies();
    test_contexts(primary0);
    test_proc_address();
    test_launch_streams_events();
    test_threads(primary0);
    OK(cuDevicePrimaryCtxRelease(0));

    printf("prog_sim_driver: ok\n");
    return 0;
}
