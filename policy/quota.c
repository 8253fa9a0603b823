#include "quota.h"

/* Relaxed ordering throughout: the counters publish no other data, and each one is only ever
 * compared with itself. */
#define RELAXED memory_order_relaxed

static void atomic_max(_Atomic uint64_t *slot, uint64_t value)
{
    uint64_t seen = atomic_load_explicit(slot, RELAXED);
    while (seen < value && !atomic_compare_exchange_weak_explicit(slot, &seen, value, RELAXED, RELAXED))
        ;
}

/* Adds bytes to *counter unless that would pass limit. */
static bool add_within(_Atomic uint64_t *counter, uint64_t bytes, uint64_t limit)
{
    uint64_t cur = atomic_load_explicit(counter, RELAXED);
    do {
        if (bytes > limit || cur > limit - bytes)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(counter, &cur, cur + bytes, RELAXED, RELAXED));
    return true;
}

static void record_denial(struct grey_slot_device *d, uint64_t bytes)
{
    atomic_fetch_add_explicit(&d->denied, 1, RELAXED);
    atomic_max(&d->largest_denied, bytes);
}

/* The device budget binds all processes together: one CAS on the shared total. */
static uint64_t budget_of(const struct grey_quota *q, int dev)
{
    if (q->budget_ceiling)
        return q->budget_ceiling[dev];
    return atomic_load_explicit(&q->budgets->device_budget[dev], RELAXED);
}

static bool budget_add(const struct grey_quota *q, int dev, uint64_t bytes)
{
    return add_within(&q->budgets->device_used[dev], bytes, budget_of(q, dev));
}

/* The process's cap: its slot's, under the service's ceiling when there is one. */
static uint64_t cap_of(const struct grey_quota *q, const struct grey_slot_device *d, int dev)
{
    uint64_t cap = atomic_load_explicit(&((struct grey_slot_device *)d)->cap, RELAXED);
    if (q->cap_ceiling && q->cap_ceiling[dev] < cap)
        cap = q->cap_ceiling[dev];
    return cap;
}

enum grey_denial quota_reserve(const struct grey_quota *q, int dev, uint64_t bytes)
{
    struct grey_slot_device *d = &q->slot->dev[dev];
    uint64_t cap = cap_of(q, d, dev);
    uint64_t used = atomic_load_explicit(&d->used, RELAXED);
    /* A process at its cap is refused without touching the shared cache line. */
    if (bytes > cap || used > cap - bytes) {
        record_denial(d, bytes);
        return GREY_DENIED_CAP;
    }
    if (q->budgets && !budget_add(q, dev, bytes)) {
        if (q->reclaim)
            q->reclaim(q, dev);
        if (!q->reclaim || !budget_add(q, dev, bytes)) {
            record_denial(d, bytes);
            return GREY_DENIED_BUDGET;
        }
    }
    /* The cap again, atomically: another thread of this process may have raced us to it. */
    if (!add_within(&d->used, bytes, cap)) {
        if (q->budgets)
            atomic_fetch_sub_explicit(&q->budgets->device_used[dev], bytes, RELAXED);
        record_denial(d, bytes);
        return GREY_DENIED_CAP;
    }
    return GREY_ADMITTED;
}

void quota_commit(const struct grey_quota *q, int dev)
{
    struct grey_slot_device *d = &q->slot->dev[dev];
    atomic_fetch_add_explicit(&d->allocs, 1, RELAXED);
    atomic_max(&d->peak, atomic_load_explicit(&d->used, RELAXED));
}

void quota_release(const struct grey_quota *q, int dev, uint64_t bytes)
{
    /* The process's count first, the device's after: see quota_reserve. */
    atomic_fetch_sub_explicit(&q->slot->dev[dev].used, bytes, RELAXED);
    if (q->budgets)
        atomic_fetch_sub_explicit(&q->budgets->device_used[dev], bytes, RELAXED);
}

void quota_free(const struct grey_quota *q, int dev, uint64_t bytes)
{
    quota_release(q, dev, bytes);
    atomic_fetch_add_explicit(&q->slot->dev[dev].frees, 1, RELAXED);
}

void quota_view(const struct grey_quota *q, int dev, uint64_t phys_free, uint64_t phys_total,
                uint64_t *free_out, uint64_t *total_out)
{
    const struct grey_slot_device *d = &q->slot->dev[dev];
    uint64_t cap = cap_of(q, d, dev);
    uint64_t used = atomic_load_explicit(&d->used, RELAXED);
    uint64_t left = used >= cap ? 0 : cap - used;
    if (q->budgets) {
        uint64_t budget = budget_of(q, dev);
        uint64_t all = atomic_load_explicit(&q->budgets->device_used[dev], RELAXED);
        uint64_t budget_left = all >= budget ? 0 : budget - all;
        if (budget_left < left)
            left = budget_left;
    }
    *total_out = cap < phys_total ? cap : phys_total;
    *free_out = left < phys_free ? left : phys_free;
}
