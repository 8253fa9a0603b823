/* GPU identities as NVML knows them, for the hook (shim/nvml_ids.c) and the tools
 * (tools/gpu_ids.c) alike: NVML numbers GPUs by physical index (PCI order, nvidia-smi's numbers)
 * and tells GPUs from MIG instances. The caller says how NVML's functions are found (the hook
 * through its real-function lookup, the tools through dlopen). */
#ifndef GREY_VENDOR_NVML_IDS_H
#define GREY_VENDOR_NVML_IDS_H

#include <stdbool.h>

#include "nvml_api.h"

struct nvml_ids {
    nvmlReturn_t (*by_uuid)(const char *, nvmlDevice_t *);
    nvmlReturn_t (*by_pci)(const char *, nvmlDevice_t *);
    nvmlReturn_t (*get_index)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*is_mig)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*parent_of)(nvmlDevice_t, nvmlDevice_t *);
    nvmlReturn_t (*get_uuid)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*get_name)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*get_pci)(nvmlDevice_t, nvmlPciInfo_t *);
    nvmlReturn_t (*get_memory)(nvmlDevice_t, nvmlMemory_t *);
    nvmlReturn_t (*get_procs)(nvmlDevice_t, unsigned *, nvmlProcessInfo_t *);
};

/* Finds the functions through sym and initializes NVML; false when NVML is not usable. */
bool nvml_ids_load(struct nvml_ids *n, void *(*sym)(const char *name));

/* The physical index of the GPU a UUID names (a MIG instance: its parent GPU's), *mig set when it
 * is a MIG instance; -1 when NVML does not know the UUID. */
int nvml_ids_index_of(const struct nvml_ids *n, const char *uuid, bool *mig);

/* The physical index of the GPU at a PCI bus id ("0000:17:00.0"), or -1: for GPUs whose UUID
 * NVML does not use (another vendor's name for the same board). */
int nvml_ids_index_of_pci(const struct nvml_ids *n, const char *bus_id);

/* Where a UUID is: true when NVML knows it, with *index the physical index of its GPU (a MIG
 * instance's: its GPU's; -1 when NVML gives none) and *mig whether it names a MIG instance. */
bool nvml_ids_locate(const struct nvml_ids *n, const char *uuid, int *index, bool *mig);

/* The physical index of a device a runtime reports as uuid (len bytes) at PCI address bus_id, or
 * -1: by UUID; else, for "GPU-" text that NVML knows as a MIG instance ("MIG-" and the same
 * digits: CUDA gives an instance's UUID as 16 bytes, without saying which it is), uuid is
 * rewritten to the "MIG-" form and the instance's GPU's index returned; else by PCI address (a
 * whole GPU that another vendor's runtime names in its own way). */
int nvml_ids_place(const struct nvml_ids *n, char *uuid, unsigned len, const char *bus_id);

/* The physical index of a device handle (a MIG handle: its parent's), or -1. */
int nvml_ids_handle_index(const struct nvml_ids *n, nvmlDevice_t h, bool *mig);

#endif
