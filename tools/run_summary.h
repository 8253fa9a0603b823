/* The end summary of a job run under grey (grey-run, the Slurm plugin's task watcher): from the
 * ledger slots the run's processes wrote, the peak on each GPU against its cap, the allocations
 * that were denied and the time launches waited at the fair-share gate; or the loud warning that
 * the job never loaded the hook (run_summary.c). The same as data, for grey-run --summary-json
 * (run_summary_json.c), for machines (a Slurm epilog, a CI step):
 *
 *   {"grey_version": "0.1.0", "command": ["python", "train.py"],
 *    "exit_code": 0,              grey-run's own exit status (the job's, 128+N for signal N)
 *    "exit_status": 0,            the job's exit status, null when a signal ended it
 *    "signal": null,              the signal that ended the job, else null
 *    "started": true,             false when the command could not run (exit_code 126/127)
 *    "ledger": true,              false when grey-run had no ledger: nothing below is known
 *    "hook_loaded": true,         some process of the job loaded libgreyhook.so
 *    "processes": 1, "gpu_processes": 1,
 *    "gpus": [{"row": 0, "index": 0, "uuid": "GPU-...", "pci_bus_id": "0000:17:00.0",
 *              "name": "...", "cap_bytes": 536870912 (null: no cap), "peak_bytes": 419430400,
 *              "denied": 3, "largest_denied_bytes": 209715200,
 *              "throttled_seconds": 0.0,  time the job's launches waited at the fair-share gate
 *              "processes": 1}]}
 *
 * Sizes are bytes. Only GPUs the job used are listed. */
#ifndef GREY_RUN_SUMMARY_H
#define GREY_RUN_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "policy/ledger.h"
#include "policy/ledger_gpu.h"
#include "policy/limits.h"

struct run_summary_gpu {
    unsigned processes;            /* 0: the job did not use this row */
    bool have_id;
    struct grey_gpu_id id;
    uint64_t peak, cap, denied, largest_denied; /* cap UINT64_MAX: none */
    uint64_t throttled_ns;
};

struct run_summary {
    bool started, ledger;
    int wait_status;               /* waitpid's, when started */
    int exit_code;                 /* what grey-run exits with */
    unsigned processes, gpu_processes;
    struct run_summary_gpu gpu[GREY_MAX_DEVICES];
};

/* Collects the run's slots as it reads them, so call it once, after the job's process has been
 * waited for. job_pid and its wait status let the summary tell a job that exec'd into a program
 * without the hook (env -u LD_PRELOAD, a wrapper that cleans the environment) from one that used
 * it; job_comm (its comm before it was reaped, job_wait; NULL or "" when unknown) tells one that
 * left through _exit (dash does, and so every #!/bin/sh job) from one that exec'd a program
 * without the hook. quiet: only the warnings. Everything goes to stderr, one line per finding, "grey: ...".
 * out, when not NULL, receives the processes and per-GPU figures (the rest is the caller's). */
void run_summary_print(struct grey_ledger *lg, uint64_t run_id, pid_t job_pid, int job_status,
                       const char *job_comm, bool quiet, struct run_summary *out);

/* Writes s as one JSON object (and a newline) to f, which is left open. 0, or -1 with errno. */
int run_summary_write_json(FILE *f, const struct run_summary *s, char *const *command);

#endif
