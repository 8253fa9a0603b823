/* Turns and ceilings (pace.h): which process may launch on a contended device now, decided by
 * the pacer (policy/pacer.h) over what the device's members publish in the ledger, and the token
 * bucket of a process under a ceiling. The only syscalls are the futex wait and wake of a launch
 * that may not go yet, and the sleep of a process over its ceiling. */
#include "pace_internal.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/self.h"
#include "policy/node_owners.h"

static _Atomic unsigned waiting_threads[GREY_MAX_DEVICES];
/* While this process holds a contended device: up to when its virtual time has been charged for
 * the holding (0: not holding). */
static _Atomic uint64_t held_mark[GREY_MAX_DEVICES];
static _Atomic uint64_t ceil_allowance[GREY_MAX_DEVICES], ceil_at[GREY_MAX_DEVICES];

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

/* ------------------------------------------------------------------ the device's members */

void grey_pace_join(struct grey_fair_device *f, uint32_t idx)
{
    uint64_t bit = 1ull << (idx & 63);
    if (!(atomic_load_explicit(&f->members[idx >> 6], memory_order_relaxed) & bit))
        atomic_fetch_or(&f->members[idx >> 6], bit);
}

/* The live processes registered on dev, as the pacer sees them; self among them at *self_pos.
 * Members that exited, or have not launched for FORGET_NS, leave the set on the way (one that
 * comes back re-registers at its next launch: its fast path finds its bit gone). */
static unsigned gather(struct grey_ledger_header *h, int dev, uint32_t self_idx, uint64_t now,
                       struct grey_pacer_proc *out, unsigned *self_pos, bool *others_waiting, uint64_t *others_until)
{
    struct grey_slot *slots = (struct grey_slot *)(h + 1);
    struct grey_fair_device *f = &h->fair[dev];
    unsigned n = 0;
    *self_pos = UINT_MAX;
    *others_waiting = false;
    *others_until = 0;
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
                .weight = grey_node_slot_weight(grey_self_owners, h, s, dev),
                .vtime = atomic_load_explicit(&sf->vtime, memory_order_relaxed),
                .seen_ns = seen,
                .waiting_since = waiting,
                .recent_ns = grey_pace_recent(sf, now),
            };
            if (i == self_idx) {
                *self_pos = n;
            } else {
                *others_waiting |= waiting != 0;
                uint64_t until = atomic_load_explicit(&s->dev[dev].queued_until_ns, memory_order_relaxed);
                if (until > *others_until)
                    *others_until = until;
            }
            n++;
        }
    }
    if (*self_pos == UINT_MAX) { /* our bit was cleared under us: we are here all the same */
        struct grey_slot_fair *sf = &slots[self_idx].fair[dev];
        out[n] = (struct grey_pacer_proc){
            .id = self_idx + 1,
            .weight = grey_node_slot_weight(grey_self_owners, h, &slots[self_idx], dev),
            .vtime = atomic_load_explicit(&sf->vtime, memory_order_relaxed),
            .seen_ns = now,
            .waiting_since = atomic_load_explicit(&sf->waiting_since, memory_order_relaxed),
            .recent_ns = grey_pace_recent(sf, now),
        };
        *self_pos = n++;
    }
    return n;
}

/* ------------------------------------------------------------------ turns */

/* Turns on a contended device are ordered by the time each process held it, over its weight:
 * the device is lent whole, so that is the device time its work had, whatever its kernels were
 * (many or few, on one stream or several, graphs), and nothing a sample misjudges can tilt it.
 *
 * The holdings partition the device's time, or the weights tilt: time charged to two processes
 * (or to none) at every handoff is a constant per turn, and a process with three times the weight
 * has the same number of turns with three times their length, so it would gain (or lose) that
 * constant against the lighter one turn after turn. So a holding begins when the work the others
 * queued is done (their queued_until_ns, or now if that is past) and ends when its own queued
 * work is done: the holder's queued_until_ns as it stands when it first finds the token gone,
 * which is where the next holder began (the loser queues nothing after the handoff). In between
 * the holder is charged at each launch for the time since the last charge, at most a slice at a
 * time. */
static void charge_time(struct grey_slot *slot, int dev, uint64_t from, uint64_t to, uint64_t now)
{
    if (to <= from)
        return;
    uint64_t held = to - from;
    if (held > grey_pace_params.quantum_ns)
        held = grey_pace_params.quantum_ns;
    struct grey_slot_fair *me = &slot->fair[dev];
    uint32_t w = grey_pace_weight(slot, dev);
    atomic_fetch_add_explicit(&me->vtime, grey_pacer_charge(held, w), memory_order_relaxed);
    grey_pace_charge_held(slot, dev, held, now); /* and how busy the device is */
}

/* The token went: what this process still had queued runs as its own. */
static void end_holding(struct grey_slot *slot, int dev, uint64_t now)
{
    uint64_t mark = atomic_load_explicit(&held_mark[dev], memory_order_relaxed);
    if (!mark)
        return;
    atomic_store_explicit(&held_mark[dev], 0, memory_order_relaxed);
    charge_time(slot, dev, mark, atomic_load_explicit(&slot->dev[dev].queued_until_ns, memory_order_relaxed), now);
}

