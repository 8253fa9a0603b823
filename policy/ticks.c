#include "ticks.h"

uint64_t grey_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void grey_tick_ref_now(struct grey_tick_ref *ref)
{
    /* Ticks read on both sides of the clock, averaged, halve the error of a preemption between
     * the two reads. */
    uint64_t t0 = grey_ticks();
    uint64_t ns = grey_mono_ns();
    uint64_t t1 = grey_ticks();
    ref->ticks = t0 + (t1 - t0) / 2;
    ref->ns = ns;
}

uint64_t grey_ticks_to_ns(uint64_t ticks, const struct grey_tick_ref *a, const struct grey_tick_ref *b)
{
    if (ticks == 0)
        return 0;
    if (b->ticks <= a->ticks) /* no usable line (one reference, or a clock that stood still) */
        return a->ns + (ticks > a->ticks ? ticks - a->ticks : 0);
    double slope = (double)(b->ns - a->ns) / (double)(b->ticks - a->ticks);
    double offset = ((double)ticks - (double)a->ticks) * slope;
    double ns = (double)a->ns + offset;
    return ns <= 0 ? 1 : (uint64_t)ns;
}
