/* The pacer's slow path inside the hook (pace.h says when it runs; policy/pacer.h decides; the
 * samples are pace_sample.c's, the turns and ceilings pace_turns.c's). Everything shared lives in
 * the ledger: the device's token and member set in the header, this process's fair-share line in
 * its own slot. The rest is process-local and lock-free. */
#include "pace_internal.h"

#include <pthread.h>
#include <time.h>

#include "core/self.h"
#include "core/settings.h"
#include "devices.h"
#include "policy/node_owners.h"
#include "thermal.h"

__thread int32_t grey_pace_countdown __attribute__((tls_model("initial-exec")));
_Atomic uint64_t grey_pace_launches[GREY_MAX_DEVICES];
_Atomic uint64_t grey_pace_ceil_used[GREY_MAX_DEVICES];
_Atomic uint64_t grey_pace_skip_until[GREY_MAX_DEVICES];
struct grey_pacer_params grey_pace_params;

/* How often the slow path runs, and how often it samples, in launches (each stride is drawn at
 * random from [mean/2, 3*mean/2), so that a workload repeating every N launches is not always
 * sampled at the same kernel). Uncontended, one sample per ~64 launches keeps the measurement's
 * cost near 3 ns per launch; contended or under a ceiling, the slow path runs at every launch
 * anyway and samples every ~8 (or ~4) launches, so a 5 ms slice of 200 us kernels holds three. */
#define TICK_MEAN 64
#define CONTENDED_SAMPLE_MEAN 8
#define CEILING_SAMPLE_MEAN 4

static pthread_once_t params_once = PTHREAD_ONCE_INIT;

/* initial-exec, like every thread-local of the hook: the general model would make the hook
 * depend on the dynamic loader's __tls_get_addr (and cost a call per access). */
static __thread uint32_t rng __attribute__((tls_model("initial-exec")));
static __thread int32_t sample_countdown __attribute__((tls_model("initial-exec")));
static __thread int32_t multi_tick __attribute__((tls_model("initial-exec")));

uint64_t grey_pace_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t grey_pace_weight(const struct grey_slot *slot, int dev)
{
    const struct grey_quota *q = grey_self();
    if (!q->budgets)
        return atomic_load_explicit(&((struct grey_slot *)slot)->fair[dev].weight, memory_order_relaxed);
    return grey_node_slot_weight(grey_self_owners, q->budgets, slot, dev);
}

static void set_params(void) { grey_pacer_defaults(&grey_pace_params); }

static int32_t random_stride(uint32_t mean)
{
    if (!rng)
        rng = ((uint32_t)(uintptr_t)&rng ^ (uint32_t)grey_pace_now_ns()) | 1;
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (int32_t)(mean / 2 + rng % mean);
}

static void bump_launches(int dev)
{
    uint64_t n = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    atomic_store_explicit(&grey_pace_launches[dev], n + 1, memory_order_relaxed);
}

static int launch_device(const struct grey_quota *q, const struct grey_vendor *vendor)
{
    grey_devmask used = atomic_load_explicit(&q->slot->devices_used, memory_order_relaxed);
    if (used && !(used & (used - 1)))
        return grey_devmask_first(used);
    int ordinal;
    uint64_t ctx;
    if (!vendor || !vendor->current(&ordinal, &ctx))
        return -1;
    int row = grey_device_row(vendor, ordinal);
    return grey_self_use_device(q, row) ? row : -1;
}

struct grey_launch grey_pace_slow(const struct grey_quota *q, const struct grey_vendor *vendor, void *stream)
{
    struct grey_launch t = {NULL};
    struct grey_ledger_header *h = q->budgets;
    grey_pace_countdown = random_stride(TICK_MEAN);
    const struct grey_settings *set = grey_settings();
    if (!h || set->pace_off)
        return t;
    pthread_once(&params_once, set_params);
    int dev = launch_device(q, vendor);
    if (dev < 0)
        return t;
    bump_launches(dev);
    struct grey_slot *slot = q->slot;
    uint32_t idx = (uint32_t)(slot - (struct grey_slot *)(h + 1));
    if (idx >= GREY_LEDGER_SLOTS)
        return t;
    struct grey_fair_device *f = &h->fair[dev];
    /* The ceiling: --max-share, or the thermal watcher's while the GPU is hot, the lower. */
    uint32_t share = set->max_share;
    uint32_t thermal = atomic_load_explicit(&grey_thermal_share[dev], memory_order_relaxed);
    if (thermal && (!share || thermal < share))
        share = thermal;
    grey_thermal_maybe_start();
    uint64_t member_bit = 1ull << (idx & 63);
    bool member = atomic_load_explicit(&f->members[idx >> 6], memory_order_relaxed) & member_bit;
    bool contended = atomic_load_explicit(&f->contended, memory_order_relaxed) != 0;
    /* A process on several devices always comes here (the fast path does not know the device);
     * between its ticks it leaves as cheaply as the fast path would. */
    grey_devmask used = atomic_load_explicit(&slot->devices_used, memory_order_relaxed);
    if ((used & (used - 1)) && member && !contended && !share && --multi_tick > 0)
        return t;
    multi_tick = grey_pace_countdown;
    if (vendor && vendor->capturing && vendor->capturing(stream))
        return t; /* recorded into a graph, not run now: nothing to pace or measure */

