/* Shared internals of the simulated NVML (build/sim/libnvidia-ml.so.1).
 *
 * It describes the same node as the simulated CUDA driver and HIP runtime (../sim_settings.h,
 * ../sim_node.h): the physical GPUs in PCI order, whatever CUDA_VISIBLE_DEVICES says (NVML ignores
 * it, as the real one does), each with the UUID and PCI address the CUDA simulator gives it, and,
 * with GREY_SIM_MIG=1, SIM_MIG_INSTANCES MIG instances per GPU with their own "MIG-" UUIDs and
 * memory. Memory used and the processes using it come from the machine-wide table every simulated
 * process keeps its allocations in (../sim_usage.h); the facts grey-plan detects are an H100 SXM's
 * (700 W, 1980/2619 MHz, slowdown 89 C, shutdown 92 C; the power limit and thresholds can be
 * set), the compute capability GREY_SIM_CC's, and the temperature and power follow the device's
 * busy time (nvml_thermal.c).
 *
 * Everything but the nvml* entry points is hidden (-fvisibility is not used for this library, so
 * EXPORT marks them). */
#ifndef GREY_NVML_SIM_H
#define GREY_NVML_SIM_H

#include "vendor/nvml_api.h"
#include "tests/simgpu/sim_node.h"
#include "tests/simgpu/sim_settings.h"

#pragma GCC visibility push(hidden)

#define EXPORT __attribute__((visibility("default")))

/* A device handle: a whole GPU or one MIG instance. */
struct nvmlDevice_st {
    int phys;
    struct sim_phys_desc desc;
};

struct nvml_sim {
    int initialized;
    struct sim_settings set;
    struct nvmlDevice_st gpu[SIM_NODE_MAX_GPUS];
    struct nvmlDevice_st mig[SIM_NODE_MAX_GPUS][SIM_MIG_INSTANCES];
};
extern struct nvml_sim nvml_sim;

/* NVML_SUCCESS when d is a GPU handle (or, with mig_too, a MIG instance handle);
 * NVML_ERROR_UNINITIALIZED before nvmlInit, NVML_ERROR_INVALID_ARGUMENT otherwise. */
nvmlReturn_t nvml_sim_check(nvmlDevice_t d, bool mig_too);
/* nvml_sim_check, then NVML_ERROR_INVALID_ARGUMENT for a NULL out (the order NVML checks in). */
nvmlReturn_t nvml_sim_check_arg(nvmlDevice_t d, bool mig_too, const void *out);
bool nvml_sim_is_mig(nvmlDevice_t d);

/* The physical devices whose memory a handle covers: a MIG instance's own, or a GPU with every
 * instance in it. Returns how many (at most 1 + SIM_MIG_INSTANCES). */
size_t nvml_sim_phys_of(nvmlDevice_t d, int *phys);

/* nvmlPciInfo_t as nvmlDeviceGetPciInfo and _v2 filled it before _v3 (NVML's older headers):
 * the legacy bus id first, then reserved words instead of the long bus id. */
typedef struct {
    char busId[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    unsigned int reserved[4];
} nvml_sim_pci_info_v1_t;

#pragma GCC visibility pop

#endif
