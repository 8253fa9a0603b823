/* node_probe's NVML commands (probe.h): libnvidia-ml.so.1 is opened with dlopen, as monitoring
 * tools and grey's hook open it. */
#include "probe.h"

#include "vendor/nvml_api.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

static void *lib;

static void *sym(const char *name)
{
    void *p = dlsym(lib, name);
    if (!p)
        FAIL("libnvidia-ml.so.1 has no %s", name);
    return p;
}

#define NV(call)                                                                                   \
    do {                                                                                           \
        nvmlReturn_t r_ = (call);                                                                  \
        if (r_ != NVML_SUCCESS)                                                                    \
            FAIL("%s: NVML error %d", #call, r_);                                                  \
    } while (0)

typedef nvmlReturn_t (*handle_by_text_fn)(const char *, nvmlDevice_t *);
typedef nvmlReturn_t (*text_fn)(nvmlDevice_t, char *, unsigned);
typedef nvmlReturn_t (*memory_fn)(nvmlDevice_t, nvmlMemory_t *);

static void open_nvml(void)
{
    lib = dlopen("libnvidia-ml.so.1", RTLD_NOW);
    if (!lib)
        FAIL("dlopen(libnvidia-ml.so.1): %s", dlerror());
    NV(((nvmlReturn_t(*)(void))sym("nvmlInit_v2"))());
}

/* The v1 names must agree with the _v2 ones. */
static unsigned gpu_count(void)
{
    unsigned n = 0, n1 = 0;
    NV(((nvmlReturn_t(*)(unsigned *))sym("nvmlDeviceGetCount_v2"))(&n));
    NV(((nvmlReturn_t(*)(unsigned *))sym("nvmlDeviceGetCount"))(&n1));
    if (n != n1)
        FAIL("nvmlDeviceGetCount says %u, _v2 %u", n1, n);
    return n;
}

static nvmlDevice_t gpu(unsigned i)
{
    nvmlDevice_t d = NULL, d1 = NULL;
    NV(((nvmlReturn_t(*)(unsigned, nvmlDevice_t *))sym("nvmlDeviceGetHandleByIndex_v2"))(i, &d));
    NV(((nvmlReturn_t(*)(unsigned, nvmlDevice_t *))sym("nvmlDeviceGetHandleByIndex"))(i, &d1));
    if (d != d1)
        FAIL("GPU %u: nvmlDeviceGetHandleByIndex and _v2 give different handles", i);
    return d;
}

/* Prints one device's line, after checking that its UUID finds it again. */
static void describe(const char *kind, const char *id, nvmlDevice_t d)
{
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE], name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    NV(((text_fn)sym("nvmlDeviceGetUUID"))(d, uuid, sizeof uuid));
    NV(((text_fn)sym("nvmlDeviceGetName"))(d, name, sizeof name));
    nvmlDevice_t back = NULL;
    NV(((handle_by_text_fn)sym("nvmlDeviceGetHandleByUUID"))(uuid, &back));
    if (back != d)
        FAIL("%s %s: nvmlDeviceGetHandleByUUID(%s) finds another device", kind, id, uuid);
    nvmlMemory_t m;
    NV(((memory_fn)sym("nvmlDeviceGetMemoryInfo"))(d, &m));
    if (m.used + m.free != m.total)
        FAIL("%s %s: used %llu + free %llu != total %llu", kind, id, m.used, m.free, m.total);
    nvmlPciInfo_t pci;
    NV(((nvmlReturn_t(*)(nvmlDevice_t, nvmlPciInfo_t *))sym("nvmlDeviceGetPciInfo_v3"))(d, &pci));
    printf("%s %s uuid=%s pci=%s vram=%llu used=%llu name=%s\n", kind, id, uuid, pci.busIdLegacy, m.total, m.used,
           name);
}

/* Index and both bus id forms find the GPU again. */
static void check_gpu_lookups(unsigned i, nvmlDevice_t d)
{
    unsigned index = ~0u;
    NV(((nvmlReturn_t(*)(nvmlDevice_t, unsigned *))sym("nvmlDeviceGetIndex"))(d, &index));
    nvmlPciInfo_t pci;
    NV(((nvmlReturn_t(*)(nvmlDevice_t, nvmlPciInfo_t *))sym("nvmlDeviceGetPciInfo_v3"))(d, &pci));
    nvmlDevice_t by_long = NULL, by_legacy = NULL;
    NV(((handle_by_text_fn)sym("nvmlDeviceGetHandleByPciBusId_v2"))(pci.busId, &by_long));
    NV(((handle_by_text_fn)sym("nvmlDeviceGetHandleByPciBusId_v2"))(pci.busIdLegacy, &by_legacy));
    if (index != i || by_long != d || by_legacy != d)
        FAIL("GPU %u: index %u, by bus id %s / %s another device", i, index, pci.busId, pci.busIdLegacy);
}

