#include "tracker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t table_allocs, entry_allocs;
#define uthash_malloc(sz) (atomic_fetch_add_explicit(&table_allocs, 1, memory_order_relaxed), malloc(sz))
#include <uthash.h>

#define TRACKER_SHARDS 64

struct tracked_buffer {
    struct grey_buffer_info info;
    uint32_t pass;     /* the last tracker_collect pass that copied this record */
    UT_hash_handle hh;
    struct tracked_buffer *next_free;
};

struct tracker_shard {
    pthread_mutex_t lock;
    struct tracked_buffer *table;
    struct tracked_buffer *free_list;
    uint64_t count;
    uint64_t bytes;
} __attribute__((aligned(64)));

static struct tracker_shard shards[TRACKER_SHARDS] = {
    [0 ... TRACKER_SHARDS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};

/* Device allocations are aligned to at least 256 bytes, so the low bits carry no information;
 * a multiplicative hash of the rest spreads neighbouring buffers over the shards. */
static struct tracker_shard *shard_for(uint64_t addr)
{
    uint64_t h = (addr >> 8) * 0x9E3779B97F4A7C15ull;
    return &shards[h >> 58];
}

static struct tracked_buffer *entry_get(struct tracker_shard *sh)
{
    struct tracked_buffer *e = sh->free_list;
    if (e) {
        sh->free_list = e->next_free;
        return e;
    }
    atomic_fetch_add_explicit(&entry_allocs, 1, memory_order_relaxed);
    return malloc(sizeof *e);
}

int tracker_add(const struct grey_buffer_info *info)
{
    bool replaced;
    struct grey_buffer_info old;
    return tracker_add_replacing(info, &old, &replaced);
}

int tracker_add_replacing(const struct grey_buffer_info *info, struct grey_buffer_info *old, bool *replaced)
{
    struct tracker_shard *sh = shard_for(info->addr);
    *replaced = false;
    pthread_mutex_lock(&sh->lock);
    struct tracked_buffer *e;
    HASH_FIND(hh, sh->table, &info->addr, sizeof info->addr, e);
    if (e) {
        *old = e->info;
        *replaced = true;
        sh->bytes -= e->info.bytes;
        sh->count--;
        HASH_DEL(sh->table, e);
    } else {
        e = entry_get(sh);
        if (!e) {
            pthread_mutex_unlock(&sh->lock);
            return -1;
        }
    }
    e->info = *info;
    e->pass = 0;
    HASH_ADD(hh, sh->table, info.addr, sizeof e->info.addr, e);
    sh->count++;
    sh->bytes += info->bytes;
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

static bool tracker_lookup(uint64_t addr, struct grey_buffer_info *out, bool remove)
{
    struct tracker_shard *sh = shard_for(addr);
    pthread_mutex_lock(&sh->lock);
    struct tracked_buffer *e;
    HASH_FIND(hh, sh->table, &addr, sizeof addr, e);
    if (e) {
        if (out)
            *out = e->info;
        if (remove) {
            HASH_DEL(sh->table, e);
            sh->count--;
            sh->bytes -= e->info.bytes;
            e->next_free = sh->free_list;
            sh->free_list = e;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return e != NULL;
}

bool tracker_remove(uint64_t addr, struct grey_buffer_info *out) { return tracker_lookup(addr, out, true); }

bool tracker_find(uint64_t addr, struct grey_buffer_info *out) { return tracker_lookup(addr, out, false); }

bool tracker_update(uint64_t addr, void (*fn)(struct grey_buffer_info *, void *), void *arg)
{
    struct tracker_shard *sh = shard_for(addr);
    pthread_mutex_lock(&sh->lock);
    struct tracked_buffer *e;
    HASH_FIND(hh, sh->table, &addr, sizeof addr, e);
    if (e)
        fn(&e->info, arg);
    pthread_mutex_unlock(&sh->lock);
    return e != NULL;
}

static _Atomic uint32_t last_pass;

uint32_t tracker_next_pass(void)
{
    uint32_t p = atomic_fetch_add(&last_pass, 1) + 1;
    if (p == 0) /* 0 is what new records carry */
        p = atomic_fetch_add(&last_pass, 1) + 1;
    return p;
}

size_t tracker_collect(uint32_t pass, struct grey_buffer_info *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < TRACKER_SHARDS && n < max; i++) {
        struct tracker_shard *sh = &shards[i];
        pthread_mutex_lock(&sh->lock);
        struct tracked_buffer *e, *tmp;
        HASH_ITER(hh, sh->table, e, tmp) {
            if (e->pass == pass)
                continue;
            e->pass = pass;
            out[n++] = e->info;
            if (n == max)
                break;
        }
        pthread_mutex_unlock(&sh->lock);
    }
    return n;
}

static void (*_Atomic retire_hook)(const struct grey_buffer_info *);

void tracker_set_retire_hook(void (*fn)(const struct grey_buffer_info *)) { atomic_store(&retire_hook, fn); }

void tracker_retire(const struct grey_buffer_info *info)
{
    void (*fn)(const struct grey_buffer_info *) = atomic_load_explicit(&retire_hook, memory_order_acquire);
    if (fn)
        fn(info);
}

size_t tracker_remove_context(uint64_t context, void (*fn)(const struct grey_buffer_info *, void *), void *arg)
{
    size_t removed = 0;
    for (int i = 0; i < TRACKER_SHARDS; i++) {
        struct tracker_shard *sh = &shards[i];
        /* Collected under the lock, reported after it: fn may call back into the tracker. */
        struct grey_buffer_info batch[64];
        size_t n;
        do {
            n = 0;
            pthread_mutex_lock(&sh->lock);
            struct tracked_buffer *e, *tmp;
            HASH_ITER(hh, sh->table, e, tmp) {
                if (e->info.context != context)
                    continue;
                batch[n++] = e->info;
                HASH_DEL(sh->table, e);
                sh->count--;
                sh->bytes -= e->info.bytes;
                e->next_free = sh->free_list;
                sh->free_list = e;
                if (n == sizeof batch / sizeof batch[0])
                    break;
            }
            pthread_mutex_unlock(&sh->lock);
            for (size_t k = 0; k < n; k++) {
                tracker_retire(&batch[k]);
                fn(&batch[k], arg);
            }
            removed += n;
        } while (n == sizeof batch / sizeof batch[0]);
    }
    return removed;
}

void tracker_totals(uint64_t *count, uint64_t *bytes)
{
    uint64_t c = 0, b = 0;
    for (int i = 0; i < TRACKER_SHARDS; i++) {
        pthread_mutex_lock(&shards[i].lock);
        c += shards[i].count;
        b += shards[i].bytes;
        pthread_mutex_unlock(&shards[i].lock);
    }
    *count = c;
    *bytes = b;
}

void tracker_stats(struct grey_tracker_stats *out)
{
    out->table_allocs = atomic_load_explicit(&table_allocs, memory_order_relaxed);
    out->entry_allocs = atomic_load_explicit(&entry_allocs, memory_order_relaxed);
}

void tracker_fork_prepare(void)
{
    for (int i = 0; i < TRACKER_SHARDS; i++)
        pthread_mutex_lock(&shards[i].lock);
}

void tracker_fork_parent(void)
{
    for (int i = TRACKER_SHARDS - 1; i >= 0; i--)
        pthread_mutex_unlock(&shards[i].lock);
}

void tracker_fork_child(void)
{
    /* The parent's buffers are not the child's: move every entry to the free list. */
    for (int i = 0; i < TRACKER_SHARDS; i++) {
        struct tracker_shard *sh = &shards[i];
        struct tracked_buffer *e, *tmp;
        HASH_ITER(hh, sh->table, e, tmp) {
            HASH_DEL(sh->table, e);
            e->next_free = sh->free_list;
            sh->free_list = e;
        }
        sh->count = 0;
        sh->bytes = 0;
        pthread_mutex_init(&sh->lock, NULL);
    }
}
