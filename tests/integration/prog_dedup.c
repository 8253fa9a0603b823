/* Programs for the buffer report's integration tests (tests/integration/dedup_tests.sh). Built
 * with -g so that the report can name the functions below; each allocating function is kept out
 * of line and out of identical-code folding (noipa), so that its name is the one the call site
 * resolves to.
 *
 *   prog_dedup upload PATH FREE    four 8 MiB buffers (load_weights x3, load_other x1); the same
 *                                  bytes uploaded to the first three (cuMemcpyHtoD, cuMemcpyHtoDAsync,
 *                                  cuMemcpy from host memory), other bytes to the fourth. PATH is
 *                                  linked or procaddr_v2 (cuGetProcAddress_v2 with the per-thread
 *                                  stream flag: the _ptds/_ptsz entry points). FREE=1 frees all
 *                                  four before exit, FREE=0 leaves them to the exit snapshot.
 *   prog_dedup device TEARDOWN     duplicates made on the device only: A by cuMemsetD32, B copied
 *                                  from A (cuMemcpyDtoD), C by cuMemsetD8 of the same byte, D set
 *                                  to another byte. TEARDOWN: none (exit), destroy (a context of
 *                                  its own, cuCtxDestroy) or reset (cuDevicePrimaryCtxReset).
 *   prog_dedup kernel              one buffer passed to a kernel by params, one through the packed
 *                                  argument buffer, one never used, one memset and then kept 1.2 s
 *                                  before its free.
 *   prog_dedup live READY DONE     two duplicates, then write its pid to READY and wait (20 s at
 *                                  most) for DONE to exist.
 *   prog_dedup replica READY DONE SEED POKE
 *                                  an inference replica: one 256 MiB "weights" buffer of the same
 *                                  bytes in every replica, a 32 MiB "kv" and a 16 MiB "scratch" of
 *                                  bytes of its own SEED; then its pid to READY, and it waits (60 s
 *                                  at most) for DONE. POKE (- for none): once that file exists,
 *                                  one byte of the weights at offset POKE_OFFSET is changed by a
 *                                  plain store and POKE.done is written. The simulator's device
 *                                  pointers are host addresses (tests/simgpu/sim_memory.c), so
 *                                  the store is a device write the hook never sees, as a kernel
 *                                  writing through a pointer it was not passed would be.
 *   prog_dedup fork                parent and child each upload their own pair of duplicates.
 *   prog_dedup churn N             N allocate/free pairs of 4 KiB (the record keeps a bounded number).
 *   prog_dedup inlined             two 8 MiB duplicates allocated in alloc_inlined, which is always
 *                                  inlined into load_inlined: the call site is in inlined code. Prints
 *                                  "line alloc N" (the allocation's line) and "line call N" (the call
 *                                  of alloc_inlined in load_inlined).
 *
 * Prints the buffers' addresses ("buffer NAME 0x...") and "FAIL: ..." with exit 1 on any error. */
#include <cuda.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1u << 20)
#define SIZE (8 * MiB)