static int list(void)
{
    open_nvml();
    unsigned n = gpu_count();
    printf("nvml-count %u\n", n);
    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d = gpu(i);
        char id[16];
        snprintf(id, sizeof id, "%u", i);
        check_gpu_lookups(i, d);
        describe("nvml", id, d);
        unsigned current = 0, pending = 0;
        NV(((nvmlReturn_t(*)(nvmlDevice_t, unsigned *, unsigned *))sym("nvmlDeviceGetMigMode"))(d, &current, &pending));
        for (unsigned k = 0; current == NVML_DEVICE_MIG_ENABLE; k++) {
            nvmlDevice_t mig = NULL;
            if (((nvmlReturn_t(*)(nvmlDevice_t, unsigned, nvmlDevice_t *))sym("nvmlDeviceGetMigDeviceHandleByIndex"))(
                    d, k, &mig) != NVML_SUCCESS)
                break;
            nvmlDevice_t parent = NULL;
            NV(((nvmlReturn_t(*)(nvmlDevice_t, nvmlDevice_t *))sym("nvmlDeviceGetDeviceHandleFromMigDeviceHandle"))(
                mig, &parent));
            if (parent != d)
                FAIL("MIG %u.%u: its parent is another GPU", i, k);
            snprintf(id, sizeof id, "%u.%u", i, k);
            describe("nvml-mig", id, mig);
        }
    }
    return 0;
}

typedef nvmlReturn_t (*procs_fn)(nvmlDevice_t, unsigned *, void *);

/* The list by each version: asking with no room must give the count, and every version the same
 * pids and bytes. v2/v3 lines also carry the GPU instance id (4294967295 off MIG). */
static int procs(unsigned index)
{
    open_nvml();
    nvmlDevice_t d = gpu(index);
    static const char *const names[] = {"nvmlDeviceGetComputeRunningProcesses",
                                        "nvmlDeviceGetComputeRunningProcesses_v2",
                                        "nvmlDeviceGetComputeRunningProcesses_v3"};
    nvmlProcessInfo_t infos[3][64];
    nvmlProcessInfo_v1_t infos_v1[64];
    unsigned counts[3];
    for (int v = 0; v < 3; v++) {
        procs_fn fn = (procs_fn)sym(names[v]);
        unsigned need = 0;
        nvmlReturn_t r = fn(d, &need, NULL);
        if (r != NVML_SUCCESS && r != NVML_ERROR_INSUFFICIENT_SIZE)
            FAIL("%s with no room: NVML error %d", names[v], r);
        if ((r == NVML_SUCCESS) != (need == 0))
            FAIL("%s with no room: error %d for %u processes", names[v], r, need);
        counts[v] = 64;
        NV(fn(d, &counts[v], v == 0 ? (void *)infos_v1 : (void *)infos[v]));
        if (counts[v] != need)
            FAIL("%s: %u processes, %u when asked with no room", names[v], counts[v], need);
    }
    for (unsigned i = 0; i < counts[0]; i++)
        infos[0][i] = (nvmlProcessInfo_t){.pid = infos_v1[i].pid, .usedGpuMemory = infos_v1[i].usedGpuMemory};
    for (int v = 1; v < 3; v++) {
        if (counts[v] != counts[0])
            FAIL("%s lists %u processes, v1 %u", names[v], counts[v], counts[0]);
        for (unsigned i = 0; i < counts[0]; i++)
            if (infos[v][i].pid != infos[0][i].pid || infos[v][i].usedGpuMemory != infos[0][i].usedGpuMemory)
                FAIL("%s entry %u differs from v1's", names[v], i);
    }
    printf("nvml-procs %u count=%u\n", index, counts[0]);
    for (unsigned i = 0; i < counts[0]; i++)
        printf("proc pid=%u bytes=%llu gi=%u\n", infos[2][i].pid, infos[2][i].usedGpuMemory, infos[2][i].gpuInstanceId);
    return 0;
}

typedef nvmlReturn_t (*p2p_fn)(nvmlDevice_t, nvmlDevice_t, unsigned, unsigned *);

