/* Freed buffers, for the report: a bounded ring of the most recent GREY_HISTORY_CAP frees.
 *
 * A report needs freed buffers too (their lifetimes, their last fingerprint, whether they were
 * alive together with their duplicates), but a long run frees without end, so the ring keeps the
 * newest records and counts what it overwrote; the report says how many were lost. Pushing is
 * lock-free (one atomic add and a sequence number per entry) because it sits on the free path. */
#ifndef GREY_HISTORY_H
#define GREY_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

#define GREY_HISTORY_CAP 16384

struct grey_freed {
    struct grey_buffer_info info;
    uint64_t free_ticks;
};

/* free_delta: launches from the allocation to the free (buffer_use.h), stored into the copy's use. */
void history_push(const struct grey_buffer_info *info, uint64_t free_ticks, uint32_t free_delta);

/* Calls fn on each record still in the ring, oldest first (entries being overwritten while
 * this runs are skipped). Returns how many were passed to fn. */
size_t history_each(void (*fn)(const struct grey_freed *, void *), void *arg);

/* Frees pushed so far, and how many of them the ring no longer holds. */
uint64_t history_pushed(void);
uint64_t history_dropped(void);

/* Empties the ring (the child of a fork: its parent's frees are not its own). */
void history_reset(void);

#endif
