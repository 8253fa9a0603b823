/* The simulated node's physical devices and who they are: the identities every simulator reports
 * for them (UUIDs, PCI addresses) and what each one has (name, memory, SMs).
 *
 * A physical device is a whole GPU or, in MIG mode, one MIG instance of a GPU. Each has a
 * physical id that never depends on what a process sees: GPU N (the N-th in PCI bus order) is id
 * N, instance K of GPU N is SIM_NODE_MAX_GPUS + N * SIM_MIG_INSTANCES + K. The shared state (device
 * timelines, used memory per process) is indexed by it, and every identity below is a function of
 * it alone, so two processes that see the same GPU under different ordinals, or through
 * different APIs, agree on which GPU it is. */
#ifndef GREY_SIM_NODE_H
#define GREY_SIM_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_settings.h"

#pragma GCC visibility push(hidden)

#define SIM_NODE_MAX_GPUS SIM_SETTINGS_MAX_DEVICES
#define SIM_PHYS_MAX      (SIM_NODE_MAX_GPUS * (1 + SIM_MIG_INSTANCES))
/* "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6" and "MIG-...": 4 + 36 characters and the NUL. */
#define SIM_UUID_TEXT     41
/* ROCm's form, "GPU-" and 16 upper-case hex digits, and the NUL. */
#define SIM_ROCM_UUID_TEXT 21
/* The clock every simulated GPU reports (kHz), an H100 SXM's boost clock. */
#define SIM_CLOCK_KHZ     1980000
/* PCI identity of every simulated GPU, as NVML's pciDeviceId / pciSubSystemId and the driver's
 * CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID / _SUBSYSTEM_ID combine them (device id << 16 | vendor
 * id): an H100 SXM5 80GB (device 0x2330, subsystem 0x16c1, both NVIDIA's vendor id 0x10de).
 * cuBLASLt reads it at handle creation; a real GPU never reports 0. */
#define SIM_PCI_DEVICE_ID    0x233010deu
#define SIM_PCI_SUBSYSTEM_ID 0x16c110deu

static inline int sim_phys_mig(int gpu, int instance)
{
    return SIM_NODE_MAX_GPUS + gpu * SIM_MIG_INSTANCES + instance;
}
static inline bool sim_phys_is_mig(int phys) { return phys >= SIM_NODE_MAX_GPUS; }
/* The GPU a physical device belongs to (itself for a whole GPU). */
static inline int sim_phys_gpu(int phys)
{
    return sim_phys_is_mig(phys) ? (phys - SIM_NODE_MAX_GPUS) / SIM_MIG_INSTANCES : phys;
}
static inline int sim_phys_instance(int phys) { return (phys - SIM_NODE_MAX_GPUS) % SIM_MIG_INSTANCES; }

/* What a physical device has. */
struct sim_phys_desc {
    char name[SIM_SETTINGS_NAME_MAX];
    uint64_t vram;
    int sms;
    int clock_khz;
};
void sim_node_describe(const struct sim_settings *set, int phys, struct sim_phys_desc *out);

/* The 16 UUID bytes cuDeviceGetUuid reports, and their text as nvidia-smi -L prints it ("GPU-..."
 * for a GPU, "MIG-..." for an instance). */
void sim_node_uuid(int phys, unsigned char out[16]);
void sim_node_uuid_text(int phys, char out[SIM_UUID_TEXT]);
/* The UUID ROCm reports for GPU gpu ("GPU-" and 16 hex digits): the first 8 bytes of the same
 * GPU's CUDA UUID, so both simulators name one GPU alike. */
void sim_node_rocm_uuid_text(int gpu, char out[SIM_ROCM_UUID_TEXT]);

/* GPU instance id NVML gives a MIG instance (compute instance ids are all 0). */
static inline unsigned sim_phys_mig_gi(int phys) { return 1u + (unsigned)sim_phys_instance(phys); }

struct sim_pci {
    unsigned domain, bus, device, function;
};
/* A MIG instance sits at its GPU's address. */
struct sim_pci sim_node_pci(int phys);
/* "0000:18:00.0", as cuDeviceGetPCIBusId and hipDeviceGetPCIBusId write it. */
void sim_node_pci_text(int phys, char *out, size_t len);
/* Parses a PCI bus id in the forms cuDeviceGetByPCIBusId documents (hexadecimal fields):
 * domain:bus:device.function, domain:bus:device, bus:device.function. 0, or -1 if malformed. */
int sim_node_pci_parse(const char *text, struct sim_pci *out);
/* Same slot (function 0 is the GPU; nothing else sits at a GPU's address here). */
bool sim_node_pci_equal(struct sim_pci a, struct sim_pci b);

#pragma GCC visibility pop

#endif