/* What NCCL asks when it starts, answered the same for every GPU: one "p2p A B READ WRITE NVLINK"
 * line per pair (statuses), then one line per GPU with the return codes of the NVLink, fabric and
 * platform queries and of a two-field nvmlDeviceGetFieldValues (the call, then each field), then
 * the confidential-computing line. A bad caps index must be refused. */
static int links(void)
{
    open_nvml();
    unsigned n = gpu_count();
    p2p_fn p2p = (p2p_fn)sym("nvmlDeviceGetP2PStatus");
    for (unsigned a = 0; a < n; a++)
        for (unsigned b = 0; b < n; b++) {
            unsigned st[3] = {99, 99, 99};
            for (unsigned k = 0; k < 3; k++)
                NV(p2p(gpu(a), gpu(b), k, &st[k]));
            printf("p2p %u %u %u %u %u\n", a, b, st[0], st[1], st[2]);
        }
    unsigned st;
    if (p2p(gpu(0), gpu(0), NVML_P2P_CAPS_INDEX_UNKNOWN, &st) != NVML_ERROR_INVALID_ARGUMENT)
        FAIL("nvmlDeviceGetP2PStatus took NVML_P2P_CAPS_INDEX_UNKNOWN");
    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t d = gpu(i);
        unsigned active = 0, cap = 0;
        nvmlPciInfo_t pci;
        char blob[1024] = {0};
        nvmlFieldValue_t fv[2] = {{.fieldId = 1}, {.fieldId = 2}};
        fv[0].nvmlReturn = fv[1].nvmlReturn = 99;
        nvmlReturn_t state = ((nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned *))sym("nvmlDeviceGetNvLinkState"))(d, 0, &active);
        nvmlReturn_t capr = ((nvmlReturn_t(*)(nvmlDevice_t, unsigned, unsigned, unsigned *))sym(
            "nvmlDeviceGetNvLinkCapability"))(d, 0, 0, &cap);
        nvmlReturn_t rpci = ((nvmlReturn_t(*)(nvmlDevice_t, unsigned, nvmlPciInfo_t *))sym(
            "nvmlDeviceGetNvLinkRemotePciInfo"))(d, 0, &pci);
        nvmlReturn_t fab = ((nvmlReturn_t(*)(nvmlDevice_t, void *))sym("nvmlDeviceGetGpuFabricInfoV"))(d, blob);
        nvmlReturn_t plat = ((nvmlReturn_t(*)(nvmlDevice_t, void *))sym("nvmlDeviceGetPlatformInfo"))(d, blob);
        nvmlReturn_t fields = ((nvmlReturn_t(*)(nvmlDevice_t, int, nvmlFieldValue_t *))sym("nvmlDeviceGetFieldValues"))(d, 2, fv);
        printf("links %u state=%d cap=%d remote=%d fabric=%d platform=%d fields=%d/%d/%d\n", i, state, capr, rpci, fab,
               plat, fields, fv[0].nvmlReturn, fv[1].nvmlReturn);
    }
    nvmlConfComputeSystemState_t cc = {9, 9, 9};
    nvmlSystemConfComputeSettings_t set = {.version = nvmlSystemConfComputeSettings_v1, 9, 9, 9, 9};
    NV(((nvmlReturn_t(*)(nvmlConfComputeSystemState_t *))sym("nvmlSystemGetConfComputeState"))(&cc));
    NV(((nvmlReturn_t(*)(nvmlSystemConfComputeSettings_t *))sym("nvmlSystemGetConfComputeSettings"))(&set));
    nvmlSystemConfComputeSettings_t old = {.version = 0};
    nvmlReturn_t mismatch = ((nvmlReturn_t(*)(nvmlSystemConfComputeSettings_t *))sym("nvmlSystemGetConfComputeSettings"))(&old);
    printf("cc state=%u/%u/%u settings=%u/%u/%u/%u version0=%d\n", cc.environment, cc.ccFeature, cc.devToolsMode,
           set.environment, set.ccFeature, set.devToolsMode, set.multiGpuMode, mismatch);
    return 0;
}

int probe_nvml(int argc, char **argv)
{
    if (strcmp(argv[1], "nvml-list") == 0)
        return list();
    if (strcmp(argv[1], "nvml-links") == 0)
        return links();
    if (strcmp(argv[1], "nvml-procs") == 0 && argc == 3)
        return procs((unsigned)atoi(argv[2]));
    FAIL("bad NVML command (see tests/simgpu/check/probe.h)");
}
