/* grey-noded's watchdog: every round, each process's real device memory as NVML reports it
 * (hooked or not: static binaries, a cleared LD_PRELOAD, raw ioctls all show up there) against
 * the admin plan's cap for that process on that GPU, and the GPU's total against its budget. A
 * process over either gets the admin's policy (plan key watchdog): log it, send it SIGTERM
 * (signal), or SIGKILL (kill); each process is dealt with once, and every action is logged. */
#ifndef GREY_NODED_WATCHDOG_H
#define GREY_NODED_WATCHDOG_H

#include <stdint.h>

#include "policy/ledger_gpu.h"
#include "policy/plan.h"

/* Watches gpus[0..n) (NVML's, in its index order) under admin (NULL: no limits, nothing to do).
 * slack: bytes a process may hold over its cap before it counts (a CUDA context's own memory,
 * which NVML counts and the hook does not). */
void noded_watchdog_init(const struct grey_plan *admin, const struct grey_gpu_id *gpus, unsigned n,
                         enum grey_watchdog_policy policy, uint64_t slack);

/* One round over every GPU. */
void noded_watchdog_round(void);

#endif
