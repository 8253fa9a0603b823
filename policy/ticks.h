/* Timestamps cheap enough for the alloc/free hot path.
 *
 * Every tracked buffer carries an allocation time, a free time and a last-use time. Reading
 * CLOCK_MONOTONIC costs ~25 ns through the vDSO, twice per alloc/free pair; the time-stamp
 * counter costs ~10 ns. So the hot path stores raw ticks, and whoever writes a report converts
 * them to CLOCK_MONOTONIC nanoseconds by the straight line through two reference pairs (ticks and
 * nanoseconds read back to back, one taken when the hook loaded and one when the report is
 * written). That is exact for an invariant TSC, which every x86-64 CPU grey supports has. Other
 * architectures read the clock itself: there ticks are nanoseconds and the line is the identity. */
#ifndef GREY_TICKS_H
#define GREY_TICKS_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t grey_ticks(void) { return __rdtsc(); }
#else
static inline uint64_t grey_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#endif

/* CLOCK_MONOTONIC in nanoseconds: comparable between processes on one machine. */
uint64_t grey_mono_ns(void);

/* Ticks and monotonic nanoseconds read back to back. */
struct grey_tick_ref {
    uint64_t ticks;
    uint64_t ns;
};
void grey_tick_ref_now(struct grey_tick_ref *ref);

/* ticks as monotonic nanoseconds, by the line through a (earlier) and b (later). 0 stays 0
 * (the "never" of every timestamp field). */
uint64_t grey_ticks_to_ns(uint64_t ticks, const struct grey_tick_ref *a, const struct grey_tick_ref *b);

#endif
