/* The simulated devices: GREY_SIM_* settings, cuInit, versions and device queries.
 *
 * Settings are read once, at the first cuInit, as the real driver reads its configuration once.
 * They describe the node's physical GPUs and are shared with the simulated HIP runtime and NVML
 * (sim_settings.h); which of them this process sees, in which order, is decided then too, from
 * CUDA_DEVICE_ORDER and CUDA_VISIBLE_DEVICES (sim_visible.h). Every query answers for the
 * physical device behind the ordinal (sim_node.h), so a GPU has the same UUID and PCI address
 * whichever ordinal a process knows it by. A malformed setting prints one line
 * "simgpu: VARIABLE: reason" and makes cuInit return CUDA_ERROR_INVALID_VALUE, so a broken test
 * setup fails loudly instead of running on defaults; no visible device makes it return
 * CUDA_ERROR_NO_DEVICE, as the driver does with an empty CUDA_VISIBLE_DEVICES. */
#include "sim_internal.h"
#include "sim_node.h"
#include "sim_sched.h"
#include "sim_settings.h"
#include "sim_visible.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_DRIVER_VERSION 13000

sim_device sim_devices[SIM_MAX_DEVICES];
int sim_device_count;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CUresult init_result = CUDA_ERROR_NOT_INITIALIZED;
static atomic_bool initialized;

/* The physical devices behind the ordinals, as cuInit found them. */
static struct sim_visible visible;

static CUresult load_settings(void)
{
    struct sim_settings set;
    if (sim_settings_load(&set) != 0 || sim_sched_adopt(set.sched, set.timeslice_us) != 0)
        return CUDA_ERROR_INVALID_VALUE;
    struct sim_visible vis;
    sim_visible_cuda(&set, &vis);
    int n = vis.count < SIM_MAX_DEVICES ? vis.count : SIM_MAX_DEVICES;
    vis.count = n;
    visible = vis;
    for (int i = 0; i < n; i++) {
        sim_device *d = &sim_devices[i];
        struct sim_phys_desc desc;
        sim_node_describe(&set, vis.phys[i], &desc);
        d->phys = vis.phys[i];
        snprintf(d->name, sizeof d->name, "%s", desc.name);
        d->vram_bytes = desc.vram;
        d->sms = desc.sms;
        d->clock_khz = desc.clock_khz;
        d->cc_major = set.cc_major;
        d->cc_minor = set.cc_minor;
    }
    sim_device_count = n;
    return n == 0 ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
}

static void init_once_fn(void)
{
    init_result = load_settings();
    if (init_result == CUDA_SUCCESS)
        atomic_store(&initialized, true);
}

CUresult sim_check_init(void)
{
    return atomic_load_explicit(&initialized, memory_order_acquire) ? CUDA_SUCCESS
                                                                    : CUDA_ERROR_NOT_INITIALIZED;
}

