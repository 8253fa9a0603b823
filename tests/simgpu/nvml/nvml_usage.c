/* Memory and the processes holding it, as the simulated NVML reports them: read from the
 * machine-wide table every simulated process keeps its allocations in (../sim_usage.h), so NVML
 * sees what all processes on the GPU hold, as the real one does, and a process that died holds
 * nothing. On a GPU in MIG mode the GPU's figures cover its instances; an instance's handle shows
 * only its own. */
#include "nvml_sim.h"
#include "tests/simgpu/sim_usage.h"

#define LIST_MAX SIM_USAGE_LIST_MAX

static uint64_t used_by_all(nvmlDevice_t d)
{
    int phys[1 + SIM_MIG_INSTANCES];
    size_t n = nvml_sim_phys_of(d, phys);
    uint64_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += sim_usage_used(phys[i]);
    return used;
}

static void memory_of(nvmlDevice_t d, unsigned long long *total, unsigned long long *used,
                      unsigned long long *free_bytes)
{
    uint64_t u = used_by_all(d);
    *total = d->desc.vram;
    *used = u < d->desc.vram ? u : d->desc.vram;
    *free_bytes = *total - *used;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, m);
    if (r != NVML_SUCCESS)
        return r;
    memory_of(d, &m->total, &m->used, &m->free);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t d, nvmlMemory_v2_t *m)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, true, m);
    if (r != NVML_SUCCESS)
        return r;
    if (m->version != nvmlMemory_v2)
        return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    m->reserved = 0;
    memory_of(d, &m->total, &m->used, &m->free);
    return NVML_SUCCESS;
}

/* One entry per live process and physical device it holds memory on, in NVML's calling
 * convention: *count in is the room in the array, out the number of entries; too little room
 * gives NVML_ERROR_INSUFFICIENT_SIZE with the number needed (and fills nothing). v1 entries have
 * no instance ids; v2/v3 entries name the instance, or 0xFFFFFFFF off MIG. */
static nvmlReturn_t running_processes(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos,
                                      nvmlProcessInfo_v1_t *infos_v1)
{
    nvmlReturn_t r = nvml_sim_check(d, true);
    if (r != NVML_SUCCESS)
        return r;
    if (!count || (*count > 0 && !infos && !infos_v1))
        return NVML_ERROR_INVALID_ARGUMENT;
    int phys[1 + SIM_MIG_INSTANCES];
    size_t nphys = nvml_sim_phys_of(d, phys);
    struct sim_usage_entry entries[LIST_MAX];
    size_t n = sim_usage_list(phys, nphys, entries, LIST_MAX);
    if (n > LIST_MAX)
        n = LIST_MAX;
    unsigned room = *count;
    *count = (unsigned)n;
    if (room < n)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    for (size_t i = 0; i < n; i++) {
        const struct sim_usage_entry *e = &entries[i];
        bool mig = sim_phys_is_mig(e->phys);
        if (infos)
            infos[i] = (nvmlProcessInfo_t){.pid = (unsigned)e->pid, .usedGpuMemory = e->bytes,
                                           .gpuInstanceId = mig ? sim_phys_mig_gi(e->phys) : 0xFFFFFFFFu,
                                           .computeInstanceId = mig ? 0 : 0xFFFFFFFFu};
        else
            infos_v1[i] = (nvmlProcessInfo_v1_t){.pid = (unsigned)e->pid, .usedGpuMemory = e->bytes};
    }
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_v1_t *i)
{
    return running_processes(d, count, NULL, i);
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *i)
{
    return running_processes(d, count, i, NULL);
}
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *i)
{
    return running_processes(d, count, i, NULL);
}
