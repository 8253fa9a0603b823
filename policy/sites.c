#include "sites.h"

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

/* A slot's life: empty (key 0), claimed by one thread (PENDING) while it writes the frames, then
 * READY for good. A claim that cannot finish (no room left for the frames, or its claimer gone
 * for good) ends ABANDONED, which every lookup passes over at the cost of one load: a slot may
 * never stay pending for others to wait on. */
enum { SLOT_PENDING, SLOT_READY, SLOT_ABANDONED };

struct site_slot {
    _Atomic uint64_t key;       /* hash of the stack, never 0 once claimed; 0: empty */
    _Atomic uint32_t state;     /* SLOT_*; depth and frames are written before READY */
    uint32_t depth;
    uint32_t frames_at;         /* first frame in frame_pool */
    _Atomic uint64_t epoch;     /* the peak epoch peak_* belong to */
    _Atomic uint64_t live_bytes, live_count;
    _Atomic uint64_t peak_bytes, peak_count;
    _Atomic uint64_t allocs, alloc_bytes;
};

static struct site_slot slots[GREY_SITES_CAP];
static uint64_t frame_pool[GREY_SITE_FRAME_POOL];
static _Atomic uint32_t frames_used;  /* never past GREY_SITE_FRAME_POOL */
static _Atomic uint64_t dropped;
static _Atomic uint64_t waits, yields;
static void (*_Atomic claim_hook)(void);

static _Atomic uint64_t live_total, peak_total, peak_ticks, peak_epoch;

/* Probing gives up after this many slots: a table that full is better told than searched. */
#define MAX_PROBES 64

/* How long a lookup waits for a pending slot of its stack. Publishing is a copy of at most 32
 * frames, so a claimer still pending after the spin was preempted; the yields give it the CPU if
 * it shares ours. Past that it is taken as gone: nothing is lost by giving up on a claimer that
 * was only slow (it then finds the stack where the waiter put it), while waiting longer for
 * one that will never come back would be paid by every allocation from that stack. */
#define WAIT_SPINS 1000
#define WAIT_YIELDS 100

