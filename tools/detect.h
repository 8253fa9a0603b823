/* Finding the GPUs of this machine, for grey-plan and grey-run. */
#ifndef GREY_DETECT_H
#define GREY_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "policy/limits.h"

struct grey_detected_device {
    int index;
    char name[GREY_NAME_MAX];
    char uuid[48];           /* "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (40 chars) or "" */
    uint64_t vram_total;
    uint64_t vram_free;
    int sm_count;
    int cc_major, cc_minor;
    char source[32];         /* where the facts came from: "cuda driver" */
    char pci_bus_id[20];     /* "0000:18:00.0" from cuDeviceGetPCIBusId, or "" */
    int cuda_version;        /* cuDriverGetVersion: 12040 for CUDA 12.4; 0 when unknown */
};

/* Loads the CUDA driver (libcuda.so.1, found the way the dynamic linker finds it, so
 * LD_LIBRARY_PATH selects the simulated one) with dlopen, initializes it and fills up to max
 * devices. Returns the number of devices, or -1 with a one-line reason in err ("no CUDA driver:
 * libcuda.so.1: cannot open shared object file", "cuInit failed: CUDA_ERROR_NO_DEVICE"). The
 * driver stays loaded. Must not be called from inside the hook. */
int grey_detect_cuda(struct grey_detected_device *out, int max, char *err, size_t errlen);

#endif
