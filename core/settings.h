/* This process's settings (policy/settings.h has every variable and its rule), read once, the
 * first time anything asks: before any GPU call, since the hook's constructor asks. Malformed
 * values are reported then, once, on stderr. */
#ifndef GREY_CORE_SETTINGS_H
#define GREY_CORE_SETTINGS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "policy/settings.h"

extern atomic_bool grey_settings_ready;
extern struct grey_settings grey_settings_store;
const struct grey_settings *grey_settings_slow(void);

static inline const struct grey_settings *grey_settings(void)
{
    if (__builtin_expect(atomic_load_explicit(&grey_settings_ready, memory_order_acquire), 1))
        return &grey_settings_store;
    return grey_settings_slow();
}

/* With GREY_DEDUP on: the copy, memset and launch wrappers do their (opt-in) extra work. */
static inline bool grey_dedup_on(void) { return grey_settings()->dedup; }

#endif
