/* A simulated NVML (build/sim/libnvidia-ml.so.1) for the simulated GPU: the devices of the
 * GREY_SIM_* settings, their names and memory, and for grey-plan's detection the facts of an H100
 * SXM (UUID and PCI address as the simulated CUDA driver gives them, compute capability from
 * GREY_SIM_CC, 700 W, 1980/2619 MHz, slowdown 89 C, shutdown 92 C; GREY_SIM_MIG=1 turns MIG on,
 * with GREY_SIM_MIG_VRAM per instance and two instances). Each process has its own simulated driver, so
 * this NVML cannot see allocations made in other processes: it reports the whole device free
 * and no running processes, and grey's hook supplies the capped view on top. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/size.h"
#include "vendor/nvml_api.h"

#define EXPORT __attribute__((visibility("default")))
#define SIM_NVML_MAX 16

struct nvmlDevice_st {
    unsigned index;
    unsigned long long vram;
    char name[96];
};

static struct nvmlDevice_st devices[SIM_NVML_MAX];
static struct nvmlDevice_st mig_devices[SIM_NVML_MAX][2]; /* MIG instances, when GREY_SIM_MIG=1 */
static unsigned device_count;
static int initialized;
static int cc_major = 9, cc_minor = 0;
static int mig_enabled;

static unsigned long long vram_setting(unsigned index)
{
    char var[32];
    snprintf(var, sizeof var, "GREY_SIM_VRAM_%u", index);
    const char *text = getenv(var);
    if (!text || !*text)
        text = getenv("GREY_SIM_VRAM");
    uint64_t bytes = 80ull << 30;
    if (text && *text && grey_size_parse(text, &bytes, NULL, 0) != 0)
        bytes = 0;
    return bytes;
}

EXPORT nvmlReturn_t nvmlInit_v2(void)
{
    const char *count = getenv("GREY_SIM_DEVICES");
    unsigned n = count && *count ? (unsigned)atoi(count) : 1;
    if (n > SIM_NVML_MAX)
        n = SIM_NVML_MAX;
    const char *name = getenv("GREY_SIM_NAME");
    for (unsigned i = 0; i < n; i++) {
        devices[i].index = i;
        devices[i].vram = vram_setting(i);
        snprintf(devices[i].name, sizeof devices[i].name, "%s", name && *name ? name : "Grey Simulated GPU");
        if (!devices[i].vram)
            return NVML_ERROR_UNKNOWN;
    }
    const char *cc = getenv("GREY_SIM_CC");
    if (cc && *cc && sscanf(cc, "%d.%d", &cc_major, &cc_minor) != 2)
        return NVML_ERROR_UNKNOWN;
    const char *mig = getenv("GREY_SIM_MIG");
    mig_enabled = mig && strcmp(mig, "1") == 0;
    const char *mig_vram = getenv("GREY_SIM_MIG_VRAM");
    uint64_t instance = 20ull << 30;
    if (mig_vram && *mig_vram && grey_size_parse(mig_vram, &instance, NULL, 0) != 0)
        return NVML_ERROR_UNKNOWN;
    for (unsigned i = 0; i < n; i++)
        for (unsigned k = 0; k < 2; k++)
            mig_devices[i][k] = (struct nvmlDevice_st){.index = i, .vram = instance};
    device_count = n;
    initialized = 1;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; return nvmlInit_v2(); }
EXPORT nvmlReturn_t nvmlShutdown(void)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    initialized = 0;
    return NVML_SUCCESS;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t r)
{
    switch (r) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    default: return "Unknown Error";
    }
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = device_count;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!device || index >= device_count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = &devices[index];
    return NVML_SUCCESS;
}

static struct nvmlDevice_st *check(nvmlDevice_t d)
{
    return initialized && d >= &devices[0] && d < &devices[device_count] ? d : NULL;
}

/* A MIG instance handle (only nvmlDeviceGetMemoryInfo and nvmlDeviceGetAttributes_v2 take it). */
static struct nvmlDevice_st *check_mig(nvmlDevice_t d)
{
    return initialized && mig_enabled && d >= &mig_devices[0][0] && d < &mig_devices[device_count][0] ? d : NULL;
}

EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t d, unsigned int *index)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !index)
        return NVML_ERROR_INVALID_ARGUMENT;
    *index = d->index;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !name)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (length <= strlen(d->name))
        return NVML_ERROR_INSUFFICIENT_SIZE;
    snprintf(name, length, "%s", d->name);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if ((!check(d) && !check_mig(d)) || !m)
        return NVML_ERROR_INVALID_ARGUMENT;
    *m = (nvmlMemory_t){.total = d->vram, .free = d->vram, .used = 0};
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !m)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (m->version != nvmlMemory_v2)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    *m = (nvmlMemory_v2_t){.version = nvmlMemory_v2, .total = d->vram, .reserved = 0, .free = d->vram, .used = 0};
    return NVML_SUCCESS;
}

/* No process of another simulated driver is visible here; the list is empty. */
static nvmlReturn_t running_processes(nvmlDevice_t d, unsigned int *count, void *infos)
{
    (void)infos;
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = 0;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v1_t *i)
{
    return running_processes(d, count, i);
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *i)
{
    return running_processes(d, count, i);
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *i)
{
    return running_processes(d, count, i);
}

/* ------------------------------------------------------------------ what grey-plan detects */

/* The same UUID the simulated CUDA driver gives device N (sim_device.c: "GREYSIM@", 0x80, ..., N),
 * so grey-plan can tell that both describe one device. */
EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !uuid)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (length < 41)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    snprintf(uuid, length, "GPU-47524559-5349-4d40-8000-0000000000%02x", d->index);
    return NVML_SUCCESS;
}

/* PCI bus 0x10 + N, as the simulated CUDA driver says. */
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !pci)
        return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof *pci);
    pci->bus = 0x10 + d->index;
    pci->pciDeviceId = 0x233010de; /* H100 SXM5 */
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "0000:%02x:00.0", pci->bus);
    snprintf(pci->busId, sizeof pci->busId, "00000000:%02x:00.0", pci->bus);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !major || !minor)
        return NVML_ERROR_INVALID_ARGUMENT;
    *major = cc_major;
    *minor = cc_minor;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *mw)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !mw)
        return NVML_ERROR_INVALID_ARGUMENT;
    *mw = 700000;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, unsigned int type, unsigned int *mhz)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !mhz)
        return NVML_ERROR_INVALID_ARGUMENT;
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM: *mhz = 1980; return NVML_SUCCESS;
    case NVML_CLOCK_MEM: *mhz = 2619; return NVML_SUCCESS;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
}

/* GREY_SIM_NVML_THRESHOLDS=0 makes the thresholds unsupported, as on some virtual GPUs. */
EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, unsigned int type, unsigned int *c)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !c)
        return NVML_ERROR_INVALID_ARGUMENT;
    const char *off = getenv("GREY_SIM_NVML_THRESHOLDS");
    if (off && strcmp(off, "0") == 0)
        return NVML_ERROR_NOT_SUPPORTED;
    switch (type) {
    case NVML_TEMPERATURE_THRESHOLD_SHUTDOWN: *c = 92; return NVML_SUCCESS;
    case NVML_TEMPERATURE_THRESHOLD_SLOWDOWN: *c = 89; return NVML_SUCCESS;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, unsigned int sensor, unsigned int *c)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !c || sensor != NVML_TEMPERATURE_GPU)
        return NVML_ERROR_INVALID_ARGUMENT;
    *c = 34;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !current || !pending)
        return NVML_ERROR_INVALID_ARGUMENT;
    *current = *pending = mig_enabled ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = mig_enabled ? 7 : 0; /* an H100's slots; two hold an instance */
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!check(d) || !mig || !mig_enabled)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (index >= 2)
        return NVML_ERROR_NOT_FOUND;
    *mig = &mig_devices[d->index][index];
    return NVML_SUCCESS;
}

/* Documented for MIG handles only, as the real one is. */
EXPORT nvmlReturn_t nvmlDeviceGetAttributes_v2(nvmlDevice_t d, nvmlDeviceAttributes_t *a)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (check(d))
        return NVML_ERROR_NOT_SUPPORTED;
    if (!check_mig(d) || !a)
        return NVML_ERROR_INVALID_ARGUMENT;
    memset(a, 0, sizeof *a);
    a->multiprocessorCount = 60;
    a->memorySizeMB = d->vram >> 20;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!version)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (length < 10)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    snprintf(version, length, "580.95.05");
    return NVML_SUCCESS;
}

/* CUDA 13.0, the simulated driver's cuDriverGetVersion. */
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version)
{
    if (!version)
        return NVML_ERROR_INVALID_ARGUMENT;
    *version = 13000;
    return NVML_SUCCESS;
}
