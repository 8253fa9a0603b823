/* A process's fair-share state read from a validated ledger copy (declared in ledger_view.h; kept
 * apart from fair_view.c so that readers without cJSON, like the ledger fuzzer, can use it). */
#include "ledger_view.h"

#include <time.h>

#include "policy/pacer.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ACTIVE_NS 1000000000ull /* launched within the last second: entitled to a share */

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

grey_devmask grey_fair_view_read(struct grey_view_process *p, const struct grey_slot *s)
{
    uint64_t now = monotonic_ns();
    grey_devmask bits = 0;
    p->max_lead_ns = LOAD(((struct grey_slot *)s)->max_lead_ns);
    struct grey_pacer_params params;
    grey_pacer_defaults(&params);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        struct grey_slot_fair *sf = &((struct grey_slot *)s)->fair[d];
        struct grey_view_fair *o = &p->fair[d];
        uint32_t w = LOAD(sf->weight);
        o->weight = w ? (w > GREY_WEIGHT_MAX ? GREY_WEIGHT_MAX : w) : 1;
        o->max_share = LOAD(sf->max_share);
        if (o->max_share > GREY_SHARE_ONE)
            o->max_share = 0;
        o->busy_ns = LOAD(sf->busy_ns);
        o->throttled_ns = LOAD(sf->throttled_ns);
        uint64_t until = LOAD(((struct grey_slot *)s)->dev[d].queued_until_ns);
        o->queued_ns = until > now ? until - now : 0;
        uint64_t recent = LOAD(sf->recent_ns), at = LOAD(sf->recent_at_ns);
        o->recent_ns = at && now > at ? grey_decay(recent, now - at, params.half_life_ns) : recent;
        uint64_t seen = LOAD(sf->seen_ns);
        o->waiting = LOAD(sf->waiting_since) != 0;
        o->active = o->waiting || (seen && (seen >= now || now - seen <= ACTIVE_NS));
        if (o->active || o->busy_ns || o->throttled_ns)
            bits |= GREY_DEVBIT(d);
    }
    return bits;
}