    uint64_t now = grey_pace_now_ns();
    uint64_t prev_seen = atomic_exchange_explicit(&slot->fair[dev].seen_ns, now, memory_order_relaxed);
    grey_pace_join(f, idx);
    grey_pace_poll(slot, now, 4);
    if (share) {
        grey_pace_hold_to_ceiling(slot, dev, share, now);
        now = grey_pace_now_ns();
    } else {
        grey_pace_ceiling_off(dev);
    }
    enum grey_turn turn = grey_pace_take_turn(h, slot, idx, dev, now, prev_seen);
    contended = turn == TURN_OURS;

    bool timed = vendor && vendor->measurable && vendor->measurable();
    /* What may be queued ahead (pace_flight.c): the lead always; a quarter slice while the device is
     * contended, so that turns act on device time, not on queue positions; about one launch under
     * a ceiling, so that the device time charged keeps up with what was queued. */
    /* Before any launch is measured its length is unknown, and the bound is in launches: about two
     * samples' worth alone (a sample is taken every ~64), fewer while contended, one under a
     * ceiling. */
    uint64_t bound = atomic_load_explicit(&slot->max_lead_ns, memory_order_relaxed), unmeasured = 2 * TICK_MEAN;
    if (!bound)
        bound = UINT64_MAX;
    if (contended && CONTENDED_FLIGHT_NS(grey_pace_params.quantum_ns) < bound)
        bound = CONTENDED_FLIGHT_NS(grey_pace_params.quantum_ns), unmeasured = CONTENDED_SAMPLE_MEAN;
    if (share)
        bound = 0, unmeasured = 1; /* the launch before this one may still run: two in the queue at most */
    if (timed && bound != UINT64_MAX)
        grey_pace_hold_in_flight(slot, vendor, dev, stream, bound, unmeasured,
                                 contended || share ? 1 : (uint64_t)grey_pace_countdown);

    if (!contended && !share) { /* one sample (or count) per tick */
        if (timed)
            t.sample = grey_pace_sample_begin(vendor, dev, stream, turn == TURN_ALONE, false);
        else
            grey_pace_count(slot, dev, now, turn == TURN_ALONE);
        return t;
    }
    grey_pace_countdown = multi_tick = 1; /* every launch takes its turn */
    if (--sample_countdown <= 0) {
        /* Until launches are judged (pace_flight.c), a sample stands for its own launch only: so
         * every launch is sampled, or what a ceiling spends would miss the ones in between. */
        sample_countdown = !grey_pace_launch_ns(dev) ? 1
                         : random_stride(contended ? CONTENDED_SAMPLE_MEAN : CEILING_SAMPLE_MEAN);
        if (timed)
            t.sample = grey_pace_sample_begin(vendor, dev, stream, turn != TURN_SHARED, contended);
        else
            grey_pace_count(slot, dev, now, turn != TURN_SHARED);
    }
    /* While bounded, a launch that is not sampled is followed by a marker: what the bound learns
     * its completions from (a sample's second event does the same). */
    if (timed && !t.sample) {
        uint64_t n = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
        t.sample = grey_pace_marker_begin(vendor, dev, n);
    }
    return t;
}

void grey_pace_fork_child(void)
{
    grey_contexts_changed(); /* the parent's samples belong to its contexts */
    grey_pace_samples_fork_child();
    grey_pace_turns_fork_child();
    grey_pace_flight_fork_child();
    grey_thermal_fork_child();
    grey_pace_countdown = 0;
}
