/* A driver that does nothing, for measuring the hook alone (make bench-sites).
 *
 * On the simulated driver an allocation is an mmap (~3 us) whose cost swings by hundreds of
 * nanoseconds from run to run, far more than what call-site capture costs; against that noise
 * no per-call figure of the hook can be read. This libcuda.so.1 answers the few calls
 * tests/bench/bench_hook makes (and the hook makes on their paths) at once: allocation hands out
 * addresses from a fixed ring without touching memory (skipping those still live), free and
 * launch return success. The difference between a run with the hook and one without is then
 * the hook's own cost. */
#define __CUDA_API_VERSION_INTERNAL 1
#include <cuda.h>
#include <stddef.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define RING (1u << 18)  /* more addresses than a bench holds buffers (bench_hook LIVE) */
#define BASE 0x7e0000000000ull

static int ctx_token;
static CUcontext current;
static unsigned long long next;
static unsigned char taken[RING]; /* live: an address is never handed out twice at once */

EXPORT CUresult cuInit(unsigned int flags) { (void)flags; return CUDA_SUCCESS; }
EXPORT CUresult cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGetCount(int *n) { *n = 1; return CUDA_SUCCESS; }
EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal) { *d = ordinal; return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE; }
EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) { (void)d; *c = (CUcontext)&ctx_token; return CUDA_SUCCESS; }
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) { (void)d; return CUDA_SUCCESS; }
EXPORT CUresult cuDevicePrimaryCtxGetState(CUdevice d, unsigned *flags, int *active)
{
    (void)d;
    *flags = 0;
    *active = 1;
    return CUDA_SUCCESS;
}
/* Who the device is: without a UUID the hook cannot place it on a physical GPU, and counts and
 * tracks nothing on it (the bench would time an idle hook). */
EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *u, CUdevice d)
{
    memset(u->bytes, 0, sizeof u->bytes);
    u->bytes[0] = 0x6e; /* 'n'ull */
    u->bytes[15] = (char)d;
    return d == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
EXPORT CUresult cuDeviceGetUuid(CUuuid *u, CUdevice d) { return cuDeviceGetUuid_v2(u, d); }
EXPORT CUresult cuDeviceGetPCIBusId(char *pci, int len, CUdevice d)
{
    if (len < 13 || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    memcpy(pci, "0000:00:00.0", 13);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice d)
{
    if (len < 12 || d != 0)
        return CUDA_ERROR_INVALID_VALUE;
    memcpy(name, "null device", 12);
    return CUDA_SUCCESS;
}
EXPORT CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
    if (!free_bytes || !total)
        return CUDA_ERROR_INVALID_VALUE;
    *free_bytes = *total = 80ull << 30; /* addresses only: nothing is ever used */
    return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice d)
{
    *bytes = 1ull << 40; /* room for every live buffer a bench holds */
    return d == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}
EXPORT CUresult cuCtxSetCurrent(CUcontext c) { current = c; return CUDA_SUCCESS; }
EXPORT CUresult cuCtxGetCurrent(CUcontext *c) { *c = current; return CUDA_SUCCESS; }
EXPORT CUresult cuCtxGetDevice(CUdevice *d) { *d = 0; return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT; }
EXPORT CUresult cuModuleLoadData(CUmodule *m, const void *image) { (void)image; *m = (CUmodule)&ctx_token; return CUDA_SUCCESS; }
EXPORT CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name)
{
    (void)m;
    (void)name;
    *f = (CUfunction)&ctx_token;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes)
{
    if (!p || !bytes)
        return CUDA_ERROR_INVALID_VALUE;
    /* 1 MiB apart, never dereferenced: the hook only uses device addresses as keys. */
    for (unsigned tries = 0; tries < RING; tries++) {
        unsigned i = (unsigned)(next++ % RING);
        if (!taken[i]) {
            taken[i] = 1;
            *p = (CUdeviceptr)(BASE + (unsigned long long)i * (1ull << 20));
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_OUT_OF_MEMORY;
}
EXPORT CUresult cuMemFree_v2(CUdeviceptr p)
{
    unsigned long long i = (p - BASE) >> 20;
    if (p < BASE || i >= RING || !taken[i])
        return CUDA_ERROR_INVALID_VALUE;
    taken[i] = 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned shmem, CUstream s, void **params, void **extra)
{
    (void)f, (void)gx, (void)gy, (void)gz, (void)bx, (void)by, (void)bz, (void)shmem, (void)s, (void)params, (void)extra;
    return CUDA_SUCCESS;
}

/* The launch path's fair-share timing: never capturing, events that are done at once. */
EXPORT CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *status)
{
    (void)s;
    *status = CU_STREAM_CAPTURE_STATUS_NONE;
    return CUDA_SUCCESS;
}
EXPORT CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode *mode) { (void)mode; return CUDA_SUCCESS; }
EXPORT CUresult cuEventCreate(CUevent *e, unsigned flags) { (void)flags; *e = (CUevent)&ctx_token; return CUDA_SUCCESS; }
EXPORT CUresult cuEventRecord(CUevent e, CUstream s) { (void)e, (void)s; return CUDA_SUCCESS; }
EXPORT CUresult cuEventQuery(CUevent e) { (void)e; return CUDA_SUCCESS; }
EXPORT CUresult cuEventElapsedTime(float *ms, CUevent a, CUevent b) { (void)a, (void)b; *ms = 0; return CUDA_SUCCESS; }
EXPORT CUresult cuEventDestroy_v2(CUevent e) { (void)e; return CUDA_SUCCESS; }

static const struct {
    const char *name;
    void *fn;
} procs[] = {
    {"cuMemAlloc", (void *)cuMemAlloc_v2},
    {"cuMemFree", (void *)cuMemFree_v2},
    {"cuLaunchKernel", (void *)cuLaunchKernel},
};

EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, cuuint64_t flags,
                                    CUdriverProcAddressQueryResult *status)
{
    (void)version;
    (void)flags;
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (strcmp(symbol, procs[i].name) == 0) {
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
