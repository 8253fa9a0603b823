/* Finding AMD GPUs without the HIP runtime, for grey-plan and grey-run: from the amdgpu driver's
 * sysfs files, or from `rocm-smi --json` when sysfs shows none (a container that hides /sys). */
#ifndef GREY_DETECT_AMD_H
#define GREY_DETECT_AMD_H

#include <stddef.h>

#include "detect.h"

/* AMD GPUs under root (normally "/sys"; GREY_SYSFS_ROOT overrides it for tests): every
 * ROOT/class/drm/cardN whose device/vendor is 0x1002 and that has device/mem_info_vram_total,
 * in card order, numbered from 0 as HIP numbers them. Name from device/product_name (else "AMD GPU
 * <device id>"), VRAM from mem_info_vram_total and _used, uuid "GPU-<unique_id>". Returns the count
 * (0 when there are none), or -1 with a reason in err for a file that exists but is malformed. */
int grey_detect_amd_sysfs(const char *root, struct grey_detected_device *out, int max, char *err, size_t errlen);

/* The same from the JSON `rocm-smi --showproductname --showmeminfo vram --showuniqueid --json`
 * prints: {"card0": {"Card Series": ..., "VRAM Total Memory (B)": "...", ...}, ...}. Returns the
 * count, or -1 with a reason in err. */
int grey_detect_amd_rocm_smi_json(const char *json, struct grey_detected_device *out, int max, char *err,
                                  size_t errlen);

/* sysfs (under GREY_SYSFS_ROOT or /sys), then rocm-smi from PATH. Returns the count, or -1 with a
 * reason in err when neither shows an AMD GPU. */
int grey_detect_amd(struct grey_detected_device *out, int max, char *err, size_t errlen);

/* Every GPU grey can plan for: the CUDA driver's, else AMD's. On failure err names both reasons. */
int grey_detect_gpus(struct grey_detected_device *out, int max, char *err, size_t errlen);

#endif
