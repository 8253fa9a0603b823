/* node_probe's HIP runtime commands (probe.h), linked against build/sim/libamdhip64.so.5. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>

#include "probe.h"

#include <stdbool.h>
#include <string.h>

#define HIP(call)                                                                                  \
    do {                                                                                           \
        hipError_t r_ = (call);                                                                    \
        if (r_ != hipSuccess)                                                                      \
            FAIL("%s: %s", #call, hipGetErrorName(r_));                                            \
    } while (0)

static int attr(int d, hipDeviceAttribute_t a)
{
    int v = 0;
    HIP(hipDeviceGetAttribute(&v, a, d));
    return v;
}

static void check_pci(int d, const char *pci)
{
    probe_same_pci("HIP", d, pci, attr(d, hipDeviceAttributePciDomainID), attr(d, hipDeviceAttributePciBusId),
                   attr(d, hipDeviceAttributePciDeviceId));
    int back = -1;
    HIP(hipDeviceGetByPCIBusId(&back, pci));
    if (back != d)
        FAIL("HIP device %d: hipDeviceGetByPCIBusId(%s) gives %d", d, pci, back);
}

static int list(void)
{
    int n = 0;
    hipError_t r = hipGetDeviceCount(&n);
    if (r != hipSuccess) {
        printf("hip-init %s\n", hipGetErrorName(r));
        return 0;
    }
    printf("hip-count %d\n", n);
    for (int i = 0; i < n; i++) {
        hipUUID u;
        char pci[32], name[256];
        size_t total = 0, free_bytes = 0, ctx_total = 0;
        HIP(hipDeviceGetUuid(&u, i));
        HIP(hipDeviceGetPCIBusId(pci, sizeof pci, i));
        check_pci(i, pci);
        HIP(hipDeviceGetName(name, sizeof name, i));
        HIP(hipDeviceTotalMem(&total, i));
        HIP(hipSetDevice(i));
        HIP(hipMemGetInfo(&free_bytes, &ctx_total));
        if (ctx_total != total)
            FAIL("HIP device %d: hipMemGetInfo total %zu, hipDeviceTotalMem %zu", i, ctx_total, total);
        /* The UUID's 16 bytes are the characters after "GPU-" in ROCm's text form. */
        printf("hip %d uuid=GPU-%.16s pci=%s vram=%zu free=%zu cus=%d name=%s\n", i, u.bytes, pci, total,
               free_bytes, attr(i, hipDeviceAttributeMultiprocessorCount), name);
    }
    return 0;
}

static int alloc(int ordinal, unsigned long long bytes)
{
    HIP(hipSetDevice(ordinal));
    size_t free_bytes, total;
    HIP(hipMemGetInfo(&free_bytes, &total));
    printf("free %zu\n", free_bytes);
    void *p = NULL;
    hipError_t r = hipMalloc(&p, bytes);
    printf("alloc %s\n", hipGetErrorName(r));
    return r == hipSuccess ? 0 : 2;
}

static int kernel(int ordinal, unsigned us)
{
    HIP(hipSetDevice(ordinal));
    hipModule_t mod;
    hipFunction_t f;
    char name[64];
    snprintf(name, sizeof name, "probe_us%u", us);
    HIP(hipModuleLoadData(&mod, "node_probe"));
    HIP(hipModuleGetFunction(&f, mod, name));
    double t0 = probe_now_ms();
    HIP(hipModuleLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    HIP(hipDeviceSynchronize());
    printf("kernel-ms %.0f\n", probe_now_ms() - t0);
    return 0;
}

/* The start event completes when the warm-up does, so hipEventElapsedTime spans the kernel and
 * whatever else held the device meanwhile (other processes' slices under GREY_SIM_SCHED=timeslice). */
static int timed(int ordinal, unsigned us)
{
    HIP(hipSetDevice(ordinal));
    hipModule_t mod;
    hipFunction_t warm, f;
    char name[64];
    snprintf(name, sizeof name, "probe_us%u", us);
    HIP(hipModuleLoadData(&mod, "node_probe"));
    HIP(hipModuleGetFunction(&warm, mod, "warm_us5000"));
    HIP(hipModuleGetFunction(&f, mod, name));
    hipEvent_t a, b;
    HIP(hipEventCreate(&a));
    HIP(hipEventCreate(&b));
    HIP(hipModuleLaunchKernel(warm, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    HIP(hipEventRecord(a, NULL));
    HIP(hipModuleLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL));
    HIP(hipEventRecord(b, NULL));
    HIP(hipEventSynchronize(b));
    float ms;
    HIP(hipEventElapsedTime(&ms, a, b));
    printf("elapsed-us %.0f\n", (double)ms * 1000.0);
    return 0;
}

int probe_hip(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (strcmp(cmd, "hip-list") == 0)
        return list();
    if (strcmp(cmd, "hip-alloc") == 0 && argc == 4)
        return alloc(atoi(argv[2]), probe_bytes(argv[3]));
    if (strcmp(cmd, "hip-kernel") == 0 && argc == 4)
        return kernel(atoi(argv[2]), (unsigned)probe_bytes(argv[3]));
    if (strcmp(cmd, "hip-timed") == 0 && argc == 4)
        return timed(atoi(argv[2]), (unsigned)probe_bytes(argv[3]));
    FAIL("bad HIP command (see tests/simgpu/check/probe.h)");
}
