/* The end summary of a job run under grey (grey-run, the Slurm plugin's task watcher): from the
 * ledger slots the run's processes wrote, the peak on each GPU against its cap, the allocations
 * that were denied and the time launches waited at the fair-share gate; or the loud warning that
 * the job never loaded the hook. Collects the run's slots as it reads them, so call it once,
 * after the job's process has been waited for. */
#ifndef GREY_RUN_SUMMARY_H
#define GREY_RUN_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/ledger.h"

/* job_pid and its wait status let the summary tell a job that exec'd into a program without
 * the hook (env -u LD_PRELOAD, a wrapper that cleans the environment) from one that used it.
 * quiet: only the warnings. Everything goes to stderr, one line per finding, "grey: ...". */
void run_summary_print(struct grey_ledger *lg, uint64_t run_id, pid_t job_pid, int job_status, bool quiet);

#endif
