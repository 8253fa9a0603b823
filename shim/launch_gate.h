/* The one gate every kernel launch passes, whatever the vendor or entry point (cuLaunchKernel,
 * cuLaunchKernelEx, cooperative and graph launches, hipLaunchKernel, hipModuleLaunchKernel, ...):
 * counted in the process's ledger slot, then paced by the fair-share pacer (shim/pace.h), for
 * every vendor at once.
 *
 *   struct grey_launch t = grey_launch_begin(&vendor, stream);   // may wait while others' turn
 *   rc = real(...);
 *   grey_launch_end(t, &vendor, stream, rc == SUCCESS);          // finishes a sample, if one began
 *
 * The uncontended path is a handful of loads and one relaxed atomic add: no lock, no syscall
 * (see pace.h for the rest). grey_launch_gate() is the same without measurement, for a vendor
 * whose events grey does not drive yet: its launches wait their turn and are charged by the
 * device time they held. */
#ifndef GREY_LAUNCH_GATE_H
#define GREY_LAUNCH_GATE_H

#include "core/self.h"
#include "pace.h"

/* The fast path's question: may this launch go without looking further? */
static inline bool grey_pace_fast_ok(const struct grey_quota *q)
{
    struct grey_ledger_header *h = q->budgets;
    if (!h) /* a private slot: nobody to share a device with */
        return true;
    grey_devmask used = atomic_load_explicit(&q->slot->devices_used, memory_order_relaxed);
    if (used == 0 || (used & (used - 1)) != 0) /* the slow path asks the driver which device */
        return false;
    int dev = grey_devmask_first(used);
    struct grey_fair_device *f = &h->fair[dev];
    if (atomic_load_explicit(&f->contended, memory_order_relaxed))
        return false;
    uint32_t i = (uint32_t)(q->slot - (struct grey_slot *)(h + 1));
    /* The word index is masked to the member array, however many slots a ledger has. */
    if (!((atomic_load_explicit(&f->members[(i >> 6) % (GREY_LEDGER_SLOTS / 64)], memory_order_relaxed) >> (i & 63)) &
          1))
        return false; /* not registered on the device (yet, or again after idling) */
    uint64_t n = atomic_load_explicit(&grey_pace_launches[dev], memory_order_relaxed);
    atomic_store_explicit(&grey_pace_launches[dev], n + 1, memory_order_relaxed);
    return true;
}

static inline struct grey_launch grey_launch_begin(const struct grey_vendor *vendor, void *stream)
{
    const struct grey_quota *q = grey_self();
    atomic_fetch_add_explicit(&q->slot->launches, 1, memory_order_relaxed);
    if (__builtin_expect(--grey_pace_countdown > 0, 1) && __builtin_expect(grey_pace_fast_ok(q), 1))
        return (struct grey_launch){NULL};
    return grey_pace_slow(q, vendor, stream);
}

static inline void grey_launch_end(struct grey_launch t, const struct grey_vendor *vendor, void *stream, bool launched)
{
    if (__builtin_expect(t.sample != NULL, 0))
        grey_pace_after(t, vendor, stream, launched);
}

static inline void grey_launch_gate(void)
{
    (void)grey_launch_begin(NULL, NULL);
}

#endif