static uint64_t stack_hash(const uint64_t *ips, unsigned depth)
{
    uint64_t h = 0x9E3779B97F4A7C15ull * (depth + 1);
    for (unsigned i = 0; i < depth; i++) {
        h ^= ips[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h | 1; /* 0 marks an empty slot */
}

static bool same_stack(const struct site_slot *s, const uint64_t *ips, unsigned depth)
{
    return s->depth == depth && memcmp(&frame_pool[s->frames_at], ips, depth * sizeof *ips) == 0;
}

static bool pool_has_room(unsigned depth)
{
    return atomic_load_explicit(&frames_used, memory_order_relaxed) <= GREY_SITE_FRAME_POOL - depth;
}

/* depth frames of the pool, or false when they are not there. Never reserves past the end (as a
 * fetch-and-add would), so a full pool stays exactly full however many stacks it refuses. */
static bool reserve_frames(unsigned depth, uint32_t *at)
{
    uint32_t used = atomic_load_explicit(&frames_used, memory_order_relaxed);
    do {
        if (used > GREY_SITE_FRAME_POOL - depth)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&frames_used, &used, used + depth, memory_order_relaxed,
                                                    memory_order_relaxed));
    *at = used;
    return true;
}

/* PENDING -> to; false when the slot left PENDING first (published, or given up by a waiter). */
static bool settle_claim(struct site_slot *s, uint32_t to)
{
    uint32_t expected = SLOT_PENDING;
    return atomic_compare_exchange_strong_explicit(&s->state, &expected, to, memory_order_acq_rel,
                                                   memory_order_acquire);
}

enum publish { PUBLISHED, NO_ROOM, LOST };

/* The claimer's half: frames into the pool, then the slot READY. */
static enum publish publish(struct site_slot *s, const uint64_t *ips, unsigned depth)
{
    void (*hook)(void) = atomic_load_explicit(&claim_hook, memory_order_relaxed);
    if (hook)
        hook();
    uint32_t at;
    if (!reserve_frames(depth, &at)) { /* another stack took the last frames since we looked */
        settle_claim(s, SLOT_ABANDONED);
        return NO_ROOM;
    }
    /* No one reads these before READY, and an abandoned slot is never read. */
    memcpy(&frame_pool[at], ips, depth * sizeof *ips);
    s->frames_at = at;
    s->depth = depth;
    return settle_claim(s, SLOT_READY) ? PUBLISHED : LOST;
}

/* The state of a slot of our hash, waiting (boundedly) while it is pending; this happens only
 * when two threads meet a new stack at the same moment, or when a claimer is gone. */
static uint32_t await_slot(struct site_slot *s)
{
    uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (st != SLOT_PENDING)
        return st;
    atomic_fetch_add_explicit(&waits, 1, memory_order_relaxed);
    for (int spin = 0; spin < WAIT_SPINS; spin++)
        if ((st = atomic_load_explicit(&s->state, memory_order_acquire)) != SLOT_PENDING)
            return st;
    for (int y = 0; y < WAIT_YIELDS; y++) {
        sched_yield();
        atomic_fetch_add_explicit(&yields, 1, memory_order_relaxed);
        if ((st = atomic_load_explicit(&s->state, memory_order_acquire)) != SLOT_PENDING)
            return st;
    }
    /* Given up for everyone, so no later lookup waits on it again. */
    return settle_claim(s, SLOT_ABANDONED) ? SLOT_ABANDONED : atomic_load_explicit(&s->state, memory_order_acquire);
}

uint32_t sites_intern(const uint64_t *ips, unsigned depth)
{
    if (depth == 0)
        return GREY_SITE_NONE;
    if (depth > GREY_SITE_MAX_DEPTH)
        depth = GREY_SITE_MAX_DEPTH;
    uint64_t h = stack_hash(ips, depth);
    uint32_t idx = (uint32_t)(h >> 40) & (GREY_SITES_CAP - 1);
    for (int probe = 0; probe < MAX_PROBES; probe++, idx = (idx + 1) & (GREY_SITES_CAP - 1)) {
        if (idx == GREY_SITE_NONE)
            idx = 1;
        struct site_slot *s = &slots[idx];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == 0) {
            /* An empty slot ends the search: the stack is new. It is claimed only if its frames
             * fit, so a full pool refuses new stacks without leaving claims behind. A thread
             * that loses the race re-reads the key: the winner may be inserting this very
             * stack. */
            if (!pool_has_room(depth))
                break;
            uint64_t expected = 0;
            if (atomic_compare_exchange_strong(&s->key, &expected, h)) {
                enum publish p = publish(s, ips, depth);
                if (p == PUBLISHED)
                    return idx;
                if (p == NO_ROOM)
                    break;
                continue; /* LOST: a waiter gave up on us and interns the stack further on */
            }
            k = expected;
        }
        if (k != h)
            continue;
        if (await_slot(s) == SLOT_READY && same_stack(s, ips, depth))
            return idx;
    }
    atomic_fetch_add(&dropped, 1);
    return GREY_SITE_NONE;
}

static struct site_slot *slot_of(uint32_t id)
{
    return &slots[id < GREY_SITES_CAP ? id : GREY_SITE_NONE];
}

