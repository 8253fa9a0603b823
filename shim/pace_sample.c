/* Measuring device time (pace.h): pairs of timing events around sampled launches, read back
 * without blocking, their elapsed time charged to this process's fair-share line. Markers are
 * the same records with only the second event: they say when the launches before them are done
 * (what the bound on work in flight, pace_flight.c, needs), and charge nothing. A completed
 * sample says that too.
 *
 * A sample's bracket times one launch, and it stands for the launches since the previous sample:
 * ns x stride. That over-counts when the bracket also holds other work of the same process (a
 * process queueing on several streams: its other streams' kernels run inside the bracket), so the
 * charge is also bounded by the span from the previous sample's end to this one's (the anchor,
 * kept until the next sample completes), which covers exactly the launches in between, within one
 * slice (a span across a slice would hold another process's turn). */
#include "pace_internal.h"

enum { S_FREE, S_ARMED, S_PENDING, S_READING, S_ANCHOR };

struct grey_pace_sample {
    _Atomic int state;
    int dev;
    uint32_t epoch;                    /* grey_context_epoch when its events were made */
    uint64_t stride;                   /* launches the sample stands for */
    bool exact;                        /* nobody else's kernels could run inside its bracket */
    bool contended;                    /* taken during a turn on a contended device */
    bool marker;                       /* no bracket: only ev[1], after the launches it marks */
    uint64_t seq;                      /* grey_pace_launches[dev] up to and with its launch */
    uint64_t ctx;
    void *ev[2];
    const struct grey_vendor *vendor;
};

static struct grey_pace_sample samples[SAMPLES];
static _Atomic unsigned sample_cursor, poll_cursor;
static _Atomic uint64_t sample_mark[GREY_MAX_DEVICES]; /* grey_pace_launches at the last sample */
static atomic_flag charging = ATOMIC_FLAG_INIT;        /* one thread charges at a time */
/* Per device, with `charging` held: the last completed sample (state S_ANCHOR) and the slice it
 * was in. */
static struct grey_pace_sample *anchor[GREY_MAX_DEVICES];
static uint32_t anchor_slice[GREY_MAX_DEVICES];
_Atomic uint32_t grey_pace_slice[GREY_MAX_DEVICES];

uint64_t grey_pace_recent(const struct grey_slot_fair *sf, uint64_t now)
{
    uint64_t v = atomic_load_explicit(&((struct grey_slot_fair *)sf)->recent_ns, memory_order_relaxed);
    uint64_t at = atomic_load_explicit(&((struct grey_slot_fair *)sf)->recent_at_ns, memory_order_relaxed);
    return at && now > at ? grey_decay(v, now - at, grey_pace_params.half_life_ns) : v;
}

/* Adds measured device time to the slot (called with `charging` held: one writer of recent).
 * Only an exact sample moves the virtual time the pacer orders turns by: one taken while other
 * processes' kernels could queue ahead of ours (several processes active, nobody's turn yet)
 * times theirs too. It still counts as recent device time, which is what makes such a device
 * look busy and brings turns in. */
static void add_recent(struct grey_slot_fair *sf, uint64_t ns, uint64_t now)
{
    uint64_t recent = grey_pace_recent(sf, now) + ns;
    atomic_store_explicit(&sf->recent_ns, recent, memory_order_relaxed);
    atomic_store_explicit(&sf->recent_at_ns, now, memory_order_relaxed);
}

void grey_pace_charge_held(struct grey_slot *slot, int dev, uint64_t ns, uint64_t now)
{
    if (atomic_flag_test_and_set_explicit(&charging, memory_order_acquire))
        return; /* a sample is being charged: the next holding's charge catches up */
    add_recent(&slot->fair[dev], ns, now);
    atomic_flag_clear_explicit(&charging, memory_order_release);
}

/* While the device is contended its recent time is the time held (pace_turns.c), so a sample
 * adds only to the totals and the ceiling. */
static void charge_as(struct grey_slot *slot, int dev, uint64_t ns, uint64_t turn_ns, uint64_t now, bool exact,
                      bool contended)
{
    struct grey_slot_fair *sf = &slot->fair[dev];
    atomic_fetch_add_explicit(&sf->busy_ns, ns, memory_order_relaxed);
    if (!contended)
        add_recent(sf, ns, now);
    atomic_fetch_add_explicit(&grey_pace_ceil_used[dev], ns, memory_order_relaxed);
    if (!exact)
        return;
    uint32_t w = grey_pace_weight(slot, dev);
    atomic_fetch_add_explicit(&sf->vtime, grey_pacer_charge(turn_ns, w), memory_order_relaxed);
}

static void charge(struct grey_slot *slot, int dev, uint64_t ns, uint64_t now, bool exact, bool contended)
{
    charge_as(slot, dev, ns, ns, now, exact, contended);
}

