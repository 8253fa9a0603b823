/* Simulated HIP devices: initialization, the current device, versions, device queries and error
 * names. Settings are read once, at the first HIP call (HIP initializes itself), from the same
 * GREY_SIM_* variables as the simulated CUDA driver (../sim_settings.h), and which GPUs this
 * process sees from ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES
 * (../sim_visible.h). Every query answers for the physical GPU behind the ordinal, with the PCI
 * address the CUDA simulator gives it and the UUID ROCm would (../sim_node.h). */
#include "hsim.h"
#include "tests/simgpu/sim_node.h"
#include "tests/simgpu/sim_sched.h"
#include "tests/simgpu/sim_visible.h"

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
/* The physical GPUs behind the ordinals, as initialization found them. */
static struct sim_visible visible;

static void init_once_fn(void)
{
    struct sim_settings set;
    if (sim_settings_load(&set) != 0 || sim_sched_adopt(set.sched, set.timeslice_us) != 0) {
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
    struct sim_visible vis;
    sim_visible_hip(&set, &vis);
    int n = vis.count < SIM_SETTINGS_MAX_DEVICES ? vis.count : SIM_SETTINGS_MAX_DEVICES;
    vis.count = n;
    visible = vis;
    for (int i = 0; i < n; i++) {
        hsim_device *d = &hsim_devices[i];
        struct sim_phys_desc desc;
        sim_node_describe(&set, vis.phys[i], &desc);
        d->phys = vis.phys[i];
        snprintf(d->name, sizeof d->name, "%s", desc.name);
        d->vram_bytes = desc.vram;
        d->compute_units = desc.sms;
    }
    hsim_device_count = n;
    init_result = n == 0 ? hipErrorNoDevice : hipSuccess;
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
    struct sim_pci pci = sim_node_pci(hsim_devices[dev].phys);
    switch (attr) {
    case hipDeviceAttributeMultiprocessorCount: *value = hsim_devices[dev].compute_units; break;
    case hipDeviceAttributePciBusId: *value = (int)pci.bus; break;
    case hipDeviceAttributePciDeviceId: *value = (int)pci.device; break;
    case hipDeviceAttributePciDomainID: *value = (int)pci.domain; break;
    case hipDeviceAttributeWarpSize: *value = 64; break;
    case hipDeviceAttributeMaxThreadsPerBlock: *value = 1024; break;
    default: return hipErrorInvalidValue;
    }
    return hipSuccess;
}

/* ROCm's UUID of the GPU: CLR copies the 16 hex digits of the agent's "GPU-<digits>" name into
 * the 16 bytes (they are characters, not binary). */
hipError_t hipDeviceGetUuid(hipUUID *uuid, hipDevice_t dev)
{
    hipError_t r = hsim_check_device(dev);
    if (r != hipSuccess)
        return r;
    if (!uuid)
        return hipErrorInvalidValue;
    char text[SIM_ROCM_UUID_TEXT];
    sim_node_rocm_uuid_text(hsim_devices[dev].phys, text);
    memcpy(uuid->bytes, text + 4, sizeof uuid->bytes);
    return hipSuccess;
}

hipError_t hipDeviceGetPCIBusId(char *pciBusId, int len, int dev)
{
    hipError_t r = hsim_check_device(dev);
    if (r != hipSuccess)
        return r;
    if (!pciBusId || len <= 0)
        return hipErrorInvalidValue;
    sim_node_pci_text(hsim_devices[dev].phys, pciBusId, (size_t)len);
    return hipSuccess;
}

hipError_t hipDeviceGetByPCIBusId(int *dev, const char *pciBusId)
{
    if (!dev || !pciBusId)
        return hipErrorInvalidValue;
    hipError_t r = hsim_init();
    if (r != hipSuccess)
        return r;
    int ordinal = sim_visible_find_pci(&visible, pciBusId);
    if (ordinal == SIM_PCI_MALFORMED)
        return hipErrorInvalidValue;
    if (ordinal == SIM_PCI_ABSENT)
        return hipErrorInvalidDevice;
    *dev = ordinal;
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
