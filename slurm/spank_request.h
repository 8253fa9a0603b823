/* What a user asked of grey through srun, sbatch or salloc options, checked with the rules
 * grey-run uses for the same values (tools/cli_common.h sizes, policy/weights.h weights and
 * shares), so that a value grey-run refuses stops the submission too.
 *
 *   --gpu-mem-cap=SIZE    GREY_CAP          (grey-run --cap)
 *   --gpu-weight=N        GREY_WEIGHT       (grey-run --weight)
 *   --gpu-max-share=P%    GREY_MAX_SHARE    (grey-run --max-share)
 *   --gpu-dedup[=FILE]    GREY_DEDUP, report to FILE (grey-run --dedup [--report FILE])
 *   --gpu-artifacts=DIR   the run's artifacts in DIR/JOB.STEP.TASK (grey-run --artifacts DIR) */
#ifndef GREY_SPANK_REQUEST_H
#define GREY_SPANK_REQUEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum spank_option_id {
    SPANK_OPT_MEM_CAP = 1,
    SPANK_OPT_WEIGHT,
    SPANK_OPT_MAX_SHARE,
    SPANK_OPT_DEDUP,
    SPANK_OPT_ARTIFACTS,
};

struct spank_request {
    bool have_cap;
    uint64_t cap;
    char weight[16];        /* "" when not given; else the checked text */
    char max_share[16];
    bool dedup;
    char dedup_file[PATH_MAX]; /* "" when --gpu-dedup gave no FILE */
    char artifacts_dir[PATH_MAX]; /* --gpu-artifacts; "" when not given */
};

/* Records option id's value (NULL for --gpu-dedup without FILE). Setting one again replaces it:
 * Slurm calls the option callbacks twice in slurmstepd. 0, or -1 with a reason that names the
 * option and the value in err ("--gpu-mem-cap=12XB: unknown unit 'XB' ..."). */
int spank_request_set(struct spank_request *req, int id, const char *value, char *err, size_t errlen);

#endif
