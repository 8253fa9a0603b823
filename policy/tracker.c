#include "tracker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TRACKER_SHARDS 64

/* Each shard is an open-addressing table of (address, record) pairs with linear probing: a lookup
 * compares addresses in one or two cache lines of the slot array and touches only the record it
 * finds. Removal shifts the following entries back (no tombstones), so a table that churns never
 * degrades. The slot array grows past 3/4 full and shrinks below 1/8, and never below MIN_SLOTS:
 * a shard that empties keeps its slots, and a table just past either threshold needs a quarter
 * of its size in adds or removes before it resizes again, so alloc/free pairs at any size
 * allocate nothing. */
#define MIN_BITS 4
#define MIN_SLOTS (1u << MIN_BITS)

struct tracked_buffer {
    struct grey_buffer_info info;
    uint32_t pass;     /* the last tracker_collect pass that copied this record */
    struct tracked_buffer *next_free;
};

/* Whether records carry their use on the launch clock (buffer_use.h): set by a recording process
 * before its first buffer. Without it adds and lookups copy a record without its use (the last
 * member), so a plain process's alloc/free path copies no more than it did before the use
 * existed; the use bytes of its records are then never read. */
static bool keep_use;
_Static_assert(offsetof(struct grey_buffer_info, use) + sizeof(struct grey_buffer_use) <= sizeof(struct grey_buffer_info) &&
                   sizeof(struct grey_buffer_info) - offsetof(struct grey_buffer_info, use) < sizeof(struct grey_buffer_use) + 8,
               "use is the record's last member");

void tracker_keep_use(bool on) { keep_use = on; }

static inline void copy_record(struct grey_buffer_info *dst, const struct grey_buffer_info *src)
{
    if (keep_use)
        *dst = *src;
    else
        memcpy(dst, src, offsetof(struct grey_buffer_info, use));
}

struct tracker_slot {
    uint64_t addr;
    struct tracked_buffer *e;  /* NULL: empty (any address, 0 included, can be a key) */
};

struct tracker_shard {
    pthread_mutex_t lock;
    struct tracker_slot *slots; /* 1 << bits of them; NULL until the shard's first buffer */
    uint32_t bits;
    struct tracked_buffer *free_list;
    uint64_t count;
    uint64_t bytes;
    /* slots and bits as of the last resize, for tracker_prefetch, which reads them without the
     * lock: at worst it prefetches a line of a table just replaced. */
    _Atomic uintptr_t hint_slots;
    _Atomic uint32_t hint_bits;
} __attribute__((aligned(64)));

