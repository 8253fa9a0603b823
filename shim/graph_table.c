/* The table of graph records (see graph_table.h): chained buckets read without a lock, and a
 * grace period before the table's reference to a removed record is dropped. */
#include "graph_table.h"

#include <pthread.h>
#include <sched.h>

#include "core/log.h"

/* 4096 buckets: 32 KiB of pointers. A lookup walks one chain, as long as the number of live
 * records sharing its bucket: one or none for any program with fewer live graphs with memory
 * nodes than that, whatever number it made and destroyed before. */
#define BUCKET_BITS 12
static struct grey_graph_entry *_Atomic buckets[1u << BUCKET_BITS];

/* Records in the table; a lookup with none skips the read section. A launch only ever looks up
 * a handle whose instantiation returned before it (the program's own ordering), so a relaxed
 * load cannot miss its record. */
static _Atomic unsigned live;

/* Writers, one at a time; and what they keep for grey_graph_stats. */
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER;
static struct grey_graph_stats stats;

/* Read sections: a reader counts itself in the counter of the current phase's parity; a writer
 * moves the phase on and waits for the previous parity's counter to drain. A reader that counted
 * itself in the old parity after the writer had looked sees the phase moved when it checks
 * again, and retries in the new one (before it has read anything). All seq_cst: the argument
 * rests on one total order of the reader's add and check and the writer's move and wait. */
static _Atomic unsigned long readers[2];
static _Atomic unsigned phase;

static unsigned read_begin(void)
{
    for (;;) {
        unsigned ph = atomic_load(&phase);
        atomic_fetch_add(&readers[ph & 1], 1);
        if (atomic_load(&phase) == ph)
            return ph;
        atomic_fetch_sub(&readers[ph & 1], 1);
    }
}

static void read_end(unsigned ph)
{
    atomic_fetch_sub_explicit(&readers[ph & 1], 1, memory_order_release);
}

/* Caller holds writer: once this returns, no read section that could have seen what the caller
 * unlinked before calling is still running. Read sections are a hash and a chain walk long, so
 * this yields a handful of times at most. */
static void grace_period(void)
{
    unsigned ph = atomic_load(&phase);
    atomic_store(&phase, ph + 1);
    while (atomic_load(&readers[ph & 1]) != 0)
        sched_yield();
}

static struct grey_graph_entry *_Atomic *bucket(uintptr_t key)
{
    /* Handles are heap addresses: the low 4 bits say nothing; Fibonacci hashing spreads the rest. */
    return &buckets[((uint64_t)(key >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - BUCKET_BITS)];
}

/* Caller holds writer. Unlinks key's record; NULL if there is none. */
static struct grey_graph_entry *unlink_key(uintptr_t key)
{
    struct grey_graph_entry *_Atomic *link = bucket(key);
    for (struct grey_graph_entry *e; (e = atomic_load_explicit(link, memory_order_relaxed)); link = &e->next)
        if (e->key == key) {
            /* Readers standing on e still find their way on through e->next, which stays. */
            atomic_store_explicit(link, atomic_load_explicit(&e->next, memory_order_relaxed), memory_order_release);
            atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
            stats.live--;
            return e;
        }
    return NULL;
}

void grey_graph_put(struct grey_graph_entry *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        e->destroy(e);
}

/* Caller holds writer; old was unlinked: wait out the readers that may have found it, then drop
 * the table's reference. */
static void retire(struct grey_graph_entry *old)
{
    if (!old)
        return;
    grace_period();
    grey_graph_put(old);
}

void grey_graph_insert(struct grey_graph_entry *e, uintptr_t key)
{
    e->key = key;
    atomic_init(&e->refs, 1);
    pthread_mutex_lock(&writer);
    struct grey_graph_entry *old = unlink_key(key);
    struct grey_graph_entry *_Atomic *head = bucket(key);
    struct grey_graph_entry *first = atomic_load_explicit(head, memory_order_relaxed);
    atomic_init(&e->next, first);
    atomic_store_explicit(head, e, memory_order_release); /* e's fields before e */
    atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    unsigned chain = 1;
    for (; first; first = atomic_load_explicit(&first->next, memory_order_relaxed))
        chain++;
    stats.inserted++;
    if (++stats.live > stats.max_live)
        stats.max_live = stats.live;
    if (chain > stats.max_chain)
        stats.max_chain = chain;
    retire(old);
    pthread_mutex_unlock(&writer);
}

void grey_graph_remove(uintptr_t key)
{
    if (atomic_load_explicit(&live, memory_order_relaxed) == 0)
        return;
    pthread_mutex_lock(&writer);
    retire(unlink_key(key));
    pthread_mutex_unlock(&writer);
}

struct grey_graph_entry *grey_graph_get(uintptr_t key)
{
    if (atomic_load_explicit(&live, memory_order_relaxed) == 0)
        return NULL;
    unsigned ph = read_begin();
    struct grey_graph_entry *e = atomic_load_explicit(bucket(key), memory_order_acquire);
    while (e && e->key != key)
        e = atomic_load_explicit(&e->next, memory_order_acquire);
    /* Taken inside the read section: a writer that unlinked e waits for it before it drops the
     * table's reference, so refs cannot reach zero first. */
    if (e)
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    read_end(ph);
    return e;
}

void grey_graph_stats(struct grey_graph_stats *out)
{
    pthread_mutex_lock(&writer);
    *out = stats;
    pthread_mutex_unlock(&writer);
}

void grey_graph_log_stats(void)
{
    struct grey_graph_stats s;
    grey_graph_stats(&s);
    if (s.inserted)
        grey_log("graph memory: %llu executable graphs with memory nodes, at most %u at once, %u left, "
                 "lookups walk at most %u records", (unsigned long long)s.inserted, s.max_live, s.live, s.max_chain);
}

void grey_graph_fork_prepare(void)
{
    pthread_mutex_lock(&writer);
}

void grey_graph_fork_parent(void)
{
    pthread_mutex_unlock(&writer);
}

/* The threads that were inside read sections do not exist here: their counts would never drain.
 * (The references they held are never given back; those records stay allocated.) */
void grey_graph_fork_child(void)
{
    atomic_store(&readers[0], 0);
    atomic_store(&readers[1], 0);
    pthread_mutex_unlock(&writer);
}
