/* The pacer's slow path inside the hook: activity, measurement, turns and ceilings (pace.h says
 * when it runs; policy/pacer.h decides). Everything shared lives in the ledger: the device's
 * token and member set in the header, this process's fair-share line in its own slot. The rest
 * is process-local and lock-free; the only syscalls are the futex wait and wake of a launch that
 * is not allowed to go yet, and the sleep of a process over its ceiling. */
#include "pace.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../policy/caps.h"
#include "../policy/pacer.h"
#include "../policy/weights.h"
#include "../preload/hook.h"
#include "../preload/log.h"

__thread int32_t grey_pace_countdown __attribute__((tls_model("initial-exec")));
_Atomic uint64_t grey_pace_launches[GREY_MAX_DEVICES];

/* How often the slow path runs, and how often it samples, in launches (each stride is drawn at
 * random from [mean/2, 3*mean/2), so that a workload repeating every N launches is not always
 * sampled at the same kernel). Uncontended, one sample per ~64 launches keeps the measurement's
 * cost near 3 ns per launch; contended or under a ceiling, the slow path runs at every launch
 * anyway and samples every ~8 (or ~4) launches, so a 5 ms slice of 200 us kernels holds three. */
#define TICK_MEAN 64
#define CONTENDED_SAMPLE_MEAN 8
#define CEILING_SAMPLE_MEAN 4
#define SAMPLES 16                     /* samples in flight per process */
#define GATHER_MAX 64                  /* processes considered on one device */
#define FORGET_NS 1000000000ull        /* a member idle this long leaves the device's set */
#define CEILING_BURST_NS 20000000ull   /* device time a capped process may bank while idle */
#define CEILING_SLEEP_NS 20000000ull   /* longest single sleep over the ceiling */

enum { S_FREE, S_ARMED, S_PENDING, S_READING };

struct grey_pace_sample {
    _Atomic int state;
    int dev;
    uint32_t gen;                      /* context_gen when its events were made */
    uint64_t stride;                   /* launches the sample stands for */
    bool exact;                        /* nobody else's kernels could run inside its bracket */
    void *ctx;
    void *ev[2];
    const struct grey_pace_ops *ops;
};

static struct grey_pace_sample samples[SAMPLES];
static _Atomic unsigned sample_cursor, poll_cursor;
static _Atomic uint32_t context_gen;   /* bumped when a context dies: its events may be gone */
static _Atomic uint64_t sample_mark[GREY_MAX_DEVICES]; /* grey_pace_launches at the last sample */
static _Atomic bool skip_sample[GREY_MAX_DEVICES];     /* the next launch opens a slice */
static atomic_flag charging = ATOMIC_FLAG_INIT;        /* one thread charges at a time */
static _Atomic unsigned waiting_threads[GREY_MAX_DEVICES];

static _Atomic bool pace_off;                          /* GREY_PACE=0 */
static _Atomic uint32_t ceiling_share;                 /* GREY_MAX_SHARE, 1/10000; 0: none */
static _Atomic uint64_t ceil_allowance[GREY_MAX_DEVICES], ceil_at[GREY_MAX_DEVICES],
    ceil_used[GREY_MAX_DEVICES];
static struct grey_pacer_params params;

/* initial-exec, like every thread-local of the hook: the general model would make the hook
 * depend on the dynamic loader's __tls_get_addr (and cost a call per access). */