static struct tracker_shard shards[TRACKER_SHARDS] = {
    [0 ... TRACKER_SHARDS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};

static _Atomic uint64_t table_allocs, entry_allocs;

/* Device allocations are aligned to at least 256 bytes, so the low bits carry no information;
 * a multiplicative hash of the rest spreads neighbouring buffers over the shards. */
static struct tracker_shard *shard_for(uint64_t addr)
{
    uint64_t h = (addr >> 8) * 0x9E3779B97F4A7C15ull;
    return &shards[h >> 58];
}

/* The slot an address starts probing from. Another multiplier than shard_for's, and the whole
 * key: tagged handles (arrays, VMM) differ in their low bits, and share a shard. */
static uint32_t home(uint64_t addr, uint32_t bits)
{
    return (uint32_t)((addr * 0xD6E8FEB86659FD93ull) >> (64 - bits));
}

static uint32_t mask_of(const struct tracker_shard *sh) { return (1u << sh->bits) - 1; }

/* addr's slot, or NULL. The table is never full, so the probe ends at an empty slot. */
static struct tracker_slot *slot_find(const struct tracker_shard *sh, uint64_t addr)
{
    if (!sh->slots)
        return NULL;
    uint32_t mask = mask_of(sh);
    for (uint32_t i = home(addr, sh->bits);; i = (i + 1) & mask) {
        struct tracker_slot *s = &sh->slots[i];
        if (!s->e)
            return NULL;
        if (s->addr == addr)
            return s;
    }
}

static void slot_put(struct tracker_slot *slots, uint32_t bits, uint64_t addr, struct tracked_buffer *e)
{
    uint32_t mask = (1u << bits) - 1;
    uint32_t i = home(addr, bits);
    while (slots[i].e)
        i = (i + 1) & mask;
    slots[i] = (struct tracker_slot){.addr = addr, .e = e};
}

/* Empties slot i, moving back each following entry of the run that may stand there (its home
 * is not between the hole and itself), so that every probe still reaches its entry. */
static void slot_delete(struct tracker_shard *sh, uint32_t i)
{
    uint32_t mask = mask_of(sh), hole = i;
    for (uint32_t j = (i + 1) & mask; sh->slots[j].e; j = (j + 1) & mask) {
        uint32_t h = home(sh->slots[j].addr, sh->bits);
        if (((j - h) & mask) >= ((j - hole) & mask)) {
            sh->slots[hole] = sh->slots[j];
            hole = j;
        }
    }
    sh->slots[hole].e = NULL;
}

/* A table of 1 << bits slots holding the shard's entries; false, the shard unchanged, when the
 * memory is not there. */
static bool resize(struct tracker_shard *sh, uint32_t bits)
{
    struct tracker_slot *slots = calloc((size_t)1 << bits, sizeof *slots);
    if (!slots)
        return false;
    atomic_fetch_add_explicit(&table_allocs, 1, memory_order_relaxed);
    if (sh->slots) {
        for (uint32_t i = 0; i <= mask_of(sh); i++)
            if (sh->slots[i].e)
                slot_put(slots, bits, sh->slots[i].addr, sh->slots[i].e);
        free(sh->slots);
    }
    sh->slots = slots;
    sh->bits = bits;
    atomic_store_explicit(&sh->hint_slots, (uintptr_t)slots, memory_order_relaxed);
    atomic_store_explicit(&sh->hint_bits, bits, memory_order_relaxed);
    return true;
}

/* Room for one more entry: at most 3/4 full after it. */
static bool reserve_one(struct tracker_shard *sh)
{
    if (!sh->slots)
        return resize(sh, MIN_BITS);
    uint64_t cap = 1ull << sh->bits;
    return (sh->count + 1) * 4 <= cap * 3 || resize(sh, sh->bits + 1);
}

/* After a removal: below 1/8 full, half the slots (a failed allocation keeps the larger table). */
static void maybe_shrink(struct tracker_shard *sh)
{
    if (sh->bits > MIN_BITS && sh->count * 8 < (1ull << sh->bits))
        resize(sh, sh->bits - 1);
}

/* Removes slot s's entry (the record goes to the free list) and returns the record. */
static struct tracked_buffer *take(struct tracker_shard *sh, struct tracker_slot *s)
{
    struct tracked_buffer *e = s->e;
    slot_delete(sh, (uint32_t)(s - sh->slots));
    sh->count--;
    sh->bytes -= e->info.bytes;
    e->next_free = sh->free_list;
    sh->free_list = e;
    return e;
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
    struct tracker_slot *s = slot_find(sh, info->addr);
    struct tracked_buffer *e;
    if (s) {
        e = s->e;
        copy_record(old, &e->info);
        *replaced = true;
        sh->bytes -= e->info.bytes;
    } else {
        if (!reserve_one(sh) || !(e = entry_get(sh))) {
            pthread_mutex_unlock(&sh->lock);
            return -1;
        }
        slot_put(sh->slots, sh->bits, info->addr, e);
        sh->count++;
    }
    copy_record(&e->info, info);
    e->pass = 0;
    sh->bytes += info->bytes;
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

void tracker_prefetch(uint64_t addr)
{
    struct tracker_shard *sh = shard_for(addr);
    uintptr_t slots = atomic_load_explicit(&sh->hint_slots, memory_order_relaxed);
    uint32_t bits = atomic_load_explicit(&sh->hint_bits, memory_order_relaxed);
    /* An integer, not a pointer into the array: the two loads may straddle a resize. A prefetch
     * never faults, whatever the address. */
    if (slots && bits)
        __builtin_prefetch((const void *)(slots + (uintptr_t)home(addr, bits) * sizeof(struct tracker_slot)));
}

static bool tracker_lookup(uint64_t addr, struct grey_buffer_info *out, bool remove)
{
    struct tracker_shard *sh = shard_for(addr);
    pthread_mutex_lock(&sh->lock);
    struct tracker_slot *s = slot_find(sh, addr);
    if (s) {
        if (out)
            copy_record(out, &s->e->info);
        if (remove) {
            take(sh, s);
            maybe_shrink(sh);
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return s != NULL;
}

bool tracker_remove(uint64_t addr, struct grey_buffer_info *out) { return tracker_lookup(addr, out, true); }

bool tracker_find(uint64_t addr, struct grey_buffer_info *out) { return tracker_lookup(addr, out, false); }

bool tracker_update(uint64_t addr, void (*fn)(struct grey_buffer_info *, void *), void *arg)
{
    struct tracker_shard *sh = shard_for(addr);
    pthread_mutex_lock(&sh->lock);
    struct tracker_slot *s = slot_find(sh, addr);
    if (s)
        fn(&s->e->info, arg);
    pthread_mutex_unlock(&sh->lock);
    return s != NULL;
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
        for (uint32_t k = 0; sh->slots && k <= mask_of(sh) && n < max; k++) {
            struct tracked_buffer *e = sh->slots[k].e;
            if (!e || e->pass == pass)
                continue;
            e->pass = pass;
            out[n++] = e->info;
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
            /* A removal moves a later entry into slot k (or one already seen to a later slot,
             * seen twice then, harmlessly): look at k again rather than step past it. */
            for (uint32_t k = 0; sh->slots && k <= mask_of(sh) && n < sizeof batch / sizeof batch[0];) {
                struct tracked_buffer *e = sh->slots[k].e;
                if (!e || e->info.context != context) {
                    k++;
                    continue;
                }
                batch[n++] = e->info;
                take(sh, &sh->slots[k]);
            }
            /* Shrunk after the walk, not during it: a resize moves every entry. */
            while (sh->slots && sh->bits > MIN_BITS && sh->count * 8 < (1ull << sh->bits))
                if (!resize(sh, sh->bits - 1))
                    break;
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
    /* The parent's buffers are not the child's: every record to the free list, the slots kept
     * (written only where an entry was). */
    for (int i = 0; i < TRACKER_SHARDS; i++) {
        struct tracker_shard *sh = &shards[i];
        for (uint32_t k = 0; sh->slots && k <= mask_of(sh); k++) {
            struct tracked_buffer *e = sh->slots[k].e;
            if (!e)
                continue;
            e->next_free = sh->free_list;
            sh->free_list = e;
            sh->slots[k].e = NULL;
        }
        sh->count = 0;
        sh->bytes = 0;
        pthread_mutex_init(&sh->lock, NULL);
    }
}
