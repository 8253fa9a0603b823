/* The time-slice model (tests/simgpu/sim_sched_model.c) on synthetic clocks: no process, no
 * sleep, every figure exact. Prints one line per check and exits 1 if any fails.
 *
 * Times are in us here (the model counts ns; 1 us = 1000). Slice: 2000 us. */
#include "tests/simgpu/sim_sched.h"

#include <stdio.h>
#include <string.h>

#define US 1000ull
#define SLICE (2000 * US)

static struct sim_sched_device dev;
static int failures;

static void check(const char *what, bool ok)
{
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    failures += !ok;
}

static void reset(uint32_t contexts)
{
    memset(&dev, 0, sizeof dev);
    dev.clock.slice_ns = SLICE;
    dev.clock.current = SIM_SCHED_NONE;
    dev.clock.contexts = contexts;
}

/* Queues work for c at time t (advancing first, as sim_sched_queue does); returns its position. */
static uint64_t queue(uint32_t c, uint64_t t, uint64_t ns)
{
    sim_sched_advance(&dev, t);
    dev.ctx[c].queued_ns += ns;
    return dev.ctx[c].queued_ns;
}

static uint64_t reached(uint32_t c, uint64_t pos)
{
    uint64_t t;
    return sim_sched_reached_at(&dev, c, pos, &t) ? t : 0;
}

int main(void)
{
    /* Alone: back to back, at the times FIFO would give, in one merged segment. */
    reset(1);
    uint64_t p1 = queue(0, 1000 * US, 200 * US), p2 = queue(0, 1000 * US, 200 * US);
    check("alone: nothing is reached before its time", reached(0, p1) == 0);
    uint64_t proj = sim_sched_projected(&dev, 0, p2);
    check("alone: the projection is the FIFO end (1400 us)", proj == 1400 * US);
    sim_sched_advance(&dev, 5000 * US);
    check("alone: first kernel ends at 1200 us", reached(0, p1) == 1200 * US);
    check("alone: second ends at 1400 us", reached(0, p2) == 1400 * US);
    check("alone: one segment for back-to-back work", dev.ctx[0].segments == 1);
    check("alone: idle afterwards", dev.clock.current == SIM_SCHED_NONE);
    uint64_t p3 = queue(0, 6000 * US, 100 * US);
    sim_sched_advance(&dev, 7000 * US);
    check("alone: work queued on an idle device starts when queued (6100 us)", reached(0, p3) == 6100 * US);

    /* A process with 1 s queued, a newcomer 50 ms later: the newcomer waits for the current slice
     * only, then alternates. */
    reset(2);
    queue(0, 0, 1000000 * US);
    uint64_t n1 = queue(1, 50000 * US, 200 * US);
    uint64_t n2 = queue(1, 50000 * US, 200 * US);
    sim_sched_advance(&dev, 60000 * US);
    /* Context 0's slices run 0-2000, 2000-4000, ...; the model stood at 50000, the end of its
     * 25th, when context 1's work came, so context 1 runs next: 50000-50400. In general a
     * newcomer waits at most the rest of one slice per busy context. */
    uint64_t first = reached(1, n1);
    check("newcomer: its first kernel ends at 50.2 ms (a slice boundary, then its 200 us)",
          first == 50200 * US);
    check("newcomer: ... within a slice and its duration", first <= 50000 * US + SLICE + 200 * US);
    check("newcomer: its second follows at once (same slice)", reached(1, n2) == first + 200 * US);
    check("newcomer: the busy one got the rest of the time to 60 ms",
          dev.ctx[0].done_ns == 60000 * US - 400 * US);

    /* Two busy ones take turns and share evenly; positions map to exact instants. */
    reset(2);
    uint64_t a = queue(0, 0, 10000 * US);
    uint64_t b = queue(1, 0, 10000 * US);
    uint64_t pa = sim_sched_projected(&dev, 0, a), pb = sim_sched_projected(&dev, 1, b);
    sim_sched_advance(&dev, 100000 * US);
    check("turns: the projections were exact", reached(0, a) == pa && reached(1, b) == pb);
    check("turns: context 0 ends at 18 ms (its 5th slice)", reached(0, a) == 18000 * US);
    check("turns: context 1 ends at 20 ms", reached(1, b) == 20000 * US);
    check("turns: 1 ms of work in 0 was done at 1 ms", reached(0, 1000 * US) == 1000 * US);
    check("turns: 3 ms of work in 0 was done at 5 ms (after 1's slice)", reached(0, 3000 * US) == 5000 * US);
    check("turns: a slice boundary maps to the slice's end, not the next start",
          reached(0, 2000 * US) == 2000 * US);
    check("turns: 5 segments each", dev.ctx[0].segments == 5 && dev.ctx[1].segments == 5);

    /* Work-conserving: a context that runs dry mid-slice hands the device over at once. */
    reset(2);
    queue(0, 0, 500 * US);
    uint64_t c1 = queue(1, 0, 1000 * US);
    sim_sched_advance(&dev, 10000 * US);
    check("work-conserving: the second starts when the first runs dry (ends 1500 us)",
          reached(1, c1) == 1500 * US);

    /* A ring that wrapped still answers its recent positions exactly. */
    reset(2);
    queue(0, 0, 3000000 * US);
    queue(1, 0, 3000000 * US);
    sim_sched_advance(&dev, 2000000 * US); /* 1000 slices: 500 segments each, the ring holds 256 */
    uint64_t recent = dev.ctx[0].done_ns - 100 * US;
    check("ring: wrapped", dev.ctx[0].segments > SIM_SCHED_RING);
    check("ring: a recent position is exact", reached(0, recent) == 2000000 * US - 2000 * US - 100 * US);
    check("ring: an even split after 2 s", dev.ctx[0].done_ns == 1000000 * US && dev.ctx[1].done_ns == 1000000 * US);

    /* Far ahead (more slices than a projection plays out): still a lower bound, and close. */
    reset(2);
    uint64_t far_a = queue(0, 0, 20000000 * US); /* 20 s each: 10000 slices each */
    queue(1, 0, 20000000 * US);
    uint64_t far = sim_sched_projected(&dev, 0, far_a);
    sim_sched_advance(&dev, 50000000 * US);
    uint64_t real = reached(0, far_a);
    check("far ahead: the projection is a lower bound", far <= real);
    check("far ahead: ... within its own remaining work of the truth", real - far <= 20000000 * US);

    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
