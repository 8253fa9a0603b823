/* What a simulated NVML device is: name, UUID, PCI address, and the facts grey-plan detects
 * (compute capability, clocks, driver versions); temperatures and power are nvml_thermal.c's. */
#include "nvml_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, name);
    if (r != NVML_SUCCESS)
        return r;
    if (length <= strlen(d->desc.name))
        return NVML_ERROR_INSUFFICIENT_SIZE;
    snprintf(name, length, "%s", d->desc.name);
    return NVML_SUCCESS;
}

/* The UUID the simulated CUDA driver reports for the same physical device ("GPU-..." for a GPU,
 * "MIG-..." for an instance), so tools that join NVML and CUDA by UUID find one device. */
EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int length)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, uuid);
    if (r != NVML_SUCCESS)
        return r;
    if (length < SIM_UUID_TEXT)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    sim_node_uuid_text(d->phys, uuid);
    return NVML_SUCCESS;
}

/* A MIG instance reports its GPU's address. */
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, pci);
    if (r != NVML_SUCCESS)
        return r;
    struct sim_pci p = sim_node_pci(d->phys);
    memset(pci, 0, sizeof *pci);
    pci->domain = p.domain;
    pci->bus = p.bus;
    pci->device = p.device;
    pci->pciDeviceId = SIM_PCI_DEVICE_ID;
    pci->pciSubSystemId = SIM_PCI_SUBSYSTEM_ID;
    snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04x:%02x:%02x.%x", p.domain, p.bus, p.device, p.function);
    snprintf(pci->busId, sizeof pci->busId, "%08x:%02x:%02x.%x", p.domain, p.bus, p.device, p.function);
    return NVML_SUCCESS;
}

/* The layout before _v3 (nvml_sim.h): the legacy bus id where _v3 has busIdLegacy. */
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t d, nvml_sim_pci_info_v1_t *pci)
{
    nvmlPciInfo_t full;
    nvmlReturn_t r = nvmlDeviceGetPciInfo_v3(d, pci ? &full : NULL);
    if (r != NVML_SUCCESS)
        return r;
    memset(pci, 0, sizeof *pci);
    memcpy(pci->busId, full.busIdLegacy, sizeof pci->busId);
    pci->domain = full.domain;
    pci->bus = full.bus;
    pci->device = full.device;
    pci->pciDeviceId = full.pciDeviceId;
    pci->pciSubSystemId = full.pciSubSystemId;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t d, nvml_sim_pci_info_v1_t *pci)
{
    return nvmlDeviceGetPciInfo_v2(d, pci);
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor)
{
    nvmlReturn_t r = nvml_sim_check(d, true);
    if (r != NVML_SUCCESS)
        return r;
    if (!major || !minor)
        return NVML_ERROR_INVALID_ARGUMENT;
    *major = nvml_sim.set.cc_major;
    *minor = nvml_sim.set.cc_minor;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, unsigned int type, unsigned int *mhz)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, mhz);
    if (r != NVML_SUCCESS)
        return r;
    switch (type) {
    case NVML_CLOCK_GRAPHICS:
    case NVML_CLOCK_SM: *mhz = (unsigned)d->desc.clock_khz / 1000; return NVML_SUCCESS;
    case NVML_CLOCK_MEM: *mhz = 2619; return NVML_SUCCESS;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (!nvml_sim.initialized)
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
