/* What grey knows of memory pools, for every vendor (see pool_cache.h). */
#include "pool_cache.h"

#include "policy/quota.h"

#define MAX_POOLS 64

/* A pool's release threshold and how much it holds cached. Entries are claimed with a CAS on
 * .pool and never move, so lookups take no lock. */
struct grey_pool_state {
    _Atomic uint64_t pool;
    _Atomic uint64_t threshold;
    _Atomic uint64_t cached;
    _Atomic int dev;
};
static struct grey_pool_state pools[MAX_POOLS];

static struct grey_pool_state *pool_find(uint64_t pool, bool create)
{
    if (!pool)
        return NULL;
    for (int i = 0; i < MAX_POOLS; i++)
        if (atomic_load_explicit(&pools[i].pool, memory_order_acquire) == pool)
            return &pools[i];
    if (!create)
        return NULL;
    for (int i = 0; i < MAX_POOLS; i++) {
        uint64_t empty = 0;
        if (atomic_compare_exchange_strong(&pools[i].pool, &empty, pool))
            return &pools[i];
        if (empty == pool)
            return &pools[i];
    }
    return NULL; /* more pools than grey follows: their caches are not counted */
}

/* Takes up to bytes from the pool's cache (memory the process already holds). */
static uint64_t pool_take_cached(struct grey_pool_state *ps, uint64_t bytes)
{
    if (!ps)
        return 0;
    uint64_t cached = atomic_load(&ps->cached), take;
    do
        take = cached < bytes ? cached : bytes;
    while (take && !atomic_compare_exchange_weak(&ps->cached, &cached, cached - take));
    return take;
}

/* Puts up to bytes into the cache, within the threshold; returns what it kept. */
static uint64_t pool_keep(struct grey_pool_state *ps, uint64_t bytes)
{
    if (!ps)
        return 0;
    uint64_t cached = atomic_load(&ps->cached), keep;
    do {
        uint64_t threshold = atomic_load(&ps->threshold);
        uint64_t room = threshold > cached ? threshold - cached : 0;
        keep = room < bytes ? room : bytes;
    } while (keep && !atomic_compare_exchange_weak(&ps->cached, &cached, cached + keep));
    return keep;
}

/* Shrinks the cache to at most limit and gives the rest back to the quota. */
static void pool_shrink(struct grey_pool_state *ps, uint64_t limit)
{
    if (!ps)
        return;
    uint64_t cached = atomic_load(&ps->cached);
    while (cached > limit && !atomic_compare_exchange_weak(&ps->cached, &cached, limit))
        ;
    if (cached > limit)
        quota_release(grey_self(), atomic_load(&ps->dev), cached - limit);
}

int grey_pool_admit(struct grey_pool_admission *pa, int dev, uint64_t pool, uint64_t bytes, uint64_t context)
{
    pa->ps = NULL;
    pa->reused = 0;
    pa->bytes = bytes;
    if (dev >= 0 && grey_self_use_device(grey_self(), dev)) {
        pa->ps = pool_find(pool, true);
        if (pa->ps)
            atomic_store(&pa->ps->dev, dev);
        pa->reused = pool_take_cached(pa->ps, bytes);
    }
    if (grey_admit(&pa->adm, dev, bytes - pa->reused, context) != GREY_ADMIT_OK) {
        pool_keep(pa->ps, pa->reused);
        return GREY_ADMIT_DENIED;
    }
    pa->adm.pool = pool;
    return GREY_ADMIT_OK;
}

void grey_pool_settle(struct grey_pool_admission *pa, bool succeeded, uint64_t key, uint32_t api)
{
    if (!succeeded) {
        pool_keep(pa->ps, pa->reused);
        grey_settle(&pa->adm, false, 0, api); /* gives back what was newly reserved */
        return;
    }
    pa->adm.bytes = pa->bytes; /* the buffer carries its full size; reused bytes were counted already */
    grey_settle(&pa->adm, true, key, api);
}

void grey_pool_forget(bool tracked, const struct grey_buffer_info *info, bool succeeded)
{
    if (!tracked)
        return;
    if (!succeeded) {
        tracker_add(info);
        return;
    }
    /* Whatever the pool keeps stays counted as its cache; the rest is given back. */
    uint64_t kept = pool_keep(pool_find(info->pool, false), info->bytes);
    quota_free(grey_self(), (int)info->device, info->bytes - kept);
    tracker_retire(info);
}

void grey_pool_trimmed(uint64_t pool, uint64_t keep)
{
    pool_shrink(pool_find(pool, false), keep);
}

void grey_pool_set_threshold(uint64_t pool, uint64_t threshold)
{
    struct grey_pool_state *ps = pool_find(pool, true);
    if (ps) {
        atomic_store(&ps->threshold, threshold);
        pool_shrink(ps, threshold);
    }
}

struct grey_pool_state *grey_pool_lookup(uint64_t pool)
{
    return pool_find(pool, false);
}

void grey_pool_destroyed(struct grey_pool_state *ps)
{
    if (!ps)
        return;
    pool_shrink(ps, 0);
    atomic_store(&ps->threshold, 0);
}

void grey_pool_device_reset(int dev)
{
    for (int i = 0; i < MAX_POOLS; i++)
        if (atomic_load(&pools[i].pool) && atomic_load(&pools[i].dev) == dev)
            grey_pool_destroyed(&pools[i]);
}
