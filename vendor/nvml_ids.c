#include "nvml_ids.h"

#include <stdio.h>
#include <string.h>

typedef nvmlReturn_t (*init_fn)(void);

/* A looked-up function into a typed pointer, without the object-to-function cast ISO C leaves
 * undefined (POSIX guarantees the representation is the same). */
#define FIND(member, name)                                                                     \
    do {                                                                                       \
        void *p_ = sym(name);                                                                  \
        memcpy(&n->member, &p_, sizeof p_);                                                    \
    } while (0)

bool nvml_ids_load(struct nvml_ids *n, void *(*sym)(const char *name))
{
    memset(n, 0, sizeof *n);
    init_fn init = NULL;
    void *p = sym("nvmlInit_v2");
    if (!p)
        p = sym("nvmlInit");
    memcpy(&init, &p, sizeof p);
    FIND(by_uuid, "nvmlDeviceGetHandleByUUID");
    FIND(by_pci, "nvmlDeviceGetHandleByPciBusId_v2");
    FIND(get_index, "nvmlDeviceGetIndex");
    FIND(is_mig, "nvmlDeviceIsMigDeviceHandle");
    FIND(parent_of, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
    FIND(get_uuid, "nvmlDeviceGetUUID");
    FIND(get_name, "nvmlDeviceGetName");
    FIND(get_pci, "nvmlDeviceGetPciInfo_v3");
    FIND(get_memory, "nvmlDeviceGetMemoryInfo");
    FIND(get_procs, "nvmlDeviceGetComputeRunningProcesses_v3");
    return init && n->by_uuid && n->get_index && init() == NVML_SUCCESS;
}

int nvml_ids_handle_index(const struct nvml_ids *n, nvmlDevice_t h, bool *mig)
{
    unsigned flag = 0, i;
    *mig = n->is_mig && n->is_mig(h, &flag) == NVML_SUCCESS && flag;
    if (*mig) {
        nvmlDevice_t parent;
        if (!n->parent_of || n->parent_of(h, &parent) != NVML_SUCCESS)
            return -1;
        h = parent;
    }
    return n->get_index(h, &i) == NVML_SUCCESS ? (int)i : -1;
}

int nvml_ids_index_of(const struct nvml_ids *n, const char *uuid, bool *mig)
{
    nvmlDevice_t h;
    *mig = false;
    if (!n->by_uuid || n->by_uuid(uuid, &h) != NVML_SUCCESS)
        return -1;
    return nvml_ids_handle_index(n, h, mig);
}

int nvml_ids_index_of_pci(const struct nvml_ids *n, const char *bus_id)
{
    nvmlDevice_t h;
    bool mig;
    if (!n->by_pci || !bus_id[0] || n->by_pci(bus_id, &h) != NVML_SUCCESS)
        return -1;
    return nvml_ids_handle_index(n, h, &mig);
}

bool nvml_ids_locate(const struct nvml_ids *n, const char *uuid, int *index, bool *mig)
{
    nvmlDevice_t h;
    *index = -1;
    *mig = false;
    if (!n->by_uuid || !uuid[0] || n->by_uuid(uuid, &h) != NVML_SUCCESS)
        return false;
    *index = nvml_ids_handle_index(n, h, mig);
    return true;
}

int nvml_ids_place(const struct nvml_ids *n, char *uuid, unsigned len, const char *bus_id)
{
    bool mig;
    int index = nvml_ids_index_of(n, uuid, &mig);
    if (index >= 0)
        return index;
    if (strncmp(uuid, "GPU-", 4) == 0) {
        char as_mig[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
        snprintf(as_mig, sizeof as_mig, "MIG-%s", uuid + 4);
        index = nvml_ids_index_of(n, as_mig, &mig);
        if (index >= 0 && mig && strlen(as_mig) < len) {
            memcpy(uuid, as_mig, strlen(as_mig) + 1);
            return index;
        }
    }
    return strncmp(uuid, "MIG-", 4) != 0 && bus_id ? nvml_ids_index_of_pci(n, bus_id) : -1;
}
