/* NVML's memory views, capped: inside a capped job, nvidia-smi and monitoring libraries see the
 * job's cap as the device's size and the job's own processes as its users, the same picture
 * cuMemGetInfo gives. The job's processes are found through the ledger (same run id); the
 * memory they hold is what grey counted for them. NVML's handles are physical GPUs: each is tied
 * to its ledger row by UUID (core/devices.h), so the view is right whatever numbers
 * CUDA_VISIBLE_DEVICES gave the job's devices. Outside any cap NVML answers unchanged. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/real.h"
#include "core/self.h"
#include "core/devices.h"
#include "devices.h"
#include "policy/run_view.h"
#include "nvml_shim.h"

#define GREY_EXPORT __attribute__((visibility("default")))
#define MAX_LISTED 256


/* The capped view for this NVML device, or false when no cap applies to it. */
static bool capped_view(nvmlDevice_t device, uint64_t physical_total, uint64_t *total, uint64_t *used, int *dev_out)
{
    struct grey_gpu_id id;
    if (!grey_nvml_identify(device, &id))
        return false;
    int row = grey_device_bind(&id, grey_nvml_locate, NULL);
    const struct grey_quota *q = grey_self();
    if (!grey_self_has_device(row))
        return false;
    uint64_t cap = atomic_load_explicit(&q->slot->dev[row].cap, memory_order_relaxed);
    if (cap == UINT64_MAX)
        return false;
    struct grey_run_process ignored[1];
    grey_run_view(q->budgets, q->slot, row, ignored, 0, used);
    *total = cap < physical_total ? cap : physical_total;
    *dev_out = row;
    return true;
}

/* Rewrites NVML's total/used/free into the job's view; false (and nothing changed) when no cap
 * applies to the device. */
static bool apply_view(nvmlDevice_t device, unsigned long long *total, unsigned long long *used,
                       unsigned long long *free_bytes)
{
    uint64_t capped_total, job_used;
    int dev;
    if (!capped_view(device, *total, &capped_total, &job_used, &dev))
        return false;
    *total = capped_total;
    *used = job_used < capped_total ? job_used : capped_total;
    *free_bytes = capped_total - *used;
    return true;
}

GREY_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    static void *real_fn;
    nvmlReturn_t (*real)(nvmlDevice_t, nvmlMemory_t *) = grey_nvml_real(&real_fn, "nvmlDeviceGetMemoryInfo");
    if (!real)
        return NVML_ERROR_NOT_SUPPORTED;
    nvmlReturn_t rc = real(device, memory);
    if (rc == NVML_SUCCESS && memory)
        apply_view(device, &memory->total, &memory->used, &memory->free);
    return rc;
}

GREY_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
    static void *real_fn;
    nvmlReturn_t (*real)(nvmlDevice_t, nvmlMemory_v2_t *) = grey_nvml_real(&real_fn, "nvmlDeviceGetMemoryInfo_v2");
    if (!real)
        return NVML_ERROR_NOT_SUPPORTED;
    nvmlReturn_t rc = real(device, memory);
    /* The driver's reservation is part of the device, not of the job: within the cap it shows as
     * nothing reserved. */
    if (rc == NVML_SUCCESS && memory && apply_view(device, &memory->total, &memory->used, &memory->free))
        memory->reserved = 0;
    return rc;
}

/* The job's processes on the device, in NVML's calling convention: *count in is the room in
 * infos, out the number there are; too little room gives NVML_ERROR_INSUFFICIENT_SIZE. */
static nvmlReturn_t job_processes(nvmlDevice_t device, unsigned int *count, nvmlProcessInfo_t *infos,
                                  nvmlProcessInfo_v1_t *infos_v1, nvmlReturn_t real_rc)
{
    uint64_t total, used;
    int dev;
    if (real_rc != NVML_SUCCESS && real_rc != NVML_ERROR_INSUFFICIENT_SIZE)
        return real_rc;
    if (!capped_view(device, UINT64_MAX, &total, &used, &dev))
        return real_rc;
    const struct grey_quota *q = grey_self();
    struct grey_run_process procs[MAX_LISTED];
    size_t n = grey_run_view(q->budgets, q->slot, dev, procs, MAX_LISTED, &used);
    if (n > MAX_LISTED)
        n = MAX_LISTED;
    unsigned room = *count;
    *count = (unsigned)n;
    if (room < n)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    for (size_t i = 0; i < n; i++) {
        if (infos)
            infos[i] = (nvmlProcessInfo_t){.pid = (unsigned)procs[i].pid, .usedGpuMemory = procs[i].used,
                                           .gpuInstanceId = 0xFFFFFFFFu, .computeInstanceId = 0xFFFFFFFFu};
        else
            infos_v1[i] = (nvmlProcessInfo_v1_t){.pid = (unsigned)procs[i].pid, .usedGpuMemory = procs[i].used};
    }
    return NVML_SUCCESS;
}

typedef nvmlReturn_t (*processes_fn)(nvmlDevice_t, unsigned int *, void *);

static nvmlReturn_t running_processes(void **cache, const char *name, nvmlDevice_t device, unsigned int *count,
                                      nvmlProcessInfo_t *infos, nvmlProcessInfo_v1_t *infos_v1)
{
    processes_fn real = grey_nvml_real(cache, name);
    if (!real)
        return NVML_ERROR_NOT_SUPPORTED;
    if (!count)
        return real(device, count, infos ? (void *)infos : (void *)infos_v1);
    unsigned room = *count;
    nvmlReturn_t rc = real(device, count, infos ? (void *)infos : (void *)infos_v1);
    *count = room;
    return job_processes(device, count, infos, infos_v1, rc);
}

GREY_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                                 nvmlProcessInfo_t *infos)
{
    static void *real_fn;
    return running_processes(&real_fn, "nvmlDeviceGetComputeRunningProcesses_v3", device, count, infos, NULL);
}

GREY_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                                 nvmlProcessInfo_t *infos)
{
    static void *real_fn;
    return running_processes(&real_fn, "nvmlDeviceGetComputeRunningProcesses_v2", device, count, infos, NULL);
}

GREY_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                              nvmlProcessInfo_v1_t *infos)
{
    static void *real_fn;
    return running_processes(&real_fn, "nvmlDeviceGetComputeRunningProcesses", device, count, NULL, infos);
}
