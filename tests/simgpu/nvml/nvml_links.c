/* How the simulated GPUs are connected, as NVML reports it, and the system-wide features NCCL asks
 * about when it starts (nvml_sim.h). The node is PCIe-only and models no peer access: the CUDA
 * simulator's cuDeviceCanAccessPeer says 0 for every pair (../sim_peer.c), so NVML's P2P status
 * between two GPUs says the same (NVML_P2P_STATUS_NOT_SUPPORTED), every NVLink query is
 * NVML_ERROR_NOT_SUPPORTED (no links), there is no NVLink fabric, no platform (rack) information,
 * no field value the simulator has a figure for, and confidential computing is off. NCCL dlsyms
 * these names and calls some of them without checking that they exist, so each must be there. */
#include "nvml_sim.h"

#include <string.h>
#include <sys/time.h>

/* A GPU and itself: NVML's reference does not say; a GPU reaches its own memory, so OK here. Two
 * different GPUs: not supported, whichever capability, as CUDA says. */
EXPORT nvmlReturn_t nvmlDeviceGetP2PStatus(nvmlDevice_t device1, nvmlDevice_t device2, unsigned int p2pIndex,
                                           unsigned int *p2pStatus)
{
    nvmlReturn_t r = nvml_sim_check(device1, false);
    if (r == NVML_SUCCESS)
        r = nvml_sim_check_arg(device2, false, p2pStatus);
    if (r != NVML_SUCCESS)
        return r;
    if (p2pIndex >= NVML_P2P_CAPS_INDEX_UNKNOWN)
        return NVML_ERROR_INVALID_ARGUMENT;
    *p2pStatus = device1 == device2 ? NVML_P2P_STATUS_OK : NVML_P2P_STATUS_NOT_SUPPORTED;
    return NVML_SUCCESS;
}

/* The call succeeds and each field says for itself that it is not there: NVML's reference makes
 * the per-field nvmlReturn the thing to check, and value undefined unless it is NVML_SUCCESS
 * (zeroed here all the same, for callers that read it anyway). */
EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t d, int valuesCount, nvmlFieldValue_t *values)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, values);
    if (r != NVML_SUCCESS)
        return r;
    if (valuesCount < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    struct timeval now;
    gettimeofday(&now, NULL);
    for (int i = 0; i < valuesCount; i++) {
        values[i].timestamp = (long long)now.tv_sec * 1000000 + now.tv_usec;
        values[i].latencyUsec = 0;
        values[i].nvmlReturn = NVML_ERROR_NOT_SUPPORTED;
        memset(&values[i].value, 0, sizeof values[i].value);
    }
    return NVML_SUCCESS;
}

/* NVLink: a GPU with no links answers NVML_ERROR_NOT_SUPPORTED once its handle and the out pointer
 * have been checked. */
static nvmlReturn_t no_link(nvmlDevice_t d, const void *out)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, out);
    return r == NVML_SUCCESS ? NVML_ERROR_NOT_SUPPORTED : r;
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned int link, unsigned int *isActive)
{
    (void)link;
    return no_link(d, isActive);
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkCapability(nvmlDevice_t d, unsigned int link, unsigned int capability,
                                                  unsigned int *capResult)
{
    (void)link;
    (void)capability;
    return no_link(d, capResult);
}

EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo_v2(nvmlDevice_t d, unsigned int link, nvmlPciInfo_t *pci)
{
    (void)link;
    return no_link(d, pci);
}

/* The unversioned name (what NCCL asks for) is the same query. */
EXPORT nvmlReturn_t nvmlDeviceGetNvLinkRemotePciInfo(nvmlDevice_t d, unsigned int link, nvmlPciInfo_t *pci)
{
    return nvmlDeviceGetNvLinkRemotePciInfo_v2(d, link, pci);
}

/* No NVLink fabric (NVSwitch) and no platform information (the reference documents both as
 * NVML_ERROR_NOT_SUPPORTED on devices without them); the structs are never filled, so their
 * layouts do not matter here. */
EXPORT nvmlReturn_t nvmlDeviceGetGpuFabricInfoV(nvmlDevice_t d, void *gpuFabricInfo)
{
    return no_link(d, gpuFabricInfo);
}

EXPORT nvmlReturn_t nvmlDeviceGetPlatformInfo(nvmlDevice_t d, void *platformInfo)
{
    return no_link(d, platformInfo);
}

/* Confidential computing off: no CC environment, the feature disabled, developer tools off, no
 * protected multi-GPU mode - what a host without CC reports. */
EXPORT nvmlReturn_t nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t *state)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!state)
        return NVML_ERROR_INVALID_ARGUMENT;
    state->environment = NVML_CC_SYSTEM_ENVIRONMENT_UNAVAILABLE;
    state->ccFeature = NVML_CC_SYSTEM_FEATURE_DISABLED;
    state->devToolsMode = NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlSystemGetConfComputeSettings(nvmlSystemConfComputeSettings_t *settings)
{
    if (!nvml_sim.initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (!settings)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (settings->version != nvmlSystemConfComputeSettings_v1)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    settings->environment = NVML_CC_SYSTEM_ENVIRONMENT_UNAVAILABLE;
    settings->ccFeature = NVML_CC_SYSTEM_FEATURE_DISABLED;
    settings->devToolsMode = NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF;
    settings->multiGpuMode = NVML_CC_SYSTEM_MULTIGPU_NONE;
    return NVML_SUCCESS;
}
