/* Measuring device time (pace.h): pairs of timing events around sampled launches, read back
 * without blocking, their elapsed time charged to this process's fair-share line. */
#include "pace_internal.h"

enum { S_FREE, S_ARMED, S_PENDING, S_READING };

struct grey_pace_sample {
    _Atomic int state;
    int dev;
    uint32_t epoch;                    /* grey_context_epoch when its events were made */
    uint64_t stride;                   /* launches the sample stands for */
    bool exact;                        /* nobody else's kernels could run inside its bracket */
    uint64_t ctx;
    void *ev[2];
    const struct grey_vendor *vendor;
};

static struct grey_pace_sample samples[SAMPLES];
static _Atomic unsigned sample_cursor, poll_cursor;
static _Atomic uint64_t sample_mark[GREY_MAX_DEVICES]; /* grey_pace_launches at the last sample */
static atomic_flag charging = ATOMIC_FLAG_INIT;        /* one thread charges at a time */

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
static void charge_as(struct grey_slot *slot, int dev, uint64_t ns, uint64_t turn_ns, uint64_t now, bool exact)
{
    struct grey_slot_fair *sf = &slot->fair[dev];
    atomic_fetch_add_explicit(&sf->busy_ns, ns, memory_order_relaxed);
    uint64_t recent = grey_pace_recent(sf, now) + ns;
    atomic_store_explicit(&sf->recent_ns, recent, memory_order_relaxed);
    atomic_store_explicit(&sf->recent_at_ns, now, memory_order_relaxed);
    atomic_fetch_add_explicit(&grey_pace_ceil_used[dev], ns, memory_order_relaxed);
    if (!exact)
        return;
    uint32_t w = atomic_load_explicit(&sf->weight, memory_order_relaxed);
    atomic_fetch_add_explicit(&sf->vtime, grey_pacer_charge(turn_ns, w), memory_order_relaxed);
}

static void charge(struct grey_slot *slot, int dev, uint64_t ns, uint64_t now, bool exact)
{
    charge_as(slot, dev, ns, ns, now, exact);
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
        int r = s->vendor->event_elapsed(s->ev[0], s->ev[1], &ns);
        if (r == 0) { /* still running; later samples most likely too */
            atomic_store(&s->state, S_PENDING);
            atomic_store_explicit(&poll_cursor, (start + k) % SAMPLES, memory_order_relaxed);
            break;
        }
        if (r > 0)
            charge(slot, s->dev, ns * s->stride, now, s->exact);
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
    charge_as(slot, dev, ns < wall ? ns : wall, ns, now, exact);
    atomic_flag_clear_explicit(&charging, memory_order_release);
}

/* NULL when there is nothing to measure with, no free sample, or the vendor refused. */
struct grey_pace_sample *grey_pace_sample_begin(const struct grey_vendor *vendor, int dev, void *stream, bool exact)
{
    if (!vendor || !vendor->event_new)
        return NULL;
    if (atomic_exchange(&grey_pace_skip_sample[dev], false))
        return NULL; /* the first kernel of a slice may queue behind the last holder's */
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
    if (s->ctx != ctx || s->epoch != epoch || s->vendor != vendor || !s->ev[0] || !s->ev[1]) {
        if (s->epoch == epoch && s->vendor) /* events of a context still alive: give them back */
            for (int i = 0; i < 2; i++)
                if (s->ev[i])
                    s->vendor->event_free(s->ev[i]);
        s->ev[0] = vendor->event_new();
        s->ev[1] = vendor->event_new();
        s->ctx = ctx;
        s->epoch = epoch;
        s->vendor = vendor;
        if (!s->ev[0] || !s->ev[1]) {
            for (int i = 0; i < 2; i++)
                if (s->ev[i])
                    vendor->event_free(s->ev[i]);
            s->ev[0] = s->ev[1] = NULL;
            atomic_store(&s->state, S_FREE);
            return NULL;
        }
    }
    uint64_t n = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    uint64_t last = atomic_exchange(&sample_mark[dev], n);
    s->dev = dev;
    s->exact = exact;
    s->stride = n > last ? n - last : 1;
    if (!vendor->event_record(s->ev[0], stream)) {
        atomic_store(&s->state, S_FREE);
        return NULL;
    }
    return s;
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
}
