#include "history.h"

#include <stdatomic.h>
#include <string.h>

/* seq is n + 1 once record n is complete in the entry, 0 while it is being written. */
struct entry {
    _Atomic uint64_t seq;
    struct grey_freed rec;
};

static struct entry ring[GREY_HISTORY_CAP];
static _Atomic uint64_t head; /* records ever pushed */
static _Atomic uint64_t base; /* head when the ring was last emptied: older records are not ours */

void history_push(const struct grey_buffer_info *info, uint64_t free_ticks, uint32_t free_delta)
{
    uint64_t n = atomic_fetch_add_explicit(&head, 1, memory_order_relaxed);
    struct entry *e = &ring[n % GREY_HISTORY_CAP];
    atomic_store_explicit(&e->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    e->rec.info = *info;
    e->rec.free_ticks = free_ticks;
    e->rec.info.use.free_delta = free_delta; /* in place: the free path copies the record once */
    atomic_store_explicit(&e->seq, n + 1, memory_order_release);
}

size_t history_each(void (*fn)(const struct grey_freed *, void *), void *arg)
{
    uint64_t end = atomic_load_explicit(&head, memory_order_acquire);
    uint64_t start = end > GREY_HISTORY_CAP ? end - GREY_HISTORY_CAP : 0;
    uint64_t first = atomic_load_explicit(&base, memory_order_relaxed);
    if (start < first)
        start = first;
    size_t passed = 0;
    for (uint64_t n = start; n < end; n++) {
        struct entry *e = &ring[n % GREY_HISTORY_CAP];
        if (atomic_load_explicit(&e->seq, memory_order_acquire) != n + 1)
            continue;
        struct grey_freed copy;
        memcpy(&copy, &e->rec, sizeof copy);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&e->seq, memory_order_relaxed) != n + 1)
            continue; /* overwritten while we copied it */
        fn(&copy, arg);
        passed++;
    }
    return passed;
}

uint64_t history_pushed(void)
{
    return atomic_load_explicit(&head, memory_order_relaxed) - atomic_load_explicit(&base, memory_order_relaxed);
}

uint64_t history_dropped(void)
{
    uint64_t n = history_pushed();
    return n > GREY_HISTORY_CAP ? n - GREY_HISTORY_CAP : 0;
}

/* Moves the start instead of clearing entries: a fork child must not touch (and so copy) the
 * whole ring's pages. */
void history_reset(void)
{
    atomic_store(&base, atomic_load(&head));
}