static __thread uint32_t rng __attribute__((tls_model("initial-exec")));
static __thread int32_t sample_countdown __attribute__((tls_model("initial-exec")));
static __thread int32_t multi_tick __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int32_t random_stride(uint32_t mean)
{
    if (!rng)
        rng = ((uint32_t)(uintptr_t)&rng ^ (uint32_t)now_ns()) | 1;
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

static void atomic_max_u64(_Atomic uint64_t *v, uint64_t x)
{
    uint64_t cur = atomic_load_explicit(v, memory_order_relaxed);
    while ((int64_t)(x - cur) > 0 && !atomic_compare_exchange_weak(v, &cur, x))
        ;
}

/* ------------------------------------------------------------------ the futex word */

/* The device's seq word is shared between processes (a MAP_SHARED file), so these are the
 * non-private futex operations. */
static void futex_wait(_Atomic uint32_t *word, uint32_t seen, uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* ------------------------------------------------------------------ measuring */

static uint64_t recent_now(const struct grey_slot_fair *sf, uint64_t now)
{
    uint64_t v = atomic_load_explicit(&((struct grey_slot_fair *)sf)->recent_ns, memory_order_relaxed);
    uint64_t at = atomic_load_explicit(&((struct grey_slot_fair *)sf)->recent_at_ns, memory_order_relaxed);
    return at && now > at ? grey_decay(v, now - at, params.half_life_ns) : v;
}

/* Adds measured device time to the slot (called with `charging` held: one writer of recent).
 * Only an exact sample moves the virtual time the pacer orders turns by: one taken while other
 * processes' kernels could queue ahead of ours (several processes active, nobody's turn yet)
 * times theirs too. It still counts as recent device time, which is what makes such a device
 * look busy and brings turns in. */
static void charge(struct grey_slot *slot, int dev, uint64_t ns, uint64_t now, bool exact)
{
    struct grey_slot_fair *sf = &slot->fair[dev];
    atomic_fetch_add_explicit(&sf->busy_ns, ns, memory_order_relaxed);
    uint64_t recent = recent_now(sf, now) + ns;
    atomic_store_explicit(&sf->recent_ns, recent, memory_order_relaxed);
    atomic_store_explicit(&sf->recent_at_ns, now, memory_order_relaxed);
    atomic_fetch_add_explicit(&ceil_used[dev], ns, memory_order_relaxed);
    if (!exact)
        return;
    uint32_t w = atomic_load_explicit(&sf->weight, memory_order_relaxed);
    atomic_fetch_add_explicit(&sf->vtime, grey_pacer_charge(ns, w), memory_order_relaxed);
}

/* Reads back up to max finished samples, oldest first, never blocking. A thread that finds
 * another one charging skips this round (no lock is ever waited for). */
static void poll_samples(struct grey_slot *slot, uint64_t now, unsigned max)
{
    if (atomic_flag_test_and_set_explicit(&charging, memory_order_acquire))
        return;
    uint32_t gen = atomic_load(&context_gen);
    unsigned start = atomic_load_explicit(&poll_cursor, memory_order_relaxed);
    for (unsigned k = 0; k < SAMPLES && max; k++) {
        struct grey_pace_sample *s = &samples[(start + k) % SAMPLES];
        int st = S_PENDING;
        if (!atomic_compare_exchange_strong(&s->state, &st, S_READING))
            continue;
        max--;
        if (s->gen != gen) { /* its context may be gone: never touch its events again */
            s->ev[0] = s->ev[1] = NULL;
            s->ctx = NULL;
            atomic_store(&s->state, S_FREE);
            continue;
        }
        uint64_t ns = 0;
        int r = s->ops->event_elapsed(s->ev[0], s->ev[1], &ns);
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

/* Starts a sample before a launch on stream: its first event, recorded now. NULL when there is
 * nothing to measure with, no free sample, or the vendor refused. */
static struct grey_pace_sample *sample_begin(const struct grey_pace_ops *ops, int dev, void *stream, bool exact)
{
    if (!ops || !ops->event_new)
        return NULL;
    if (atomic_exchange(&skip_sample[dev], false))
        return NULL; /* the first kernel of a slice may queue behind the last holder's */
    void *ctx = ops->current_context();
    if (!ctx)
        return NULL;
    uint32_t gen = atomic_load(&context_gen);
    struct grey_pace_sample *s = NULL;
    for (unsigned k = 0; k < SAMPLES && !s; k++) {
        struct grey_pace_sample *c = &samples[atomic_fetch_add(&sample_cursor, 1) % SAMPLES];
        int st = S_FREE;
        if (atomic_compare_exchange_strong(&c->state, &st, S_ARMED))
            s = c;
    }
    if (!s)
        return NULL;
    if (s->ctx != ctx || s->gen != gen || s->ops != ops || !s->ev[0] || !s->ev[1]) {
        if (s->gen == gen && s->ops) /* events of a context still alive: give them back */
            for (int i = 0; i < 2; i++)
                if (s->ev[i])
                    s->ops->event_free(s->ev[i]);
        s->ev[0] = ops->event_new();
        s->ev[1] = ops->event_new();
        s->ctx = ctx;
        s->gen = gen;
        s->ops = ops;
        if (!s->ev[0] || !s->ev[1]) {
            for (int i = 0; i < 2; i++)
                if (s->ev[i])
                    ops->event_free(s->ev[i]);
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
    if (!ops->event_record(s->ev[0], stream)) {
        atomic_store(&s->state, S_FREE);
        return NULL;
    }
    return s;
}

void grey_pace_after(struct grey_launch t, const struct grey_pace_ops *ops, void *stream, bool launched)
{
    struct grey_pace_sample *s = t.sample;
    bool ok = launched && ops->event_record(s->ev[1], stream);
    atomic_store(&s->state, ok ? S_PENDING : S_FREE);
}

void grey_pace_context_gone(void)
{
    atomic_fetch_add(&context_gen, 1);
}

/* ------------------------------------------------------------------ the device's members */

static void ensure_member(struct grey_fair_device *f, uint32_t idx)
{
    uint64_t bit = 1ull << (idx & 63);
    if (!(atomic_load_explicit(&f->members[idx >> 6], memory_order_relaxed) & bit))
        atomic_fetch_or(&f->members[idx >> 6], bit);
}

/* The live processes registered on dev, as the pacer sees them; self among them at *self_pos.
 * Members that exited, or have not launched for FORGET_NS, leave the set on the way (one that
 * comes back re-registers at its next launch: its fast path finds its bit gone). */
static unsigned gather(struct grey_ledger_header *h, int dev, uint32_t self_idx, uint64_t now,
                       struct grey_pacer_proc *out, unsigned *self_pos, bool *others_waiting)
{
    struct grey_slot *slots = (struct grey_slot *)(h + 1);
    struct grey_fair_device *f = &h->fair[dev];
    unsigned n = 0;
    *self_pos = UINT_MAX;
    *others_waiting = false;
    for (uint32_t w = 0; w < GREY_LEDGER_SLOTS / 64; w++) {
        uint64_t bits = atomic_load_explicit(&f->members[w], memory_order_relaxed);
        while (bits) {
            uint32_t b = (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            uint32_t i = w * 64 + b;
            struct grey_slot *s = &slots[i];
            struct grey_slot_fair *sf = &s->fair[dev];
            uint64_t seen = atomic_load_explicit(&sf->seen_ns, memory_order_relaxed);
            uint64_t waiting = atomic_load_explicit(&sf->waiting_since, memory_order_relaxed);
            if (i != self_idx && (grey_slot_state(s) != GREY_SLOT_ACTIVE ||
                                  (waiting == 0 && now > seen && now - seen > FORGET_NS))) {
                atomic_fetch_and(&f->members[w], ~(1ull << b));
                continue;
            }
            if (n == GATHER_MAX - 1 && *self_pos == UINT_MAX && i != self_idx)
                continue; /* keep the last place for self */
            if (n == GATHER_MAX)
                continue;
            out[n] = (struct grey_pacer_proc){
                .id = i + 1,
                .weight = atomic_load_explicit(&sf->weight, memory_order_relaxed),
                .vtime = atomic_load_explicit(&sf->vtime, memory_order_relaxed),
                .seen_ns = seen,
                .waiting_since = waiting,
                .recent_ns = recent_now(sf, now),
            };
            if (i == self_idx)
                *self_pos = n;
            else
                *others_waiting |= waiting != 0;
            n++;
        }
    }
    if (*self_pos == UINT_MAX) { /* our bit was cleared under us: we are here all the same */
        struct grey_slot_fair *sf = &slots[self_idx].fair[dev];
        out[n] = (struct grey_pacer_proc){
            .id = self_idx + 1,
            .weight = atomic_load_explicit(&sf->weight, memory_order_relaxed),
            .vtime = atomic_load_explicit(&sf->vtime, memory_order_relaxed),
            .seen_ns = now,
            .waiting_since = atomic_load_explicit(&sf->waiting_since, memory_order_relaxed),
            .recent_ns = recent_now(sf, now),
        };
        *self_pos = n++;
    }
    return n;
}

/* ------------------------------------------------------------------ turns */

/* What a launch found when it was let through. */
enum turn { TURN_ALONE, TURN_SHARED, TURN_OURS };

/* Waits until this process may launch on dev (at once unless the device is contended and it is
 * someone else's turn). Returns whether it is alone on the device, shares it without turns (the
 * device is not busy enough to contend), or has its turn (contended). */
static enum turn take_turn(struct grey_ledger_header *h, struct grey_slot *slot, uint32_t idx, int dev, uint64_t now,
                      uint64_t prev_seen)
{
    struct grey_fair_device *f = &h->fair[dev];
    struct grey_slot_fair *me = &slot->fair[dev];
    uint32_t my_id = idx + 1;
    bool waited = false, contended;
    unsigned active = 1;
    uint64_t wait_start = 0;
    for (;;) {
        uint64_t token = atomic_load(&f->token);
        uint32_t seq = atomic_load(&f->seq);
        uint32_t holder;
        uint64_t slice_end;
        grey_token_unpack(token, &holder, &slice_end);
        contended = atomic_load_explicit(&f->contended, memory_order_relaxed) != 0;
        if (contended && holder == my_id && now < slice_end)
            break; /* our slice */

        struct grey_pacer_proc procs[GATHER_MAX];
        unsigned self;
        bool others_waiting;
        unsigned n = gather(h, dev, idx, now, procs, &self, &others_waiting);
        procs[self].seen_ns = prev_seen; /* whether we are rejoining after idling */
        struct grey_pacer_device state = {.holder = holder, .slice_end_ns = slice_end, .contended = contended};
        struct grey_pacer_decision d;
        grey_pacer_decide(&params, procs, n, self, &state, now, &d);
        active = d.active;
        if (d.self_vtime != procs[self].vtime)
            atomic_max_u64(&me->vtime, d.self_vtime);
        if (d.contended != contended)
            atomic_store(&f->contended, d.contended ? 1u : 0u);
        contended = d.contended;
        if (d.set_token) {
            uint64_t next = grey_token_pack(d.holder, d.slice_end_ns);
            if (next != token) {
                if (!atomic_compare_exchange_strong(&f->token, &token, next)) {
                    now = now_ns(); /* someone else moved it first: look again */
                    continue;
                }
                atomic_fetch_add_explicit(&f->handoffs, 1, memory_order_relaxed);
                atomic_fetch_add(&f->seq, 1);
                if (d.holder == my_id && holder != my_id)
                    atomic_store(&skip_sample[dev], true);
                if (others_waiting)
                    futex_wake_all(&f->seq);
            }
        }
        if (d.go)
            break;
        if (!waited) {
            waited = true;
            wait_start = now;
            atomic_fetch_add(&waiting_threads[dev], 1);
        }
        if (!atomic_load_explicit(&me->waiting_since, memory_order_relaxed))
            atomic_store(&me->waiting_since, wait_start);
        futex_wait(&f->seq, seq, d.wait_ns);
        now = now_ns();
        atomic_store_explicit(&me->seen_ns, now, memory_order_relaxed);
        prev_seen = now;
        poll_samples(slot, now, 4);
    }
    if (waited) {
        if (atomic_fetch_sub(&waiting_threads[dev], 1) == 1)
            atomic_store(&me->waiting_since, 0);
        atomic_fetch_add_explicit(&me->throttled_ns, now - wait_start, memory_order_relaxed);
    }
    return contended ? TURN_OURS : active > 1 ? TURN_SHARED : TURN_ALONE;
}

/* Over the ceiling: sleep until the device time used is back within share of the time passed.
 * The slot's activity is not refreshed meanwhile, so a capped holder gives its turn away. */
static void hold_to_ceiling(struct grey_slot *slot, int dev, uint32_t share, uint64_t now)
{
    uint64_t start = now;
    bool waited = false;
    for (;;) {
        uint64_t used = atomic_load(&ceil_used[dev]);
        uint64_t at = atomic_load(&ceil_at[dev]);
        uint64_t allowance = atomic_load(&ceil_allowance[dev]);
        if (at == 0) /* the first launch: a burst's worth to start with */
            allowance = used + CEILING_BURST_NS, at = now;
        allowance = grey_ceiling_refill(allowance, at, now, share, used, CEILING_BURST_NS);
        atomic_store(&ceil_allowance[dev], allowance);
        atomic_store(&ceil_at[dev], now);
        uint64_t wait = grey_ceiling_wait(allowance, used, share);
        if (!wait)
            break;
        waited = true;
        if (wait > CEILING_SLEEP_NS)
            wait = CEILING_SLEEP_NS;
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull)};
        nanosleep(&ts, NULL);
        now = now_ns();
        poll_samples(slot, now, SAMPLES);
    }
    if (waited)
        atomic_fetch_add_explicit(&slot->fair[dev].throttled_ns, now - start, memory_order_relaxed);
}

/* ------------------------------------------------------------------ the slow path */

static int launch_device(const struct grey_quota *q, const struct grey_pace_ops *ops)
{
    uint32_t used = atomic_load_explicit(&q->slot->devices_used, memory_order_relaxed);
    if (used && !(used & (used - 1)))
        return __builtin_ctz(used);
    int dev = ops && ops->current_device ? ops->current_device() : -1;
    return dev >= 0 && grey_self_use_device(q, dev) ? dev : -1;
}

struct grey_launch grey_pace_slow(const struct grey_quota *q, const struct grey_pace_ops *ops, void *stream)
{
    struct grey_launch t = {NULL};
    struct grey_ledger_header *h = q->budgets;
    grey_pace_countdown = random_stride(TICK_MEAN);
    if (!h || atomic_load_explicit(&pace_off, memory_order_relaxed))
        return t;
    int dev = launch_device(q, ops);
    if (dev < 0)
        return t;
    bump_launches(dev);
    struct grey_slot *slot = q->slot;
    uint32_t idx = (uint32_t)(slot - (struct grey_slot *)(h + 1));
    if (idx >= GREY_LEDGER_SLOTS)
        return t;
    struct grey_fair_device *f = &h->fair[dev];
    uint32_t share = atomic_load_explicit(&ceiling_share, memory_order_relaxed);
    uint64_t member_bit = 1ull << (idx & 63);
    bool member = atomic_load_explicit(&f->members[idx >> 6], memory_order_relaxed) & member_bit;
    bool contended = atomic_load_explicit(&f->contended, memory_order_relaxed) != 0;
    /* A process on several devices always comes here (the fast path does not know the device);
     * between its ticks it leaves as cheaply as the fast path would. */
    uint32_t used = atomic_load_explicit(&slot->devices_used, memory_order_relaxed);
    if ((used & (used - 1)) && member && !contended && !share && --multi_tick > 0)
        return t;
    multi_tick = grey_pace_countdown;
    if (ops && ops->capturing && ops->capturing(stream))
        return t; /* recorded into a graph, not run now: nothing to pace or measure */

    uint64_t now = now_ns();
    uint64_t prev_seen = atomic_exchange_explicit(&slot->fair[dev].seen_ns, now, memory_order_relaxed);
    ensure_member(f, idx);
    poll_samples(slot, now, 4);
    if (share) {
        hold_to_ceiling(slot, dev, share, now);
        now = now_ns();
    }
    enum turn turn = take_turn(h, slot, idx, dev, now, prev_seen);
    contended = turn == TURN_OURS;

    if (!contended && !share) {
        t.sample = sample_begin(ops, dev, stream, turn == TURN_ALONE); /* one per tick */
        return t;
    }
    grey_pace_countdown = multi_tick = 1; /* every launch takes its turn */
    if (--sample_countdown <= 0) {
        sample_countdown = random_stride(contended ? CONTENDED_SAMPLE_MEAN : CEILING_SAMPLE_MEAN);
        t.sample = sample_begin(ops, dev, stream, turn != TURN_SHARED);
    }
    return t;
}

/* ------------------------------------------------------------------ configuration */

void grey_pace_configure(struct grey_slot *slot, const struct grey_plan *const *plans, unsigned nplans,
                         const struct grey_identity *id)
{
    grey_pacer_defaults(&params);
    const char *off = getenv("GREY_PACE");
    atomic_store(&pace_off, off && (strcmp(off, "0") == 0 || strcmp(off, "off") == 0));

    char err[160];
    uint32_t override = 0;
    const char *wtext = getenv("GREY_WEIGHT");
    if (wtext && *wtext && grey_weight_parse(wtext, &override, err, sizeof err) != 0) {
        grey_warn("GREY_WEIGHT: %s; using the plan's weight", err);
        override = 0;
    }
    uint32_t share = 0;
    const char *stext = getenv("GREY_MAX_SHARE");
    if (stext && *stext && grey_share_parse(stext, &share, err, sizeof err) != 0) {
        grey_warn("GREY_MAX_SHARE: %s; no ceiling", err);
        share = 0;
    }
    if (share >= GREY_SHARE_ONE) /* the whole device is no ceiling */
        share = 0;
    atomic_store(&ceiling_share, share);

    uint32_t weight[GREY_MAX_DEVICES], raised = 0;
    grey_weights_resolve(plans, nplans, id, override, weight, &raised);
    if (raised)
        grey_warn("GREY_WEIGHT %u is above the admin plan's weight on device %d; the admin's %u applies", override,
                  __builtin_ctz(raised), weight[__builtin_ctz(raised)]);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        struct grey_slot_fair *sf = &slot->fair[d];
        atomic_store(&sf->seen_ns, 0);
        atomic_store(&sf->vtime, 0);
        atomic_store(&sf->busy_ns, 0);
        atomic_store(&sf->recent_ns, 0);
        atomic_store(&sf->recent_at_ns, 0);
        atomic_store(&sf->waiting_since, 0);
        atomic_store(&sf->throttled_ns, 0);
        atomic_store(&sf->weight, weight[d]);
        atomic_store(&sf->max_share, share);
        atomic_store(&ceil_at[d], 0);
        atomic_store(&waiting_threads[d], 0);
    }
    /* A fork child's samples belong to its parent's contexts. */
    grey_pace_context_gone();
    grey_pace_countdown = 0;
    char s[16];
    grey_log("fair share: weight %u on device 0%s%s%s", weight[0], share ? ", at most " : "",
             share ? grey_share_format(share, s, sizeof s) : "", atomic_load(&pace_off) ? " (pacing off)" : "");
}
