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

bool quota_reserve(struct grey_slot_device *dev, uint64_t bytes)
{
    uint64_t cap = atomic_load_explicit(&dev->cap, RELAXED);
    uint64_t used = atomic_load_explicit(&dev->used, RELAXED);
    do {
        if (bytes > cap || used > cap - bytes) {
            atomic_fetch_add_explicit(&dev->denied, 1, RELAXED);
            atomic_max(&dev->largest_denied, bytes);
            return false;
        }
    } while (!atomic_compare_exchange_weak_explicit(&dev->used, &used, used + bytes, RELAXED, RELAXED));
    return true;
}

void quota_commit(struct grey_slot_device *dev)
{
    atomic_fetch_add_explicit(&dev->allocs, 1, RELAXED);
    atomic_max(&dev->peak, atomic_load_explicit(&dev->used, RELAXED));
}

void quota_release(struct grey_slot_device *dev, uint64_t bytes)
{
    atomic_fetch_sub_explicit(&dev->used, bytes, RELAXED);
}

void quota_free(struct grey_slot_device *dev, uint64_t bytes)
{
    quota_release(dev, bytes);
    atomic_fetch_add_explicit(&dev->frees, 1, RELAXED);
}

void quota_view(const struct grey_slot_device *dev, uint64_t phys_free, uint64_t phys_total,
                uint64_t *free_out, uint64_t *total_out)
{
    uint64_t cap = atomic_load_explicit(&dev->cap, RELAXED);
    uint64_t used = atomic_load_explicit(&dev->used, RELAXED);
    uint64_t cap_left = used >= cap ? 0 : cap - used;
    *total_out = cap < phys_total ? cap : phys_total;
    *free_out = cap_left < phys_free ? cap_left : phys_free;
}
