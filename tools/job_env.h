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

/* The kernel's name of a process (comm: the basename of the file it last exec'd, at most 15
 * bytes) is that of the program whose command line (a slot's command: its arguments joined by
 * spaces) is command. False when either is empty. */
bool job_comm_is_command(const char *comm, const char *command);

#include <sys/types.h>

/* Waits for the job's process pid (a child) to end, retrying on EINTR, and reaps it; before
 * reaping, reads its comm from /proc into comm ("" when it cannot: the summary then cannot tell
 * an _exit from an exec into another program). Returns 0 with the wait status in *status, or -1
 * with errno. */
int job_wait(pid_t pid, int *status, char *comm, size_t commlen);

#endif
