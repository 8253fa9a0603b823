/* The hook's per-process state: its ledger slot, the shared device budgets, the caps. */
#ifndef GREY_HOOK_H
#define GREY_HOOK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "../policy/ledger.h"
#include "../policy/quota.h"

/* This process's quota: its slot in the shared ledger (and the ledger's device budgets) when the
 * ledger could be opened, else a private slot, so caps hold either way. Never NULL after the
 * constructor (or after the first intercepted call, if a library's constructor reaches the
 * driver before ours ran). */
extern const struct grey_quota *_Atomic grey_self_quota;
const struct grey_quota *grey_hook_init_slow(void);

/* The hook's fork handlers (what pthread_atfork registers at load), for preload/audit.c. */
void grey_hook_fork_handlers(void (**prepare)(void), void (**parent)(void), void (**child)(void));

static inline const struct grey_quota *grey_self(void)
{
    const struct grey_quota *q = atomic_load_explicit(&grey_self_quota, memory_order_acquire);
    return __builtin_expect(q != NULL, 1) ? q : grey_hook_init_slow();
}

/* True when grey tracks device dev; the first use of a device marks it (and the process) as
 * having used the GPU through grey, for grey-run's summary. */
static inline bool grey_self_use_device(const struct grey_quota *q, int dev)
{
    if (dev < 0 || dev >= GREY_MAX_DEVICES)
        return false;
    struct grey_slot *s = q->slot;
    uint32_t bit = 1u << dev;
    if (__builtin_expect(!(atomic_load_explicit(&s->devices_used, memory_order_relaxed) & bit), 0)) {
        atomic_fetch_or_explicit(&s->devices_used, bit, memory_order_relaxed);
        atomic_fetch_or_explicit(&s->flags, GREY_SLOT_USED_GPU, memory_order_relaxed);
    }
    return true;
}

#endif
