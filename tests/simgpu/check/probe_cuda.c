/* node_probe's CUDA driver commands (probe.h), linked against build/sim/libcuda.so.1. */
#include "probe.h"

#include <cuda.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static const char *cu_name(CUresult r)
{
    const char *s = NULL;
    return cuGetErrorName(r, &s) == CUDA_SUCCESS && s ? s : "?";
}

#define CU(call)                                                                                   \
    do {                                                                                           \
        CUresult r_ = (call);                                                                      \
        if (r_ != CUDA_SUCCESS)                                                                    \
            FAIL("%s: %s", #call, cu_name(r_));                                                    \
    } while (0)

/* The 16 bytes as a UUID's 36 characters (the "GPU-"/"MIG-" of the text form is not in them). */
static void uuid_text(const CUuuid *u, char out[37])
{
    const unsigned char *b = (const unsigned char *)u->bytes;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int attr(CUdevice d, CUdevice_attribute a)
{
    int v = 0;
    CU(cuDeviceGetAttribute(&v, a, d));
    return v;
}

/* The address three ways: the text, the attributes, and the lookup back from the text (in the
 * form cuDeviceGetPCIBusId writes and in NVML's eight-digit-domain form). */
static void check_pci(CUdevice d, const char *pci)
{
    probe_same_pci("CUDA", d, pci, attr(d, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID), attr(d, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID),
                   attr(d, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID));
    char longer[40];
    snprintf(longer, sizeof longer, "0000%s", pci);
    CUdevice back = -1, back_long = -1;
    CU(cuDeviceGetByPCIBusId(&back, pci));
    CU(cuDeviceGetByPCIBusId(&back_long, longer));
    if (back != d || back_long != d)
        FAIL("device %d: cuDeviceGetByPCIBusId(%s) gives %d, (%s) gives %d", d, pci, back, longer, back_long);
}

static void use_device(int ordinal, CUcontext *ctx)
{
    CUdevice d;
    CU(cuDeviceGet(&d, ordinal));
    CU(cuDevicePrimaryCtxRetain(ctx, d));
    CU(cuCtxSetCurrent(*ctx));
}

static int list(void)
{
    CUresult r = cuInit(0);
    if (r != CUDA_SUCCESS) {
        printf("cuda-init %s\n", cu_name(r));
        return 0;
    }
    int n = 0;
    CU(cuDeviceGetCount(&n));
    printf("cuda-count %d\n", n);
    for (int i = 0; i < n; i++) {
        CUdevice d;
        CU(cuDeviceGet(&d, i));
        CUuuid u;
        char uuid[37], pci[32], name[256];
        size_t total = 0, free_bytes = 0, ctx_total = 0;
        CU(cuDeviceGetUuid_v2(&u, d));
        uuid_text(&u, uuid);
        CU(cuDeviceGetPCIBusId(pci, sizeof pci, d));
        check_pci(d, pci);
        CU(cuDeviceGetName(name, sizeof name, d));
        CU(cuDeviceTotalMem(&total, d));
        CUcontext ctx;
        use_device(i, &ctx);
        CU(cuMemGetInfo(&free_bytes, &ctx_total));
        if (ctx_total != total)
            FAIL("device %d: cuMemGetInfo total %zu, cuDeviceTotalMem %zu", i, ctx_total, total);
        CU(cuDevicePrimaryCtxRelease(d));
        printf("cuda %d uuid=%s pci=%s vram=%zu free=%zu sms=%d name=%s\n", i, uuid, pci, total, free_bytes,
               attr(d, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), name);
    }
    return 0;
}

static int alloc(int ordinal, unsigned long long bytes, bool hold)
{
    CU(cuInit(0));
    CUcontext ctx;
    use_device(ordinal, &ctx);
    size_t free_bytes, total;
    CU(cuMemGetInfo(&free_bytes, &total));
    printf("free %zu\n", free_bytes);
    CUdeviceptr p = 0;
    CUresult r = cuMemAlloc(&p, bytes);
    printf("alloc %s\n", cu_name(r));
    if (hold && r == CUDA_SUCCESS) {
        printf("held %d\n", (int)getpid());
        probe_wait_for_eof();
    }
    /* Exits without freeing: the process's memory goes with it, as with the real driver. */
    return r == CUDA_SUCCESS ? 0 : 2;
}

static int kernel(int ordinal, unsigned us, bool sync)
{
    CU(cuInit(0));
    CUcontext ctx;
    use_device(ordinal, &ctx);
    CUmodule mod;
    CUfunction f;
    char name[64];
    snprintf(name, sizeof name, "probe_us%u", us);
    CU(cuModuleLoadData(&mod, "node_probe"));
    CU(cuModuleGetFunction(&f, mod, name));
    double t0 = probe_now_ms();
    CU(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    if (sync) {
        CU(cuCtxSynchronize());
        printf("kernel-ms %.0f\n", probe_now_ms() - t0);
    }
    return 0;
}

int probe_cuda(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "cuda-list") == 0)
        return list();
    if (strcmp(cmd, "cuda-alloc") == 0 && argc == 4)
        return alloc(atoi(argv[2]), probe_bytes(argv[3]), false);
    if (strcmp(cmd, "cuda-hold") == 0 && argc == 4)
        return alloc(atoi(argv[2]), probe_bytes(argv[3]), true);
    if (strcmp(cmd, "cuda-kernel") == 0 && argc == 5)
        return kernel(atoi(argv[2]), (unsigned)probe_bytes(argv[3]), strcmp(argv[4], "sync") == 0);
    FAIL("bad CUDA command (see tests/simgpu/check/probe.h)");
}
