/* What NVML says of GPU identities, for binding devices to ledger rows (shim/devices.h), through
 * vendor/nvml_ids.h. NVML is optional: an AMD node, or a container without it mounted, has none,
 * and nothing needs saying then (GREY_LOG says why). The real NVML functions are called, never
 * grey's own wrappers. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/real.h"
#include "devices.h"
#include "policy/ledger_gpu.h"
#include "policy/procinfo.h"
#include "vendor/nvml_ids.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool usable;
static struct nvml_ids nvml;

static void *sym(const char *name) { return grey_lib_symbol(GREY_LIB_NVML, name); }
static void init(void) { usable = nvml_ids_load(&nvml, sym); }

static bool ready(void)
{
    pthread_once(&once, init);
    return usable;
}

int grey_nvml_place(char uuid[GREY_UUID_MAX], const char *bus_id)
{
    return ready() ? nvml_ids_place(&nvml, uuid, GREY_UUID_MAX, bus_id) : -1;
}

bool grey_nvml_locate(const char *uuid, void *arg, int *index, bool *mig)
{
    (void)arg;
    *index = -1;
    *mig = false;
    return ready() && nvml_ids_locate(&nvml, uuid, index, mig);
}

bool grey_nvml_identify(struct nvmlDevice_st *handle, struct grey_gpu_id *out)
{
    memset(out, 0, sizeof *out);
    out->index = -1;
    bool mig;
    char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
    if (!ready() || !nvml.get_uuid || nvml.get_uuid(handle, uuid, sizeof uuid) != NVML_SUCCESS || !uuid[0])
        return false;
    uuid[sizeof uuid - 1] = '\0';
    grey_copy_cut(out->uuid, sizeof out->uuid, uuid);
    out->index = nvml_ids_handle_index(&nvml, handle, &mig);
    nvmlPciInfo_t pci;
    if (nvml.get_pci && nvml.get_pci(handle, &pci) == NVML_SUCCESS) {
        pci.busId[sizeof pci.busId - 1] = '\0';
        grey_pci_normalize(pci.busId, out->pci_bus_id);
    }
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
    if (nvml.get_name && nvml.get_name(handle, name, sizeof name) == NVML_SUCCESS) {
        name[sizeof name - 1] = '\0';
        grey_copy_cut(out->name, sizeof out->name, name);
    }
    nvmlMemory_t mem;
    if (nvml.get_memory && nvml.get_memory(handle, &mem) == NVML_SUCCESS)
        out->total_bytes = mem.total;
    return true;
}

/* NVML names processes by the pid the driver sees, which inside a container is not the one the
 * process sees itself under: there this finds nothing, and the context's cost is not counted
 * (the undercount errs as a missing GREY_CONTEXT_OVERHEAD would). */
uint64_t grey_nvml_process_bytes(const char *uuid)
{
    nvmlDevice_t h;
    nvmlProcessInfo_t infos[64];
    unsigned count = 64;
    pid_t me = grey_proc_host_pid();
    if (me <= 0 || !ready() || !nvml.get_procs || nvml.by_uuid(uuid, &h) != NVML_SUCCESS ||
        nvml.get_procs(h, &count, infos) != NVML_SUCCESS)
        return 0;
    for (unsigned i = 0; i < count && i < 64; i++)
        if (infos[i].pid == (unsigned)me && infos[i].usedGpuMemory != NVML_VALUE_NOT_AVAILABLE_ULL)
            return infos[i].usedGpuMemory;
    return 0;
}
