#include "sites.h"

#include <sched.h>
#include <stdatomic.h>
#include <string.h>

struct site_slot {
    _Atomic uint64_t key;       /* hash of the stack, never 0 once claimed; 0: empty */
    _Atomic uint32_t ready;     /* depth and frames written */
    uint32_t depth;
    uint32_t frames_at;         /* first frame in frame_pool */
    _Atomic uint64_t epoch;     /* the peak epoch peak_* belong to */
    _Atomic uint64_t live_bytes, live_count;
    _Atomic uint64_t peak_bytes, peak_count;
    _Atomic uint64_t allocs, alloc_bytes;
};

static struct site_slot slots[GREY_SITES_CAP];
static uint64_t frame_pool[GREY_SITE_FRAME_POOL];
static _Atomic uint32_t frames_used;
static _Atomic uint64_t dropped;
static _Atomic uint64_t waits, yields;
static void (*_Atomic claim_hook)(void);

static _Atomic uint64_t live_total, peak_total, peak_ticks, peak_epoch;

/* Probing gives up after this many slots: a table that full is better told than searched. */
#define MAX_PROBES 64

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
            /* Claim the slot, then its frames. A thread that loses the race re-reads the key:
             * the winner may be inserting this very stack. */
            uint64_t expected = 0;
            if (atomic_compare_exchange_strong(&s->key, &expected, h)) {
                void (*hook)(void) = atomic_load_explicit(&claim_hook, memory_order_relaxed);
                if (hook)
                    hook();
                uint32_t at = atomic_fetch_add(&frames_used, depth);
                if (at + depth > GREY_SITE_FRAME_POOL) {
                    /* No room for the frames: the slot stays claimed but never ready, and is
                     * skipped from now on. */
                    atomic_fetch_add(&dropped, 1);
                    return GREY_SITE_NONE;
                }
                memcpy(&frame_pool[at], ips, depth * sizeof *ips);
                s->frames_at = at;
                s->depth = depth;
                atomic_store_explicit(&s->ready, 1, memory_order_release);
                return idx;
            }
            k = expected;
        }
        if (k != h)
            continue;
        /* Same hash: wait for its frames, then compare. The claimer is a few instructions from
         * publishing them, but may have been preempted in between (more threads than cores), so
         * after a short spin give it the CPU; this happens only when two threads meet a new stack
         * at the same moment. A slot still not ready after all that is passed over, at worst
         * interning this stack twice, which the report merges. */
        if (!atomic_load_explicit(&s->ready, memory_order_acquire))
            atomic_fetch_add_explicit(&waits, 1, memory_order_relaxed);
        for (int spin = 0; spin < 1000 && !atomic_load_explicit(&s->ready, memory_order_acquire); spin++)
            ;
        for (int yield = 0; yield < 10000 && !atomic_load_explicit(&s->ready, memory_order_acquire); yield++) {
            sched_yield();
            atomic_fetch_add_explicit(&yields, 1, memory_order_relaxed);
        }
        if (atomic_load_explicit(&s->ready, memory_order_acquire) && same_stack(s, ips, depth))
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
        if (!atomic_load_explicit(&s->ready, memory_order_acquire))
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
        if (atomic_load_explicit(&slots[i].ready, memory_order_acquire))
            out->ready++;
        else
            out->pending++;
    }
    out->frames_used = atomic_load_explicit(&frames_used, memory_order_relaxed);
    out->waits = atomic_load_explicit(&waits, memory_order_relaxed);
    out->yields = atomic_load_explicit(&yields, memory_order_relaxed);
}

void sites_set_claim_hook(void (*fn)(void)) { atomic_store(&claim_hook, fn); }