/* With `charging` held: the device time from the anchor's end to s's end, when the anchor is of
 * s's context and slice. */
static bool span_from_anchor(const struct grey_pace_sample *s, uint32_t epoch, uint64_t *span)
{
    struct grey_pace_sample *a = anchor[s->dev];
    if (!a || a->epoch != epoch || a->ctx != s->ctx || a->vendor != s->vendor ||
        anchor_slice[s->dev] != atomic_load_explicit(&grey_pace_slice[s->dev], memory_order_relaxed))
        return false;
    return s->vendor->event_elapsed(a->ev[1], s->ev[1], span) > 0;
}

/* With `charging` held: s becomes its device's anchor; the previous one is free again. */
static void make_anchor(struct grey_pace_sample *s)
{
    struct grey_pace_sample *old = anchor[s->dev];
    if (old) {
        if (old->epoch != atomic_load(&grey_context_epoch)) { /* its context may be gone */
            old->ev[0] = old->ev[1] = NULL;
            old->ctx = 0;
        }
        atomic_store(&old->state, S_FREE);
    }
    anchor[s->dev] = s;
    anchor_slice[s->dev] = atomic_load_explicit(&grey_pace_slice[s->dev], memory_order_relaxed);
    atomic_store(&s->state, S_ANCHOR);
}

/* A thread that finds another one charging skips this round (no lock is ever waited for). */
void grey_pace_poll(struct grey_slot *slot, uint64_t now, unsigned max)
{
    if (atomic_flag_test_and_set_explicit(&charging, memory_order_acquire))
        return;
    uint32_t epoch = atomic_load(&grey_context_epoch);
    unsigned start = atomic_load_explicit(&poll_cursor, memory_order_relaxed);
    for (unsigned k = 0; k < SAMPLES && max; k++) {
        struct grey_pace_sample *s = &samples[(start + k) % SAMPLES];
        int st = S_PENDING;
        if (!atomic_compare_exchange_strong(&s->state, &st, S_READING))
            continue;
        max--;
        if (s->epoch != epoch) { /* its context may be gone: never touch its events again */
            s->ev[0] = s->ev[1] = NULL;
            s->ctx = 0;
            atomic_store(&s->state, S_FREE);
            continue;
        }
        uint64_t ns = 0;
        int r = s->marker ? s->vendor->event_elapsed(s->ev[1], s->ev[1], &ns)
                          : s->vendor->event_elapsed(s->ev[0], s->ev[1], &ns);
        if (r == 0) { /* still running; later samples most likely too */
            atomic_store(&s->state, S_PENDING);
            atomic_store_explicit(&poll_cursor, (start + k) % SAMPLES, memory_order_relaxed);
            break;
        }
        if (r > 0) {
            grey_pace_completed(s->dev, s->seq);
            if (!s->marker) {
                bool exact = s->exact;
                uint64_t span = 0, between = anchor[s->dev] && s->seq > anchor[s->dev]->seq
                                                 ? s->seq - anchor[s->dev]->seq : 0;
                uint64_t span_per = between && span_from_anchor(s, epoch, &span) ? span / between : 0;
                uint64_t per;
                bool judged = grey_pace_judge(s->dev, ns, span_per, &exact, &per);
                /* Within a slice the span is what the launches since the anchor held the device
                 * for, whatever streams they ran on; the bracket only stands for them. */
                uint64_t charged = !judged ? per : span_per && per == span_per ? span : per * s->stride;
                /* Turns on a contended device go by the time each process held it (pace_turns.c
                 * charges that, and its recent time): a sample there only adds to the totals. */
                if (s->contended)
                    exact = false;
                charge(slot, s->dev, charged, now, exact, s->contended);
                grey_pace_charged(s->dev, s->seq);
                make_anchor(s);
                continue; /* s is the device's anchor now, not free */
            }
        }
        atomic_store(&s->state, S_FREE);
    }
    atomic_flag_clear_explicit(&charging, memory_order_release);
}

/* Without events a launch is worth GREY_PACE_LAUNCH_NS of device time in the order of turns, so
 * that processes with equal kernels share by weight as measured ones would; as device time seen
 * (what makes a device look busy, and what a ceiling spends) it never grows faster than the wall
 * clock: a process that keeps launching keeps the device busy, as far as anyone here can tell,
 * and one that launches now and then does not. */
static _Atomic uint64_t count_at[GREY_MAX_DEVICES]; /* when launches on the device were last charged */

