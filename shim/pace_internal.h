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

#define SAMPLES 64                     /* samples and markers in flight per process */
#define GATHER_MAX 64                  /* processes considered on one device */
#define FORGET_NS 1000000000ull        /* a member idle this long leaves the device's set */
#define CEILING_BURST_NS 20000000ull   /* device time a capped process may bank while idle */
#define CEILING_SLEEP_NS 20000000ull   /* longest single sleep over the ceiling */

/* The pacer's parameters (policy/pacer.h's defaults), set before the first slow path. */
extern struct grey_pacer_params grey_pace_params;

/* Device time measured but not yet consumed by the ceiling, per device. */
extern _Atomic uint64_t grey_pace_ceil_used[GREY_MAX_DEVICES];
/* Until this time samples are not exact: another process has work queued on the device that our
 * kernels would wait behind (its queued_until_ns, gathered at every turn), so a bracket would
 * time its kernels too. */
extern _Atomic uint64_t grey_pace_skip_until[GREY_MAX_DEVICES];
/* Bumped when this process's slice on the device begins: spans between samples are measured
 * within one slice only (pace_sample.c). */
extern _Atomic uint32_t grey_pace_slice[GREY_MAX_DEVICES];
/* The most device time a process may have in flight while the device is contended: a quarter
 * slice, so that the next holder's kernels start within that. */
#define CONTENDED_FLIGHT_NS(quantum) ((quantum) / 4)

uint64_t grey_pace_now_ns(void);

/* The weight this process's own slot is charged by on dev: the slot's, bounded by the admin's
 * ceiling for its owner when grey-noded vouches for it (policy/node_owners.h), 1 when the service
 * does not (yet); the slot's as it is without the service. */
uint32_t grey_pace_weight(const struct grey_slot *slot, int dev);

/* ---- pace_sample.c */
/* Reads back up to max finished samples, oldest first, never blocking, and charges their device
 * time to slot. */
void grey_pace_poll(struct grey_slot *slot, uint64_t now, unsigned max);
/* Starts a sample before a launch on stream (exact: nobody else's kernels can run inside its
 * bracket; contended: taken in a turn, whose virtual time is the time held, not the sample's);
 * NULL when there is nothing to measure with. */
struct grey_pace_sample *grey_pace_sample_begin(const struct grey_vendor *vendor, int dev, void *stream, bool exact,
                                                bool contended);
/* A marker for launches up to seq on dev, its event recorded after the next launch (by
 * grey_pace_after, as a sample's second event is); NULL when none can be had. */
struct grey_pace_sample *grey_pace_marker_begin(const struct grey_vendor *vendor, int dev, uint64_t seq);
/* A marker recorded now on stream, for the launches before it (seq: the last of them). */
bool grey_pace_marker_now(const struct grey_vendor *vendor, int dev, void *stream, uint64_t seq);

/* ---- pace_flight.c: device work in flight */
/* The launches on dev known complete (a completed marker or sample covered them). */
void grey_pace_completed(int dev, uint64_t seq);
/* The launches on dev up to seq are charged (a sample that stood for them was read back). */
void grey_pace_charged(int dev, uint64_t seq);
/* The device time of the launches issued on dev and not charged yet, at the measured mean. */
uint64_t grey_pace_uncharged_ns(int dev);
/* Judges a sample: its bracket (bracket_ns) and, when known, the span from the previous sample per
 * launch in between (span_per_ns, 0: none). *per is what each launch it stands for is charged.
 * Returns false while too few samples are in to judge any: then it stands for its own launch only
 * and *exact is cleared. */
bool grey_pace_judge(int dev, uint64_t bracket_ns, uint64_t span_per_ns, bool *exact, uint64_t *per);
/* The estimate of one launch's device time on dev, 0 until FLOOR_MIN samples are in. */
uint64_t grey_pace_launch_ns(int dev);
#define OUTLIER_FACTOR 4
/* Device time this process has queued on dev and not seen complete, estimated: launches since
 * the last known complete, times the mean measured launch; 0 while nothing is measured. */
uint64_t grey_pace_in_flight_ns(int dev);
/* Holds the launch until the work in flight on dev is at most bound_ns, or, before any launch was
 * measured, at most `unmeasured` launches (learning of completions from samples and markers,
 * recording a marker when none covers the recent launches); never longer than
 * GREY_PACE_FLIGHT_WAIT_MAX_NS. Publishes in the slot when what is queued should be done, counting
 * next_launches more that may be queued before the next slow path. */
void grey_pace_hold_in_flight(struct grey_slot *slot, const struct grey_vendor *vendor, int dev, void *stream,
                              uint64_t bound_ns, uint64_t unmeasured, uint64_t next_launches);
#define GREY_PACE_FLIGHT_WAIT_MAX_NS 2000000000ull
void grey_pace_flight_fork_child(void);

/* Where device time cannot be measured (a vendor without timing events): charges the launches
 * since the last charge on dev as GREY_PACE_LAUNCH_NS each, so turns go by launch counts. */
void grey_pace_count(struct grey_slot *slot, int dev, uint64_t now, bool exact);
#define GREY_PACE_LAUNCH_NS 100000ull
/* Adds ns the process held a contended device for to its recent device time. */
void grey_pace_charge_held(struct grey_slot *slot, int dev, uint64_t ns, uint64_t now);
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
/* No ceiling applies now: the next one starts afresh (the thermal one comes and goes). */
void grey_pace_ceiling_off(int dev);
void grey_pace_turns_fork_child(void);

#endif