/* When the others' queued work on dev is done, by what they published (0: nothing queued). */
static uint64_t others_queued_until(struct grey_ledger_header *h, int dev, uint32_t self_idx)
{
    struct grey_slot *slots = (struct grey_slot *)(h + 1);
    struct grey_fair_device *f = &h->fair[dev];
    uint64_t until = 0;
    for (uint32_t w = 0; w < GREY_LEDGER_SLOTS / 64; w++) {
        uint64_t bits = atomic_load_explicit(&f->members[w], memory_order_relaxed);
        while (bits) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            uint64_t u = atomic_load_explicit(&slots[i].dev[dev].queued_until_ns, memory_order_relaxed);
            if (i != self_idx && u > until)
                until = u;
        }
    }
    return until;
}

static void begin_holding(int dev, uint64_t others_until, uint64_t now)
{
    atomic_store_explicit(&held_mark[dev], others_until > now ? others_until : now, memory_order_relaxed);
    atomic_fetch_add_explicit(&grey_pace_slice[dev], 1, memory_order_relaxed);
}

/* A launch in this process's turn: charge the time held since the last charge. A turn handed to
 * it by another process begins here. */
static void charge_holding(struct grey_ledger_header *h, struct grey_slot *slot, uint32_t idx, int dev, uint64_t now)
{
    uint64_t mark = atomic_load_explicit(&held_mark[dev], memory_order_relaxed);
    if (!mark) {
        uint64_t until = others_queued_until(h, dev, idx);
        if (until > atomic_load_explicit(&grey_pace_skip_until[dev], memory_order_relaxed))
            atomic_store_explicit(&grey_pace_skip_until[dev], until, memory_order_relaxed);
        begin_holding(dev, until, now);
        return;
    }
    if (now <= mark) /* the last holder's queue is still running */
        return;
    atomic_store_explicit(&held_mark[dev], now, memory_order_relaxed);
    charge_time(slot, dev, mark, now, now);
}

/* Waits until this process may launch on dev (at once unless the device is contended and it is
 * someone else's turn). Returns whether it is alone on the device, shares it without turns (the
 * device is not busy enough to contend), or has its turn (contended). */
enum grey_turn grey_pace_take_turn(struct grey_ledger_header *h, struct grey_slot *slot, uint32_t idx, int dev,
                                   uint64_t now,
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
        if (!contended || holder != my_id)
            end_holding(slot, dev, now);

        struct grey_pacer_proc procs[GATHER_MAX];
        unsigned self;
        bool others_waiting;
        uint64_t others_until;
        unsigned n = gather(h, dev, idx, now, procs, &self, &others_waiting, &others_until);
        if (others_until > atomic_load_explicit(&grey_pace_skip_until[dev], memory_order_relaxed))
            atomic_store_explicit(&grey_pace_skip_until[dev], others_until, memory_order_relaxed);
        procs[self].seen_ns = prev_seen; /* whether we are rejoining after idling */
        struct grey_pacer_device state = {.holder = holder, .slice_end_ns = slice_end, .contended = contended};
        struct grey_pacer_decision d;
        grey_pacer_decide(&grey_pace_params, procs, n, self, &state, now, &d);
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
                    now = grey_pace_now_ns(); /* someone else moved it first: look again */
                    continue;
                }
                atomic_fetch_add_explicit(&f->handoffs, 1, memory_order_relaxed);
                atomic_fetch_add(&f->seq, 1);
                if (d.holder == my_id && holder != my_id)
                    begin_holding(dev, others_until, now);

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
        now = grey_pace_now_ns();
        atomic_store_explicit(&me->seen_ns, now, memory_order_relaxed);
        prev_seen = now;
        grey_pace_poll(slot, now, 4);
    }
    if (waited) {
        if (atomic_fetch_sub(&waiting_threads[dev], 1) == 1)
            atomic_store(&me->waiting_since, 0);
        atomic_fetch_add_explicit(&me->throttled_ns, now - wait_start, memory_order_relaxed);
    }
    if (contended)
        charge_holding(h, slot, idx, dev, now);
    else
        end_holding(slot, dev, now);
    return contended ? TURN_OURS : active > 1 ? TURN_SHARED : TURN_ALONE;
}

/* Over the ceiling: sleep until the device time used is back within share of the time passed.
 * The slot's activity is not refreshed meanwhile, so a capped holder gives its turn away. */
void grey_pace_hold_to_ceiling(struct grey_slot *slot, int dev, uint32_t share, uint64_t now)
{
    uint64_t start = now;
    bool waited = false;
    for (;;) {
        uint64_t used = atomic_load(&grey_pace_ceil_used[dev]), pending = grey_pace_uncharged_ns(dev);
        used = pending > UINT64_MAX - used ? UINT64_MAX : used + pending;
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
        now = grey_pace_now_ns();
        grey_pace_poll(slot, now, SAMPLES);
    }
    if (waited)
        atomic_fetch_add_explicit(&slot->fair[dev].throttled_ns, now - start, memory_order_relaxed);
}

/* No ceiling now (a thermal one was lifted): the device time used meanwhile is not owed, so the
 * next ceiling starts afresh with a burst's worth, as the first one did. Without this a process
 * that ran at full speed for seconds would sleep that debt off when the GPU next got hot. */
void grey_pace_ceiling_off(int dev)
{
    if (atomic_load_explicit(&ceil_at[dev], memory_order_relaxed))
        atomic_store(&ceil_at[dev], 0);
}

void grey_pace_turns_fork_child(void)
{
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        atomic_store(&ceil_at[d], 0);
        atomic_store(&waiting_threads[d], 0);
        atomic_store(&held_mark[d], 0);
    }
}
