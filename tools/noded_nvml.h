/* What grey-noded asks NVML (libnvidia-ml.so.1 through dlopen, so the service runs without it,
 * and LD_LIBRARY_PATH selects the simulated one in tests): the GPUs by UUID, and each process's
 * device memory, hooked or not (nvmlDeviceGetComputeRunningProcesses). */
#ifndef GREY_NODED_NVML_H
#define GREY_NODED_NVML_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/ledger_gpu.h"
#include "policy/limits.h"

#define NODED_PROCS_MAX 1024

struct noded_proc {
    pid_t pid;          /* as NVML reports it: the host's pid */
    uint64_t bytes;
};

/* Opens NVML and lists its GPUs (index, UUID, PCI bus id, name, memory) into gpus. Returns the
 * number of GPUs, or -1 with the reason in err (no NVML: the service runs without a watchdog). */
int noded_nvml_open(struct grey_gpu_id gpus[GREY_MAX_DEVICES], char *err, size_t errlen);

/* The processes holding memory on GPU index i: their number (at most max), or -1. */
int noded_nvml_processes(unsigned i, struct noded_proc *out, unsigned max);

#endif
