/* The GPUs a job started from here sees, named as the hook will name them (policy/ledger_gpu.h):
 * the CUDA driver's devices in the order the job sees them (CUDA_VISIBLE_DEVICES applied), or
 * AMD's, each with its UUID, PCI bus id, name, memory and physical index (NVML's number, else its
 * place in PCI order). For grey-run's banner, budgets and summary. */
#ifndef GREY_GPU_IDS_H
#define GREY_GPU_IDS_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/ledger_gpu.h"

/* Fills up to max GPUs in the job's device order; returns how many, or -1 with the reason in err
 * (no driver, no device). */
int tool_visible_gpus(struct grey_gpu_id *out, int max, char *err, size_t errlen);

/* Where a UUID is on this node, as NVML says (false when it cannot): a grey_uuid_locate_fn for
 * policy/plan_gpus.h. */
bool tool_uuid_locate(const char *uuid, void *arg, int *index, bool *mig);

#endif
