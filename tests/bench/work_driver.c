/* A second, independent libcuda.so.1 that does real work per call, for measuring the hook on a
 * driver grey's simulator did not shape (make bench) and for running the hook on a driver that
 * lacks optional functions (tests/integration/drivers_tests.sh).
 *
 * Unlike tests/bench/null_driver.c, every call costs about what a driver's bookkeeping costs:
 *   - an allocation takes a block from a free list per size class (or carves new address space),
 *     records it in an open-addressing table of live allocations under a lock, and writes the
 *     block's descriptor; a free looks the address up, checks it, and gives the block back;
 *   - a launch copies its arguments into a 64-byte command in a ring (a queue the "device" never
 *     reads) and advances the stream's clock by one microsecond of simulated device time;
 *   - events record that clock; cuEventQuery says done once the wall clock has passed it.
 * Device memory is never touched: addresses are keys, as they are for the hook.
 *
 * Built twice (mk/drivers.mk): whole, and with WORK_DRIVER_PARTIAL, without cuStreamIsCapturing,
 * cuThreadExchangeStreamCaptureMode and every cuEvent function, as older drivers, partial
 * compatibility layers and other interposers present themselves. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

#define TOTAL_BYTES (80ull << 30)
#define BASE 0x7f0000000000ull
#define TABLE (1u << 18)         /* live allocations at most: 262 144 */
#define CLASSES 48               /* size classes: powers of two from 256 B */
#define RING 1024                /* commands in the launch queue */

struct block {
    uint64_t addr, bytes;        /* addr 0: free table entry; UINT64_MAX: deleted */
};

static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block live[TABLE];
static uint64_t free_list[CLASSES][64];
static unsigned free_count[CLASSES];
static uint64_t carve = BASE, used_bytes;

static int ctx_token;
static __thread CUcontext current;

struct command {
    CUfunction f;
    unsigned grid[3], block[3], shmem;
    CUstream stream;
    void **params;
    uint64_t seq;
};
static struct command ring[RING];
static _Atomic uint64_t launch_seq;
static _Atomic uint64_t device_clock_ns; /* when the queue drains, simulated */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned size_class(uint64_t bytes)
{
    unsigned c = 0;
    while (c + 1 < CLASSES && (256ull << c) < bytes)
        c++;
    return c;
}

static unsigned slot_of(uint64_t addr)
{
    uint64_t h = addr * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> 46) & (TABLE - 1);
}

/* ---------------------------------------------------------------- devices and contexts */