#define CK(call)                                                                                   \
    do {                                                                                           \
        CUresult rc_ = (call);                                                                     \
        if (rc_ != CUDA_SUCCESS) {                                                                 \
            printf("FAIL: %s: error %d\n", #call, (int)rc_);                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef CUresult (*gpa_v2_fn)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *);

static CUresult (*p_alloc)(CUdeviceptr *, size_t);
static CUresult (*p_free)(CUdeviceptr);
static CUresult (*p_htod)(CUdeviceptr, const void *, size_t);
static CUresult (*p_htod_async)(CUdeviceptr, const void *, size_t, CUstream);
static CUresult (*p_memcpy)(CUdeviceptr, CUdeviceptr, size_t);
static CUresult (*p_sync)(void);

static void resolve(const char *path)
{
    if (strcmp(path, "linked") == 0) {
        p_alloc = cuMemAlloc;
        p_free = cuMemFree;
        p_htod = cuMemcpyHtoD;
        p_htod_async = cuMemcpyHtoDAsync;
        p_memcpy = cuMemcpy;
        p_sync = cuCtxSynchronize;
        return;
    }
    void *lib = dlopen("libcuda.so.1", RTLD_NOW);
    gpa_v2_fn gpa = lib ? (gpa_v2_fn)dlsym(lib, "cuGetProcAddress_v2") : NULL;
    if (!gpa) {
        printf("FAIL: no cuGetProcAddress_v2\n");
        exit(1);
    }
    struct { const char *name; void **fn; } want[] = {
        {"cuMemAlloc", (void **)&p_alloc}, {"cuMemFree", (void **)&p_free},
        {"cuMemcpyHtoD", (void **)&p_htod}, {"cuMemcpyHtoDAsync", (void **)&p_htod_async},
        {"cuMemcpy", (void **)&p_memcpy},
    };
    p_sync = cuCtxSynchronize; /* at 13000 the name means cuCtxSynchronize_v2(ctx) */
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CUdriverProcAddressQueryResult st;
        if (gpa(want[i].name, want[i].fn, 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st) != CUDA_SUCCESS ||
            !*want[i].fn) {
            printf("FAIL: cuGetProcAddress_v2(%s)\n", want[i].name);
            exit(1);
        }
    }
}

static CUcontext setup(void)
{
    CUdevice dev;
    CUcontext ctx;
    CK(cuInit(0));
    CK(cuDeviceGet(&dev, 0));
    CK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CK(cuCtxSetCurrent(ctx));
    return ctx;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 131u + seed * 7u + (i >> 12)) & 0xff);
}

__attribute__((noinline, noipa)) static CUdeviceptr load_weights(void)
{
    CUdeviceptr d;
    CK(p_alloc(&d, SIZE));
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr load_other(void)
{
    CUdeviceptr d;
    CK(p_alloc(&d, SIZE));
    return d;
}

static int upload(const char *path, int free_before_exit)
{
    resolve(path);
    setup();
    unsigned char *same = malloc(SIZE), *other = malloc(SIZE);
    fill(same, SIZE, 1);
    fill(other, SIZE, 2);
    CUdeviceptr w[3], o;
    for (int i = 0; i < 3; i++)
        w[i] = load_weights();
    o = load_other();
    CK(p_htod(w[0], same, SIZE));
    CK(p_htod_async(w[1], same, SIZE, NULL));
    CK(p_memcpy(w[2], (CUdeviceptr)(uintptr_t)same, SIZE));
    CK(p_htod(o, other, SIZE));
    CK(p_sync());
    for (int i = 0; i < 3; i++)
        printf("buffer weights%d 0x%llx\n", i, (unsigned long long)w[i]);
    printf("buffer other 0x%llx\n", (unsigned long long)o);
    if (free_before_exit) {
        for (int i = 0; i < 3; i++)
            CK(p_free(w[i]));
        CK(p_free(o));
    }
    free(same);
    free(other);
    return 0;
}

__attribute__((noinline, noipa)) static CUdeviceptr make_table(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, SIZE));
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr make_scratch(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, SIZE));
    return d;
}

static int device(const char *teardown)
{
    CUcontext primary = setup(), own = NULL;
    CUdevice dev;
    CK(cuDeviceGet(&dev, 0));
    if (strcmp(teardown, "destroy") == 0)
        CK(cuCtxCreate(&own, NULL, 0, dev));
    CUdeviceptr a = make_table(), b = make_table(), c = make_table(), d = make_scratch();
    CK(cuMemsetD32(a, 0x5a5a5a5a, SIZE / 4));
    CK(cuMemcpyDtoD(b, a, SIZE));
    CK(cuMemsetD8Async(c, 0x5a, SIZE, NULL));
    CK(cuMemsetD8(d, 0x11, SIZE));
    CK(cuCtxSynchronize());
    printf("buffer a 0x%llx\nbuffer b 0x%llx\nbuffer c 0x%llx\nbuffer d 0x%llx\n", (unsigned long long)a,
           (unsigned long long)b, (unsigned long long)c, (unsigned long long)d);
    if (own) {
        CK(cuCtxDestroy(own));
    } else if (strcmp(teardown, "reset") == 0) {
        CK(cuDevicePrimaryCtxReset(dev));
    }
    (void)primary;
    return 0;
}

