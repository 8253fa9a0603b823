/* The GPU row behind a vendor's device ordinal (core/devices.h): identified once per ordinal
 * (the vendor's identity calls, then NVML or sysfs for its physical index), bound, and then an
 * array load on every allocation and launch. */
#ifndef GREY_SHIM_DEVICES_H
#define GREY_SHIM_DEVICES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/ledger_gpu.h"
#include "vendor.h"

#define GREY_ORDINALS 64

/* row + 1 once known, -1 when the device cannot be identified, 0 not asked yet. */
extern _Atomic int16_t grey_ordinal_rows[GREY_VENDOR_COUNT][GREY_ORDINALS];

int grey_device_row_slow(const struct grey_vendor *v, int ordinal);

/* The GPU row of vendor v's device ordinal, or -1 (not accounted). */
static inline int grey_device_row(const struct grey_vendor *v, int ordinal)
{
    if ((unsigned)ordinal >= GREY_ORDINALS)
        return -1;
    int16_t m = atomic_load_explicit(&grey_ordinal_rows[v->id][ordinal], memory_order_acquire);
    if (__builtin_expect(m > 0, 1))
        return m - 1;
    return m < 0 ? -1 : grey_device_row_slow(v, ordinal);
}

/* NVML's view of GPU identities (shim/nvml_ids.c, over vendor/nvml_ids.h), each false or -1 when
 * NVML cannot say: the physical index of a device a runtime names by uuid and PCI address
 * (nvml_ids_place: uuid may become a "MIG-" UUID), and where a UUID is on this node (a
 * grey_uuid_locate_fn, for plans). */
int grey_nvml_place(char uuid[GREY_UUID_MAX], const char *bus_id);
bool grey_nvml_locate(const char *uuid, void *arg, int *index, bool *mig);
/* What NVML says this process holds on the GPU, 0 when it cannot tell. */
uint64_t grey_nvml_process_bytes(const char *uuid);
/* The NVML identity of handle's GPU, as a grey_gpu_id; false when NVML cannot say. */
struct nvmlDevice_st;
bool grey_nvml_identify(struct nvmlDevice_st *handle, struct grey_gpu_id *out);

#endif