void grey_pace_count(struct grey_slot *slot, int dev, uint64_t now, bool exact)
{
    if (atomic_flag_test_and_set_explicit(&charging, memory_order_acquire))
        return; /* the next one charges these launches too */
    uint64_t n = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    uint64_t last = atomic_exchange(&sample_mark[dev], n);
    uint64_t at = atomic_exchange(&count_at[dev], now);
    uint64_t ns = (n > last ? n - last : 1) * GREY_PACE_LAUNCH_NS;
    uint64_t wall = at && now > at ? now - at : GREY_PACE_LAUNCH_NS;
    charge_as(slot, dev, ns < wall ? ns : wall, ns, now, exact, false);
    atomic_flag_clear_explicit(&charging, memory_order_release);
}

/* A free record with this context's events (made now when it has none of its own), armed; NULL
 * when none is free or events cannot be made. want: which events it needs (a marker only ev[1]). */
static struct grey_pace_sample *take(const struct grey_vendor *vendor, bool marker)
{
    int cur_dev;
    uint64_t ctx;
    if (!vendor->current(&cur_dev, &ctx))
        return NULL;
    uint32_t epoch = atomic_load(&grey_context_epoch);
    struct grey_pace_sample *s = NULL;
    for (unsigned k = 0; k < SAMPLES && !s; k++) {
        struct grey_pace_sample *c = &samples[atomic_fetch_add(&sample_cursor, 1) % SAMPLES];
        int st = S_FREE;
        if (atomic_compare_exchange_strong(&c->state, &st, S_ARMED))
            s = c;
    }
    if (!s)
        return NULL;
    if (s->ctx != ctx || s->epoch != epoch || s->vendor != vendor) {
        if (s->epoch == epoch && s->vendor) /* events of a context still alive: give them back */
            for (int i = 0; i < 2; i++)
                if (s->ev[i])
                    s->vendor->event_free(s->ev[i]);
        s->ev[0] = s->ev[1] = NULL;
        s->ctx = ctx;
        s->epoch = epoch;
        s->vendor = vendor;
    }
    for (int i = marker ? 1 : 0; i < 2; i++)
        if (!s->ev[i])
            s->ev[i] = vendor->event_new();
    if ((!marker && !s->ev[0]) || !s->ev[1]) {
        atomic_store(&s->state, S_FREE); /* kept for the next try; freed when its context goes */
        return NULL;
    }
    s->marker = marker;
    return s;
}

/* NULL when there is nothing to measure with, no free sample, or the vendor refused. */
struct grey_pace_sample *grey_pace_sample_begin(const struct grey_vendor *vendor, int dev, void *stream, bool exact,
                                                bool contended)
{
    if (!vendor || !vendor->event_new)
        return NULL;
    /* While others' queued work runs ahead of ours, a bracket times theirs too: such a sample
     * still says the device is busy, but is not exact. */
    if (exact && grey_pace_now_ns() < atomic_load_explicit(&grey_pace_skip_until[dev], memory_order_relaxed))
        exact = false;
    struct grey_pace_sample *s = take(vendor, false);
    if (!s)
        return NULL;
    uint64_t n = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    uint64_t last = atomic_exchange(&sample_mark[dev], n);
    s->dev = dev;
    s->exact = exact;
    s->contended = contended;
    s->seq = n;
    s->stride = n > last ? n - last : 1;
    if (!vendor->event_record(s->ev[0], stream)) {
        atomic_store(&s->state, S_FREE);
        return NULL;
    }
    return s;
}

struct grey_pace_sample *grey_pace_marker_begin(const struct grey_vendor *vendor, int dev, uint64_t seq)
{
    if (!vendor || !vendor->event_new)
        return NULL;
    struct grey_pace_sample *s = take(vendor, true);
    if (!s)
        return NULL;
    s->dev = dev;
    s->exact = false;
    s->contended = false;
    s->seq = seq;
    s->stride = 0;
    return s;
}

bool grey_pace_marker_now(const struct grey_vendor *vendor, int dev, void *stream, uint64_t seq)
{
    struct grey_pace_sample *s = grey_pace_marker_begin(vendor, dev, seq);
    if (!s)
        return false;
    bool ok = vendor->event_record(s->ev[1], stream);
    atomic_store(&s->state, ok ? S_PENDING : S_FREE);
    return ok;
}

void grey_pace_after(struct grey_launch t, const struct grey_vendor *vendor, void *stream, bool launched)
{
    struct grey_pace_sample *s = t.sample;
    bool ok = launched && vendor->event_record(s->ev[1], stream);
    atomic_store(&s->state, ok ? S_PENDING : S_FREE);
}

/* A fork child's samples belong to its parent's contexts: the epoch moves on (pace.c), which
 * retires them at the next poll. */
void grey_pace_samples_fork_child(void)
{
    atomic_flag_clear(&charging);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (anchor[d]) {
            anchor[d]->ev[0] = anchor[d]->ev[1] = NULL;
            anchor[d]->ctx = 0;
            atomic_store(&anchor[d]->state, S_FREE);
        }
        anchor[d] = NULL;
    }
}
