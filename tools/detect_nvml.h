/* NVIDIA GPUs through NVML (libnvidia-ml.so.1, opened with dlopen so grey-plan runs without it,
 * and so LD_LIBRARY_PATH can select the simulated one): name, UUID, PCI address, memory,
 * compute capability, power limit, maximum clocks, temperature thresholds, MIG mode and the size
 * of each MIG instance, driver and CUDA versions. Every entry point but the basic ones is
 * optional: an older driver without one simply leaves that field unknown. */
#ifndef GREY_DETECT_NVML_H
#define GREY_DETECT_NVML_H

#include <stddef.h>

#include "gpu_facts.h"

/* Returns the number of devices put in out (0 when NVML works and sees none), or -1 with a reason
 * in err ("NVML: libnvidia-ml.so.1: cannot open shared object file", "NVML: nvmlInit_v2: ...").
 * NVML is shut down again before returning. */
int nvml_detect(struct gpu_list *out, char *err, size_t errlen);

#endif
