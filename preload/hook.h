/* The hook's per-process state: its ledger slot and the caps it enforces. */
#ifndef GREY_HOOK_H
#define GREY_HOOK_H

#include <stdatomic.h>
#include <stddef.h>

#include "../policy/ledger.h"

/* This process's slot: in the shared ledger when it could be opened, else a private one, so
 * caps hold either way. Never NULL after the constructor (or the first intercepted call, if a
 * library's constructor reaches the driver before ours ran). */
extern struct grey_slot *_Atomic grey_self_slot;
struct grey_slot *grey_hook_init_slow(void);

static inline struct grey_slot *grey_self(void)
{
    struct grey_slot *s = atomic_load_explicit(&grey_self_slot, memory_order_acquire);
    return __builtin_expect(s != NULL, 1) ? s : grey_hook_init_slow();
}

/* Counters of device dev in this process's slot; NULL for a device index grey cannot track. The
 * first use of a device marks it (and the process) as having used the GPU through grey. */
static inline struct grey_slot_device *grey_self_device(int dev)
{
    if (dev < 0 || dev >= GREY_MAX_DEVICES)
        return NULL;
    struct grey_slot *s = grey_self();
    uint32_t bit = 1u << dev;
    if (__builtin_expect(!(atomic_load_explicit(&s->devices_used, memory_order_relaxed) & bit), 0)) {
        atomic_fetch_or_explicit(&s->devices_used, bit, memory_order_relaxed);
        atomic_fetch_or_explicit(&s->flags, GREY_SLOT_USED_GPU, memory_order_relaxed);
    }
    return &s->dev[dev];
}

#endif
