#include "devices.h"

#include <stdio.h>
#include <string.h>

#include "core/devices.h"
#include "core/log.h"
#include "policy/pci_order.h"

_Atomic int16_t grey_ordinal_rows[GREY_VENDOR_COUNT][GREY_ORDINALS];

/* The PCI vendor ids sysfs names GPUs by, for the physical index without NVML. */
static unsigned pci_vendor(const struct grey_vendor *v)
{
    return v->id == GREY_VENDOR_HIP ? 0x1002 : 0x10de;
}

int grey_device_row_slow(const struct grey_vendor *v, int ordinal)
{
    struct grey_gpu_id id;
    unsigned char raw[16];
    memset(&id, 0, sizeof id);
    id.index = -1;
    int row = -1;
    memset(raw, 0, sizeof raw);
    if (v->identify && v->identify(ordinal, raw, &id)) {
        static const unsigned char none[16];
        /* CUDA gives 16 bytes, which name a GPU or a MIG instance: only NVML can say which. */
        if (v->id == GREY_VENDOR_CUDA && memcmp(raw, none, sizeof none) != 0)
            grey_uuid_format(raw, false, id.uuid);
        /* NVML, where it is there, numbers the boards whatever a runtime calls them; sysfs does
         * without it. A MIG instance shares its GPU's address: only its UUID places it. */
        id.index = grey_nvml_place(id.uuid, id.pci_bus_id);
        if (id.index < 0 && strncmp(id.uuid, "MIG-", 4) != 0)
            id.index = grey_pci_index(id.pci_bus_id, pci_vendor(v), "/sys/bus/pci/devices");
        row = grey_device_bind(&id, grey_nvml_locate, NULL);
    } else {
        /* A driver that names its device neither by UUID nor by PCI address: the best guess left is
         * that the ordinal is the physical index (true unless visibility settings renumber), and
         * the device is accounted under that guess rather than not at all. */
        memset(&id, 0, sizeof id);
        snprintf(id.uuid, sizeof id.uuid, "%s-device-%d", v->name, ordinal);
        id.index = ordinal;
        static _Atomic bool said;
        if (!atomic_exchange(&said, true))
            grey_warn("%s device %d has neither a UUID nor a PCI address; grey takes it for physical GPU %d",
                      v->name, ordinal, ordinal);
        row = grey_device_bind(&id, grey_nvml_locate, NULL);
    }
    atomic_store_explicit(&grey_ordinal_rows[v->id][ordinal], (int16_t)(row >= 0 ? row + 1 : -1),
                          memory_order_release);
    return row;
}