CUresult sim_check_device(CUdevice dev)
{
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    return (dev >= 0 && dev < sim_device_count) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

/* ------------------------------------------------------------------ API */

CUresult CUDAAPI cuInit(unsigned int Flags)
{
    if (Flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    pthread_once(&init_once, init_once_fn);
    return init_result;
}

/* Like the real driver this works before cuInit: the runtime asks it first. */
CUresult CUDAAPI cuDriverGetVersion(int *driverVersion)
{
    if (!driverVersion)
        return CUDA_ERROR_INVALID_VALUE;
    *driverVersion = SIM_DRIVER_VERSION;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetCount(int *count)
{
    if (!count)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    *count = sim_device_count;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGet(CUdevice *device, int ordinal)
{
    if (!device)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(ordinal);
    if (r != CUDA_SUCCESS)
        return r;
    *device = ordinal;
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice dev)
{
    if (!name || len <= 0)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    snprintf(name, (size_t)len, "%s", sim_devices[dev].name);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
    if (!bytes)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    *bytes = (size_t)sim_devices[dev].vram_bytes;
    return CUDA_SUCCESS;
}

/* The CUDA 2.x entry point with a 32-bit size: clamped, as it cannot express more than 4 GiB. */
CUresult CUDAAPI cuDeviceTotalMem(unsigned int *bytes, CUdevice dev)
{
    size_t full;
    if (!bytes)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = cuDeviceTotalMem_v2(&full, dev);
    if (r == CUDA_SUCCESS)
        *bytes = full > UINT_MAX ? UINT_MAX : (unsigned int)full;
    return r;
}

CUresult CUDAAPI cuDeviceComputeCapability(int *major, int *minor, CUdevice dev)
{
    if (!major || !minor)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    *major = sim_devices[dev].cc_major;
    *minor = sim_devices[dev].cc_minor;
    return CUDA_SUCCESS;
}

/* The physical device's UUID (sim_node.c): the same for a GPU whatever ordinal it has here, and
 * for a MIG instance its MIG UUID, as drivers since R470 report. */
CUresult CUDAAPI cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev)
{
    if (!uuid)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    unsigned char bytes[16];
    sim_node_uuid(sim_devices[dev].phys, bytes);
    memcpy(uuid->bytes, bytes, sizeof bytes);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetUuid(CUuuid *uuid, CUdevice dev)
{
    return cuDeviceGetUuid_v2(uuid, dev);
}

CUresult CUDAAPI cuDeviceGetPCIBusId(char *pciBusId, int len, CUdevice dev)
{
    if (!pciBusId || len <= 0)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    sim_node_pci_text(sim_devices[dev].phys, pciBusId, (size_t)len);
    return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetByPCIBusId(CUdevice *dev, const char *pciBusId)
{
    if (!dev || !pciBusId)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_init();
    if (r != CUDA_SUCCESS)
        return r;
    int ordinal = sim_visible_find_pci(&visible, pciBusId);
    if (ordinal == SIM_PCI_MALFORMED)
        return CUDA_ERROR_INVALID_VALUE;
    if (ordinal == SIM_PCI_ABSENT)
        return CUDA_ERROR_INVALID_DEVICE;
    *dev = ordinal;
    return CUDA_SUCCESS;
}

/* Values are those of an H100 SXM unless a GREY_SIM_* setting says otherwise; attributes with no
 * particular meaning here report 0 (unsupported), as a real driver does for missing features. */
CUresult CUDAAPI cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
    if (!pi)
        return CUDA_ERROR_INVALID_VALUE;
    CUresult r = sim_check_device(dev);
    if (r != CUDA_SUCCESS)
        return r;
    if ((int)attrib <= 0 || (int)attrib >= (int)CU_DEVICE_ATTRIBUTE_MAX)
        return CUDA_ERROR_INVALID_VALUE;
    const sim_device *d = &sim_devices[dev];
    struct sim_pci pci = sim_node_pci(d->phys);
    int v;
    switch (attrib) {
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: v = 64; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: v = INT_MAX; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: v = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: v = 65535; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: v = 48 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: v = 64 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: v = 32; break;
    case CU_DEVICE_ATTRIBUTE_MAX_PITCH: v = INT_MAX; break;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: v = 65536; break;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: v = d->clock_khz; break;
    case CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT: v = 512; break;
    case CU_DEVICE_ATTRIBUTE_GPU_OVERLAP: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: v = d->sms; break;
    case CU_DEVICE_ATTRIBUTE_INTEGRATED: v = 0; break;
    case CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_MODE: v = CU_COMPUTEMODE_DEFAULT; break;
    case CU_DEVICE_ATTRIBUTE_SURFACE_ALIGNMENT: v = 512; break;
    case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_ECC_ENABLED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: v = (int)pci.bus; break;
    case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: v = (int)pci.device; break;
    case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: v = (int)pci.domain; break;
    case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: v = 2619000; break; /* kHz */
    case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: v = 5120; break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: v = 50 * 1024 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: v = 2048; break;
    case CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT: v = 3; break;
    case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT: v = 32; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: v = d->cc_major; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: v = d->cc_minor; break;
    case CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: v = 228 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: v = 65536; break;
    case CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD_GROUP_ID: v = sim_phys_gpu(d->phys); break;
    case CU_DEVICE_ATTRIBUTE_SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO: v = 2; break;
    case CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_PREEMPTION_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: v = 227 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_HOST_REGISTER_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: v = 32; break;
    case CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE: v = 30 * 1024 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE: v = 128 * 1024 * 1024; break;
    case CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK: v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED: v = 1; break;
    case CU_DEVICE_ATTRIBUTE_MEMPOOL_SUPPORTED_HANDLE_TYPES: v = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR; break;
    case CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH: v = d->cc_major >= 9; break;
    case CU_DEVICE_ATTRIBUTE_MEM_SYNC_DOMAIN_COUNT: v = 4; break;
    case CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID: v = (int)SIM_PCI_DEVICE_ID; break;
    case CU_DEVICE_ATTRIBUTE_GPU_PCI_SUBSYSTEM_ID: v = (int)SIM_PCI_SUBSYSTEM_ID; break;
    case CU_DEVICE_ATTRIBUTE_NUMA_ID: v = -1; break;
    case CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID: v = -1; break;
    default: v = 0; break;
    }
    *pi = v;
    return CUDA_SUCCESS;
}