/* Before a site's first change in a new peak epoch, its current value is its value at the peak. */
static void settle_epoch(struct site_slot *s, uint64_t epoch)
{
    if (atomic_load_explicit(&s->epoch, memory_order_relaxed) == epoch)
        return;
    atomic_store_explicit(&s->peak_bytes, atomic_load_explicit(&s->live_bytes, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&s->peak_count, atomic_load_explicit(&s->live_count, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&s->epoch, epoch, memory_order_relaxed);
}

void sites_alloc(uint32_t id, uint64_t bytes, uint64_t ticks)
{
    struct site_slot *s = slot_of(id);
    uint64_t total = atomic_fetch_add_explicit(&live_total, bytes, memory_order_relaxed) + bytes;
    uint64_t peak = atomic_load_explicit(&peak_total, memory_order_relaxed);
    bool new_peak = false;
    while (total > peak) {
        if (atomic_compare_exchange_weak_explicit(&peak_total, &peak, total, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            new_peak = true;
            break;
        }
    }
    uint64_t epoch;
    if (new_peak) {
        epoch = atomic_fetch_add_explicit(&peak_epoch, 1, memory_order_relaxed) + 1;
        atomic_store_explicit(&peak_ticks, ticks, memory_order_relaxed);
    } else {
        epoch = atomic_load_explicit(&peak_epoch, memory_order_relaxed);
    }
    settle_epoch(s, epoch);
    uint64_t live = atomic_fetch_add_explicit(&s->live_bytes, bytes, memory_order_relaxed) + bytes;
    uint64_t count = atomic_fetch_add_explicit(&s->live_count, 1, memory_order_relaxed) + 1;
    if (new_peak) { /* this allocation made the peak: it belongs to it */
        atomic_store_explicit(&s->peak_bytes, live, memory_order_relaxed);
        atomic_store_explicit(&s->peak_count, count, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&s->allocs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->alloc_bytes, bytes, memory_order_relaxed);
}

/* Subtracts without wrapping below zero (a free the accounting never saw the allocation of,
 * e.g. after sites_reset_accounting in a fork child). */
static void sub_floor(_Atomic uint64_t *v, uint64_t n)
{
    uint64_t cur = atomic_load_explicit(v, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(v, &cur, cur > n ? cur - n : 0, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void sites_free(uint32_t id, uint64_t bytes)
{
    struct site_slot *s = slot_of(id);
    settle_epoch(s, atomic_load_explicit(&peak_epoch, memory_order_relaxed));
    sub_floor(&s->live_bytes, bytes);
    sub_floor(&s->live_count, 1);
    sub_floor(&live_total, bytes);
}

bool sites_get(uint32_t id, struct grey_site_info *out)
{
    if (id >= GREY_SITES_CAP)
        return false;
    struct site_slot *s = &slots[id];
    memset(out, 0, sizeof *out);
    out->id = id;
    if (id != GREY_SITE_NONE) {
        if (atomic_load_explicit(&s->state, memory_order_acquire) != SLOT_READY)
            return false;
        out->depth = s->depth;
        memcpy(out->frames, &frame_pool[s->frames_at], s->depth * sizeof out->frames[0]);
    }
    uint64_t epoch = atomic_load_explicit(&peak_epoch, memory_order_relaxed);
    out->live_bytes = atomic_load_explicit(&s->live_bytes, memory_order_relaxed);
    out->live_count = atomic_load_explicit(&s->live_count, memory_order_relaxed);
    bool changed_since_peak = atomic_load_explicit(&s->epoch, memory_order_relaxed) == epoch;
    out->peak_bytes = changed_since_peak ? atomic_load_explicit(&s->peak_bytes, memory_order_relaxed) : out->live_bytes;
    out->peak_count = changed_since_peak ? atomic_load_explicit(&s->peak_count, memory_order_relaxed) : out->live_count;
    out->allocs = atomic_load_explicit(&s->allocs, memory_order_relaxed);
    out->alloc_bytes = atomic_load_explicit(&s->alloc_bytes, memory_order_relaxed);
    return true;
}

void sites_peak(struct grey_peak *out)
{
    out->bytes = atomic_load_explicit(&peak_total, memory_order_relaxed);
    out->ticks = atomic_load_explicit(&peak_ticks, memory_order_relaxed);
    out->live = atomic_load_explicit(&live_total, memory_order_relaxed);
}

uint64_t sites_dropped(void) { return atomic_load_explicit(&dropped, memory_order_relaxed); }

void sites_reset_accounting(void)
{
    for (uint32_t i = 0; i < GREY_SITES_CAP; i++) {
        struct site_slot *s = &slots[i];
        /* A claim still pending was another thread's of the parent, and that thread is not in
         * this process. */
        if (atomic_load(&s->key) && atomic_load(&s->state) == SLOT_PENDING)
            settle_claim(s, SLOT_ABANDONED);
        /* Written only where something was counted: a fork child must not copy every page. */
        if (!atomic_load(&s->epoch) && !atomic_load(&s->allocs) && !atomic_load(&s->live_bytes))
            continue;
        atomic_store(&s->epoch, 0);
        atomic_store(&s->live_bytes, 0);
        atomic_store(&s->live_count, 0);
        atomic_store(&s->peak_bytes, 0);
        atomic_store(&s->peak_count, 0);
        atomic_store(&s->allocs, 0);
        atomic_store(&s->alloc_bytes, 0);
    }
    atomic_store(&live_total, 0);
    atomic_store(&peak_total, 0);
    atomic_store(&peak_ticks, 0);
    atomic_store(&peak_epoch, 0);
}

void sites_stats(struct grey_sites_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 1; i < GREY_SITES_CAP; i++) {
        if (!atomic_load_explicit(&slots[i].key, memory_order_acquire))
            continue;
        uint32_t st = atomic_load_explicit(&slots[i].state, memory_order_acquire);
        if (st == SLOT_READY)
            out->ready++;
        else if (st == SLOT_PENDING)
            out->pending++;
        else
            out->abandoned++;
    }
    out->frames_used = atomic_load_explicit(&frames_used, memory_order_relaxed);
    out->waits = atomic_load_explicit(&waits, memory_order_relaxed);
    out->yields = atomic_load_explicit(&yields, memory_order_relaxed);
}

void sites_set_claim_hook(void (*fn)(void)) { atomic_store(&claim_hook, fn); }
