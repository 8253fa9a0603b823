#include "notify.h"

#include <stdatomic.h>
#include <stddef.h>

static const struct grey_recorder_handlers *_Atomic handlers;

void grey_notify_install(const struct grey_recorder_handlers *h)
{
    atomic_store_explicit(&handlers, h, memory_order_release);
}

void grey_notify_buffer_tracked(void)
{
    const struct grey_recorder_handlers *h = atomic_load_explicit(&handlers, memory_order_acquire);
    if (h && h->buffer_tracked)
        h->buffer_tracked();
}

void grey_notify_context_closing(uint64_t context, bool certain)
{
    const struct grey_recorder_handlers *h = atomic_load_explicit(&handlers, memory_order_acquire);
    if (h && h->context_closing)
        h->context_closing(context, certain);
}
