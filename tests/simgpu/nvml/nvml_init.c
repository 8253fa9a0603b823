/* The simulated NVML's life cycle and how devices are found: nvmlInit, the device count, handles
 * by index (PCI order), UUID and PCI bus id, and error strings (nvml_sim.h). */
#include "nvml_sim.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct nvml_sim nvml_sim;

EXPORT nvmlReturn_t nvmlInit_v2(void)
{
    struct nvml_sim *n = &nvml_sim;
    if (sim_settings_load(&n->set) != 0)
        return NVML_ERROR_UNKNOWN;
    for (int g = 0; g < n->set.count; g++) {
        n->gpu[g].phys = g;
        sim_node_describe(&n->set, g, &n->gpu[g].desc);
        for (int k = 0; k < SIM_MIG_INSTANCES; k++) {
            n->mig[g][k].phys = sim_phys_mig(g, k);
            sim_node_describe(&n->set, sim_phys_mig(g, k), &n->mig[g][k].desc);
        }
    }
    n->initialized = 1;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlInit(void) { return nvmlInit_v2(); }
EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; return nvmlInit_v2(); }

EXPORT nvmlReturn_t nvmlShutdown(void)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    nvml_sim.initialized = 0;
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
    case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "Argument Version Mismatch";
    default: return "Unknown Error";
    }
}

static bool is_gpu(nvmlDevice_t d)
{
    return d >= &nvml_sim.gpu[0] && d < &nvml_sim.gpu[nvml_sim.set.count];
}

bool nvml_sim_is_mig(nvmlDevice_t d)
{
    const struct nvmlDevice_st *first = &nvml_sim.mig[0][0];
    return nvml_sim.set.mig && d >= first && d < first + nvml_sim.set.count * SIM_MIG_INSTANCES;
}

nvmlReturn_t nvml_sim_check(nvmlDevice_t d, bool mig_too)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    return is_gpu(d) || (mig_too && nvml_sim_is_mig(d)) ? NVML_SUCCESS : NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvml_sim_check_arg(nvmlDevice_t d, bool mig_too, const void *out)
{
    nvmlReturn_t r = nvml_sim_check(d, mig_too);
    return r == NVML_SUCCESS && !out ? NVML_ERROR_INVALID_ARGUMENT : r;
}

size_t nvml_sim_phys_of(nvmlDevice_t d, int *phys)
{
    size_t n = 0;
    phys[n++] = d->phys;
    for (int k = 0; !sim_phys_is_mig(d->phys) && nvml_sim.set.mig && k < SIM_MIG_INSTANCES; k++)
        phys[n++] = sim_phys_mig(d->phys, k);
    return n;
}

/* ------------------------------------------------------------------ finding devices */

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *count = (unsigned)nvml_sim.set.count;
    return NVML_SUCCESS;
}

/* v1 counted only the GPUs the caller may use; here every GPU is. */
EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) { return nvmlDeviceGetCount_v2(count); }

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!device || index >= (unsigned)nvml_sim.set.count)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = &nvml_sim.gpu[index];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
    return nvmlDeviceGetHandleByIndex_v2(index, device);
}

/* The whole UUID, as nvidia-smi prints it (NVML takes no prefix); a MIG UUID finds its instance. */
EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!uuid || !device)
        return NVML_ERROR_INVALID_ARGUMENT;
    char text[SIM_UUID_TEXT];
    for (int g = 0; g < nvml_sim.set.count; g++) {
        sim_node_uuid_text(g, text);
        if (strcasecmp(text, uuid) == 0) {
            *device = &nvml_sim.gpu[g];
            return NVML_SUCCESS;
        }
        for (int k = 0; nvml_sim.set.mig && k < SIM_MIG_INSTANCES; k++) {
            sim_node_uuid_text(sim_phys_mig(g, k), text);
            if (strcasecmp(text, uuid) == 0) {
                *device = &nvml_sim.mig[g][k];
                return NVML_SUCCESS;
            }
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

/* "00000000:18:00.0" (what _v3 reports) or the legacy "0000:18:00.0"; both name one GPU. */
EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    struct sim_pci want;
    if (!pciBusId || !device || sim_node_pci_parse(pciBusId, &want) != 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (int g = 0; g < nvml_sim.set.count; g++) {
        if (sim_node_pci_equal(sim_node_pci(g), want)) {
            *device = &nvml_sim.gpu[g];
            return NVML_SUCCESS;
        }
    }
    return NVML_ERROR_NOT_FOUND;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *pciBusId, nvmlDevice_t *device)
{
    return nvmlDeviceGetHandleByPciBusId_v2(pciBusId, device);
}

/* NVML's index is the GPU's place in PCI order: its physical id. */
EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t d, unsigned int *index)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, index);
    if (r != NVML_SUCCESS)
        return r;
    *index = (unsigned)d->phys;
    return NVML_SUCCESS;
}
