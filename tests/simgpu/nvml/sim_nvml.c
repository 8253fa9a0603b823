/* A simulated NVML (build/sim/libnvidia-ml.so.1) for the simulated GPU: the devices of the
 * GREY_SIM_* settings, their names and memory. Each process has its own simulated driver, so
 * this NVML cannot see allocations made in other processes: it reports the whole device free
 * and no running processes, and grey's hook supplies the capped view on top. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../policy/size.h"
#include "../../../shim/nvml_api.h"

#define EXPORT __attribute__((visibility("default")))
#define SIM_NVML_MAX 16

struct nvmlDevice_st {
    unsigned index;
    unsigned long long vram;
    char name[96];
};

static struct nvmlDevice_st devices[SIM_NVML_MAX];
static unsigned device_count;
static int initialized;

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
    if (!check(d) || !m)
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
