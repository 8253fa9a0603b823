/* Simulated HIP devices: initialization, the current device, versions, device queries and error
 * names. Settings are read once, at the first HIP call (HIP initializes itself), from the same
 * GREY_SIM_* variables as the simulated CUDA driver (../sim_settings.h). */
#include "hsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HSIM_DEFAULT_VERSION 60443483 /* ROCm 6.4 */

hsim_device hsim_devices[SIM_SETTINGS_MAX_DEVICES];
int hsim_device_count;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static hipError_t init_result = hipErrorNotInitialized;
static int runtime_version = HSIM_DEFAULT_VERSION;
static _Thread_local int current_device;

static void init_once_fn(void)
{
    struct sim_settings set;
    if (sim_settings_load(&set) != 0) {
        init_result = hipErrorInvalidValue;
        return;
    }
    const char *v = getenv("GREY_SIM_HIP_VERSION");
    if (v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || n < 10000000 || n > 999999999) {
            fprintf(stderr, "simgpu: GREY_SIM_HIP_VERSION: '%s' is not a HIP version like 60443483\n", v);
            init_result = hipErrorInvalidValue;
            return;
        }
        runtime_version = (int)n;
    }
    for (int i = 0; i < set.count; i++) {
        hsim_device *d = &hsim_devices[i];
        snprintf(d->name, sizeof d->name, "%s", set.name);
        d->vram_bytes = set.vram[i];
        atomic_store(&d->used_bytes, 0);
        d->compute_units = set.sms;
    }
    hsim_device_count = set.count;
    init_result = set.count == 0 ? hipErrorNoDevice : hipSuccess;
}

hipError_t hsim_init(void)
{
    pthread_once(&init_once, init_once_fn);
    return init_result;
}

hipError_t hsim_check_device(int dev)
{
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    return dev >= 0 && dev < hsim_device_count ? hipSuccess : hipErrorInvalidDevice;
}

int hsim_current_device(void)
{
    return current_device;
}

int hsim_runtime_version(void)
{
    hsim_init();
    return runtime_version;
}

/* ------------------------------------------------------------------ API */

hipError_t hipInit(unsigned int flags)
{
    if (flags != 0)
        return hipErrorInvalidValue;
    return hsim_init();
}

hipError_t hipRuntimeGetVersion(int *version)
{
    if (!version)
        return hipErrorInvalidValue;
    *version = hsim_runtime_version();
    return hipSuccess;
}

hipError_t hipDriverGetVersion(int *version)
{
    if (!version)
        return hipErrorInvalidValue;
    *version = hsim_runtime_version();
    return hipSuccess;
}

hipError_t hipGetDeviceCount(int *count)
{
    if (!count)
        return hipErrorInvalidValue;
    hipError_t r = hsim_init();
    *count = r == hipSuccess ? hsim_device_count : 0;
    return r;
}

hipError_t hipSetDevice(int dev)
{
    hipError_t r = hsim_check_device(dev);
    if (r == hipSuccess)
        current_device = dev;
    return r;
}

hipError_t hipGetDevice(int *dev)
{
    if (!dev)
        return hipErrorInvalidValue;
    hipError_t r = hsim_init();
    if (r == hipSuccess)
        *dev = current_device;
    return r;
}

hipError_t hipDeviceGet(hipDevice_t *device, int ordinal)
{
    if (!device)
        return hipErrorInvalidValue;
    hipError_t r = hsim_check_device(ordinal);
    if (r == hipSuccess)
        *device = ordinal;
    return r;
}

hipError_t hipDeviceGetName(char *name, int len, hipDevice_t dev)
{
    if (!name || len <= 0)
        return hipErrorInvalidValue;
    hipError_t r = hsim_check_device(dev);
    if (r == hipSuccess)
        snprintf(name, (size_t)len, "%s", hsim_devices[dev].name);
    return r;
}

hipError_t hipDeviceTotalMem(size_t *bytes, hipDevice_t dev)
{
    if (!bytes)
        return hipErrorInvalidValue;
    hipError_t r = hsim_check_device(dev);
    if (r == hipSuccess)
        *bytes = (size_t)hsim_devices[dev].vram_bytes;
    return r;
}

hipError_t hipDeviceGetAttribute(int *value, hipDeviceAttribute_t attr, int dev)
{
    if (!value)
        return hipErrorInvalidValue;
    hipError_t r = hsim_check_device(dev);
    if (r != hipSuccess)
        return r;
    switch (attr) {
    case hipDeviceAttributeMultiprocessorCount: *value = hsim_devices[dev].compute_units; break;
    case hipDeviceAttributeWarpSize: *value = 64; break;
    case hipDeviceAttributeMaxThreadsPerBlock: *value = 1024; break;
    default: return hipErrorInvalidValue;
    }
    return hipSuccess;
}

const char *hipGetErrorName(hipError_t e)
{
    switch (e) {
    case hipSuccess: return "hipSuccess";
    case hipErrorInvalidValue: return "hipErrorInvalidValue";
    case hipErrorOutOfMemory: return "hipErrorOutOfMemory";
    case hipErrorNotInitialized: return "hipErrorNotInitialized";
    case hipErrorInvalidDevice: return "hipErrorInvalidDevice";
    case hipErrorNoDevice: return "hipErrorNoDevice";
    case hipErrorInvalidDeviceFunction: return "hipErrorInvalidDeviceFunction";
    case hipErrorInvalidHandle: return "hipErrorInvalidHandle";
    case hipErrorNotFound: return "hipErrorNotFound";
    case hipErrorInvalidMemcpyDirection: return "hipErrorInvalidMemcpyDirection";
    case hipErrorNotSupported: return "hipErrorNotSupported";
    default: return "hipErrorUnknown";
    }
}

const char *hipGetErrorString(hipError_t e)
{
    return hipGetErrorName(e);
}
