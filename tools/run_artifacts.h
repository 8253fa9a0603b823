/* grey-run --artifacts DIR: what a job leaves behind besides its summary (run_artifacts.c).
 *
 * While the job runs, a thread of grey-run's samples once a second NVML (every GPU's temperature
 * and power) and the ledger (the thermal state and ceiling of each GPU, and each of the run's
 * processes' device time and entitlement). At the job's end DIR gets, each file written to a
 * fresh temporary name beside it and renamed into place (policy/safe_file.h):
 *   vram-summary.json  per GPU the job used: peak against cap, denials, the largest denied, the
 *                      time launches waited; and the bytes the ledger could reclaim (held by
 *                      processes that died without giving them back)
 *   thermal.csv        t_s,gpu,temp_c,power_w,thermal,ceiling_pct: the thermal signature, one
 *                      line per GPU and second; thermal is cool / warm / hot (dry-run- before it
 *                      in a dry run), ceiling_pct the device share grey let the GPU's processes
 *                      have together (100: no thermal ceiling; empty: the ledger knows no such GPU)
 *   fairness.csv       t_s,pid,gpu,weight,entitled_pct,measured_pct,this_run: per process on the
 *                      GPUs the run uses (its own, this_run 1, and their competitors) each second,
 *                      the share it was entitled to (its weight over the active ones', capped by
 *                      its ceiling in force) and the device time it got over that second
 *   fairness.svg       the same as a heat map (tools/heatmap_svg.h), self-contained */
#ifndef GREY_RUN_ARTIFACTS_H
#define GREY_RUN_ARTIFACTS_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run_summary.h"

struct run_artifacts;

/* Makes DIR (mode 0755) when it does not exist and checks it is a directory grey-run may write;
 * NULL with the reason in err (the job is not started then). */
struct run_artifacts *run_artifacts_prepare(const char *dir, char *err, size_t errlen);
/* Starts the sampling thread. */
void run_artifacts_start(struct run_artifacts *a, const char *ledger_path, uint64_t run_id);
/* Stops it (at the job's end), then writes the four files; reclaimable: the ledger's bytes held
 * by dead processes. 0, or -1 with the reason in err. Frees a. */
int run_artifacts_finish(struct run_artifacts *a, const struct run_summary *sum, uint64_t reclaimable, char *err,
                         size_t errlen);

/* The ledger's bytes that dead processes still hold (stale slots, orphaned bytes): what a
 * reclaim would give back, for the VRAM summary; 0 when the ledger cannot be read. */
uint64_t run_artifacts_reclaimable(const char *ledger_path);

#endif