__attribute__((noinline, noipa)) static CUdeviceptr alloc_for_kernel(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, MiB));
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr alloc_untouched(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, 3 * MiB));
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr alloc_idle(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, 2 * MiB));
    return d;
}

static int kernel(void)
{
    setup();
    CUmodule mod;
    CUfunction scale, packed;
    CK(cuModuleLoadData(&mod, "prog_dedup"));
    CK(cuModuleGetFunction(&scale, mod, "scale(8,8,4)"));
    CK(cuModuleGetFunction(&packed, mod, "packed"));
    CUdeviceptr in = alloc_for_kernel(), out = alloc_for_kernel(), by_buffer = alloc_for_kernel();
    CUdeviceptr unused = alloc_untouched(), idle = alloc_idle();
    int n = 42;
    void *params[] = {&in, &out, &n};
    CK(cuLaunchKernel(scale, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
    struct { CUdeviceptr p; int k; } args = {by_buffer, 7};
    size_t args_size = sizeof args;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, &args, CU_LAUNCH_PARAM_BUFFER_SIZE, &args_size, CU_LAUNCH_PARAM_END};
    CK(cuLaunchKernel(packed, 1, 1, 1, 32, 1, 1, 0, NULL, NULL, extra));
    CK(cuMemsetD8(idle, 0, 2 * MiB));
    CK(cuCtxSynchronize());
    printf("buffer in 0x%llx\nbuffer out 0x%llx\nbuffer packed 0x%llx\nbuffer unused 0x%llx\nbuffer idle 0x%llx\n",
           (unsigned long long)in, (unsigned long long)out, (unsigned long long)by_buffer, (unsigned long long)unused,
           (unsigned long long)idle);
    fflush(stdout);
    struct timespec nap = {1, 200 * 1000 * 1000};
    nanosleep(&nap, NULL);
    CK(cuMemFree(idle));
    return 0;
}

/* Writes text to the file name whole: under a temporary name, then renamed, so that a test
 * waiting for the file never reads half of it. */
static int say(const char *name, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", name);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, name) != 0) {
        printf("FAIL: cannot write %s\n", name);
        return 1;
    }
    return 0;
}

static int live(const char *ready, const char *done)
{
    resolve("linked");
    setup();
    unsigned char *same = malloc(SIZE);
    fill(same, SIZE, 3);
    CUdeviceptr w[2] = {load_weights(), load_weights()};
    CK(cuMemcpyHtoD(w[0], same, SIZE));
    CK(cuMemcpyHtoD(w[1], same, SIZE));
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", (int)getpid()); /* the pid grey-report --live asks */
    if (say(ready, pid))
        return 1;
    struct stat st;
    for (int i = 0; i < 400 && stat(done, &st) != 0; i++) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    CK(cuMemFree(w[0]));
    CK(cuMemFree(w[1]));
    free(same);
    return 0;
}

#define WEIGHTS (256 * MiB)
#define POKE_OFFSET (200 * MiB + 12345)

__attribute__((noinline, noipa)) static CUdeviceptr load_replica(size_t bytes)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, bytes));
    return d;
}

