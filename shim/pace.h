/* The fair-share pacer inside the hook: what the launch gate (launch_gate.h) calls when its fast
 * path does not apply.
 *
 * Fast path (every launch, inline in launch_gate.h): count the launch; unless this thread's
 * countdown ran out, the process uses one device, that device is not contended and this
 * process is registered on it, return. A few loads and one relaxed atomic add: no lock, no
 * syscall, no clock.
 *
 * Slow path (shim/pace.c): every few dozen launches while uncontended, every launch while
 * contended or under a ceiling. It refreshes the process's activity in its ledger slot, reads
 * back finished samples (shim/pace_sample.c), starts a new sample now and then, and asks the
 * pacer (policy/pacer.h) whether this launch may go (shim/pace_turns.c); while it may not, it
 * sleeps on the device's futex word (the only syscalls, and only when throttling).
 *
 * Measuring: a sampled launch is bracketed by two timing events recorded on its stream, one
 * before and one after (the vendor's, shim/vendor.h); once both completed (checked without
 * blocking on later launches), their elapsed time is that kernel's device time, and the sample
 * stands for every launch on that device since the previous sample (sampling strides are random,
 * so periodic workloads do not alias). While the device is contended it is lent to one process
 * at a time, so only that process's kernels run and the bracket times its own kernel (the first
 * launch of a slice, which may queue behind the previous holder's kernels, is never sampled).
 *
 * Settings (weights, ceiling, GREY_PACE) are the process's (core/process.c writes them into its
 * slot, core/settings.h holds the rest). */
#ifndef GREY_PACE_H
#define GREY_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/ledger.h"
#include "policy/quota.h"
#include "vendor.h"

struct grey_pace_sample;

/* What the gate hands from before the launch to after it. */
struct grey_launch {
    struct grey_pace_sample *sample; /* a sample to finish after the launch, or NULL */
};

/* Launches left before this thread takes the slow path again. */
extern __thread int32_t grey_pace_countdown __attribute__((tls_model("initial-exec")));
/* Launches per device in this process, counted with a relaxed load and store rather than an
 * atomic add (a lost increment only shortens a sample's stride): what a sample stands for. */
extern _Atomic uint64_t grey_pace_launches[GREY_MAX_DEVICES];

/* Streams are the vendor's handles; for per-thread-default-stream entry points the wrapper
 * passes the explicit per-thread handle rather than NULL. vendor may be NULL (count only). */
struct grey_launch grey_pace_slow(const struct grey_quota *q, const struct grey_vendor *vendor, void *stream);
void grey_pace_after(struct grey_launch t, const struct grey_vendor *vendor, void *stream, bool launched);

/* In a fork child: the parent's samples, ceilings and waiting threads are not its own. */
void grey_pace_fork_child(void);

#endif
