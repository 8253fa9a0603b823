/* The time-slice model itself (sim_sched.h): pure arithmetic on one device's scheduler, called
 * with its lock held. No clock, no system call, so it is also what the unit test drives.
 *
 * Invariants the loop keeps:
 *   - the device runs one context at a time; time passes at the same rate for the device and the
 *     clock, so a context that runs for x ns does x ns of its work;
 *   - the running context keeps the device until its slice ends or its queue empties, whichever
 *     comes first; then the next context after it (round-robin by index) with pending work gets a
 *     fresh slice, or the same one again when it is the only one with work, or nobody (idle, and
 *     the model jumps to the target time: work queued later starts when it is queued);
 *   - segments of one context are recorded in time order, and done_at_start only grows, so the
 *     ring is sorted both ways and a position maps to one instant. */
#include "sim_sched.h"

#include <stddef.h>


/* A working copy of what the loop changes: advance copies it back, a projection throws it away. */
struct run {
    struct sim_sched_clock clock;
    uint64_t queued[SIM_SCHED_CONTEXTS];
    uint64_t done[SIM_SCHED_CONTEXTS];
};

/* Slices a projection may look ahead (8 s of turns at 2 ms) before it settles for an estimate:
 * it runs under the device lock, which must stay short. */
#define PROJECTION_SLICES 4096u

static void load_run(const struct sim_sched_device *d, struct run *r)
{
    r->clock = d->clock;
    if (r->clock.contexts > SIM_SCHED_CONTEXTS)
        r->clock.contexts = SIM_SCHED_CONTEXTS;
    for (uint32_t i = 0; i < r->clock.contexts; i++) {
        r->queued[i] = d->ctx[i].queued_ns;
        r->done[i] = d->ctx[i].done_ns;
    }
}

static bool pending(const struct run *r, uint32_t c)
{
    return c < r->clock.contexts && r->done[c] < r->queued[c];
}

/* The first context after cur, round-robin, with pending work (cur itself last), or NONE. */
static uint32_t next_busy(const struct run *r, uint32_t cur)
{
    uint32_t n = r->clock.contexts;
    uint32_t start = cur == SIM_SCHED_NONE || cur >= n ? n - 1 : cur;
    for (uint32_t k = 1; k <= n; k++) {
        uint32_t i = (start + k) % n;
        if (pending(r, i))
            return i;
    }
    return SIM_SCHED_NONE;
}

/* Appends [t0, t1) to context c's ring, extending its last segment when they touch (a context
 * alone on the device runs on in one segment however many slices it takes). */
static void record(struct sim_sched_device *d, uint32_t c, uint64_t t0, uint64_t t1, uint64_t done)
{
    struct sim_sched_context *x = &d->ctx[c];
    if (x->segments > 0) {
        struct sim_sched_segment *last = &x->ring[(x->segments - 1) % SIM_SCHED_RING];
        if (last->t_end == t0) {
            last->t_end = t1;
            return;
        }
    }
    x->ring[x->segments % SIM_SCHED_RING] = (struct sim_sched_segment){t0, t1, done};
    x->segments++;
}

/* Runs the model from r's time to until. When watch names a context, stops as soon as it reaches
 * pos and puts the instant in *reached (returns true). rec, when given, records the segments run.
 * At most max_slices slices (a projection's bound; advance passes no bound). */
static bool run(struct run *r, uint64_t until, uint32_t watch, uint64_t pos, uint64_t *reached,
                struct sim_sched_device *rec, uint64_t max_slices)
{
    uint64_t slices = 0;
    while (r->clock.now_ns < until) {
        uint32_t cur = r->clock.current;
        if (!pending(r, cur) || r->clock.now_ns >= r->clock.slice_end_ns) {
            cur = next_busy(r, cur);
            r->clock.current = cur;
            if (cur == SIM_SCHED_NONE) {
                r->clock.now_ns = until; /* idle */
                return false;
            }
            r->clock.slice_end_ns = r->clock.now_ns + r->clock.slice_ns;
            if (++slices > max_slices)
                return false;
        }
        uint64_t now = r->clock.now_ns, end = r->clock.slice_end_ns;
        if (end > until)
            end = until;
        uint64_t left = r->queued[cur] - r->done[cur];
        if (end - now > left)
            end = now + left;
        bool hit = cur == watch && pos > r->done[cur] && pos - r->done[cur] <= end - now;
        if (hit)
            *reached = now + (pos - r->done[cur]);
        if (rec)
            record(rec, cur, now, end, r->done[cur]);
        r->done[cur] += end - now;
        r->clock.now_ns = end;
        if (hit)
            return true;
    }
    return false;
}

void sim_sched_advance(struct sim_sched_device *d, uint64_t t)
{
    if (t <= d->clock.now_ns)
        return;
    if (d->clock.slice_ns == 0)
        d->clock.slice_ns = (uint64_t)SIM_SCHED_DEFAULT_SLICE_US * 1000;
    struct run r;
    load_run(d, &r);
    uint64_t unused;
    run(&r, t, SIM_SCHED_NONE, 0, &unused, d, UINT64_MAX);
    d->clock = r.clock;
    for (uint32_t i = 0; i < r.clock.contexts; i++)
        d->ctx[i].done_ns = r.done[i];
}

static const struct sim_sched_segment *segment(const struct sim_sched_context *x, uint64_t i)
{
    return &x->ring[i % SIM_SCHED_RING];
}

bool sim_sched_reached_at(const struct sim_sched_device *d, uint32_t c, uint64_t pos, uint64_t *t)
{
    if (c >= SIM_SCHED_CONTEXTS)
        return false;
    const struct sim_sched_context *x = &d->ctx[c];
    if (pos > x->done_ns)
        return false;
    uint64_t n = x->segments < SIM_SCHED_RING ? x->segments : SIM_SCHED_RING;
    uint64_t first = x->segments - n;
    if (n == 0 || pos <= segment(x, first)->done_at_start) {
        /* Nothing queued (pos 0), or reached before the oldest segment still remembered. */
        *t = n ? segment(x, first)->t_start : 0;
        return true;
    }
    /* The last segment that started before pos was reached: pos lies in it. */
    uint64_t lo = first, hi = x->segments - 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (segment(x, mid)->done_at_start < pos)
            lo = mid;
        else
            hi = mid - 1;
    }
    const struct sim_sched_segment *s = segment(x, lo);
    *t = s->t_start + (pos - s->done_at_start);
    return true;
}

uint64_t sim_sched_projected(const struct sim_sched_device *d, uint32_t c, uint64_t pos)
{
    struct run r;
    load_run(d, &r);
    if (r.clock.slice_ns == 0)
        r.clock.slice_ns = (uint64_t)SIM_SCHED_DEFAULT_SLICE_US * 1000;
    if (c >= r.clock.contexts || pos <= r.done[c])
        return r.clock.now_ns;
    uint64_t at;
    if (run(&r, UINT64_MAX, c, pos, &at, NULL, PROJECTION_SLICES))
        return at;
    /* Too far ahead to play out: where the played slices left it, plus its own remaining work
     * as if it had the device alone from there: still a lower bound. */
    return r.clock.now_ns + (pos > r.done[c] ? pos - r.done[c] : 0);
}
