#include "gpu_ids.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
#include "detect_amd.h"
#include "policy/pci_order.h"
#include "vendor/nvml_ids.h"

static struct nvml_ids nvml;
static int nvml_state; /* 0 not tried, 1 usable, -1 not there */

static void *nvml_sym(const char *name)
{
    static void *lib;
    if (!lib)
        lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    return lib ? dlsym(lib, name) : NULL;
}

static bool nvml_ready(void)
{
    if (!nvml_state)
        nvml_state = nvml_ids_load(&nvml, nvml_sym) ? 1 : -1;
    return nvml_state > 0;
}

bool tool_uuid_locate(const char *uuid, void *arg, int *index, bool *mig)
{
    (void)arg;
    *index = -1;
    *mig = false;
    return nvml_ready() && nvml_ids_locate(&nvml, uuid, index, mig);
}

/* The hook's rule (shim/devices.c): NVML's place for the device, else its place in PCI order. */
static void physical_index(struct grey_gpu_id *g, unsigned pci_vendor)
{
    g->index = nvml_ready() ? nvml_ids_place(&nvml, g->uuid, sizeof g->uuid, g->pci_bus_id) : -1;
    if (g->index < 0 && strncmp(g->uuid, "MIG-", 4) != 0)
        g->index = grey_pci_index(g->pci_bus_id, pci_vendor, "/sys/bus/pci/devices");
}

int tool_visible_gpus(struct grey_gpu_id *out, int max, char *err, size_t errlen)
{
    struct grey_detected_device devs[GREY_MAX_DEVICES];
    int n = grey_detect_gpus(devs, max < GREY_MAX_DEVICES ? max : GREY_MAX_DEVICES, err, errlen);
    for (int i = 0; i < n; i++) {
        struct grey_gpu_id *g = &out[i];
        memset(g, 0, sizeof *g);
        grey_copy_cut(g->uuid, sizeof g->uuid, devs[i].uuid);
        grey_pci_normalize(devs[i].pci_bus_id, g->pci_bus_id);
        grey_copy_cut(g->name, sizeof g->name, devs[i].name);
        g->total_bytes = devs[i].vram_total;
        bool amd = strstr(devs[i].source, "amd") || strstr(devs[i].source, "rocm");
        physical_index(g, amd ? 0x1002 : 0x10de);
    }
    return n;
}
