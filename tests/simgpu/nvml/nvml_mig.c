/* MIG in the simulated NVML: with GREY_SIM_MIG=1 every GPU is in MIG mode and holds
 * SIM_MIG_INSTANCES instances (one GPU instance with one compute instance each, an H100's 3g
 * profile), found by index under their GPU, as nvidia-smi -L lists them. */
#include "nvml_sim.h"

#include <string.h>

/* An H100's MIG slots; the first SIM_MIG_INSTANCES hold an instance. */
#define MIG_SLOTS 7

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned int *current, unsigned int *pending)
{
    nvmlReturn_t r = nvml_sim_check(d, false);
    if (r != NVML_SUCCESS)
        return r;
    if (!current || !pending)
        return NVML_ERROR_INVALID_ARGUMENT;
    *current = *pending = nvml_sim.set.mig ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned int *count)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, count);
    if (r != NVML_SUCCESS)
        return r;
    *count = nvml_sim.set.mig ? MIG_SLOTS : 0;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned int index, nvmlDevice_t *mig)
{
    nvmlReturn_t r = nvml_sim_check(d, false);
    if (r != NVML_SUCCESS)
        return r;
    if (!mig || !nvml_sim.set.mig)
        return NVML_ERROR_INVALID_ARGUMENT;
    if (index >= SIM_MIG_INSTANCES)
        return NVML_ERROR_NOT_FOUND;
    *mig = &nvml_sim.mig[d->phys][index];
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceIsMigDeviceHandle(nvmlDevice_t d, unsigned int *is_mig)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, is_mig);
    if (r != NVML_SUCCESS)
        return r;
    *is_mig = nvml_sim_is_mig(d);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetDeviceHandleFromMigDeviceHandle(nvmlDevice_t mig, nvmlDevice_t *device)
{
    nvmlReturn_t r = nvml_sim_check(mig, true);
    if (r != NVML_SUCCESS)
        return r;
    if (!device || !nvml_sim_is_mig(mig))
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = &nvml_sim.gpu[sim_phys_gpu(mig->phys)];
    return NVML_SUCCESS;
}

/* The ids only exist for MIG instances; a whole GPU has none. */
static nvmlReturn_t instance_id(nvmlDevice_t d, unsigned int *id, bool gpu_instance)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, id);
    if (r != NVML_SUCCESS)
        return r;
    if (!nvml_sim_is_mig(d))
        return NVML_ERROR_NOT_SUPPORTED;
    *id = gpu_instance ? sim_phys_mig_gi(d->phys) : 0;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned int *id) { return instance_id(d, id, true); }
EXPORT nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t d, unsigned int *id) { return instance_id(d, id, false); }

/* Documented for MIG handles only, as the real one is. */
EXPORT nvmlReturn_t nvmlDeviceGetAttributes_v2(nvmlDevice_t d, nvmlDeviceAttributes_t *a)
{
    nvmlReturn_t r = nvml_sim_check(d, true);
    if (r != NVML_SUCCESS)
        return r;
    if (!nvml_sim_is_mig(d))
        return NVML_ERROR_NOT_SUPPORTED;
    if (!a)
        return NVML_ERROR_INVALID_ARGUMENT;
    memset(a, 0, sizeof *a);
    a->multiprocessorCount = (unsigned)d->desc.sms;
    a->gpuInstanceSliceCount = 3;
    a->computeInstanceSliceCount = 3;
    a->memorySizeMB = d->desc.vram >> 20;
    return NVML_SUCCESS;
}