EXPORT CUresult cuInit(unsigned int flags) { return flags ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS; }
EXPORT CUresult cuDriverGetVersion(int *v) { *v = 12040; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGetCount(int *n) { *n = 1; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal)
{
    if (!d)
        return CUDA_ERROR_INVALID_VALUE;
    *d = ordinal;
    return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
EXPORT CUresult cuDeviceGetUuid(CUuuid *u, CUdevice d)
{
    if (!u || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    static const unsigned char id[16] = {0x57, 0x0b, 0x4c, 0x11, 0x2e, 0x6a, 0x4f, 0x3d,
                                         0x9a, 0x51, 0x77, 0x0c, 0xd2, 0x18, 0x00, 0x01};
    memcpy(u->bytes, id, 16);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *u, CUdevice d) { return cuDeviceGetUuid(u, d); }
EXPORT CUresult cuDeviceGetPCIBusId(char *out, int len, CUdevice d)
{
    if (!out || len < 13 || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    memcpy(out, "0000:c1:00.0", 13);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetName(char *out, int len, CUdevice d)
{
    static const char name[] = "Work Driver GPU";
    if (!out || len < 1 || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    size_t n = (size_t)len < sizeof name ? (size_t)len - 1 : sizeof name - 1;
    memcpy(out, name, n);
    out[n] = '\0';
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d)
{
    if (!bytes || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    *bytes = TOTAL_BYTES;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d)
{
    if (!v || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    *v = a == CU_DEVICE_ATTRIBUTE_PCI_BUS_ID ? 0xc1 : a == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT ? 108 : 0;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d)
{
    if (!c || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    *c = (CUcontext)&ctx_token;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { return d == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE; }
EXPORT CUresult cuDevicePrimaryCtxGetState(CUdevice d, unsigned *flags, int *active)
{
    if (d != 0 || !flags || !active)
        return CUDA_ERROR_INVALID_VALUE;
    *flags = 0;
    *active = 1;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSetCurrent(CUcontext c) { current = c; return CUDA_SUCCESS; }
EXPORT CUresult cuCtxGetCurrent(CUcontext *c)
{
    if (!c)
        return CUDA_ERROR_INVALID_VALUE;
    *c = current;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxGetDevice(CUdevice *d)
{
    if (!d)
        return CUDA_ERROR_INVALID_VALUE;
    *d = 0;
    return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}
EXPORT CUresult cuCtxPushCurrent_v2(CUcontext c) { current = c; return CUDA_SUCCESS; }
EXPORT CUresult cuCtxPopCurrent_v2(CUcontext *c)
{
    if (c)
        *c = current;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxSynchronize(void)
{
    uint64_t until = atomic_load(&device_clock_ns);
    while (now_ns() < until)
        ;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleLoadData(CUmodule *m, const void *image)
{
    if (!m || !image)
        return CUDA_ERROR_INVALID_VALUE;
    *m = (CUmodule)&ctx_token;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name)
{
    if (!f || !m || !name)
        return CUDA_ERROR_INVALID_VALUE;
    *f = (CUfunction)&ctx_token;
    return CUDA_SUCCESS;
}

/* ---------------------------------------------------------------- memory */

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes)
{
    if (!p || !bytes)
        return CUDA_ERROR_INVALID_VALUE;
    if (!current)
        return CUDA_ERROR_INVALID_CONTEXT;
    unsigned c = size_class(bytes);
    uint64_t rounded = 256ull << c;
    pthread_mutex_lock(&mem_lock);
    if (used_bytes + rounded > TOTAL_BYTES) {
        pthread_mutex_unlock(&mem_lock);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    uint64_t addr = free_count[c] ? free_list[c][--free_count[c]] : 0;
    if (!addr) {
        addr = carve;
        carve += rounded;
    }
    unsigned i = slot_of(addr);
    while (live[i].addr && live[i].addr != UINT64_MAX)
        i = (i + 1) & (TABLE - 1);
    live[i] = (struct block){addr, rounded};
    used_bytes += rounded;
    pthread_mutex_unlock(&mem_lock);
    *p = (CUdeviceptr)addr;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p)
{
    if (!p)
        return CUDA_SUCCESS; /* as the driver: freeing 0 does nothing */
    pthread_mutex_lock(&mem_lock);
    unsigned i = slot_of((uint64_t)p);
    for (unsigned probes = 0; live[i].addr && probes < TABLE; probes++, i = (i + 1) & (TABLE - 1)) {
        if (live[i].addr != (uint64_t)p)
            continue;
        unsigned c = size_class(live[i].bytes);
        if (free_count[c] < 64)
            free_list[c][free_count[c]++] = live[i].addr;
        used_bytes -= live[i].bytes;
        /* A deleted mark keeps later entries of the probe chain reachable. */
        live[i].addr = UINT64_MAX;
        live[i].bytes = 0;
        pthread_mutex_unlock(&mem_lock);
        return CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&mem_lock);
    return CUDA_ERROR_INVALID_VALUE;
}

EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
    if (!free_bytes || !total)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&mem_lock);
    *free_bytes = TOTAL_BYTES - used_bytes;
    pthread_mutex_unlock(&mem_lock);
    *total = TOTAL_BYTES;
    return CUDA_SUCCESS;
}

/* ---------------------------------------------------------------- launches and events */

EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned shmem, CUstream s, void **params, void **extra)
{
    (void)extra;
    if (!f)
        return CUDA_ERROR_INVALID_HANDLE;
    if (!current)
        return CUDA_ERROR_INVALID_CONTEXT;
    uint64_t seq = atomic_fetch_add(&launch_seq, 1);
    ring[seq % RING] = (struct command){f, {gx, gy, gz}, {bx, by, bz}, shmem, s, params, seq};
    /* One microsecond of device time per kernel, queued after what is already queued. */
    uint64_t now = now_ns(), clock = atomic_load(&device_clock_ns);
    uint64_t start = clock > now ? clock : now;
    atomic_store(&device_clock_ns, start + 1000);
    return CUDA_SUCCESS;
}

#ifndef WORK_DRIVER_PARTIAL
EXPORT CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *status)
{
    (void)s;
    if (!status)
        return CUDA_ERROR_INVALID_VALUE;
    *status = CU_STREAM_CAPTURE_STATUS_NONE;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode *mode)
{
    static __thread CUstreamCaptureMode held = CU_STREAM_CAPTURE_MODE_GLOBAL;
    if (!mode)
        return CUDA_ERROR_INVALID_VALUE;
    CUstreamCaptureMode old = held;
    held = *mode;
    *mode = old;
    return CUDA_SUCCESS;
}

struct event {
    uint64_t at_ns;  /* device clock when recorded; 0: never recorded */
};
EXPORT CUresult cuEventCreate(CUevent *e, unsigned flags)
{
    (void)flags;
    if (!e)
        return CUDA_ERROR_INVALID_VALUE;
    struct event *ev = calloc(1, sizeof *ev);
    if (!ev)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *e = (CUevent)ev;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuEventRecord(CUevent e, CUstream s)
{
    (void)s;
    if (!e)
        return CUDA_ERROR_INVALID_HANDLE;
    uint64_t now = now_ns(), clock = atomic_load(&device_clock_ns);
    ((struct event *)e)->at_ns = clock > now ? clock : now;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuEventQuery(CUevent e)
{
    if (!e)
        return CUDA_ERROR_INVALID_HANDLE;
    return now_ns() >= ((struct event *)e)->at_ns ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}
EXPORT CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b)
{
    if (!ms || !a || !b)
        return CUDA_ERROR_INVALID_VALUE;
    const struct event *x = (const struct event *)a, *y = (const struct event *)b;
    if (!x->at_ns || !y->at_ns)
        return CUDA_ERROR_INVALID_HANDLE;
    *ms = (float)((double)(y->at_ns - x->at_ns) / 1e6);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuEventDestroy_v2(CUevent e)
{
    if (!e)
        return CUDA_ERROR_INVALID_HANDLE;
    free(e);
    return CUDA_SUCCESS;
}
#endif

/* ---------------------------------------------------------------- cuGetProcAddress */

static const struct {
    const char *name;
    void *fn;
} procs[] = {
    {"cuInit", (void *)cuInit},
    {"cuDeviceGet", (void *)cuDeviceGet},
    {"cuDeviceGetCount", (void *)cuDeviceGetCount},
    {"cuDevicePrimaryCtxRetain", (void *)cuDevicePrimaryCtxRetain},
    {"cuCtxGetCurrent", (void *)cuCtxGetCurrent},
    {"cuCtxSetCurrent", (void *)cuCtxSetCurrent},
    {"cuMemAlloc", (void *)cuMemAlloc_v2},
    {"cuMemFree", (void *)cuMemFree_v2},
    {"cuMemGetInfo", (void *)cuMemGetInfo_v2},
    {"cuLaunchKernel", (void *)cuLaunchKernel},
};

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
                                    CUdriverProcAddressQueryResult *status)
{
    (void)flags;
    if (!symbol || !pfn)
        return CUDA_ERROR_INVALID_VALUE;
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (strcmp(symbol, procs[i].name) == 0 && version >= 3020) {
            *pfn = procs[i].fn;
            if (status)
                *status = CU_GET_PROC_ADDRESS_SUCCESS;
            return CUDA_SUCCESS;
        }
    *pfn = NULL;
    if (status)
        *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    return CUDA_ERROR_NOT_FOUND;
}

EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int version, cuuint64_t flags)
{
    return cuGetProcAddress_v2(symbol, pfn, version, flags, NULL);
}
