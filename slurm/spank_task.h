/* A task's start under grey, in slurmstepd after Slurm dropped to the user and before it execs
 * the task: the environment (LD_PRELOAD with the hook once, GREY_*), then a watcher. */
#ifndef GREY_SPANK_TASK_H
#define GREY_SPANK_TASK_H

#include <stdint.h>
#include <slurm/spank.h>

#include "spank_config.h"
#include "spank_request.h"

/* Sets the task's environment. Then forks: the child returns (and Slurm execs the task in it),
 * while this process, the one slurmstepd waits for, becomes the task's watcher. It holds the
 * run's lock in the node ledger, waits for the task, prints grey-run's end summary on the
 * task's stderr and exits as the task did; it never returns. Returns -1 (Slurm then fails the
 * task) only when the task must not run: the hook or the admin plan is missing or malformed. */
int spank_task_start(spank_t sp, const struct spank_config *cfg, const struct spank_request *req);

#endif
