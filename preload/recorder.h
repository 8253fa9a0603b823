/* The recorder: in a process that records (GREY_DEDUP or GREY_REPORT_DIR), writes the raw
 * record (policy/rawlog.h) at exit and on request, takes the exit snapshot, and runs the agent
 * thread (preload/agent.c) for periodic, peak and live snapshots. Started by the first tracked
 * buffer, never before: the exit handler must be registered after the CUDA runtime's (which
 * registers its own at its initialization, before its first allocation), because atexit
 * handlers run in reverse order and the contents must be read before the runtime destroys the
 * contexts. */
#ifndef GREY_RECORDER_H
#define GREY_RECORDER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/rawlog.h"

extern _Atomic bool grey_recorder_started;

/* Registers the recorder's handlers with the shims (core/notify.h), at load. */
void grey_recorder_install(void);

/* Idempotent; cheap once started. */
void grey_recorder_start_slow(void);
static inline void grey_recorder_start(void)
{
    if (__builtin_expect(!atomic_load_explicit(&grey_recorder_started, memory_order_acquire), 0))
        grey_recorder_start_slow();
}

/* Takes a snapshot of what source names (with GREY_DEDUP) of context (0: every context),
 * serialized with every other snapshot and write, and remembers it for the record. */
void grey_recorder_snapshot(uint32_t source, uint64_t context);

/* Writes a record now to path ("" chooses: the exit path, or a live file), reason "exit" or
 * "live"; the path written in out. 0, or -1 with the reason in err. */
int grey_recorder_write(const char *reason, char *out, size_t outlen, char *err, size_t errlen);

/* True once the exit snapshot was taken: later teardowns need no snapshot of their own. */
bool grey_recorder_exited(void);

/* A tracked buffer's bytes for grey-report --node --verify (the agent's "read" request),
 * serialized with snapshots. 0, or -1. */
int grey_recorder_read(uint64_t addr, uint64_t offset, void *dst, size_t n);

#endif
