/* grey-plan's detection: every source that is there, in order, merged per device (gpu_facts.h).
 *
 *   1. NVML (libnvidia-ml.so.1)          detect_nvml.c
 *   2. the CUDA driver API (libcuda.so.1) detect.c
 *   3. nvidia-smi --query-gpu ... csv     smi_csv.c  } asked unless NVML answered and saw no GPU
 *      nvidia-smi -q -x                   smi_xml.c  }
 *   4. amdgpu sysfs, else rocm-smi --json detect_amd.c
 *   5. lspci -mm                          lspci_parse.c, only when nothing above found a GPU
 *
 * GREY_DETECT_SOURCES (a comma list of nvml, cuda, nvidia-smi, amd, lspci) limits the sources, so
 * tests can run one source against recorded output whatever the machine has. */
#ifndef GREY_DETECT_CHAIN_H
#define GREY_DETECT_CHAIN_H

#include <stddef.h>

#include "gpu_facts.h"

enum { CHAIN_NVML, CHAIN_CUDA, CHAIN_SMI, CHAIN_AMD, CHAIN_LSPCI, CHAIN_COUNT };

struct chain_status {
    const char *name;     /* "nvml", "cuda", "nvidia-smi", "amd", "lspci" */
    int selected;         /* in GREY_DETECT_SOURCES (or no such variable) */
    int ran;
    int devices;          /* devices it reported (-1: failed, see note) */
    char note[220];       /* why it failed or did not run */
};

struct detect_result {
    struct gpu_list list;
    struct chain_status status[CHAIN_COUNT];
    char failure[1200];   /* when no source found a GPU: every reason, CUDA's and AMD's first */
};

/* Runs the chain. Returns the number of devices (in result->list, finished: ordered and
 * numbered), 0 with result->failure set when there is none, or -1 with err set when
 * GREY_DETECT_SOURCES names an unknown source. */
int detect_chain(struct detect_result *result, char *err, size_t errlen);

/* The CUDA driver's and AMD's devices as facts (adapters over detect.c and detect_amd.c). */
int cuda_facts(struct gpu_list *out, char *err, size_t errlen);
int amd_facts(struct gpu_list *out, char *err, size_t errlen);

#endif
