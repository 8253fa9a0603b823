/* grey's SPANK plugin: VRAM caps and fair-share weights as srun, sbatch and salloc options, and
 * the hook in every task. The plugin's parts, each in its own file:
 *   spank_config.c   the admin's plugstack.conf arguments
 *   spank_request.c  the users' options, checked with grey-run's rules
 *   spank_cap.c      the default cap (the admin's, or the task's shards of its GPU's budget)
 *   spank_task.c     the task's environment and the watcher that prints the end summary
 * Slurm calls the entry points below in every context (srun, sbatch/salloc, slurmstepd); the
 * option callbacks run in each, so a bad value stops the submission in srun or sbatch before
 * any job exists. */
#include <stdint.h>
#include <stdio.h>
#include <slurm/spank.h>

#include "spank_config.h"
#include "spank_request.h"
#include "spank_task.h"

/* The build hides every symbol (-fvisibility=hidden); Slurm must find these. */
#pragma GCC visibility push(default)
SPANK_PLUGIN(grey, 1);
int slurm_spank_init(spank_t sp, int ac, char **av);
int slurm_spank_task_init(spank_t sp, int ac, char **av);
#pragma GCC visibility pop

static struct spank_config config;
static struct spank_request request;

/* Slurm calls this twice for one option in slurmstepd: spank_request_set replaces, so that is
 * harmless. */
static int on_option(int id, const char *value, int remote)
{
    (void)remote;
    char err[512];
    if (spank_request_set(&request, id, value, err, sizeof err) != 0) {
        slurm_error("grey: %s", err);
        return -1;
    }
    return 0;
}

static struct spank_option options[] = {
    {"gpu-mem-cap", "SIZE", "[grey] cap each process's GPU memory at SIZE (512MiB, 20GiB, 1.5G, bytes)", 1,
     SPANK_OPT_MEM_CAP, on_option},
    {"gpu-weight", "N", "[grey] fair-share weight 1..10000 on shared GPUs (default: the plan's, else 1)", 1,
     SPANK_OPT_WEIGHT, on_option},
    {"gpu-max-share", "P%", "[grey] at most P% of each GPU's time, even when it is otherwise idle", 1,
     SPANK_OPT_MAX_SHARE, on_option},
    {"gpu-dedup", "FILE", "[grey] report identical GPU buffers at exit (JSON to FILE if given)", 2,
     SPANK_OPT_DEDUP, on_option},
    {"gpu-artifacts", "DIR", "[grey] at each task's end, its VRAM summary, thermal signature and fairness heat map "
     "in DIR/JOB.STEP.TASK", 1, SPANK_OPT_ARTIFACTS, on_option},
    SPANK_OPTIONS_TABLE_END,
};

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    char err[512];
    if (spank_config_parse(ac, av, &config, err, sizeof err) != 0) {
        slurm_error("grey: plugstack.conf: %s", err);
        return -1;
    }
    for (struct spank_option *o = options; o->name; o++)
        if (spank_option_register(sp, o) != ESPANK_SUCCESS) {
            slurm_error("grey: cannot register --%s", o->name);
            return -1;
        }
    return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    return spank_task_start(sp, &config, &request);
}
