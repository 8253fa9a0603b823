/* What the pacer's three files share (pace.h is the interface): the measured samples
 * (pace_sample.c), the turns and ceilings (pace_turns.c) and the slow path that drives them
 * (pace.c). Process-local state only; everything shared between processes is in the ledger. */
#ifndef GREY_PACE_INTERNAL_H
#define GREY_PACE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/pacer.h"
#include "pace.h"

#define SAMPLES 16                     /* samples in flight per process */
#define GATHER_MAX 64                  /* processes considered on one device */
#define FORGET_NS 1000000000ull        /* a member idle this long leaves the device's set */
#define CEILING_BURST_NS 20000000ull   /* device time a capped process may bank while idle */
#define CEILING_SLEEP_NS 20000000ull   /* longest single sleep over the ceiling */

/* The pacer's parameters (policy/pacer.h's defaults), set before the first slow path. */
extern struct grey_pacer_params grey_pace_params;

/* Device time measured but not yet consumed by the ceiling, per device. */
extern _Atomic uint64_t grey_pace_ceil_used[GREY_MAX_DEVICES];
/* The next launch on the device opens a slice: it is not sampled. */
extern _Atomic bool grey_pace_skip_sample[GREY_MAX_DEVICES];

uint64_t grey_pace_now_ns(void);

/* ---- pace_sample.c */
/* Reads back up to max finished samples, oldest first, never blocking, and charges their device
 * time to slot. */
void grey_pace_poll(struct grey_slot *slot, uint64_t now, unsigned max);
/* Starts a sample before a launch on stream (exact: nobody else's kernels can run inside its
 * bracket); NULL when there is nothing to measure with. */
struct grey_pace_sample *grey_pace_sample_begin(const struct grey_vendor *vendor, int dev, void *stream, bool exact);
/* Where device time cannot be measured (a vendor without timing events): charges the launches
 * since the last charge on dev as GREY_PACE_LAUNCH_NS each, so turns go by launch counts. */
void grey_pace_count(struct grey_slot *slot, int dev, uint64_t now, bool exact);
#define GREY_PACE_LAUNCH_NS 100000ull
/* Recent device time of a slot's fair-share line, decayed to now. */
uint64_t grey_pace_recent(const struct grey_slot_fair *sf, uint64_t now);
void grey_pace_samples_fork_child(void);

/* ---- pace_turns.c */
/* What a launch found when it was let through. */
enum grey_turn { TURN_ALONE, TURN_SHARED, TURN_OURS };

/* Registers slot idx as a member of the device (fair's member set). */
void grey_pace_join(struct grey_fair_device *f, uint32_t idx);
/* Waits until this process may launch on dev (at once unless the device is contended and it is
 * someone else's turn). */
enum grey_turn grey_pace_take_turn(struct grey_ledger_header *h, struct grey_slot *slot, uint32_t idx, int dev,
                                   uint64_t now, uint64_t prev_seen);
/* Over the ceiling: sleeps until the device time used is back within share of the time passed. */
void grey_pace_hold_to_ceiling(struct grey_slot *slot, int dev, uint32_t share, uint64_t now);
void grey_pace_turns_fork_child(void);

#endif
