/* The fair-share pacer inside the hook: what the launch gate (launch_gate.h) calls when its fast
 * path does not apply, and the per-vendor operations it measures device time with.
 *
 * Fast path (every launch, inline in launch_gate.h): count the launch; unless this thread's
 * countdown ran out, the process uses one device, that device is not contended and this
 * process is registered on it, return. A few loads and one relaxed atomic add: no lock, no
 * syscall, no clock.
 *
 * Slow path (shim/pace.c): every few dozen launches while uncontended, every launch while
 * contended or under a ceiling. It refreshes the process's activity in its ledger slot, reads
 * back finished samples, starts a new sample now and then, and asks the pacer (policy/pacer.h)
 * whether this launch may go; while it may not, it sleeps on the device's futex word (the only
 * syscalls, and only when throttling).
 *
 * Measuring: a sampled launch is bracketed by two timing events recorded on its stream, one
 * before and one after; once both completed (checked without blocking on later launches), their
 * elapsed time is that kernel's device time, and the sample stands for every launch on that
 * device since the previous sample (sampling strides are random, so periodic workloads do not
 * alias). While the device is contended it is lent to one process at a time, so only that
 * process's kernels run and the bracket times its own kernel (the first launch of a slice, which
 * may queue behind the previous holder's kernels, is never sampled). */
#ifndef GREY_PACE_H
#define GREY_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "../policy/ledger.h"
#include "../policy/plan.h"
#include "../policy/quota.h"

struct grey_identity;

/* How one vendor's launches are measured (shim/cuda_pace.c for CUDA, shim/hip_pace.c for HIP). Streams are the vendor's
 * handles; for per-thread-default-stream entry points the wrapper passes the explicit
 * per-thread handle rather than NULL. Every function may fail; failures only lose a sample. */
struct grey_pace_ops {
    int (*current_device)(void);                  /* of the calling thread, -1 if none */
    void *(*current_context)(void);               /* events belong to a context */
    bool (*capturing)(void *stream);              /* the launch is captured, not run */
    void *(*event_new)(void);                     /* a timing event in the current context */
    bool (*event_record)(void *event, void *stream);
    /* 1 and the elapsed ns from a to b when both completed, 0 while pending, -1 on error. */
    int (*event_elapsed)(void *a, void *b, uint64_t *ns);
    void (*event_free)(void *event);
};

/* The CUDA driver's (shim/cuda_pace.c) and the HIP runtime's (shim/hip_pace.c). */
extern const struct grey_pace_ops grey_cuda_pace_ops;
extern const struct grey_pace_ops grey_hip_pace_ops;

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

struct grey_launch grey_pace_slow(const struct grey_quota *q, const struct grey_pace_ops *ops, void *stream);
void grey_pace_after(struct grey_launch t, const struct grey_pace_ops *ops, void *stream, bool launched);

/* Called by the hook for every slot it claims (at load, and in a fork child): the process's
 * weight per device (GREY_WEIGHT and the plans, see policy/weights.h), its ceiling
 * (GREY_MAX_SHARE), GREY_PACE=0 (no pacing), and fresh fair-share state in the slot. id may be
 * NULL when no plan has [user]/[group] sections. */
void grey_pace_configure(struct grey_slot *slot, const struct grey_plan *const *plans, unsigned nplans,
                         const struct grey_identity *id);

/* A context is going away: samples recorded in any context are abandoned (their events may die
 * with it, so they are never touched again). */
void grey_pace_context_gone(void);

#endif