static int replica(const char *ready, const char *done, unsigned seed, const char *poke)
{
    setup();
    unsigned char *weights = malloc(WEIGHTS), *kv = malloc(32 * MiB), *scratch = malloc(16 * MiB);
    if (!weights || !kv || !scratch) {
        printf("FAIL: no host memory\n");
        return 1;
    }
    fill(weights, WEIGHTS, 9);
    fill(kv, 32 * MiB, 10 + seed);
    fill(scratch, 16 * MiB, 50 + seed);
    /* Allocated back to back, so the process reaches its peak once and its one peak snapshot
     * comes after all three exist (a test waits for it before it pokes). */
    CUdeviceptr w = load_replica(WEIGHTS), k = load_replica(32 * MiB), s = load_replica(16 * MiB);
    CK(cuMemcpyHtoD(w, weights, WEIGHTS));
    CK(cuMemcpyHtoD(k, kv, 32 * MiB));
    CK(cuMemcpyHtoD(s, scratch, 16 * MiB));
    CK(cuCtxSynchronize());
    free(weights);
    free(kv);
    free(scratch);
    printf("buffer weights 0x%llx\nbuffer kv 0x%llx\nbuffer scratch 0x%llx\n", (unsigned long long)w,
           (unsigned long long)k, (unsigned long long)s);
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (say(ready, pid))
        return 1;
    struct stat st;
    bool poked = false;
    for (int i = 0; i < 1200 && stat(done, &st) != 0; i++) {
        if (!poked && strcmp(poke, "-") != 0 && stat(poke, &st) == 0) {
            volatile unsigned char *byte = (volatile unsigned char *)(uintptr_t)(w + POKE_OFFSET);
            *byte = (unsigned char)~*byte;
            char done_name[4096];
            snprintf(done_name, sizeof done_name, "%s.done", poke);
            printf("poked offset %llu\n", (unsigned long long)POKE_OFFSET);
            if (say(done_name, "poked\n"))
                return 1;
            poked = true;
        }
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    CK(cuMemFree(w));
    CK(cuMemFree(k));
    CK(cuMemFree(s));
    return 0;
}

static int forked(void)
{
    resolve("linked");
    unsigned char *bytes = malloc(MiB);
    pid_t pid = fork();
    if (pid < 0) {
        printf("FAIL: fork\n");
        return 1;
    }
    /* The child initializes the driver itself: a CUDA context does not survive fork. */
    setup();
    fill(bytes, MiB, pid == 0 ? 5 : 6);
    CUdeviceptr a, b;
    CK(cuMemAlloc(&a, MiB));
    CK(cuMemAlloc(&b, MiB));
    CK(cuMemcpyHtoD(a, bytes, MiB));
    CK(cuMemcpyHtoD(b, bytes, MiB));
    free(bytes);
    if (pid == 0)
        exit(0);
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        printf("FAIL: the child failed\n");
        return 1;
    }
    return 0;
}

static int churn(long n)
{
    setup();
    for (long i = 0; i < n; i++) {
        CUdeviceptr d;
        CK(cuMemAlloc(&d, 4096));
        CK(cuMemFree(d));
    }
    return 0;
}

/* Always inlined: its cuMemAlloc call is an instruction of load_inlined, described by DWARF as
 * inlined code of alloc_inlined. */
static inline __attribute__((always_inline)) CUdeviceptr alloc_inlined(void)
{
    CUdeviceptr d;
    CK(cuMemAlloc(&d, SIZE)); printf("line alloc %d\n", __LINE__);
    return d;
}

__attribute__((noinline, noipa)) static CUdeviceptr load_inlined(void)
{
    CUdeviceptr d = alloc_inlined(); printf("line call %d\n", __LINE__);
    return d;
}

static int inlined(void)
{
    setup();
    unsigned char *same = malloc(SIZE);
    fill(same, SIZE, 4);
    CUdeviceptr a = load_inlined(), b = load_inlined();
    CK(cuMemcpyHtoD(a, same, SIZE));
    CK(cuMemcpyHtoD(b, same, SIZE));
    free(same);
    return 0; /* both left to the exit snapshot */
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "upload") == 0 && argc == 4)
        return upload(argv[2], atoi(argv[3]));
    if (strcmp(mode, "device") == 0 && argc == 3)
        return device(argv[2]);
    if (strcmp(mode, "kernel") == 0)
        return kernel();
    if (strcmp(mode, "live") == 0 && argc == 4)
        return live(argv[2], argv[3]);
    if (strcmp(mode, "replica") == 0 && argc == 6)
        return replica(argv[2], argv[3], (unsigned)atoi(argv[4]), argv[5]);
    if (strcmp(mode, "fork") == 0)
        return forked();
    if (strcmp(mode, "churn") == 0 && argc == 3)
        return churn(atol(argv[2]));
    if (strcmp(mode, "inlined") == 0)
        return inlined();
    fprintf(stderr, "usage: prog_dedup upload|device|kernel|live|replica|fork|churn|inlined ...\n");
    return 2;
}
