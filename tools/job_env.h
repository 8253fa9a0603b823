/* The environment a job gets to run under the hook, shared by grey-run and the Slurm plugin. */
#ifndef GREY_JOB_ENV_H
#define GREY_JOB_ENV_H

#include <stdbool.h>
#include <stddef.h>

/* True when the LD_PRELOAD value list (entries separated by ':' or spaces, as ld.so reads them)
 * holds hook as a whole entry. */
bool job_preload_has(const char *list, const char *hook);

/* The LD_PRELOAD value that keeps old (NULL or "" when unset) and has hook exactly once: old
 * itself when it holds hook already (a nested grey-run, an srun inside an sbatch script), else
 * old with hook appended. 0, or -1 when it does not fit in outlen. */
int job_preload_value(const char *old, const char *hook, char *out, size_t outlen);

#endif
