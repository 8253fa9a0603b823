/* This process as grey sees it: its quota (its slot in the shared ledger and the ledger's device
 * budgets, or a private slot), which every wrapper reaches in one acquire load. */
#ifndef GREY_CORE_SELF_H
#define GREY_CORE_SELF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy/ledger.h"
#include "policy/quota.h"

struct grey_node_owners;
/* With grey-noded: the slots' owners and their weight ceilings (policy/node_owners.h), mapped
 * read-only for the process's lifetime (a fork child keeps the mapping); NULL without the
 * service. Set before the quota that points into the service's ledger is published. */
extern const struct grey_node_owners *grey_self_owners;

/* Never NULL once the process is registered (core/process.c: at load, or at the first
 * intercepted call if a library's constructor reaches the driver before the hook's ran). */
extern const struct grey_quota *_Atomic grey_self_quota;
const struct grey_quota *grey_process_init(void);

static inline const struct grey_quota *grey_self(void)
{
    const struct grey_quota *q = atomic_load_explicit(&grey_self_quota, memory_order_acquire);
    return __builtin_expect(q != NULL, 1) ? q : grey_process_init();
}

/* True when dev is a GPU row grey accounts. Memory queries ask this: asking is no use (the CUDA
 * runtime asks every device for its memory), and marking every device a one-GPU job looked at
 * would list them all in its summary and keep its launches off the fast path. */
static inline bool grey_self_has_device(int dev)
{
    return dev >= 0 && dev < GREY_MAX_DEVICES;
}

/* True when grey tracks device dev; the first use of a device (an allocation or a launch) marks
 * it, and the process, as having used the GPU through grey, for grey-run's summary. */
static inline bool grey_self_use_device(const struct grey_quota *q, int dev)
{
    if (dev < 0 || dev >= GREY_MAX_DEVICES)
        return false;
    struct grey_slot *s = q->slot;
    grey_devmask bit = GREY_DEVBIT(dev);
    if (__builtin_expect(!(atomic_load_explicit(&s->devices_used, memory_order_relaxed) & bit), 0)) {
        atomic_fetch_or_explicit(&s->devices_used, bit, memory_order_relaxed);
        atomic_fetch_or_explicit(&s->flags, GREY_SLOT_USED_GPU, memory_order_relaxed);
    }
    return true;
}

#endif
