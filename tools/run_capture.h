/* Running a vendor tool (nvidia-smi, lspci) found through PATH and capturing what it prints, for
 * the detection sources. Bounded in time and size: a wedged driver makes nvidia-smi hang, and no
 * tool's answer is worth more than a few MiB. */
#ifndef GREY_RUN_CAPTURE_H
#define GREY_RUN_CAPTURE_H

#include <stddef.h>

struct capture {
    char *out;         /* stdout, NUL-terminated (free with free()); NULL when nothing ran */
    size_t len;
    int exit_status;   /* the tool's exit status, 128+N when killed by signal N */
    int truncated;     /* more than the size limit was printed; out holds the first part */
    int timed_out;     /* killed after the time limit; out holds what came before */
};

/* Runs argv[0] (looked up in PATH) with stdin from /dev/null and stderr discarded, for at most
 * timeout_ms, keeping at most max_bytes of stdout. Returns 0 when the tool ran (whatever its exit
 * status: the caller judges the output), or -1 with a reason in err when it could not be started
 * ("nvidia-smi: not found in PATH"). */
int run_capture(const char *const argv[], size_t max_bytes, int timeout_ms, struct capture *cap, char *err,
                size_t errlen);

void capture_free(struct capture *cap);

#endif
